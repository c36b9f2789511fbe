//! `kc-migrate plan`: the dry run. Reads the exports, applies the mapping and writes the
//! stakeholder report (report.md, report.html, report.json) and rejected.ndjson. No network.

use std::io::Write;

use kcm_report::{PlanReportWriter, ReportOptions};

use crate::args::{OutputFormat, PlanArgs};
use crate::commands::pipeline;
use crate::Outcome;

pub fn run(args: &PlanArgs) -> anyhow::Result<Outcome> {
    let prepared = pipeline::prepare(&args.input, &args.mapping)?;
    let title = format!(
        "Migration plan: {} → Keycloak realm {}",
        crate::sources::kind(prepared.source),
        prepared.realm
    );
    let mut writer = PlanReportWriter::create(
        &args.out,
        ReportOptions {
            unmasked: args.unmasked,
            request_rate: args.rate,
            batch_size: args.batch_size,
            title,
            ..ReportOptions::default()
        },
    )?;
    let summary = pipeline::run(&args.input, prepared, |outcome| Ok(writer.record(outcome)?))?;
    let paths = writer.finish(&summary)?;

    let mut out = std::io::stdout().lock();
    match args.output_format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &paths.report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            write_summary(&mut out, &summary)?;
            writeln!(out, "Report: {}", paths.markdown.display())?;
            writeln!(out, "        {}", paths.html.display())?;
            writeln!(out, "        {}", paths.json.display())?;
            writeln!(
                out,
                "Rejected and filtered records: {}",
                paths.rejected.display()
            )?;
        }
    }
    for warning in &paths.report.warnings {
        tracing::error!("{warning}");
    }
    out.flush()?;
    if !paths.report.accounting.balanced {
        anyhow::bail!("the plan's accounting does not add up; see the report's warnings");
    }
    Ok(if summary.rejected.total > 0 {
        Outcome::Rejections
    } else {
        Outcome::Clean
    })
}

/// The figures a migration engineer wants at a glance; the report has the rest.
pub fn write_summary(out: &mut impl Write, s: &kcm_transform::PlanSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "Mapping {} ({}) → realm {}",
        s.mapping, s.source, s.realm
    )?;
    writeln!(
        out,
        "Records read: {} = {} users planned + {} filtered + {} rejected + {} merged + {} side records{}",
        s.records_read,
        s.users_planned,
        s.filtered.total,
        s.rejected.total,
        s.merged,
        s.side_records.total,
        if s.is_balanced() { "" } else { "  (DOES NOT ADD UP)" }
    )?;
    writeln!(
        out,
        "Passwords: {} carried over, {} must reset, {} need none (social sign-in only)",
        s.passwords.carried.values().sum::<u64>(),
        s.passwords.reset.values().sum::<u64>(),
        s.passwords.not_needed
    )?;
    writeln!(out, "Enabled: {}, disabled: {}", s.enabled, s.disabled)?;
    writeln!(
        out,
        "To create: {} realm role(s), {} client role(s), {} group(s); {} federated identity link(s)",
        s.realm_roles.len(),
        s.client_roles.values().map(|r| r.len()).sum::<usize>(),
        s.groups.len(),
        s.identities.values().sum::<u64>()
    )?;
    if s.rejected.total > 0 {
        let reasons: Vec<String> = s
            .rejected
            .by_reason
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        writeln!(out, "Rejected by reason: {}", reasons.join(", "))?;
    }
    Ok(())
}
