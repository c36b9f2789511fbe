//! The Auth0 password-hash export (support ticket) read into a compact index, and the merge
//! of its rows into users as they stream past.
//!
//! The export is NDJSON (a JSON array is accepted too) of MongoDB-flavoured rows:
//! `{"_id":{"$oid":"…"},"alt_id":"…","email":"…","connection":"…","passwordHash":"$2b$10$…",
//! "identifiers":[{"type":"email","value":"…"}], …}`. A row belongs to `auth0|<alt_id>` when
//! `alt_id` is present, else to `auth0|<_id.$oid>`. It can hold millions of rows, so each row
//! keeps only the parsed hash, its place in the file and its connection; ids and e-mails live
//! once, as map keys.

use std::collections::HashMap;
use std::sync::Arc;

use kcm_model::{is_password_provider, PasswordHash, Provenance, Reason, RecordError, User};
use kcm_source_io::{record_error, Input, JsonRecords};
use serde_json::{Map, Value};

/// The provider prefix Auth0 gives database-connection users.
const DB_PROVIDER_PREFIX: &str = "auth0|";

/// Marks "no row" / "no connection" in the compact row fields.
const NONE_U32: u32 = u32::MAX;
const NONE_U16: u16 = u16::MAX;

struct HashRow {
    /// `None` once merged into a user.
    hash: Option<PasswordHash>,
    line: u64,
    record: u64,
    /// Index into `HashIndex::connections`, or `NONE_U16`.
    connection: u16,
    /// Next row with the same (lower-cased) e-mail, or `NONE_U32`.
    next_same_email: u32,
}

/// A hash row merged into a user.
pub struct Merge {
    pub hash: PasswordHash,
    pub provenance: Provenance,
    /// True when the row was found by e-mail rather than by user id.
    pub by_email: bool,
}

/// All usable rows of one password-hash export, looked up by user id and by e-mail.
pub struct HashIndex {
    file: Arc<str>,
    rows: Vec<HashRow>,
    by_id: HashMap<Box<str>, u32>,
    /// Lower-cased e-mail → first row with it (others chained through `next_same_email`).
    by_email: HashMap<Box<str>, u32>,
    /// Last row of each e-mail chain, so appending keeps file order.
    email_tail: HashMap<u32, u32>,
    connections: Vec<Arc<str>>,
    connection_ids: HashMap<Arc<str>, u16>,
}

impl HashIndex {
    /// Read the whole export. Rows that cannot be used (bad JSON, no id, no hash, a second row
    /// for the same user) are returned as errors, in file order.
    pub fn build(input: Input, max_record_bytes: usize) -> (Self, Vec<RecordError>) {
        let file = input.path.clone();
        let mut index = HashIndex {
            file: file.clone(),
            rows: Vec::new(),
            by_id: HashMap::new(),
            by_email: HashMap::new(),
            email_tail: HashMap::new(),
            connections: Vec::new(),
            connection_ids: HashMap::new(),
        };
        let mut errors = Vec::new();
        for raw in JsonRecords::new(input, &["users"], max_record_bytes) {
            let result = raw.and_then(|raw| {
                let value: Value = raw.parse(&file)?;
                let prov = raw.provenance(&file);
                match value {
                    Value::Object(obj) => index.add(obj, prov),
                    _ => Err(RecordError::new(
                        prov,
                        Reason::InvalidField,
                        "expected a JSON object",
                    )),
                }
            });
            if let Err(e) = result {
                errors.push(e);
            }
        }
        (index, errors)
    }

    /// Number of usable rows read.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn add(&mut self, obj: Map<String, Value>, prov: Provenance) -> Result<(), RecordError> {
        let user_id = row_user_id(&obj).ok_or_else(|| {
            RecordError::new(
                prov.clone(),
                Reason::MissingField,
                "password-hash row has no `_id.$oid` or `alt_id`",
            )
        })?;
        let hash = match obj.get("passwordHash") {
            Some(Value::String(s)) if !s.trim().is_empty() => PasswordHash::from_encoded(s),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(RecordError::new(
                    prov,
                    Reason::MissingField,
                    "password-hash row has no `passwordHash`",
                )
                .with_source_id(user_id))
            }
            Some(_) => {
                return Err(RecordError::new(
                    prov,
                    Reason::InvalidField,
                    "`passwordHash` is not a string",
                )
                .with_source_id(user_id))
            }
        };
        if let Some(&first) = self.by_id.get(user_id.as_str()) {
            let first_line = self.rows.get(first as usize).map_or(0, |r| r.line);
            return Err(RecordError::new(
                prov,
                Reason::Duplicate,
                format!("a second password-hash row for `{user_id}`; the row on line {first_line} is used"),
            )
            .with_source_id(user_id));
        }
        let idx = u32::try_from(self.rows.len()).unwrap_or(NONE_U32);
        if idx == NONE_U32 {
            return Err(RecordError::new(
                prov,
                Reason::Invalid,
                "too many password-hash rows",
            ));
        }
        let connection = match obj.get("connection") {
            Some(Value::String(c)) => self.intern_connection(c),
            _ => NONE_U16,
        };
        self.rows.push(HashRow {
            hash: Some(hash),
            line: prov.line,
            record: prov.record,
            connection,
            next_same_email: NONE_U32,
        });
        self.by_id.insert(user_id.into_boxed_str(), idx);
        if let Some(email) = row_email(&obj) {
            let key = email.trim().to_lowercase().into_boxed_str();
            match self.by_email.get(&key) {
                None => {
                    self.by_email.insert(key, idx);
                }
                Some(&head) => {
                    let tail = self.email_tail.get(&head).copied().unwrap_or(head);
                    if let Some(row) = self.rows.get_mut(tail as usize) {
                        row.next_same_email = idx;
                    }
                    self.email_tail.insert(head, idx);
                }
            }
        }
        Ok(())
    }

    fn intern_connection(&mut self, name: &str) -> u16 {
        if let Some(&id) = self.connection_ids.get(name) {
            return id;
        }
        let Ok(id) = u16::try_from(self.connections.len()) else {
            return NONE_U16;
        };
        if id == NONE_U16 {
            return NONE_U16;
        }
        let name: Arc<str> = Arc::from(name);
        self.connections.push(name.clone());
        self.connection_ids.insert(name, id);
        id
    }

    /// Take the hash row for `user`: by user id, else by e-mail (case-insensitive). The
    /// e-mail fallback only serves users whose primary identity is a database one (or
    /// unknown) and whose connection, when both sides name one, is the row's: a social
    /// account sharing an e-mail with a database account must not receive its password.
    pub fn take_for(&mut self, user: &User) -> Option<Merge> {
        if let Some(&idx) = self.by_id.get(user.source_id.as_str()) {
            // The user's own row, even if already taken by a repeated user record: the
            // e-mail fallback must not hand it some other account's row.
            return self.take(idx, false);
        }
        let email = user.email.as_deref()?;
        let primary = user.identities.iter().find(|i| i.primary);
        if primary.is_some_and(|i| !is_password_provider(&i.provider)) {
            return None;
        }
        let user_connection = primary.and_then(|i| i.connection.as_deref());
        let mut idx = *self.by_email.get(email.trim().to_lowercase().as_str())?;
        while let Some(row) = self.rows.get(idx as usize) {
            let row_connection = self.connections.get(row.connection as usize).map(|c| &**c);
            let compatible = match (user_connection, row_connection) {
                (Some(u), Some(r)) => u == r,
                _ => true,
            };
            if row.hash.is_some() && compatible {
                return self.take(idx, true);
            }
            idx = row.next_same_email;
        }
        None
    }

    fn take(&mut self, idx: u32, by_email: bool) -> Option<Merge> {
        let row = self.rows.get_mut(idx as usize)?;
        let hash = row.hash.take()?;
        Some(Merge {
            hash,
            provenance: Provenance::new(self.file.clone(), row.line, row.record),
            by_email,
        })
    }

    /// One [`Reason::Unmatched`] error per row that no user took, in file order.
    pub fn into_unmatched(self) -> Vec<RecordError> {
        let mut left: Vec<(u32, Box<str>)> = self
            .by_id
            .into_iter()
            .filter(|(_, idx)| {
                self.rows
                    .get(*idx as usize)
                    .is_some_and(|r| r.hash.is_some())
            })
            .map(|(id, idx)| (idx, id))
            .collect();
        left.sort_unstable_by_key(|(idx, _)| *idx);
        left.into_iter()
            .filter_map(|(idx, id)| {
                let row = self.rows.get(idx as usize)?;
                Some(
                    record_error(
                        &self.file,
                        row.line,
                        row.record,
                        Reason::Unmatched,
                        format!(
                            "password-hash row for `{id}` matched no user (by user id or e-mail)"
                        ),
                    )
                    .with_source_id(id.to_string()),
                )
            })
            .collect()
    }
}

/// `auth0|<alt_id>` when `alt_id` is set, else `auth0|<_id.$oid>` (`_id` may also be a plain
/// string). An explicit full `user_id`, as some re-packaged exports carry, wins.
fn row_user_id(obj: &Map<String, Value>) -> Option<String> {
    if let Some(Value::String(id)) = obj.get("user_id") {
        if !id.trim().is_empty() {
            return Some(id.trim().to_string());
        }
    }
    if let Some(Value::String(alt)) = obj.get("alt_id") {
        if !alt.trim().is_empty() {
            return Some(format!("{DB_PROVIDER_PREFIX}{}", alt.trim()));
        }
    }
    let oid = match obj.get("_id")? {
        Value::String(s) => s.as_str(),
        Value::Object(o) => match o.get("$oid")? {
            Value::String(s) => s.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    let oid = oid.trim();
    (!oid.is_empty()).then(|| format!("{DB_PROVIDER_PREFIX}{oid}"))
}

/// Top-level `email`, else the first `identifiers[]` entry of type `email` (the export does
/// not always carry root attributes).
fn row_email(obj: &Map<String, Value>) -> Option<&str> {
    if let Some(Value::String(email)) = obj.get("email") {
        if !email.trim().is_empty() {
            return Some(email);
        }
    }
    let Some(Value::Array(ids)) = obj.get("identifiers") else {
        return None;
    };
    ids.iter().find_map(|entry| {
        let entry = entry.as_object()?;
        if entry.get("type")?.as_str()? != "email" {
            return None;
        }
        entry
            .get("value")?
            .as_str()
            .filter(|v| !v.trim().is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_model::LinkedIdentity;

    const HASH: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";

    fn index(text: &str) -> (HashIndex, Vec<RecordError>) {
        let input =
            Input::from_reader("h.ndjson", std::io::Cursor::new(text.as_bytes().to_vec())).unwrap();
        HashIndex::build(input, 1 << 20)
    }

    fn user(id: &str, email: &str, provider: &str, connection: Option<&str>) -> User {
        User {
            source_id: id.into(),
            email: Some(email.into()),
            identities: vec![LinkedIdentity {
                provider: provider.into(),
                user_id: "x".into(),
                connection: connection.map(Into::into),
                username: None,
                email: None,
                primary: true,
            }],
            ..User::default()
        }
    }

    #[test]
    fn email_fallback_respects_connection_and_social_users() {
        let text = format!(
            "{{\"_id\":{{\"$oid\":\"a1\"}},\"email\":\"Same@x.io\",\"connection\":\"db2\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":{{\"$oid\":\"a2\"}},\"email\":\"same@x.io\",\"connection\":\"db1\",\"passwordHash\":\"{HASH}\"}}\n"
        );
        let (mut idx, errors) = index(&text);
        assert!(errors.is_empty());
        assert!(idx
            .take_for(&user("google-oauth2|1", "same@x.io", "google-oauth2", None))
            .is_none());
        let m = idx
            .take_for(&user("auth0|zz", "SAME@x.io", "auth0", Some("db1")))
            .unwrap();
        assert_eq!((m.provenance.line, m.by_email), (2, true));
        let m = idx
            .take_for(&user("auth0|yy", "same@x.io", "auth0", None))
            .unwrap();
        assert_eq!(m.provenance.line, 1);
        assert!(idx
            .take_for(&user("auth0|a1", "same@x.io", "auth0", None))
            .is_none());
        assert!(idx.into_unmatched().is_empty());
    }

    #[test]
    fn bad_and_duplicate_rows_are_errors_and_never_show_the_hash() {
        let text = format!(
            "{{\"email\":\"a@x\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":{{\"$oid\":\"b\"}}}}\n\
             {{\"_id\":\"c\",\"passwordHash\":\"{HASH}\"}}\n\
             {{\"_id\":\"c\",\"passwordHash\":\"{HASH}\"}}\n\
             [1]\n"
        );
        let (idx, errors) = index(&text);
        assert_eq!(idx.len(), 1);
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.provenance.line, e.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Reason::MissingField),
                (2, Reason::MissingField),
                (4, Reason::Duplicate),
                (5, Reason::InvalidField)
            ]
        );
        let unmatched = idx.into_unmatched();
        assert_eq!(unmatched[0].source_id.as_deref(), Some("auth0|c"));
        for e in errors.iter().chain(&unmatched) {
            assert!(!e.to_string().contains("nFgu"), "{e}");
        }
    }
}
