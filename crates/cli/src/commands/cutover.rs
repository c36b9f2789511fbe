//! `kc-migrate rollback` and `kc-migrate notify`: operations on an earlier apply run,
//! identified by its journal.
//!
//! Both are dry runs unless `--yes`, rate limited like `apply`, and resumable through their
//! own journal, kept next to the apply journal (`<journal>.rollback.ndjson`,
//! `<journal>.notify.ndjson`) so that a second invocation for the same run continues instead
//! of starting over — which for notify means nobody is e-mailed twice.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use kcm_sink_keycloak::{read_journal, NotifySettings, RollbackSettings};

use crate::args::{NotifyArgs, RollbackArgs, TargetArgs};
use crate::commands::target;
use crate::{files, progress, Outcome};

/// The realm of an apply journal (from its header) unless given explicitly.
fn realm_of(journal: &Path, explicit: Option<&str>) -> anyhow::Result<String> {
    if let Some(r) = explicit {
        return Ok(r.to_string());
    }
    let state = read_journal(journal)
        .with_context(|| format!("cannot read journal {}", journal.display()))?;
    match state.header {
        Some(h) => Ok(h.realm),
        None => bail!("{}: no run header; give --realm", journal.display()),
    }
}

fn side_journal(journal: &Path, what: &str) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(format!(".{what}.ndjson"));
    PathBuf::from(name)
}

fn out_dir(out: Option<&Path>, journal: &Path) -> PathBuf {
    out.map(Path::to_path_buf).unwrap_or_else(|| {
        journal
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    })
}

fn connect_settings(
    t: &TargetArgs,
    realm: &str,
) -> anyhow::Result<kcm_sink_keycloak::ConnectionSettings> {
    target::connection(t, realm)
}

pub fn rollback(args: &RollbackArgs) -> anyhow::Result<Outcome> {
    let realm = realm_of(&args.journal, args.realm.as_deref())?;
    let settings = connect_settings(&args.target, &realm)?;
    let out = out_dir(args.out.as_deref(), &args.journal);
    files::create_private_dir(&out)?;
    let rt = target::runtime()?;
    rt.block_on(async {
        let client = target::connect(settings).await?;
        let mut rs = RollbackSettings::new(side_journal(&args.journal, "rollback"));
        rs.dry_run = !args.yes;
        rs.roles_and_groups = args.roles_and_groups;
        rs.keep_unconfirmed = args.keep_unconfirmed;
        rs.resume = args.resume;
        let bars = progress::Bars::new(None);
        let report = kcm_sink_keycloak::rollback(&client, &args.journal, &rs, &bars).await?;
        drop(bars);
        files::write_private(&out.join("rollback-report.json"), serde_json::to_string_pretty(&report)? + "\n")?;
        let u = &report.users;
        let l = &report.left_in_place;
        let mut md = format!(
            "# Rollback of {} in realm `{}`{}\n\n| Users the run added | {} |\n| --- | ---: |\n| Deleted | {} |\n| Would be deleted (dry run) | {} |\n| Already gone | {} |\n| Replaced since (left in place) | {} |\n| Cannot be verified (left in place) | {} |\n| Kept on request | {} |\n| Failed | {} |\n| Done by an earlier rollback | {} |\n| Not reached | {} |\n\nLeft in place because this run did not create them: {} skipped, {} overwritten, {} unresolved, {} rejected.\n",
            report.apply_journal.display(),
            report.realm,
            if report.dry_run { " (dry run: nothing deleted)" } else { "" },
            u.added_in_journal, u.deleted, u.would_delete, u.already_gone, u.replaced, u.unverifiable, u.kept, u.failed,
            u.already_done_from_journal, u.not_reached, l.skipped, l.overwritten, l.unresolved, l.rejected
        );
        if !report.objects.is_empty() {
            md.push_str("\n## Roles, clients, groups and identity providers\n\n");
            for o in &report.objects {
                md.push_str(&format!("- {}\n", serde_json::to_string(o)?));
            }
        }
        files::write_private(&out.join("rollback-report.md"), &md)?;
        let mut stdout = std::io::stdout().lock();
        if report.dry_run {
            writeln!(stdout, "Dry run: {} user(s) would be deleted (of {} the run added); run again with --yes to delete.", u.would_delete, u.added_in_journal)?;
        } else {
            writeln!(stdout, "Deleted {} user(s) (of {} the run added); {} already gone.", u.deleted, u.added_in_journal, u.already_gone)?;
        }
        writeln!(
            stdout,
            "Left in place: {} that existed before or were overwritten, {} replaced since, {} unverifiable.",
            l.skipped + l.overwritten,
            u.replaced,
            u.unverifiable
        )?;
        writeln!(stdout, "Report: {}", out.join("rollback-report.md").display())?;
        stdout.flush()?;
        if let Some(why) = &report.interrupted {
            bail!("the rollback stopped before the end: {why}; run again with --resume");
        }
        Ok(if u.failed > 0 { Outcome::Rejections } else { Outcome::Clean })
    })
}

pub fn notify(args: &NotifyArgs) -> anyhow::Result<Outcome> {
    let realm = realm_of(&args.journal, args.realm.as_deref())?;
    let settings = connect_settings(&args.target, &realm)?;
    let out = out_dir(args.out.as_deref(), &args.journal);
    files::create_private_dir(&out)?;
    let rt = target::runtime()?;
    rt.block_on(async {
        let client = target::connect(settings).await?;
        let mut ns = NotifySettings::new(side_journal(&args.journal, "notify"));
        ns.dry_run = !args.yes;
        ns.lifespan = args.lifespan;
        ns.client_id = args.email_client_id.clone();
        ns.redirect_uri = args.redirect_uri.clone();
        ns.max_sends = args.max_sends;
        // A second run for the same apply journal always continues the first: nobody is
        // e-mailed twice, even if --resume is forgotten.
        ns.resume = args.resume || (args.yes && ns.journal.exists());
        let bars = progress::Bars::new(None);
        let report = kcm_sink_keycloak::notify(&client, &args.journal, &ns, &bars).await?;
        drop(bars);
        files::write_private(&out.join("notify-report.json"), serde_json::to_string_pretty(&report)? + "\n")?;
        let c = &report.users;
        let mut stdout = std::io::stdout().lock();
        if !report.smtp_configured {
            writeln!(stdout, "Realm {} has no SMTP server configured: no e-mail can be sent.", report.realm)?;
        }
        if report.dry_run {
            writeln!(stdout, "Dry run: {} user(s) would get a password-reset e-mail ({} already sent earlier); run again with --yes to send.", c.would_send, c.already_sent)?;
        } else {
            writeln!(stdout, "Sent {} password-reset e-mail(s); {} were sent by an earlier run.", c.sent, c.already_sent)?;
        }
        writeln!(
            stdout,
            "Not e-mailed: {} without e-mail, {} disabled, {} not found, {} already reset, {} failed, {} with an unknown outcome (check manually; never re-sent).",
            c.no_email, c.disabled, c.not_found, c.already_reset, c.failed, c.unknown
        )?;
        writeln!(stdout, "Report: {}", out.join("notify-report.json").display())?;
        stdout.flush()?;
        if let Some(why) = &report.interrupted {
            if args.max_sends.is_none() {
                bail!("notify stopped before the end: {why}; run again with --resume");
            }
            writeln!(stdout, "Stopped after --max-sends {} as asked; run again to send the rest.", args.max_sends.unwrap_or(0))?;
        }
        Ok(if c.failed > 0 || c.unknown > 0 { Outcome::Rejections } else { Outcome::Clean })
    })
}
