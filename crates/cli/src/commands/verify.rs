//! `kc-migrate verify`: compare a live realm with the plan — for a seeded sample of planned
//! users, or all of them — and report every difference.

use std::io::Write;

use kcm_sink_keycloak::LoadTargets;

use crate::args::VerifyArgs;
use crate::commands::{pipeline, target};
use crate::{progress, Outcome};

pub fn run(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let mut prepared = pipeline::prepare(&args.input, &args.mapping)?;
    let settings = target::connection(&args.target, &prepared.realm)?;
    crate::files::create_private_dir(&args.out)?;
    let rt = target::runtime()?;
    rt.block_on(async {
        let client = target::connect(settings).await?;
        let server = kcm_sink_keycloak::preflight(&client, &LoadTargets::default()).await?;
        target::use_live_capabilities(&mut prepared, &server.hash_providers, &server.warnings);
        let users = target::planned_users(&args.input, prepared)?;
        let sample = if args.all { None } else { Some(args.sample) };
        let bars = progress::Bars::new(None);
        let report = kcm_sink_keycloak::verify(&client, users, sample, args.seed, &bars).await?;
        drop(bars);
        let path = args.out.join("verify-report.json");
        crate::files::write_private(&path, serde_json::to_string_pretty(&report)? + "\n")?;

        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Checked {} of {} planned users: {} match, {} missing, {} with differences",
            report.checked,
            report.read,
            report.matching,
            report.missing_count,
            report.with_differences
        )?;
        for m in &report.missing {
            writeln!(out, "  missing: {}", serde_json::to_string(m)?)?;
        }
        for d in &report.differences {
            writeln!(out, "  differs: {}", serde_json::to_string(d)?)?;
        }
        if !report.attributes_not_checked.is_empty() {
            writeln!(
                out,
                "Not compared (hidden by the realm's user profile): {}",
                report
                    .attributes_not_checked
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        if !report.identity_links_not_checked.is_empty() {
            writeln!(
                out,
                "Identity links not compared (the provider does not exist in the realm, so Keycloak hides them): {}",
                report.identity_links_not_checked.iter().cloned().collect::<Vec<_>>().join(", ")
            )?;
        }
        writeln!(out, "Report: {}", path.display())?;
        out.flush()?;
        Ok(if report.is_clean() {
            Outcome::Clean
        } else {
            Outcome::Rejections
        })
    })
}
