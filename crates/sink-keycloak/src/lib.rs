//! Keycloak sink: loads planned users, roles and groups into a Keycloak realm through the Admin
//! REST API (`partialImport` for users), and reads them back to verify.
//!
//! Flow for the CLI: build [`ConnectionSettings`] → [`KeycloakClient::connect`] → [`preflight`]
//! (capabilities, what exists, user-profile visibility) → optionally [`existing_users`] for a
//! target-aware plan → [`apply`] (journaled, resumable) → [`verify`].
//!
//! Cutover operations, each driven by the apply journal and resumable through its own journal:
//! [`create_identity_providers`] (disabled placeholders for missing link targets),
//! [`update_existing`] (delta sync of users that already exist, after an `apply` with
//! on-existing = skip), [`notify`] (password-reset e-mails) and [`rollback`]. They report
//! progress under [`Phase::Users`] (and [`Phase::Structure`] for rollback's realm objects).
//!
//! The authority for every Keycloak behaviour relied on here is
//! `shared/reference/keycloak-target.md`; comments cite its sections as `§n`.

mod applied;
mod client;
mod config;
mod error;
mod existing;
mod idp;
mod journal;
mod load;
mod lookup;
mod notify;
mod preflight;
mod progress;
mod report;
mod retry;
mod rollback;
mod structure;
mod targets;
mod throttle;
mod token;
mod update;
mod user_profile;
mod verify;

pub use client::{KeycloakClient, RequestStats};
pub use config::{
    Auth, ConnectionSettings, LoadSettings, OnExisting, RetrySettings, TrafficSettings,
    UserProfileMode, DEFAULT_AUTH_REALM, DEFAULT_BASE_DELAY, DEFAULT_BATCH_SIZE, DEFAULT_CLIENT_ID,
    DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_DELAY, DEFAULT_RATE,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETRY_SEED, MAX_BATCH_SIZE,
};
pub use error::SinkError;
pub use existing::{existing_users, ExistingUser, MatchedBy};
pub use idp::{create_identity_providers, provider_id_for, CreatedIdp, GENERIC_PROVIDER_ID};
pub use journal::{
    planned_hash, read_journal, CreatedKind, CreatedObject, Entry as JournalEntry,
    Header as JournalHeader, JournalOutcome, JournalState, JournalUser, PlannedFacts,
    JOURNAL_FORMAT,
};
pub use load::apply;
pub use notify::{
    notify, NotCandidates, NotifyAction, NotifyCounts, NotifyReport, NotifySettings, NotifyUser,
    DEFAULT_NOTIFY_RATE, NOTIFY_JOURNAL_FORMAT,
};
pub use preflight::{create_realm_if_missing, preflight, Preflight};
pub use progress::{NoProgress, Phase, Progress};
pub use report::{
    ApplyReport, Counts, RejectReason, RejectedUser, StructureReport, UserCounts, UserOutcome,
    UserProfileChange,
};
pub use rollback::{
    rollback, LeftInPlace, LeftReason, LeftUser, RollbackAction, RollbackObject, RollbackReport,
    RollbackSettings, RollbackUser, RollbackUserCounts, ROLLBACK_JOURNAL_FORMAT,
};
pub use targets::{LoadTargets, RoleSpec, UserToLoad};
pub use token::RENEW_AT_FRACTION;
pub use update::{
    update_existing, UpdateCounts, UpdateOutcome, UpdateReport, UpdateSettings, UserChanges,
    UserUpdate, UPDATE_JOURNAL_FORMAT,
};
pub use user_profile::{UserProfileCheck, UNMANAGED_POLICY};
pub use verify::{verify, Difference, VerifyReport, VerifyUser, MAX_LISTED};
