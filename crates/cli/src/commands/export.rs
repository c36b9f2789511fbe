//! `kc-migrate export`: files for `kc.sh import --dir` (`<realm>-realm.json` with roles,
//! clients and groups, and `<realm>-users-<N>.json` with the users), plus the plan report in
//! `report/` so every record is still accounted for.
//!
//! `kc.sh import --dir DIR` replaces an existing realm of the same name (its `--override`
//! defaults to true): it is a tool for a fresh realm, not for adding users to a live one.

use std::io::Write;

use kcm_report::{ExportWriter, PlanReportWriter, RealmContents, ReportOptions};
use kcm_transform::Outcome as Planned;

use crate::args::ExportArgs;
use crate::commands::pipeline;
use crate::Outcome;

pub fn run(args: &ExportArgs) -> anyhow::Result<Outcome> {
    let Some(out_dir) = args.out.as_deref() else {
        anyhow::bail!("no output directory: give --out DIR or `out` in the job file");
    };
    let prepared = pipeline::prepare(&args.input, &args.mapping)?;
    let realm = prepared.realm.clone();
    let mut export = ExportWriter::create(out_dir, &realm, args.users_per_file)?;
    let mut report = PlanReportWriter::create(
        &out_dir.join("report"),
        ReportOptions {
            unmasked: args.unmasked,
            title: format!("Export for kc.sh import: realm {realm}"),
            ..ReportOptions::default()
        },
    )?;
    let mut refused = 0u64;
    let summary = pipeline::run(&args.input, prepared, |outcome| {
        report.record(outcome)?;
        if let Planned::Planned(planned) = outcome {
            if let Err(err) = export.add_user(&planned.user) {
                // kc.sh would skip or fail on this user; say so and keep going.
                refused += 1;
                tracing::error!("{}: {err}", planned.provenance);
            }
        }
        Ok(())
    })?;
    let paths = export.finish(RealmContents::from_summary(&summary))?;
    let report_paths = report.finish(&summary)?;

    let mut out = std::io::stdout().lock();
    crate::commands::plan::write_summary(&mut out, &summary)?;
    writeln!(
        out,
        "Wrote {} users in {} file(s) and {}",
        paths.users,
        paths.users_files.len(),
        paths.realm_file.display()
    )?;
    if refused > 0 {
        writeln!(
            out,
            "Not exported (kc.sh import would refuse them): {refused}"
        )?;
    }
    writeln!(out, "Report: {}", report_paths.markdown.display())?;
    writeln!(
        out,
        "Import with: kc.sh import --dir {} --override false   (--override true, the default, deletes an existing realm {realm})",
        out_dir.display()
    )?;
    out.flush()?;
    Ok(if summary.rejected.total > 0 || refused > 0 {
        Outcome::Rejections
    } else {
        Outcome::Clean
    })
}
