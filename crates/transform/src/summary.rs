//! The plan summary: counts of everything the transform decided, with stable field names
//! for reports (`--output-format json`). Every record read is accounted for exactly once:
//!
//! `records_read = users_planned + filtered.total + rejected.total + merged + side_records.total`
//!
//! where `side_records.total` counts role and group definitions and membership rows that
//! attached to a user; membership rows that matched no user are in `rejected` (reason
//! `unmatched`).

use std::collections::BTreeMap;

use serde::Serialize;

/// Most duplicate examples kept in the summary (all duplicates are still rejected/listed as
/// outcomes; the examples are for a quick look).
pub const MAX_DUPLICATE_EXAMPLES: usize = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilteredSummary {
    pub total: u64,
    pub by_rule: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RejectedSummary {
    pub total: u64,
    /// By stable reason code (`malformed`, `invalid_username`, `duplicate`, `unmatched`, ...).
    pub by_reason: BTreeMap<String, u64>,
    /// By stage: `source` or `transform`.
    pub by_stage: BTreeMap<String, u64>,
}

/// Records that are not users: source role/group definitions and membership rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SideRecords {
    /// `roles + groups + memberships_attached`: the side records counted in the identity.
    pub total: u64,
    pub roles: u64,
    pub groups: u64,
    /// Membership rows read.
    pub memberships: u64,
    /// Membership rows that attached to at least one user.
    pub memberships_attached: u64,
    /// Membership rows that matched no user (also counted in `rejected`).
    pub memberships_unmatched: u64,
    /// Membership rows read after the first user: they can only attach to later users.
    pub memberships_after_users: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateExample {
    /// `username` or `email`.
    pub kind: String,
    /// `rejected` or `email_dropped`.
    pub action: String,
    pub source_id: String,
    /// `file:line` of the later user.
    pub at: String,
    /// `file:line` of the user that has the key.
    pub first: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DuplicateSummary {
    pub usernames_rejected: u64,
    pub emails_rejected: u64,
    pub emails_dropped: u64,
    pub examples: Vec<DuplicateExample>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PasswordSummary {
    /// Users whose hash became a credential, by Keycloak provider id.
    pub carried: BTreeMap<String, u64>,
    /// Users who must choose a new password, by reason code.
    pub reset: BTreeMap<String, u64>,
    /// Social-only users.
    pub not_needed: u64,
}

/// Everything the transform planned and why records went elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    pub mapping: String,
    pub source: String,
    pub realm: String,
    pub records_read: u64,
    pub users_planned: u64,
    pub filtered: FilteredSummary,
    pub rejected: RejectedSummary,
    /// Secondary records merged into a user by the source (password-hash export rows).
    pub merged: u64,
    pub side_records: SideRecords,
    pub duplicates: DuplicateSummary,
    pub passwords: PasswordSummary,
    pub enabled: u64,
    pub disabled: u64,
    pub required_actions: BTreeMap<String, u64>,
    /// Realm roles granted, with the number of planned users holding each.
    pub realm_roles: BTreeMap<String, u64>,
    /// Client roles granted: client id → role → members.
    pub client_roles: BTreeMap<String, BTreeMap<String, u64>>,
    /// Group paths granted, with members (parents of nested paths must exist too).
    pub groups: BTreeMap<String, u64>,
    /// Federated identities planned, by identity-provider alias.
    pub identities: BTreeMap<String, u64>,
    /// Linked identities dropped, by source provider.
    pub identities_dropped: BTreeMap<String, u64>,
    /// Source role names no rule mapped, with the number of planned users holding each.
    pub unmapped_roles: BTreeMap<String, u64>,
    /// Source group names no rule mapped.
    pub unmapped_groups: BTreeMap<String, u64>,
    /// Source statuses no status rule names (the source's enabled flag was kept).
    pub unknown_statuses: BTreeMap<String, u64>,
    /// Diagnostics on planned users, by code.
    pub diagnostics: BTreeMap<String, u64>,
}

impl PlanSummary {
    /// The right-hand side of the accounting identity.
    pub fn accounted(&self) -> u64 {
        self.users_planned
            + self.filtered.total
            + self.rejected.total
            + self.merged
            + self.side_records.total
    }

    /// Whether every record read is accounted for exactly once.
    pub fn is_balanced(&self) -> bool {
        self.records_read == self.accounted()
    }
}

pub(crate) fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}
