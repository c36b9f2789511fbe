//! Outcome and report types of `apply` (serialisable for `--output-format json`). Every user the
//! run reads ends in exactly one counter; rejected users are listed with Keycloak's message.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::client::RequestStats;
use crate::config::{OnExisting, UserProfileMode};

/// What happened to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserOutcome {
    Added,
    /// The request's outcome was lost (timeout, dropped connection, interrupted run) and the user
    /// was found in the realm afterwards: counted as added by this run.
    AddedUnconfirmed,
    /// Already existed; left untouched (on-existing = skip).
    Skipped,
    /// Already existed; replaced (on-existing = overwrite).
    Overwritten,
    Rejected,
}

/// Why a user was rejected (a stable code for reports and exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// partialImport answered 400 for this user alone.
    KeycloakInvalid,
    /// 409: already exists (on-existing = fail) or a uniqueness conflict.
    KeycloakConflict,
    /// 500 for this user alone (unparsable credential data, missing group path, ...).
    KeycloakServerError,
    /// The single user's request was too large (413).
    TooLarge,
    /// Another user of the same batch has the same username.
    DuplicateInBatch,
    /// Neither a username nor an email: Keycloak cannot name the user.
    NoUsername,
    /// Any other status for this user alone.
    KeycloakOther,
}

impl RejectReason {
    pub(crate) fn from_status(status: u16) -> Self {
        match status {
            400 => RejectReason::KeycloakInvalid,
            409 => RejectReason::KeycloakConflict,
            413 => RejectReason::TooLarge,
            500 => RejectReason::KeycloakServerError,
            _ => RejectReason::KeycloakOther,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedUser {
    pub key: String,
    pub username: String,
    pub reason: RejectReason,
    pub status: Option<u16>,
    /// Keycloak's message (`errorMessage` / `error_description`).
    pub message: String,
}

/// Created vs already present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub created: u64,
    pub existing: u64,
}

/// What the run changed in the user-profile configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserProfileChange {
    pub mode: Option<UserProfileMode>,
    /// Attributes declared by this run.
    pub declared: BTreeSet<String>,
    pub policy_before: Option<String>,
    pub policy_after: Option<String>,
    /// Attributes that stay invisible to the Admin API (stored, but not shown; §6).
    pub invisible: BTreeSet<String>,
    /// False when the server has no user-profile endpoint (Keycloak < 24): nothing to do.
    pub supported: bool,
}

/// Realm content created before the users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StructureReport {
    pub realm_created: bool,
    pub realm_roles: Counts,
    pub clients: Counts,
    pub client_roles: Counts,
    pub groups: Counts,
    pub user_profile: UserProfileChange,
}

/// User counters. `seen = added + added_unconfirmed + skipped + overwritten + rejected +
/// already_done_from_journal + unresolved`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UserCounts {
    pub seen: u64,
    pub added: u64,
    pub added_unconfirmed: u64,
    pub skipped: u64,
    pub overwritten: u64,
    pub rejected: u64,
    /// Finished by an earlier run of the same journal.
    pub already_done_from_journal: u64,
    /// Read but not finished because the run stopped (see `interrupted`); a resume finishes them.
    pub unresolved: u64,
}

impl UserCounts {
    pub(crate) fn record(&mut self, outcome: UserOutcome) {
        match outcome {
            UserOutcome::Added => self.added += 1,
            UserOutcome::AddedUnconfirmed => self.added_unconfirmed += 1,
            UserOutcome::Skipped => self.skipped += 1,
            UserOutcome::Overwritten => self.overwritten += 1,
            UserOutcome::Rejected => self.rejected += 1,
        }
    }
}

/// The result of `apply`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyReport {
    pub url: String,
    pub realm: String,
    pub on_existing: OnExisting,
    pub journal: PathBuf,
    pub resumed: bool,
    pub structure: StructureReport,
    pub users: UserCounts,
    pub rejected: Vec<RejectedUser>,
    /// Batches started by this run (not counting bisection halves).
    pub batches_sent: u64,
    /// partialImport requests sent, bisection halves and repeats included.
    pub partial_import_requests: u64,
    /// Batches split in halves to isolate failing users.
    pub bisections: u64,
    /// Unfinished batches of an earlier run reconciled on resume.
    pub reconciled_batches: u64,
    /// Request counters of this run.
    pub requests: RequestStats,
    /// Why the run stopped early (fatal error, or `max_batches` reached); `None` when complete.
    pub interrupted: Option<String>,
}

impl ApplyReport {
    pub(crate) fn new(
        url: &str,
        realm: &str,
        on_existing: OnExisting,
        journal: PathBuf,
        resumed: bool,
    ) -> Self {
        ApplyReport {
            url: url.to_string(),
            realm: realm.to_string(),
            on_existing,
            journal,
            resumed,
            structure: StructureReport::default(),
            users: UserCounts::default(),
            rejected: Vec::new(),
            batches_sent: 0,
            partial_import_requests: 0,
            bisections: 0,
            reconciled_batches: 0,
            requests: RequestStats::default(),
            interrupted: None,
        }
    }

    /// True when every user was handled and none was rejected.
    pub fn is_clean(&self) -> bool {
        self.interrupted.is_none() && self.users.rejected == 0 && self.users.unresolved == 0
    }
}
