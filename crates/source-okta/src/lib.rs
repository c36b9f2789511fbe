//! Okta source: user CSV exports (API names, `profile.*` names, console titles), Users API
//! JSON, and group-membership files, streamed into the shared model.
//!
//! Okta has no first-party full user export; what migrations get is the Users API JSON
//! (`GET /api/v1/users`, saved by a script or SDK), CSVs built from it (the Rockstar browser
//! extension, report downloads, hand-made spreadsheets), and group-member listings
//! (export-formats.md §2). [`read`] accepts all of them.
//!
//! # Inputs
//!
//! * `inputs.users` — one or more user exports, each detected by its first significant byte:
//!   `{` or `[` is Users API JSON (array, NDJSON, or `{"users": [...]}`), anything else CSV.
//!   Gzip, a UTF-8 BOM and CRLF line endings are accepted.
//! * `inputs.memberships` — optional group-membership CSV, or the JSON body of
//!   `GET /groups/{id}/users`.
//! * `inputs.hashes` and `inputs.roles` are refused: Okta never exports password hashes, and
//!   Okta admin roles (`SUPER_ADMIN`, `APP_ADMIN`, ...) are console permissions, not
//!   application roles, so they are not migrated.
//!
//! # User CSV headers
//!
//! Columns are found by header name, case-insensitively, in any order. Each of these names a
//! field (API name / dotted API path / console title):
//!
//! | field | accepted headers |
//! |---|---|
//! | user id → `source_id` | `id`, `User Id` |
//! | status → `status`, `enabled` | `status`, `Status`, `Okta user status` |
//! | login → `username` (**required column**) | `login`, `profile.login`, `Username`, `Okta username` |
//! | e-mail → `email` | `email`, `profile.email`, `Primary email` |
//! | `firstName`, `lastName`, `displayName` | API name, `profile.` name, `First name`, `Last name`, `Display name` (also `User`, `User fullname`) |
//! | phone → `phone` | `mobilePhone` (`Mobile phone`), else `primaryPhone` (`Primary phone`) |
//! | `created`, `lastLogin` → ms since epoch | `created`, `lastLogin`, `Last login` |
//! | other base profile attributes → `attributes` | API name, `profile.` name or schema title (`secondEmail`/`Secondary email`, `department`/`Department`, `timezone`/`Time zone`, ... all 31 of the default user schema) |
//! | other top-level fields → `metadata` | `activated` (`Activation date`), `statusChanged` (`Status changed`), `lastUpdated`, `passwordChanged` (`Last password change`), `transitioningToStatus`, `realmId`, `type.id`, `credentials.provider.type`, `credentials.provider.name` |
//! | anything else → `attributes` | a custom profile attribute, named as written (`profile.` prefix removed) |
//!
//! Not read: empty headers, `_links.*`, `_embedded.*`, and `credentials.password.*` /
//! `credentials.recovery_question.*` (secrets). Two columns holding the same field (`email`
//! twice, or `login` next to `Username`) are a fatal error naming both, as is a file without
//! a login column (the message lists the columns found).
//!
//! # Mapping rules
//!
//! * A cell that is empty (`,,` or `""`), a JSON `null`, `""` or `[]` means "no value": it is
//!   left out everywhere. Strings are trimmed.
//! * Every profile attribute that is not a first-class field becomes an attribute (API name
//!   when known); JSON numbers and booleans become text, arrays several values, objects their
//!   JSON text. The whole profile is also kept as an object in `metadata["profile"]` with its
//!   JSON types, so mappings can address `profile.department`.
//! * `credentials`: only `provider` (`type`, `name`) and `emails` are kept, in
//!   `metadata["credentials"]`; `credentials.emails[].status` of the primary address sets
//!   `email_verified`. Password and recovery-question objects are never read; one carrying a
//!   password or hash adds the diagnostic `okta_password_ignored`. Users with provider type
//!   `IMPORT` get the diagnostic `okta_imported_password_not_exported`. `password_hash` is
//!   always `None`.
//! * Status: API enum or console label (`Pending user action` → `PROVISIONED`,
//!   `Password reset` → `RECOVERY`, `Deactivated` → `DEPROVISIONED`, ...), stored as the API
//!   enum. `enabled` is false only for `SUSPENDED` and `DEPROVISIONED`. An unknown status
//!   rejects the record (`invalid_field`, naming the value); no status → `ACTIVE` with the
//!   diagnostic `okta_status_missing`.
//! * No user id → the login is the source id, with the diagnostic `okta_id_missing`.
//! * Timestamps: ISO-8601 with offset; without an offset they are read as UTC with the
//!   diagnostic `okta_timestamp_assumed_utc` (console reports may be in Pacific time); an
//!   unreadable timestamp is left out with `okta_timestamp_invalid`.
//! * A record without a login is rejected (`missing_field`). The same user in two files is
//!   emitted twice: duplicates are the transform's business.
//!
//! # Membership files
//!
//! CSV headers (compared ignoring case, spaces, `_`, `-` and `.`): group name `group`,
//! `group name`, `groupName`, `group_name`; group id `group id`, `groupId`; group description
//! `group description`; user `login`, `username`, `profile.login` (→ [`MemberRef::Login`]),
//! `email`, `primary email`, `profile.email` (→ `Email`), `id`, `user id`, `userId`
//! (→ `Id`), `user` (→ `Any`). When several user columns are present the first non-empty of
//! login, e-mail, id, user is used. Other columns are ignored.
//!
//! **Group named by the file stem**: a CSV without a group column (Rockstar's group-member
//! export `id,login,firstName,lastName,status`) and the JSON body of `GET /groups/{id}/users`
//! put every row in the group named by the file name without `.gz`/`.csv`/`.json`/`.ndjson`/
//! `.txt`: `Engineering.csv` → group `Engineering`. JSON group objects (`profile.name`, as in
//! `GET /users/{id}/groups`) are read as group definitions.
//!
//! # Stream order
//!
//! The membership file first — a [`SourceItem::Group`] the first time a group appears, then a
//! [`SourceItem::Membership`] per row — then the users of each users file in order. Every
//! record ends as one item or one [`RecordError`](kcm_model::RecordError) with its file and
//! line; a bad record never stops the rest, except that a CSV row growing past the record
//! size limit (an unclosed quote) ends its file, since no row boundary can be trusted after
//! it.
//!
//! [`MemberRef::Login`]: kcm_model::MemberRef::Login
//! [`SourceItem::Group`]: kcm_model::SourceItem::Group
//! [`SourceItem::Membership`]: kcm_model::SourceItem::Membership

mod columns;
mod csv_rows;
mod csv_users;
mod draft;
mod json_users;
mod memberships;
mod status;
mod timestamp;

use std::path::Path;

use kcm_source_io::{open_input, Input, ReadOptions, SourceError, SourceInputs, SourceStream};

use crate::csv_users::CsvUsers;
use crate::json_users::JsonUsers;
use crate::memberships::{CsvMemberships, JsonMemberships};

/// The records of one input file.
type Part = Box<dyn Iterator<Item = kcm_model::SourceResult> + Send>;

/// Why `--hashes` is refused.
const HASHES_UNSUPPORTED: &str =
    "Okta never exports password hashes; --hashes is not an Okta input \
     (users keep no password: plan a reset or a just-in-time migration)";

/// Why `--roles` is refused.
const ROLES_UNSUPPORTED: &str =
    "Okta admin roles are not migrated: they are Okta console permissions \
     (SUPER_ADMIN, APP_ADMIN, ...), not application roles; --roles is not an Okta input \
     (use --memberships for groups)";

/// Open every Okta input and stream its records: memberships first, then users.
///
/// Every file is opened (and every CSV header checked) before anything is streamed, so an
/// unreadable file, an unknown format, a CSV without a login column or with duplicate columns
/// is a [`SourceError`] up front. See the crate docs for the formats and mapping rules.
pub fn read(inputs: &SourceInputs, opts: &ReadOptions) -> Result<SourceStream, SourceError> {
    if inputs.hashes.is_some() {
        return Err(SourceError::Unsupported(HASHES_UNSUPPORTED.into()));
    }
    if inputs.roles.is_some() {
        return Err(SourceError::Unsupported(ROLES_UNSUPPORTED.into()));
    }
    let max = opts.max_record_bytes;
    let memberships = match &inputs.memberships {
        Some(path) => Some(open_memberships(path, max)?),
        None => None,
    };
    let mut users: Vec<Part> = Vec::new();
    for path in &inputs.users {
        users.push(open_users(path, max)?);
    }
    Ok(Box::new(
        memberships
            .into_iter()
            .flatten()
            .chain(users.into_iter().flatten()),
    ))
}

/// Whether an input is JSON (`{`/`[` first) — `Err` for an empty file.
fn is_json(input: &mut Input) -> Result<bool, SourceError> {
    let first = input
        .first_significant_byte()
        .map_err(|e| SourceError::UnknownFormat {
            path: input.path.to_string(),
            why: format!("cannot read the start of the file: {e}"),
        })?;
    match first {
        None => Err(SourceError::UnknownFormat {
            path: input.path.to_string(),
            why: "the file is empty".into(),
        }),
        Some(b) => Ok(b == b'{' || b == b'['),
    }
}

fn open_users(path: &Path, max: usize) -> Result<Part, SourceError> {
    let mut input = open_input(path)?;
    Ok(if is_json(&mut input)? {
        Box::new(JsonUsers::new(input, max))
    } else {
        Box::new(CsvUsers::open(input, max)?)
    })
}

fn open_memberships(path: &Path, max: usize) -> Result<Part, SourceError> {
    let mut input = open_input(path)?;
    Ok(if is_json(&mut input)? {
        Box::new(JsonMemberships::new(input, max))
    } else {
        Box::new(CsvMemberships::open(input, max)?)
    })
}
