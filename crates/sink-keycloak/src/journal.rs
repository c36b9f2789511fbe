//! The load journal: an append-only NDJSON file (mode 0600) that records the run header, each
//! batch's user keys before it is sent, and each user's outcome when its batch completes, with an
//! fsync after every entry. A resumed run reads it back to skip finished users and to reconcile
//! batches that were sent but never completed. It holds keys, usernames and outcomes only —
//! never a credential, token or password.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{OnExisting, UserProfileMode};
use crate::error::SinkError;
use crate::report::{RejectReason, UserOutcome};

/// Journal format version written in the header.
pub const JOURNAL_FORMAT: u32 = 1;

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
    let file = std::fs::File::open(path).map_err(|source| SinkError::Journal {
        path: path.to_path_buf(),
        source,
    })?;
    let mut state = JournalState::default();
    let mut sent: Vec<(u64, Vec<JournalUser>)> = Vec::new();
    let mut done: HashSet<u64> = HashSet::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| SinkError::Journal {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = match serde_json::from_str::<Entry>(&line) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(path = %path.display(), line = index + 1, error = %e, "skipping an unreadable journal line");
                state.unreadable_lines += 1;
                continue;
            }
        };
        match entry {
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
        }
    }
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

    pub fn append(&mut self, entry: &Entry) -> Result<(), SinkError> {
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
