//! `kc-migrate apply`: load the plan into a live Keycloak.
//!
//! Pass one transforms every record (with the server's own hash providers, read first) and
//! writes the plan report; a preflight checks the realm, roles, groups, identity providers
//! and user profile; pass two streams the planned users into partialImport batches. The
//! journal makes the run resumable and a second run with `skip` a no-op.

use std::io::Write;

use anyhow::bail;
use kcm_sink_keycloak::{ApplyReport, LoadSettings, LoadTargets, OnExisting, UserProfileMode};
use kcm_transform::PlanSummary;

use crate::args::{ApplyArgs, OnExistingArg, UserProfileArg};
use crate::commands::{pipeline, target};
use crate::{progress, Outcome};

pub fn run(args: &ApplyArgs) -> anyhow::Result<Outcome> {
    if args.on_existing == OnExistingArg::Overwrite && !args.allow_overwrite {
        bail!("--on-existing overwrite deletes and recreates existing users (their credentials, sessions and role mappings are lost); add --allow-overwrite to confirm");
    }
    let probe = pipeline::prepare(&args.input, &args.mapping)?;
    let realm = probe.realm.clone();
    let settings = target::connection(&args.target, &realm)?;
    crate::files::create_private_dir(&args.out)?;
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| args.out.join("journal.ndjson"));

    let rt = target::runtime()?;
    rt.block_on(async {
        let client = target::connect(settings).await?;
        let server = kcm_sink_keycloak::preflight(&client, &LoadTargets::default()).await?;
        let mut prepared = probe;
        target::use_live_capabilities(&mut prepared, &server.hash_providers, &server.warnings);
        let caps = prepared.options.capabilities.clone();
        let fingerprint = target::fingerprint(&args.input, &args.mapping, &caps)?;

        let report_options = kcm_report::ReportOptions {
            unmasked: args.unmasked,
            request_rate: args.target.rate,
            batch_size: args.batch_size,
            title: target::plan_title(&prepared),
            ..kcm_report::ReportOptions::default()
        };
        let first = target::first_pass(&args.input, prepared, &args.out.join("plan"), report_options)?;
        let pre = kcm_sink_keycloak::preflight(&client, &first.targets).await?;
        for w in &pre.warnings {
            tracing::warn!("preflight: {w}");
        }
        if !pre.realm_exists && !args.create_realm {
            bail!("realm {realm} does not exist on {}; add --create-realm to create it", client.base_url());
        }
        if !pre.missing_identity_providers.is_empty() {
            tracing::warn!(
                "identity providers missing in realm {realm}: {} — users linked to them will not be able to sign in through them until they are configured",
                pre.missing_identity_providers.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }

        let mut second = pipeline::prepare(&args.input, &args.mapping)?;
        second.options.capabilities = caps.clone();
        let users = target::planned_users(&args.input, second)?;
        let load = LoadSettings {
            batch_size: args.batch_size,
            on_existing: match args.on_existing {
                OnExistingArg::Skip => OnExisting::Skip,
                OnExistingArg::Overwrite => OnExisting::Overwrite,
                OnExistingArg::Fail => OnExisting::Fail,
            },
            journal,
            resume: args.resume,
            create_realm: args.create_realm,
            user_profile: match args.user_profile {
                UserProfileArg::Declare => UserProfileMode::Declare,
                UserProfileArg::Unmanaged => UserProfileMode::Unmanaged,
                UserProfileArg::Leave => UserProfileMode::Leave,
            },
            plan_fingerprint: fingerprint.clone(),
            max_batches: args.max_batches,
        };
        let bars = progress::Bars::new(Some(first.summary.users_planned));
        let report = kcm_sink_keycloak::apply(&client, &first.targets, users, &load, &bars).await?;

        // Placeholders for missing identity providers, recorded in the apply journal so a
        // rollback removes them. Keycloak keeps imported links to a missing provider and
        // shows them once it exists.
        let mut created_idps = Vec::new();
        if args.create_identity_providers && !pre.missing_identity_providers.is_empty() && report.interrupted.is_none() {
            created_idps = kcm_sink_keycloak::create_identity_providers(&client, &pre.missing_identity_providers, Some(&load.journal)).await?;
        }

        let mut update = None;
        if args.update_existing && report.interrupted.is_none() {
            let mut third = pipeline::prepare(&args.input, &args.mapping)?;
            third.options.capabilities = caps;
            let users = target::planned_users(&args.input, third)?;
            let mut us = kcm_sink_keycloak::UpdateSettings::new(args.out.join("update-journal.ndjson"));
            us.prune = args.prune;
            us.resume = args.resume;
            us.previous_journals = args.previous_journals.clone();
            us.plan_fingerprint = fingerprint;
            update = Some(kcm_sink_keycloak::update_existing(&client, users, &us, &bars).await?);
        }
        drop(bars);

        write_reports(&args.out, &first.summary, &report, update.as_ref(), &created_idps)?;
        let mut out = std::io::stdout().lock();
        write_summary(&mut out, &first.summary, &report)?;
        for idp in &created_idps {
            writeln!(
                out,
                "Identity provider {} ({}): {}",
                idp.alias,
                idp.provider_id,
                if idp.created { "created DISABLED as a placeholder — configure and enable it" } else { "already existed" }
            )?;
        }
        if let Some(u) = &update {
            let c = &u.users;
            writeln!(
                out,
                "Existing users brought in line: {} updated, {} already in line, {} unchanged since the last run, {} not found, {} failed{}",
                c.updated,
                c.in_line,
                c.unchanged,
                c.not_found,
                c.failed,
                if u.prune { " (with --prune)" } else { "" }
            )?;
        }
        writeln!(out, "Reports: {}, {}", args.out.join("apply-report.md").display(), args.out.join("plan/report.md").display())?;
        out.flush()?;
        if let Some(why) = &report.interrupted {
            if args.max_batches.is_none() {
                bail!("the load stopped before the end: {why}; run again with --resume to finish it");
            }
            writeln!(out, "Stopped after --max-batches as asked; finish with --resume.")?;
        }
        if let Some(why) = update.as_ref().and_then(|u| u.interrupted.as_ref()) {
            bail!("the update of existing users stopped before the end: {why}; run again with --resume");
        }
        let update_failed = update.as_ref().is_some_and(|u| u.users.failed > 0);
        Ok(if report.users.rejected > 0 || first.summary.rejected.total > 0 || update_failed {
            Outcome::Rejections
        } else {
            Outcome::Clean
        })
    })
}

fn write_summary(out: &mut impl Write, plan: &PlanSummary, r: &ApplyReport) -> std::io::Result<()> {
    let u = &r.users;
    writeln!(out, "Keycloak {} realm {}", r.url, r.realm)?;
    writeln!(
        out,
        "Users planned: {} → added {}, skipped (already there) {}, overwritten {}, rejected by Keycloak {}, done by an earlier run {}{}",
        plan.users_planned,
        u.added + u.added_unconfirmed,
        u.skipped,
        u.overwritten,
        u.rejected,
        u.already_done_from_journal,
        if u.unresolved > 0 { format!(", not finished {}", u.unresolved) } else { String::new() }
    )?;
    writeln!(
        out,
        "Not loaded at plan stage: {} filtered, {} rejected (see plan/rejected.ndjson)",
        plan.filtered.total, plan.rejected.total
    )?;
    writeln!(
        out,
        "Requests: {} partialImport in {} batch(es), {} bisection(s)",
        r.partial_import_requests, r.batches_sent, r.bisections
    )?;
    for rej in r.rejected.iter().take(10) {
        writeln!(out, "  rejected {}: {}", rej.key, rej.message)?;
    }
    Ok(())
}

/// `apply-report.json` (every figure) and `apply-report.md` (for people).
fn write_reports(
    dir: &std::path::Path,
    plan: &PlanSummary,
    r: &ApplyReport,
    update: Option<&kcm_sink_keycloak::UpdateReport>,
    idps: &[kcm_sink_keycloak::CreatedIdp],
) -> anyhow::Result<()> {
    let json = serde_json::json!({ "plan": { "records_read": plan.records_read, "users_planned": plan.users_planned, "filtered": plan.filtered.total, "rejected": plan.rejected.total }, "apply": r, "update_existing": update, "identity_providers_created": idps });
    crate::files::write_private(
        &dir.join("apply-report.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    let u = &r.users;
    let mut md = String::new();
    md.push_str(&format!(
        "# Load into Keycloak realm `{}`\n\nServer: {}\n\n",
        r.realm, r.url
    ));
    md.push_str("| Outcome | Users |\n| --- | ---: |\n");
    for (label, n) in [
        ("Planned", plan.users_planned),
        ("Added", u.added),
        (
            "Added (confirmed by lookup after an unknown outcome)",
            u.added_unconfirmed,
        ),
        ("Skipped: already in Keycloak", u.skipped),
        ("Overwritten", u.overwritten),
        ("Rejected by Keycloak", u.rejected),
        (
            "Done by an earlier run (journal)",
            u.already_done_from_journal,
        ),
        ("Not finished (resume to complete)", u.unresolved),
    ] {
        md.push_str(&format!("| {label} | {n} |\n"));
    }
    let accounted = u.added
        + u.added_unconfirmed
        + u.skipped
        + u.overwritten
        + u.rejected
        + u.already_done_from_journal
        + u.unresolved;
    md.push_str(&format!(
        "\n{} planned users, {} accounted for{}.\n",
        plan.users_planned,
        accounted,
        if accounted == plan.users_planned {
            ""
        } else {
            " — THESE DO NOT MATCH"
        }
    ));
    md.push_str(&format!(
        "\nRecords not loaded: {} filtered and {} rejected at plan stage (`plan/rejected.ndjson`).\n\nRequests: {} partialImport requests for {} batches ({} bisections).\n",
        plan.filtered.total, plan.rejected.total, r.partial_import_requests, r.batches_sent, r.bisections
    ));
    if !r.rejected.is_empty() {
        md.push_str("\n## Rejected by Keycloak\n\n| User | Keycloak's message |\n| --- | --- |\n");
        for rej in &r.rejected {
            md.push_str(&format!(
                "| `{}` | {} |\n",
                rej.key,
                rej.message.replace('|', "\\|")
            ));
        }
    }
    if let Some(why) = &r.interrupted {
        md.push_str(&format!(
            "\n**The run stopped early:** {why}. Run again with `--resume`.\n"
        ));
    }
    crate::files::write_private(&dir.join("apply-report.md"), md)?;
    Ok(())
}
