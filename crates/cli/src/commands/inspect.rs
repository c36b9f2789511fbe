//! `kc-migrate inspect`: stream the inputs and summarise what they contain — counts, rejected
//! records by reason, statuses, hash algorithms, linked identity providers, roles and groups
//! with member counts, duplicate e-mails and usernames. Nothing is mapped or loaded.

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Write;

use kcm_model::{MembershipIndex, RecordError, SourceItem, User};
use serde::Serialize;

use crate::args::{InspectArgs, OutputFormat};
use crate::{sources, Outcome};

/// How many rejected records are listed by place in the summary.
const REJECTED_EXAMPLES: usize = 5;

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub source: String,
    pub files: Vec<String>,
    pub records_read: u64,
    pub users: u64,
    pub roles: u64,
    pub groups: u64,
    pub memberships: u64,
    pub merged_rows: u64,
    pub rejected: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub rejected_examples: Vec<RejectedExample>,
    pub users_by_status: BTreeMap<String, u64>,
    pub enabled: u64,
    pub disabled: u64,
    pub password_hashes: BTreeMap<String, u64>,
    pub users_without_hash: u64,
    pub social_only_users: u64,
    pub linked_identities_by_provider: BTreeMap<String, u64>,
    pub role_members: BTreeMap<String, u64>,
    pub group_members: BTreeMap<String, u64>,
    pub duplicate_emails: u64,
    pub duplicate_usernames: u64,
    pub users_with_diagnostics: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
pub struct RejectedExample {
    pub place: String,
    pub reason: String,
    pub message: String,
}

/// Remembers keys compactly (64-bit hashes) to count duplicates across millions of users.
#[derive(Default)]
struct SeenKeys(HashSet<u64>);

impl SeenKeys {
    /// True if the key was already seen.
    fn seen_before(&mut self, key: &str) -> bool {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        !self.0.insert(h.finish())
    }
}

pub fn run(args: &InspectArgs) -> anyhow::Result<Outcome> {
    let source = sources::resolve(args.input.source, None)?;
    let stream = sources::open(&args.input, source)?;
    let mut summary = Summary {
        source: sources::kind(source).to_string(),
        files: args
            .input
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        ..Summary::default()
    };
    let mut memberships = MembershipIndex::new();
    let mut emails = SeenKeys::default();
    let mut usernames = SeenKeys::default();

    for item in stream {
        summary.records_read += 1;
        match item {
            Ok(SourceItem::User(mut user)) => {
                memberships.attach(&mut user);
                summary.count_user(&user, &mut emails, &mut usernames);
            }
            Ok(SourceItem::Role(_)) => summary.roles += 1,
            Ok(SourceItem::Group(_)) => summary.groups += 1,
            Ok(SourceItem::Membership(m)) => {
                summary.memberships += 1;
                memberships.add(m);
            }
            Ok(SourceItem::Merged { .. }) => summary.merged_rows += 1,
            Err(err) => summary.reject(&err),
        }
    }
    // A membership row that names no user is reported like any rejected record, but it was
    // already counted as read; move it from memberships to rejected so totals add up.
    for m in memberships.unmatched() {
        summary.memberships -= 1;
        summary.reject(&RecordError::new(
            m.provenance.clone(),
            kcm_model::Reason::Unmatched,
            format!(
                "membership of {:?} `{}` names no user in the export",
                m.kind, m.name
            ),
        ));
    }

    let mut out = std::io::stdout().lock();
    match args.output_format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &summary)?;
            writeln!(out)?;
        }
        OutputFormat::Text => summary.write_text(&mut out)?,
    }
    out.flush()?;
    Ok(if summary.rejected > 0 {
        Outcome::Rejections
    } else {
        Outcome::Clean
    })
}

impl Summary {
    fn reject(&mut self, err: &RecordError) {
        self.rejected += 1;
        *self
            .rejected_by_reason
            .entry(err.reason.to_string())
            .or_default() += 1;
        if self.rejected_examples.len() < REJECTED_EXAMPLES {
            self.rejected_examples.push(RejectedExample {
                place: format!("{}:{}", err.provenance.file, err.provenance.line),
                reason: err.reason.to_string(),
                message: err.message.clone(),
            });
        }
    }

    fn count_user(&mut self, user: &User, emails: &mut SeenKeys, usernames: &mut SeenKeys) {
        self.users += 1;
        *self.users_by_status.entry(user.status.clone()).or_default() += 1;
        if user.enabled {
            self.enabled += 1;
        } else {
            self.disabled += 1;
        }
        match &user.password_hash {
            Some(hash) => {
                *self
                    .password_hashes
                    .entry(hash.algorithm_name())
                    .or_default() += 1
            }
            None => self.users_without_hash += 1,
        }
        if user.is_social_only() {
            self.social_only_users += 1;
        }
        for identity in &user.identities {
            *self
                .linked_identities_by_provider
                .entry(identity.provider.clone())
                .or_default() += 1;
        }
        for role in &user.roles {
            *self.role_members.entry(role.clone()).or_default() += 1;
        }
        for group in &user.groups {
            *self.group_members.entry(group.clone()).or_default() += 1;
        }
        for d in &user.diagnostics {
            *self
                .users_with_diagnostics
                .entry(d.code.clone())
                .or_default() += 1;
        }
        if let Some(email) = user
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if emails.seen_before(&email.to_lowercase()) {
                self.duplicate_emails += 1;
            }
        }
        if let Some(name) = user
            .username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            if usernames.seen_before(&name.to_lowercase()) {
                self.duplicate_usernames += 1;
            }
        }
    }

    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "Source: {} ({} file(s))",
            self.source,
            self.files.len()
        )?;
        writeln!(out, "Records read: {}", self.records_read)?;
        writeln!(out, "  users:                {}", self.users)?;
        writeln!(out, "  roles:                {}", self.roles)?;
        writeln!(out, "  groups:               {}", self.groups)?;
        writeln!(out, "  membership rows:      {}", self.memberships)?;
        writeln!(out, "  merged secondary rows: {}", self.merged_rows)?;
        writeln!(out, "  rejected:             {}", self.rejected)?;
        if self.rejected > 0 {
            writeln!(out, "Rejected by reason:")?;
            write_counts(out, &self.rejected_by_reason)?;
            writeln!(out, "First rejected records:")?;
            for ex in &self.rejected_examples {
                writeln!(out, "  {}: {}: {}", ex.place, ex.reason, ex.message)?;
            }
        }
        writeln!(out, "Users by status:")?;
        write_counts(out, &self.users_by_status)?;
        writeln!(
            out,
            "Enabled: {}, disabled: {}",
            self.enabled, self.disabled
        )?;
        writeln!(out, "Password hashes:")?;
        for (name, n) in &self.password_hashes {
            writeln!(out, "  {name}: {n}")?;
        }
        writeln!(out, "  no hash: {}", self.users_without_hash)?;
        writeln!(out, "Social-only users: {}", self.social_only_users)?;
        writeln!(out, "Linked identities by provider:")?;
        write_counts(out, &self.linked_identities_by_provider)?;
        writeln!(out, "Roles (members):")?;
        write_counts(out, &self.role_members)?;
        writeln!(out, "Groups (members):")?;
        write_counts(out, &self.group_members)?;
        writeln!(
            out,
            "Duplicates: {} e-mail(s), {} username(s) seen on an earlier user",
            self.duplicate_emails, self.duplicate_usernames
        )?;
        if !self.users_with_diagnostics.is_empty() {
            writeln!(out, "Diagnostics on kept users:")?;
            write_counts(out, &self.users_with_diagnostics)?;
        }
        Ok(())
    }
}

fn write_counts(out: &mut impl Write, counts: &BTreeMap<String, u64>) -> std::io::Result<()> {
    if counts.is_empty() {
        return writeln!(out, "  (none)");
    }
    for (name, n) in counts {
        writeln!(out, "  {name}: {n}")?;
    }
    Ok(())
}
