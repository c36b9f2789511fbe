//! Mapping files and the transform stage: source records to planned Keycloak users, roles,
//! groups and clients, with duplicate detection, filters and accounting.
//!
//! - [`Mapping`] reads a TOML mapping file (schema: `docs/mapping.md`), strictly: unknown
//!   keys and wrong types are errors naming file, line, column and key.
//! - [`TransformOptions`] carries what the target decides (hash providers) and the Firebase
//!   project hash parameters.
//! - [`Transformer`] takes source items one at a time ([`Transformer::push`]) and returns
//!   [`Outcome`]s: planned users ([`PlannedUser`], a complete Keycloak
//!   `UserRepresentation`), filtered users, rejections with stable reason codes, merged and
//!   side records. [`Transformer::finish`] reports memberships that matched no user and the
//!   [`PlanSummary`], whose accounting identity accounts for every record read.
//!   [`Transformer::run`] does the same for a whole stream, planning users on worker threads
//!   (see [`default_workers`]) with exactly the outcomes, in the same order, of `push`.

mod condition;
mod dedup;
mod engine;
mod fields;
mod identities;
mod mapping;
mod parallel;
mod passwords;
mod roles;
mod status;
mod summary;
mod template;
mod transforms;
mod validate;

pub use engine::{
    reason, Outcome, PlannedUser, Rejection, SideKind, Stage, Transformer,
    MAX_ATTRIBUTE_VALUE_CHARS, NOT_INCLUDED, USER_ID_NAMESPACE,
};
pub use fields::{FieldPath, MetadataPath, PathError};
pub use identities::DEFAULT_ALIASES;
pub use mapping::{
    DuplicatePolicy, InvalidMapping, InvalidPolicy, Mapping, MappingError, Verified,
    DEFAULT_LEGACY_ID_ATTRIBUTE, MAX_MAPPING_BYTES,
};
pub use parallel::default_workers;
pub use passwords::{
    FirebaseSettings, OptionsError, PasswordOutcome, PasswordSettings, SecretRef, TransformOptions,
    ENV_PREFIX,
};
pub use status::{UPDATE_PASSWORD, VERIFY_EMAIL};
pub use summary::{
    DuplicateExample, DuplicateSummary, FilteredSummary, PasswordSummary, PlanSummary,
    RejectedSummary, SideRecords, MAX_DUPLICATE_EXAMPLES,
};
pub use validate::{
    check_email, check_username, normalize_email, DEFAULT_MIN_USERNAME_CHARS, MAX_FIELD_CHARS,
};

/// Re-exported so callers can build options without depending on kcm-credentials directly.
pub use kcm_credentials::{FirebaseScryptParams, HashCapabilities, UnusableReason};
