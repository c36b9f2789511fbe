//! Reading an `apply` journal for the cutover operations (rollback, notify, delta sync): the
//! header (checked against the connected realm), every user outcome as a stream, and at the
//! end what the run left unresolved and which realm objects it created. Memory holds only the
//! batches still open while reading and the created objects (a few per run).

use std::collections::HashMap;
use std::path::Path;

use crate::client::KeycloakClient;
use crate::error::SinkError;
use crate::journal::{CreatedObject, Entry, Header, JournalLines, JournalOutcome, JournalUser};

/// The outcomes of an apply journal, in journal order.
pub(crate) struct AppliedJournal {
    pub(crate) header: Header,
    lines: JournalLines<Entry>,
    /// Outcomes of the `Done` entry being drained.
    queue: std::vec::IntoIter<JournalOutcome>,
    open: HashMap<u64, Vec<JournalUser>>,
    created: Vec<CreatedObject>,
}

/// What remains known once every outcome was read.
pub(crate) struct AppliedTail {
    /// Users of batches sent without a recorded outcome (the run stopped before settling them).
    pub(crate) unresolved: Vec<JournalUser>,
    /// Realm objects the run created, in creation order.
    pub(crate) created: Vec<CreatedObject>,
}

impl AppliedJournal {
    /// Opens `path` and checks that it was written for the client's server and realm.
    pub(crate) fn open(path: &Path, client: &KeycloakClient) -> Result<Self, SinkError> {
        let mut lines = JournalLines::<Entry>::open(path)?;
        let header = match lines.next() {
            Some(Ok(Entry::Header(h))) => h,
            Some(Err(e)) => return Err(e),
            _ => {
                return Err(SinkError::JournalCorrupt {
                    path: path.to_path_buf(),
                    line: 1,
                    message: "not an apply journal: the first entry is not a header".into(),
                })
            }
        };
        check_target(path, client, &header.realm, &header.url)?;
        Ok(AppliedJournal {
            header,
            lines,
            queue: Vec::new().into_iter(),
            open: HashMap::new(),
            created: Vec::new(),
        })
    }

    /// The next user outcome, `None` at the end of the journal.
    pub(crate) fn next_outcome(&mut self) -> Option<Result<JournalOutcome, SinkError>> {
        loop {
            if let Some(o) = self.queue.next() {
                return Some(Ok(o));
            }
            match self.lines.next()? {
                Err(e) => return Some(Err(e)),
                Ok(Entry::Sent { batch, users }) => {
                    self.open.insert(batch, users);
                }
                Ok(Entry::Done { batch, outcomes }) => {
                    self.open.remove(&batch);
                    self.queue = outcomes.into_iter();
                }
                Ok(Entry::Created(object)) => self.created.push(object),
                Ok(Entry::Header(_) | Entry::Resumed { .. }) => {}
            }
        }
    }

    /// Call after [`AppliedJournal::next_outcome`] returned `None`.
    pub(crate) fn finish(self) -> AppliedTail {
        let mut batches: Vec<(u64, Vec<JournalUser>)> = self.open.into_iter().collect();
        batches.sort_by_key(|(b, _)| *b);
        AppliedTail {
            unresolved: batches.into_iter().flat_map(|(_, u)| u).collect(),
            created: self.created,
        }
    }
}

/// A journal (apply or cutover) must belong to the realm and server the client talks to.
pub(crate) fn check_target(
    path: &Path,
    client: &KeycloakClient,
    realm: &str,
    url: &str,
) -> Result<(), SinkError> {
    for (field, expected, found) in [
        ("realm", client.realm().to_string(), realm),
        ("url", client.base_url(), url),
    ] {
        if expected != found {
            return Err(SinkError::JournalMismatch {
                path: path.to_path_buf(),
                field,
                expected,
                found: found.to_string(),
            });
        }
    }
    Ok(())
}
