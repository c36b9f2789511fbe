//! `kc-migrate plan`: the dry run. Reads the exports, applies the mapping and writes the
//! stakeholder report (report.md, report.html, report.json) and rejected.ndjson.
//!
//! Offline by default. With `--keycloak-url` the plan is target-aware and still read-only:
//! the server's password-hash providers decide who keeps a password, and `target.md` /
//! `target.json` say which planned users, roles, clients and groups already exist, which
//! identity providers are missing and which attributes the user profile would hide.

use std::collections::BTreeMap;
use std::io::Write;

use kcm_report::ReportOptions;
use kcm_sink_keycloak::{existing_users, LoadTargets, MatchedBy, Preflight, UserToLoad};
use serde::Serialize;

use crate::args::{OutputFormat, PlanArgs};
use crate::commands::{pipeline, target};
use crate::Outcome;

/// Planned users looked up per existence query round.
const EXISTENCE_CHUNK: usize = 500;

pub fn run(args: &PlanArgs) -> anyhow::Result<Outcome> {
    let mut prepared = pipeline::prepare(&args.input, &args.mapping)?;
    let options = |prepared: &pipeline::Prepared| ReportOptions {
        unmasked: args.unmasked,
        request_rate: args.target.rate,
        batch_size: args.batch_size,
        title: target::plan_title(prepared),
        ..ReportOptions::default()
    };
    if args.offline || args.target.keycloak_url.is_none() {
        let opts = options(&prepared);
        let first = target::first_pass(&args.input, prepared, &args.out, opts)?;
        return finish(args, &first, None);
    }

    let settings = target::connection(&args.target, &prepared.realm)?;
    let rt = target::runtime()?;
    rt.block_on(async {
        let client = target::connect(settings).await?;
        let server = kcm_sink_keycloak::preflight(&client, &LoadTargets::default()).await?;
        target::use_live_capabilities(&mut prepared, &server.hash_providers, &server.warnings);
        let caps = prepared.options.capabilities.clone();
        let opts = options(&prepared);
        let first = target::first_pass(&args.input, prepared, &args.out, opts)?;
        let pre = kcm_sink_keycloak::preflight(&client, &first.targets).await?;

        let mut existing = ExistingUsers::default();
        if pre.realm_exists {
            let mut second = pipeline::prepare(&args.input, &args.mapping)?;
            second.options.capabilities = caps;
            let mut chunk: Vec<UserToLoad> = Vec::with_capacity(EXISTENCE_CHUNK);
            let mut users = target::planned_users(&args.input, second)?;
            loop {
                chunk.clear();
                chunk.extend(users.by_ref().take(EXISTENCE_CHUNK));
                if chunk.is_empty() {
                    break;
                }
                for e in existing_users(&client, &chunk, pre.duplicate_emails_allowed).await? {
                    match e.matched_by {
                        MatchedBy::Username => existing.by_username += 1,
                        MatchedBy::Email => existing.by_email += 1,
                    }
                }
            }
        }
        let report = TargetReport::new(client.base_url(), &first, &pre, existing);
        crate::files::write_private(
            &args.out.join("target.json"),
            serde_json::to_string_pretty(&report)? + "\n",
        )?;
        crate::files::write_private(&args.out.join("target.md"), report.markdown())?;
        finish(args, &first, Some(&report))
    })
}

fn finish(
    args: &PlanArgs,
    first: &target::FirstPass,
    target: Option<&TargetReport>,
) -> anyhow::Result<Outcome> {
    let summary = &first.summary;
    let paths = &first.report;
    let mut out = std::io::stdout().lock();
    match args.output_format {
        OutputFormat::Json => {
            let value = serde_json::json!({ "plan": paths.report, "target": target });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            write_summary(&mut out, summary)?;
            if let Some(t) = target {
                t.write_text(&mut out)?;
                writeln!(
                    out,
                    "Target report: {}",
                    args.out.join("target.md").display()
                )?;
            }
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

#[derive(Debug, Default, Serialize)]
struct ExistingUsers {
    by_username: u64,
    by_email: u64,
}

/// What a load would do on this target, from read-only lookups.
#[derive(Debug, Serialize)]
struct TargetReport {
    url: String,
    realm: String,
    realm_exists: bool,
    server_version: Option<String>,
    hash_providers: Vec<String>,
    users_planned: u64,
    /// Users a load with the default `--on-existing skip` would add.
    users_to_add: u64,
    /// Planned users that already exist: skipped by default, replaced by `overwrite`.
    users_existing: ExistingUsers,
    realm_roles_existing: Vec<String>,
    realm_roles_to_create: Vec<String>,
    clients_existing: Vec<String>,
    client_roles_existing: BTreeMap<String, Vec<String>>,
    groups_existing: Vec<String>,
    groups_to_create: Vec<String>,
    missing_identity_providers: Vec<String>,
    user_profile: kcm_sink_keycloak::UserProfileCheck,
    warnings: Vec<String>,
}

impl TargetReport {
    fn new(
        url: String,
        first: &target::FirstPass,
        pre: &Preflight,
        existing: ExistingUsers,
    ) -> Self {
        let planned_roles: Vec<String> = first.summary.realm_roles.keys().cloned().collect();
        let planned_groups: Vec<String> = first.targets.groups.clone();
        let users_existing = existing.by_username + existing.by_email;
        TargetReport {
            url,
            realm: first.summary.realm.clone(),
            realm_exists: pre.realm_exists,
            server_version: pre.server_version.clone(),
            hash_providers: pre.hash_providers.iter().cloned().collect(),
            users_planned: first.summary.users_planned,
            users_to_add: first.summary.users_planned.saturating_sub(users_existing),
            users_existing: existing,
            realm_roles_to_create: planned_roles
                .iter()
                .filter(|r| !pre.existing_realm_roles.contains(*r))
                .cloned()
                .collect(),
            realm_roles_existing: pre.existing_realm_roles.iter().cloned().collect(),
            clients_existing: pre.existing_clients.iter().cloned().collect(),
            client_roles_existing: pre
                .existing_client_roles
                .iter()
                .map(|(c, r)| (c.clone(), r.iter().cloned().collect()))
                .collect(),
            groups_to_create: planned_groups
                .iter()
                .filter(|g| !pre.existing_groups.contains(*g))
                .cloned()
                .collect(),
            groups_existing: pre.existing_groups.iter().cloned().collect(),
            missing_identity_providers: pre.missing_identity_providers.iter().cloned().collect(),
            user_profile: pre.user_profile.clone(),
            warnings: pre.warnings.clone(),
        }
    }

    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Target {} realm {}{}: {} user(s) to add, {} already there (skipped by default; {} matched by e-mail)",
            self.url,
            self.realm,
            if self.realm_exists { "" } else { " (does not exist yet)" },
            self.users_to_add,
            self.users_existing.by_username + self.users_existing.by_email,
            self.users_existing.by_email
        )?;
        writeln!(
            out,
            "Target hash providers: {}",
            self.hash_providers.join(", ")
        )?;
        if !self.missing_identity_providers.is_empty() {
            writeln!(
                out,
                "Missing identity providers (linked users cannot sign in through them until configured): {}",
                self.missing_identity_providers.join(", ")
            )?;
        }
        Ok(())
    }

    fn markdown(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|x| format!("`{x}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let mut md = format!("# Target check: realm `{}` on {}\n\n", self.realm, self.url);
        if !self.realm_exists {
            md.push_str(
                "**The realm does not exist yet** (`apply --create-realm` creates it).\n\n",
            );
        }
        md.push_str(&format!(
            "Keycloak version: {}. Password-hash providers: {}.\n\n",
            self.server_version.as_deref().unwrap_or("unknown"),
            list(&self.hash_providers)
        ));
        md.push_str("| Users | Count |\n| --- | ---: |\n");
        md.push_str(&format!("| Planned | {} |\n", self.users_planned));
        md.push_str(&format!("| Will be added | {} |\n", self.users_to_add));
        md.push_str(&format!(
            "| Already exist by username (skipped by default, replaced by `--on-existing overwrite`) | {} |\n",
            self.users_existing.by_username
        ));
        md.push_str(&format!(
            "| Already exist by e-mail (the realm forbids duplicate e-mails) | {} |\n\n",
            self.users_existing.by_email
        ));
        md.push_str(&format!(
            "Realm roles to create: {}. Already there: {}.\n\n",
            list(&self.realm_roles_to_create),
            list(&self.realm_roles_existing)
        ));
        md.push_str(&format!(
            "Groups to create: {}. Already there: {}.\n\n",
            list(&self.groups_to_create),
            list(&self.groups_existing)
        ));
        md.push_str(&format!(
            "Missing identity providers: {}.\n\n",
            list(&self.missing_identity_providers)
        ));
        if !self.warnings.is_empty() {
            md.push_str("## Warnings\n\n");
            for w in &self.warnings {
                md.push_str(&format!("- {w}\n"));
            }
        }
        md
    }
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
