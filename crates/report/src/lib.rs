//! Plan reports and `kc.sh import` export files.
//!
//! - [`PlanReportWriter`] (`kc-migrate plan`): [`PlanReportWriter::record`] takes every
//!   transform [`Outcome`](kcm_transform::Outcome) (including those of
//!   `Transformer::finish`) and streams filtered and rejected records to `rejected.ndjson`;
//!   [`PlanReportWriter::finish`] writes `report.md` (stakeholders), `report.html` (the same as
//!   one self-contained page with charts) and `report.json` (machine-readable) from the
//!   [`PlanSummary`](kcm_transform::PlanSummary).
//! - [`ExportWriter`] (`kc-migrate export`): `<realm>-users-<N>.json` files streamed
//!   [`DEFAULT_USERS_PER_FILE`] users at a time, then `<realm>-realm.json`; see the
//!   [`export`] module for the `kc.sh import` commands and Keycloak's file rules.
//!
//! Every file is written with mode 0600 on unix. Personal data is masked by default
//! ([`mask`]): e-mails as `j***@example.com`, names as `J*** D***`; secrets never appear in any
//! report (messages are also scrubbed of anything shaped like a password hash or salt).
//!
//! # `rejected.ndjson`
//!
//! One JSON object per filtered or rejected record, in input order:
//! `{"file", "line", "record", "source_id" (string or null), "stage" ("source" |
//! "transform"), "outcome" ("rejected" | "filtered"), "reason" (stable reason code, or the
//! filter rule's name), "message"}`.
//!
//! # `report.json` fields (format_version 1)
//!
//! All names are snake_case and stable; maps are sorted by key; counts are integers.
//!
//! | field | meaning |
//! |---|---|
//! | `format_version` | `1`; bumped when a field changes meaning or is removed |
//! | `title`, `generated_at` (absent when not given) | as passed in [`ReportOptions`] |
//! | `mapping`, `source`, `realm` | from the plan |
//! | `personal_data` | `"masked"` or `"unmasked"` |
//! | `accounting` | `records_read`, `users_planned`, `filtered`, `rejected`, `merged`, `side_records`, `accounted` (the sum of the five), `difference` (`records_read - accounted`), `balanced` (`records_read == accounted`) |
//! | `users` | `planned`, `enabled`, `disabled` |
//! | `passwords` | `kept`, `kept_by_provider` {Keycloak hash provider id: users}, `reset`, `reset_by_reason` {reason code: users}, `not_needed` (social-only users) |
//! | `required_actions` | {action: users} |
//! | `realm_roles` | {role: members} |
//! | `client_roles` | {client id: {role: members}} |
//! | `groups` | {group path: members}; `parent_groups`: list of the paths created only as parents |
//! | `identities` | {identity-provider alias: links}; `identities_dropped`: {source provider: links} |
//! | `filtered` | `total`, `by_rule` {rule: records} |
//! | `rejected` | `total`, `by_reason` {reason code: records}, `by_stage` {stage: records} |
//! | `duplicates` | `usernames_rejected`, `emails_rejected`, `emails_dropped`, `examples`: list of {`kind`, `action`, `source_id`, `at`, `first`} |
//! | `side_records` | `total`, `roles`, `groups`, `memberships`, `memberships_attached`, `memberships_unmatched`, `memberships_after_users` |
//! | `unmapped_roles`, `unmapped_groups`, `unknown_statuses`, `diagnostics` | {name or code: users} |
//! | `load_estimate` | `request_rate`, `batch_size`, `user_requests`, `setup_requests`, `total_requests`, `seconds` (null without a usable rate), `assumptions`: list of sentences |
//! | `examples` | `rejected` {reason: list of examples}, `filtered` {rule: list of examples}, an example being {`file`, `line`, `record`, `source_id`, `message`}; `password_reset` {reason: list of {`file`, `line`, `source_id`, `username`, `email`, `name`}} — at most [`DEFAULT_EXAMPLES_PER_REASON`] each by default, masked unless unmasked |
//! | `rejected_file` | `path` (`rejected.ndjson`), `lines`, `expected_lines` (filtered + rejected), `complete` |
//! | `warnings` | list of sentences: unbalanced accounting or an incomplete `rejected.ndjson`; empty when all is well |

mod error;
pub mod export;
mod files;
mod groups;
pub mod mask;
mod plan;

pub use error::ReportError;
pub use export::{
    is_builtin_client, is_builtin_realm_role, ExportPaths, ExportWriter, RealmContents,
    RealmSettings, BUILTIN_CLIENTS, BUILTIN_REALM_ROLES, DEFAULT_USERS_PER_FILE,
    SERVICE_ACCOUNT_PREFIX,
};
#[cfg(unix)]
pub use files::FILE_MODE;
pub use plan::{
    Accounting, DuplicateExample, Duplicates, Examples, Filtered, LoadEstimate, Passwords,
    PlanReport, PlanReportWriter, RecordExample, Rejected, RejectedFile, ReportOptions,
    ReportPaths, SideRecords, UserCounts, UserExample, DEFAULT_BATCH_SIZE,
    DEFAULT_EXAMPLES_PER_REASON, DEFAULT_REQUEST_RATE, DEFAULT_TITLE, HTML_FILE, JSON_FILE,
    MARKDOWN_FILE, REJECTED_FILE, REPORT_FORMAT_VERSION,
};
