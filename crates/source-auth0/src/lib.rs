//! Auth0 source: bulk-export NDJSON/JSON/CSV users, the support password-hash export, and roles files, streamed into the shared model.
//!
//! [`read`] takes the files of one run ([`SourceInputs`]) and returns a [`SourceStream`] that
//! yields, in this order:
//!
//! 1. the roles file's items: a [`SourceItem::Role`] per role, each followed by a
//!    [`SourceItem::Membership`] per member (for an Authorization Extension export: roles,
//!    then each [`SourceItem::Group`] followed by its group memberships);
//! 2. a [`RecordError`] per unusable password-hash row (bad JSON, no id, no hash, duplicate);
//! 3. the users of each users file in order; a user that received a password hash is
//!    followed by [`SourceItem::Merged`] `{what: "password_hash", into: <user id>}`;
//! 4. a [`Reason::Unmatched`] error per password-hash row that no user took.
//!
//! Every record becomes an item or a [`RecordError`] and the stream goes on. All files are
//! opened inside [`read`], so an unreadable file or an unknown format is a [`SourceError`]
//! before anything streams. The hash export is indexed while the roles stream (on a thread of
//! its own when a core is spare); the users wait for it.
//!
//! # Users files
//! Any file may be gzipped (detected by magic bytes), start with a UTF-8 BOM and use CRLF.
//! The first significant byte decides the format: `{`/`[` → JSON, anything else → CSV.
//! - JSON: the bulk export's NDJSON, a JSON array, or a Management API response
//!   (`{"users": [...]}`, paged `{"start", "limit", "length"|"total", "users"}`).
//! - CSV: the bulk export's CSV (header of `export_as`/field names; string cells escaped as
//!   `'value`, one leading `'` stripped) or the old User Import/Export Extension's export
//!   (labels `Id, Given Name, …`; tab-separated when the header has tabs and no commas).
//!   `user_metadata.x.y` / `app_metadata.x.y` columns become nested metadata, unknown
//!   columns attributes. A CSV without a user id column is refused.
//!
//! Mapping: `user_id` → `source_id` (required; `provider|rest`, split on the first `|`);
//! `email`, `email_verified` (bool or `"true"`/`"false"`), `username`, `given_name`,
//! `family_name`, `name` → display name, `phone_number` (or `phone`), `created_at`,
//! `last_login` (ISO-8601 → epoch ms), `blocked: true` → disabled with status `blocked`
//! (else `active`), `nickname`/`picture` → attributes, `identities[]` → linked identities
//! (index 0 primary; ids may be numbers; `profileData` username/e-mail; a user without
//! identities gets its primary one derived from `user_id`). Everything else —
//! `app_metadata`, `user_metadata`, `last_ip`, `logins_count`, … — stays in `metadata`
//! verbatim; metadata roles (`app_metadata.roles`, `app_metadata.authorization.roles`) are
//! resolved by the transform, not here. Secret fields (`custom_password_hash`,
//! `mfa_factors`, identity tokens) are never carried; a bulk-import `password_hash` becomes
//! the user's hash.
//!
//! # Password-hash export
//! NDJSON (or a JSON array) of rows `{"_id":{"$oid":…}, "alt_id"?, "email"?, "connection",
//! "passwordHash", "identifiers":[{"type":"email"|"username","value",…}], …}`. A row belongs
//! to `auth0|<alt_id>` if `alt_id` is set, else `auth0|<_id.$oid>`; its e-mail is `email` or
//! the `identifiers[]` e-mail. Rows merge by user id first, then by e-mail
//! (case-insensitive; only into users whose primary identity is a database one, and only
//! when the connections agree where both are known); each row is used at most once. An
//! unrecognised `passwordHash` still merges, as [`kcm_model::PasswordHash::Unknown`].
//!
//! # Roles file
//! JSON (`{"roles": [...]}`, a `GET /api/v2/roles` page, an array, or NDJSON) of roles:
//! ```json
//! {"id": "rol_…", "name": "editor", "description": "…",
//!  "users": ["auth0|abc", {"user_id": "auth0|def", "email": "d@x.io"}, {"email": "e@x.io"}]}
//! ```
//! `users` entries (also accepted as `members`) are user ids or objects shaped like
//! `GET /api/v2/roles/{id}/users` entries: `user_id` is used when present, else `email`.
//!
//! The Authorization Extension export is recognised by its `groups`/`configuration`/
//! `permissions` keys: `{"groups": [{"_id", "name", "description", "members": [user ids],
//! "roles": [role ids], "nested": [group ids]}], "roles": [{"_id", "name", "description",
//! "applicationId", …}], …}`. Its roles become roles; its groups become groups whose parent
//! is the group listing them in `nested` (the first, if several do), each followed by one
//! group membership per member. Group → role assignments and permissions are not carried
//! (the model has no place for them).
//!
//! `--memberships` is not an Auth0 input and is refused.

mod csv_users;
mod hashes;
mod roles;
mod user;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use kcm_model::{Diagnostic, Reason, RecordError, SourceItem, SourceResult, User};
use kcm_source_io::{
    have_spare_core, open_input, spawn_with, Input, JsonRecords, OpenError, ReadOptions,
    RecordText, SourceError, SourceInputs, SourceStream,
};

pub use roles::ROLES_WRAPPER_KEY;
pub use user::{split_user_id, STATUS_ACTIVE, STATUS_BLOCKED};

/// Wrapper key of Management API user lists (`{"users": [...]}` and paged responses).
pub const USERS_WRAPPER_KEY: &str = "users";

/// `what` of the [`SourceItem::Merged`] item that follows a user who received a hash row.
pub const MERGED_PASSWORD_HASH: &str = "password_hash";

/// Diagnostic code on a user whose password hash was found by e-mail rather than by id.
pub const DIAG_HASH_BY_EMAIL: &str = "password_hash_matched_by_email";

/// Read Auth0 exports. See the crate docs for the formats and the order of the stream.
pub fn read(inputs: &SourceInputs, opts: &ReadOptions) -> Result<SourceStream, SourceError> {
    if inputs.memberships.is_some() {
        return Err(SourceError::Unsupported(
            "--memberships is not an Auth0 input; use --roles".to_string(),
        ));
    }
    let users = inputs
        .users
        .iter()
        .map(|path| UsersReader::open(path, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let hash_input = match &inputs.hashes {
        Some(path) => {
            let mut input = open_input(path)?;
            require_json(&mut input, "the Auth0 password-hash export (NDJSON)")?;
            Some(input)
        }
        None => None,
    };
    let roles = inputs
        .roles
        .as_deref()
        .map(|path| roles::RolesReader::open(path, opts))
        .transpose()?;
    // Indexed after every file is open, so every fatal problem surfaces first. With a spare
    // core the index is built while the roles stream; it is needed once the users start.
    let max = opts.max_record_bytes;
    let hashes = match hash_input {
        None => HashBuild::Ready(None, Vec::new()),
        Some(input) => HashBuild::start(input, max),
    };
    Ok(Box::new(Auth0Stream {
        pending: VecDeque::new(),
        roles,
        building: Some(hashes),
        hash_errors: Vec::new().into_iter(),
        users: users.into_iter(),
        current: None,
        hashes: None,
        unmatched: None,
    }))
}

/// Check that an input is JSON (or empty); returns its first significant byte.
fn require_json(input: &mut Input, what: &str) -> Result<Option<u8>, SourceError> {
    let first = first_byte(input)?;
    match first {
        None | Some(b'{') | Some(b'[') => Ok(first),
        Some(b) if b.is_ascii_graphic() => Err(SourceError::UnknownFormat {
            path: input.path.to_string(),
            why: format!(
                "expected {what}, but the file starts with `{}` rather than `{{` or `[`",
                b as char
            ),
        }),
        // The hash export arrives PGP-encrypted; binary data is most often that.
        Some(_) => Err(SourceError::UnknownFormat {
            path: input.path.to_string(),
            why: format!(
                "expected {what}, but the file is binary (still PGP-encrypted? decrypt it with `gpg --decrypt` first)"
            ),
        }),
    }
}

fn first_byte(input: &mut Input) -> Result<Option<u8>, SourceError> {
    input.first_significant_byte().map_err(|source| {
        SourceError::Open(OpenError::Io {
            path: input.path.to_string(),
            error: source,
        })
    })
}

/// One users file, JSON or CSV.
enum UsersReader {
    Json {
        records: JsonRecords,
        file: Arc<str>,
    },
    Csv(Box<csv_users::CsvUsers>),
}

impl UsersReader {
    fn open(path: &Path, opts: &ReadOptions) -> Result<Self, SourceError> {
        let mut input = open_input(path)?;
        match first_byte(&mut input)? {
            None | Some(b'{') | Some(b'[') => {
                let file = input.path.clone();
                Ok(UsersReader::Json {
                    records: JsonRecords::new(input, &[USERS_WRAPPER_KEY], opts.max_record_bytes),
                    file,
                })
            }
            Some(_) => Ok(UsersReader::Csv(Box::new(csv_users::CsvUsers::open(
                input,
                opts.max_record_bytes,
            )?))),
        }
    }
}

/// One JSON user record → a user.
fn json_user(text: &RecordText<'_>, file: &Arc<str>) -> Result<User, RecordError> {
    let provenance = text.provenance(file);
    match text.parse::<user::UserJson>(file)? {
        user::UserJson::Object(known, rest) => user::user_from_parts(known, rest, provenance),
        user::UserJson::NotObject => Err(RecordError::new(
            provenance,
            Reason::InvalidField,
            "expected a user object",
        )),
    }
}

impl Iterator for UsersReader {
    type Item = Result<User, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            UsersReader::Csv(rows) => rows.next(),
            UsersReader::Json { records, file } => Some(
                records
                    .next_text()?
                    .and_then(|(_, text)| json_user(&text, file)),
            ),
        }
    }
}

/// The password-hash index, being built or built.
enum HashBuild {
    Ready(Option<Box<hashes::HashIndex>>, Vec<RecordError>),
    Running {
        result: Receiver<(Box<hashes::HashIndex>, Vec<RecordError>)>,
        thread: JoinHandle<()>,
    },
}

impl HashBuild {
    /// Build on a thread of its own when a core is spare, else now.
    fn start(input: Input, max: usize) -> Self {
        if !have_spare_core() {
            let (index, errors) = hashes::HashIndex::build(input, max);
            return HashBuild::Ready(Some(Box::new(index)), errors);
        }
        let (tx, result) = mpsc::sync_channel(1);
        match spawn_with("kcm-hash-index", input, move |input| {
            // The receiver is gone only if the stream was dropped unread.
            let (index, errors) = hashes::HashIndex::build(input, max);
            let _ = tx.send((Box::new(index), errors));
        }) {
            Ok(thread) => HashBuild::Running { result, thread },
            Err(input) => {
                let (index, errors) = hashes::HashIndex::build(input, max);
                HashBuild::Ready(Some(Box::new(index)), errors)
            }
        }
    }

    /// Wait for the index. A panic while building is re-raised here.
    fn finish(self) -> (Option<Box<hashes::HashIndex>>, Vec<RecordError>) {
        match self {
            HashBuild::Ready(index, errors) => (index, errors),
            HashBuild::Running { result, thread } => match result.recv() {
                Ok((index, errors)) => (Some(index), errors),
                Err(_) => match thread.join() {
                    Err(panic) => std::panic::resume_unwind(panic),
                    Ok(()) => (None, Vec::new()),
                },
            },
        }
    }
}

/// The stream [`read`] returns: roles, hash-row errors, users (with merges), unmatched rows.
struct Auth0Stream {
    pending: VecDeque<SourceResult>,
    roles: Option<roles::RolesReader>,
    /// Taken once the roles are out.
    building: Option<HashBuild>,
    hash_errors: std::vec::IntoIter<RecordError>,
    users: std::vec::IntoIter<UsersReader>,
    current: Option<UsersReader>,
    hashes: Option<Box<hashes::HashIndex>>,
    /// The hash rows no user took, reported one by one at the end.
    unmatched: Option<hashes::Unmatched>,
}

impl Auth0Stream {
    fn user_item(&mut self, mut user: User) -> SourceResult {
        if let Some(merge) = self.hashes.as_mut().and_then(|index| index.take_for(&user)) {
            if merge.by_email {
                user.diagnostics.push(Diagnostic::new(
                    DIAG_HASH_BY_EMAIL,
                    format!(
                        "password hash taken from the export row on line {} by e-mail (no row for this user id)",
                        merge.provenance.line
                    ),
                ));
            }
            user.password_hash = Some(merge.hash);
            self.pending.push_back(Ok(SourceItem::Merged {
                what: MERGED_PASSWORD_HASH.to_string(),
                into: user.source_id.clone(),
                provenance: merge.provenance,
            }));
        }
        Ok(SourceItem::User(Box::new(user)))
    }
}

impl Iterator for Auth0Stream {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if let Some(roles) = &mut self.roles {
                if !roles.next_into(&mut self.pending) {
                    self.roles = None;
                }
                continue;
            }
            if let Some(building) = self.building.take() {
                let (index, errors) = building.finish();
                self.hashes = index;
                self.hash_errors = errors.into_iter();
            }
            if let Some(e) = self.hash_errors.next() {
                return Some(Err(e));
            }
            if self.current.is_none() {
                self.current = self.users.next();
            }
            if let Some(current) = &mut self.current {
                match current.next() {
                    Some(Ok(user)) => return Some(self.user_item(user)),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        self.current = None;
                        continue;
                    }
                }
            }
            if let Some(index) = self.hashes.take() {
                self.unmatched = Some((*index).into_unmatched());
            }
            return self.unmatched.as_mut()?.next().map(Err);
        }
    }
}
