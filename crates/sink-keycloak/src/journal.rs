//! The load journal: an append-only NDJSON file (mode 0600) that records the run header, each
//! batch's user keys before it is sent, each user's outcome when its batch completes, and every
//! realm object the run created, with an fsync after every entry. A resumed run reads it back to
//! skip finished users and to reconcile batches that were sent but never completed; rollback,
//! notify and delta sync read it to know what the run added. It holds keys, usernames, Keycloak
//! ids, outcomes and a few facts about each planned user (a content hash, whether
//! `UPDATE_PASSWORD` was planned, whether an e-mail exists) — never a credential, token,
//! password or e-mail address.
//!
//! Format 2 added `Created` entries and the `id`/`planned` fields; they are optional, so format
//! 1 journals stay readable (their users simply carry no id and no planned facts).
//!
//! The same writer (append + fsync, mode 0600) and line reader serve the journals of the
//! cutover operations, each with its own entry type.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use kcm_keycloak_types::UserRepresentation;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{OnExisting, UserProfileMode};
use crate::error::SinkError;
use crate::report::{RejectReason, UserOutcome};

/// Journal format version written in the header.
pub const JOURNAL_FORMAT: u32 = 2;

/// The required action whose presence makes a user eligible for a password-reset e-mail.
pub(crate) const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Header(Header),
    /// A later process continued the run.
    Resumed {
        at: String,
    },
    /// Written (and synced) before the batch's first request.
    Sent {
        batch: u64,
        users: Vec<JournalUser>,
    },
    /// Outcomes of a batch (or of a reconciled, previously unfinished batch).
    Done {
        batch: u64,
        outcomes: Vec<JournalOutcome>,
    },
    /// A realm object this run created (written right after Keycloak confirmed it).
    Created(CreatedObject),
}

/// Kinds of realm objects a run can create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatedKind {
    Realm,
    RealmRole,
    Client,
    ClientRole,
    Group,
    /// An attribute declared in the user profile.
    UserProfileAttribute,
    /// The user profile's `unmanagedAttributePolicy` was set (`name` = new value).
    UnmanagedAttributePolicy,
    IdentityProvider,
}

/// One created object. `name` is the role name, `clientId`, group path, attribute name,
/// policy value or identity-provider alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedObject {
    pub kind: CreatedKind,
    pub name: String,
    /// The `clientId` owning a client role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Keycloak's id (internal id for clients and identity providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The value replaced (the previous unmanaged-attribute policy; absent = unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl CreatedObject {
    pub(crate) fn new(kind: CreatedKind, name: impl Into<String>) -> Self {
        CreatedObject {
            kind,
            name: name.into(),
            client_id: None,
            id: None,
            previous: None,
        }
    }

    pub(crate) fn with_id(mut self, id: Option<String>) -> Self {
        self.id = id;
        self
    }
}

/// What the journals remember about a planned user besides its key and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedFacts {
    /// [`planned_hash`] of the planned representation.
    pub hash: String,
    /// `UPDATE_PASSWORD` is among the planned required actions.
    pub update_password: bool,
    /// The planned user has an e-mail address (the address itself is never journaled).
    pub has_email: bool,
}

impl PlannedFacts {
    pub fn of(user: &UserRepresentation) -> Self {
        PlannedFacts {
            hash: planned_hash(user),
            update_password: user
                .required_actions
                .as_ref()
                .is_some_and(|a| a.iter().any(|x| x.eq_ignore_ascii_case(UPDATE_PASSWORD))),
            has_email: user.email.as_deref().is_some_and(|e| !e.trim().is_empty()),
        }
    }
}

/// Bytes of SHA-256 kept in [`planned_hash`]: 128 bits detect a changed plan with certainty
/// for any realistic user count, and 32 hex digits are not mistaken for a 64-digit token by
/// secret scanners.
const HASH_BYTES: usize = 16;

/// The first 128 bits of SHA-256 (hex) of the planned representation without `credentials`:
/// equal hashes mean the same planned profile, attributes, actions, roles, groups and links.
/// Serialisation is deterministic (struct order, sorted maps).
pub fn planned_hash(user: &UserRepresentation) -> String {
    let mut copy = user.clone();
    copy.credentials = None;
    let bytes = serde_json::to_vec(&copy).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    hex::encode(digest.get(..HASH_BYTES).unwrap_or_default())
}

/// Run identity and settings (no secrets: the connection's credentials are not part of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub started_at: String,
    pub url: String,
    pub realm: String,
    pub plan_fingerprint: String,
    pub on_existing: OnExisting,
    pub batch_size: usize,
    pub user_profile: UserProfileMode,
    pub create_realm: bool,
    pub rate: f64,
    pub concurrency: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalUser {
    pub key: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<PlannedFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalOutcome {
    pub key: String,
    pub username: String,
    pub outcome: UserOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectReason>,
    /// HTTP status of the rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Keycloak's message for a rejection (it names the user, never a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The Keycloak id of the user: from the partialImport result, or from the lookup that
    /// confirmed an unconfirmed user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<PlannedFacts>,
}

/// What an existing journal says.
#[derive(Debug, Default)]
pub struct JournalState {
    pub header: Option<Header>,
    /// Keys with a recorded outcome.
    pub completed: HashSet<String>,
    /// Batches sent without a `Done` entry, minus users completed elsewhere.
    pub pending: Vec<(u64, Vec<JournalUser>)>,
    /// The next unused batch number.
    pub next_batch: u64,
    /// Lines that could not be parsed (a line cut by a crash).
    pub unreadable_lines: u64,
}

/// Reads a journal. An unparsable line (typically the last line, cut by a crash) is skipped
/// and counted; the batches it would have closed are reconciled like any unfinished batch.
pub fn read_journal(path: &Path) -> Result<JournalState, SinkError> {
    let mut state = JournalState::default();
    let mut sent: Vec<(u64, Vec<JournalUser>)> = Vec::new();
    let mut done: HashSet<u64> = HashSet::new();
    let mut lines = JournalLines::<Entry>::open(path)?;
    for entry in lines.by_ref() {
        match entry? {
            Entry::Header(h) => {
                if state.header.is_none() {
                    state.header = Some(h);
                }
            }
            Entry::Resumed { .. } => {}
            Entry::Sent { batch, users } => {
                state.next_batch = state.next_batch.max(batch + 1);
                sent.push((batch, users));
            }
            Entry::Done { batch, outcomes } => {
                state.next_batch = state.next_batch.max(batch + 1);
                done.insert(batch);
                state.completed.extend(outcomes.into_iter().map(|o| o.key));
            }
            Entry::Created(_) => {}
        }
    }
    state.unreadable_lines = lines.unreadable();
    for (batch, users) in sent {
        if done.contains(&batch) {
            continue;
        }
        let open: Vec<JournalUser> = users
            .into_iter()
            .filter(|u| !state.completed.contains(&u.key))
            .collect();
        if !open.is_empty() {
            state.pending.push((batch, open));
        }
    }
    Ok(state)
}

/// Streams the entries of an NDJSON journal. A line that does not parse (typically the last
/// line, cut by a crash) is skipped with a warning and counted.
pub(crate) struct JournalLines<E> {
    lines: std::io::Lines<BufReader<std::fs::File>>,
    path: PathBuf,
    line: u64,
    unreadable: u64,
    entry: PhantomData<fn() -> E>,
}

impl<E: DeserializeOwned> JournalLines<E> {
    pub(crate) fn open(path: &Path) -> Result<Self, SinkError> {
        let file = std::fs::File::open(path).map_err(|source| SinkError::Journal {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(JournalLines {
            lines: BufReader::new(file).lines(),
            path: path.to_path_buf(),
            line: 0,
            unreadable: 0,
            entry: PhantomData,
        })
    }

    pub(crate) fn unreadable(&self) -> u64 {
        self.unreadable
    }
}

impl<E: DeserializeOwned> Iterator for JournalLines<E> {
    type Item = Result<E, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(line) => line,
                Err(source) => {
                    return Some(Err(SinkError::Journal {
                        path: self.path.clone(),
                        source,
                    }))
                }
            };
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<E>(&line) {
                Ok(entry) => return Some(Ok(entry)),
                Err(e) => {
                    tracing::warn!(path = %self.path.display(), line = self.line, error = %e, "skipping an unreadable journal line");
                    self.unreadable += 1;
                }
            }
        }
    }
}

/// Opens the journal of a cutover operation: on `resume` (and when it exists) every entry is
/// handed to `visit` and `resumed` is appended; otherwise a new journal starts with `header`
/// (an existing non-empty one is refused). Returns the writer and whether it resumed.
pub(crate) fn open_op_journal<E: Serialize + DeserializeOwned>(
    path: &Path,
    resume: bool,
    header: &E,
    resumed: &E,
    mut visit: impl FnMut(E) -> Result<(), SinkError>,
) -> Result<(JournalWriter, bool), SinkError> {
    let exists = std::fs::metadata(path)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if resume && exists {
        for entry in JournalLines::<E>::open(path)? {
            visit(entry?)?;
        }
        let mut writer = JournalWriter::append_to(path)?;
        writer.append(resumed)?;
        return Ok((writer, true));
    }
    if resume {
        tracing::warn!(path = %path.display(), "nothing to resume: the journal is missing or empty; starting a new run");
    }
    let mut writer = JournalWriter::create(path)?;
    writer.append(header)?;
    Ok((writer, false))
}

/// The current time for journal headers.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Appends entries, syncing each to disk.
#[derive(Debug)]
pub struct JournalWriter {
    file: std::fs::File,
    path: PathBuf,
}

impl JournalWriter {
    /// Creates a new journal; refuses to replace a non-empty one.
    pub fn create(path: &Path) -> Result<Self, SinkError> {
        let err = |source| SinkError::Journal {
            path: path.to_path_buf(),
            source,
        };
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.len() > 0 {
                return Err(SinkError::JournalExists {
                    path: path.to_path_buf(),
                });
            }
        }
        let file = open_options()
            .create(true)
            .truncate(true)
            .write(true)
            .open(path)
            .map_err(err)?;
        Ok(JournalWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing journal for appending (creating it when missing). A last line cut by a
    /// crash is closed with a newline first so the next entry starts on its own line.
    pub fn append_to(path: &Path) -> Result<Self, SinkError> {
        let err = |source| SinkError::Journal {
            path: path.to_path_buf(),
            source,
        };
        let mut file = open_options()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        if len > 0 {
            file.seek(SeekFrom::Start(len - 1)).map_err(err)?;
            let mut last = [0u8; 1];
            file.read_exact(&mut last).map_err(err)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(err)?;
            }
        }
        Ok(JournalWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn append<T: Serialize>(&mut self, entry: &T) -> Result<(), SinkError> {
        let mut line = serde_json::to_vec(entry).map_err(|e| SinkError::Journal {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        let err = |source| SinkError::Journal {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(&line).map_err(err)?;
        self.file.sync_data().map_err(err)
    }
}

fn open_options() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The journal names users; keep it private to the operator.
        options.mode(0o600);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(k: &str) -> JournalUser {
        JournalUser {
            key: k.into(),
            username: format!("user-{k}"),
            planned: None,
        }
    }

    fn outcome(k: &str) -> JournalOutcome {
        JournalOutcome {
            key: k.into(),
            username: format!("user-{k}"),
            outcome: UserOutcome::Added,
            reason: None,
            status: None,
            message: None,
            id: Some(format!("id-{k}")),
            planned: None,
        }
    }

    fn header() -> Header {
        Header {
            format: JOURNAL_FORMAT,
            started_at: "2024-01-01T00:00:00Z".into(),
            url: "http://kc".into(),
            realm: "acme".into(),
            plan_fingerprint: "fp".into(),
            on_existing: OnExisting::Skip,
            batch_size: 2,
            user_profile: UserProfileMode::Declare,
            create_realm: false,
            rate: 10.0,
            concurrency: 1,
        }
    }

    #[test]
    fn round_trip_tracks_completed_and_pending_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut w = JournalWriter::create(&path).unwrap();
        w.append(&Entry::Header(header())).unwrap();
        w.append(&Entry::Sent {
            batch: 0,
            users: vec![user("a"), user("b")],
        })
        .unwrap();
        w.append(&Entry::Done {
            batch: 0,
            outcomes: vec![outcome("a"), outcome("b")],
        })
        .unwrap();
        w.append(&Entry::Sent {
            batch: 1,
            users: vec![user("c"), user("d")],
        })
        .unwrap();
        drop(w);
        let state = read_journal(&path).unwrap();
        assert_eq!(state.header.unwrap().realm, "acme");
        assert_eq!(
            state.completed,
            HashSet::from(["a".to_string(), "b".to_string()])
        );
        assert_eq!(state.pending, vec![(1, vec![user("c"), user("d")])]);
        assert_eq!(state.next_batch, 2);
        assert!(matches!(
            JournalWriter::create(&path),
            Err(SinkError::JournalExists { .. })
        ));
    }

    #[test]
    fn format_1_lines_stay_readable_and_created_entries_round_trip() {
        let old = r#"{"type":"done","batch":0,"outcomes":[{"key":"a","username":"ada","outcome":"added"}]}"#;
        let Entry::Done { outcomes, .. } = serde_json::from_str::<Entry>(old).unwrap() else {
            panic!("a done entry");
        };
        assert_eq!(outcomes[0].id, None);
        assert_eq!(outcomes[0].planned, None);
        let sent = r#"{"type":"sent","batch":0,"users":[{"key":"a","username":"ada"}]}"#;
        assert!(matches!(
            serde_json::from_str::<Entry>(sent).unwrap(),
            Entry::Sent { .. }
        ));

        let mut role =
            CreatedObject::new(CreatedKind::ClientRole, "viewer").with_id(Some("r1".into()));
        role.client_id = Some("billing".into());
        let text = serde_json::to_string(&Entry::Created(role.clone())).unwrap();
        assert_eq!(
            text,
            r#"{"type":"created","kind":"client_role","name":"viewer","client_id":"billing","id":"r1"}"#
        );
        assert_eq!(
            serde_json::from_str::<Entry>(&text).unwrap(),
            Entry::Created(role)
        );
    }

    #[test]
    fn planned_facts_hash_everything_but_credentials() {
        let mut user = UserRepresentation {
            username: Some("ada".into()),
            email: Some("ada@example.com".into()),
            required_actions: Some(vec!["update_password".into()]),
            ..Default::default()
        };
        let facts = PlannedFacts::of(&user);
        assert!(facts.update_password && facts.has_email);
        assert_eq!(facts.hash.len(), HASH_BYTES * 2);
        user.credentials = Some(vec![kcm_keycloak_types::CredentialRepresentation {
            value: Some("pw".into()),
            ..Default::default()
        }]);
        assert_eq!(
            PlannedFacts::of(&user).hash,
            facts.hash,
            "credentials do not count"
        );
        user.first_name = Some("Ada".into());
        assert_ne!(PlannedFacts::of(&user).hash, facts.hash);
        user.email = Some(" ".into());
        user.required_actions = None;
        let facts = PlannedFacts::of(&user);
        assert!(!facts.update_password && !facts.has_email);
    }

    #[cfg(unix)]
    #[test]
    fn journal_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        JournalWriter::create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_line_cut_by_a_crash_is_skipped_and_appending_starts_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut w = JournalWriter::create(&path).unwrap();
        w.append(&Entry::Header(header())).unwrap();
        w.append(&Entry::Sent {
            batch: 0,
            users: vec![user("a")],
        })
        .unwrap();
        drop(w);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(br#"{"type":"done","batch":0,"outco"#).unwrap();
        drop(f);
        let state = read_journal(&path).unwrap();
        assert_eq!(state.unreadable_lines, 1);
        assert_eq!(state.pending.len(), 1);
        let mut w = JournalWriter::append_to(&path).unwrap();
        w.append(&Entry::Done {
            batch: 0,
            outcomes: vec![outcome("a")],
        })
        .unwrap();
        let state = read_journal(&path).unwrap();
        assert!(state.pending.is_empty());
        assert!(state.completed.contains("a"));
        assert_eq!(state.unreadable_lines, 1);
    }
}
