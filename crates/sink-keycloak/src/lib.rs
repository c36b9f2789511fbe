//! Keycloak sink: loads planned users, roles and groups into a Keycloak realm through the Admin
//! REST API (`partialImport` for users), and reads them back to verify.
//!
//! Flow for the CLI: build [`ConnectionSettings`] → [`KeycloakClient::connect`] → [`preflight`]
//! (capabilities, what exists, user-profile visibility) → optionally [`existing_users`] for a
//! target-aware plan → [`apply`] (journaled, resumable) → [`verify`].
//!
//! The authority for every Keycloak behaviour relied on here is
//! `shared/reference/keycloak-target.md`; comments cite its sections as `§n`.

mod client;
mod config;
mod error;
mod existing;
mod journal;
mod load;
mod lookup;
mod preflight;
mod progress;
mod report;
mod retry;
mod structure;
mod targets;
mod throttle;
mod token;
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
pub use journal::{
    read_journal, Entry as JournalEntry, Header as JournalHeader, JournalOutcome, JournalState,
    JournalUser,
};
pub use load::apply;
pub use preflight::{create_realm_if_missing, preflight, Preflight};
pub use progress::{NoProgress, Phase, Progress};
pub use report::{
    ApplyReport, Counts, RejectReason, RejectedUser, StructureReport, UserCounts, UserOutcome,
    UserProfileChange,
};
pub use targets::{LoadTargets, RoleSpec, UserToLoad};
pub use token::RENEW_AT_FRACTION;
pub use user_profile::{UserProfileCheck, UNMANAGED_POLICY};
pub use verify::{verify, Difference, VerifyReport, VerifyUser, MAX_LISTED};
