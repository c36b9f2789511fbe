//! `firebase auth:export` JSON (`{"users": [...]}`, pretty-printed, LF or CRLF) and the Auth
//! emulator / raw API shape (`{"kind": "identitytoolkit#DownloadAccountResponse", "users":
//! [...]}`, compact, `lastLoginAt` instead of `lastSignedInAt`, extra keys).
//!
//! Records are streamed by [`JsonRecords`]; each one is picked apart field by field so a
//! wrongly typed field names itself in the error.

use std::fmt;
use std::sync::Arc;

use kcm_model::{Diagnostic, Reason, RecordError, SourceItem, SourceResult};
use kcm_source_io::{record_error, Input, JsonRecords, RecordText};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::account::{codes, identity, non_empty, parse_millis, Account, CustomAttributes};

/// Key of the users array in both the CLI and the emulator/raw API shapes.
const WRAPPER_KEYS: [&str; 1] = ["users"];

/// Account fields read into slots of their own rather than into the record's map: a record
/// is read straight into them, so a million accounts do not each insert a dozen keys into a
/// map only to remove them again.
const KNOWN_FIELDS: [&str; 14] = [
    "localId",
    "email",
    "emailVerified",
    "passwordHash",
    "salt",
    "displayName",
    "photoUrl",
    "createdAt",
    "phoneNumber",
    "disabled",
    "lastSignedInAt",
    "lastLoginAt",
    "customAttributes",
    "providerUserInfo",
];

/// One account record: the known fields (a slot is `Some` when the key is present, `null`
/// included) and every other key.
struct Record {
    known: [Option<Value>; KNOWN_FIELDS.len()],
    rest: Map<String, Value>,
}

impl Record {
    /// Remove a known field, as `Map::remove` would.
    fn remove(&mut self, key: &str) -> Option<Value> {
        let i = KNOWN_FIELDS.iter().position(|k| *k == key)?;
        self.known.get_mut(i)?.take()
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Record;
            // The wording `Map` itself uses, so a record that is not an object reads the same.
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
                let mut record = Record {
                    known: Default::default(),
                    rest: Map::new(),
                };
                while let Some(kcm_source_io::BorrowedKey(key)) = map.next_key()? {
                    let value: Value = map.next_value()?;
                    match KNOWN_FIELDS.iter().position(|k| *k == key) {
                        Some(i) => record.known[i] = Some(value),
                        None => {
                            record.rest.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok(record)
            }
        }
        d.deserialize_map(V)
    }
}

/// Top-level keys of a download-account response. An object made only of these (an emulator
/// export of an empty project has no `users` key at all) is the wrapper, not an account.
const RESPONSE_KEYS: [&str; 3] = ["kind", "nextPageToken", "users"];

/// Users of one JSON export, in file order.
pub(crate) struct JsonUsers {
    path: Arc<str>,
    records: JsonRecords,
}

impl JsonUsers {
    pub(crate) fn new(input: Input, max_record_bytes: usize) -> Self {
        let path = input.path.clone();
        Self {
            path,
            records: JsonRecords::new(input, &WRAPPER_KEYS, max_record_bytes),
        }
    }
}

impl Iterator for JsonUsers {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        loop {
            let raw = match self.records.next_text()? {
                Ok((_, raw)) => raw,
                Err(e) => return Some(Err(e)),
            };
            match convert(&raw, &self.path) {
                Ok(Some(item)) => return Some(Ok(item)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Why a field could not be read: (reason, message). Turned into a [`RecordError`] with the
/// record's place by the caller.
type FieldError = (Reason, String);

fn convert(raw: &RecordText<'_>, path: &Arc<str>) -> Result<Option<SourceItem>, RecordError> {
    let mut obj: Record = raw.parse(path)?;
    if is_empty_response(&obj) {
        return Ok(None);
    }
    let local_id = take_id(&mut obj)
        .map_err(|(reason, msg)| record_error(path, raw.line, raw.record, reason, msg))?;
    let account = read_account(local_id.clone(), obj).map_err(|(reason, msg)| {
        record_error(path, raw.line, raw.record, reason, msg).with_source_id(&local_id)
    })?;
    Ok(Some(SourceItem::User(Box::new(
        account.into_user(raw.provenance(path)),
    ))))
}

/// A download-account response without accounts: only response keys, and no `users` array
/// with anything in it (JsonRecords hands over a wrapper whose `users` is not an array).
fn is_empty_response(obj: &Record) -> bool {
    let users_empty = match obj.rest.get("users") {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    // No response key is an account field, so any account field present rules it out.
    obj.known.iter().all(Option::is_none)
        && !obj.rest.is_empty()
        && users_empty
        && obj.rest.keys().all(|k| RESPONSE_KEYS.contains(&k.as_str()))
}

fn take_id(obj: &mut Record) -> Result<String, FieldError> {
    match obj.remove("localId") {
        None | Some(Value::Null) => Err((Reason::MissingField, "`localId` is missing".into())),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err((Reason::MissingField, "`localId` is empty".into()))
        }
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(wrong_type("localId", "a string", &other)),
    }
}

fn read_account(local_id: String, mut obj: Record) -> Result<Account, FieldError> {
    let mut account = Account {
        local_id,
        email: take_str(&mut obj, "email")?,
        email_verified: take_bool(&mut obj, "emailVerified")?,
        password_hash: take_str(&mut obj, "passwordHash")?,
        salt: take_str(&mut obj, "salt")?,
        display_name: take_str(&mut obj, "displayName")?,
        photo_url: take_str(&mut obj, "photoUrl")?,
        created_at: take_millis(&mut obj, "createdAt")?,
        phone: take_str(&mut obj, "phoneNumber")?,
        disabled: take_bool(&mut obj, "disabled")?,
        ..Account::default()
    };
    // The CLI renames the API's `lastLoginAt`; the emulator and raw API keep it.
    let signed_in = take_millis(&mut obj, "lastSignedInAt")?;
    let login = take_millis(&mut obj, "lastLoginAt")?;
    account.last_login_at = signed_in.or(login);
    account.custom_attributes = match obj.remove("customAttributes") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(CustomAttributes::Text(s)),
        Some(v @ Value::Object(_)) => Some(CustomAttributes::Value(v)),
        Some(other) => {
            return Err(wrong_type(
                "customAttributes",
                "a JSON-encoded string",
                &other,
            ))
        }
    };
    match obj.remove("providerUserInfo") {
        None | Some(Value::Null) => {}
        Some(Value::Array(entries)) => {
            for (i, entry) in entries.iter().enumerate() {
                match provider_entry(entry) {
                    Ok(Some(id)) => account.identities.push(id),
                    Ok(None) => {}
                    Err(why) => account.diagnostics.push(Diagnostic::new(
                        codes::PROVIDER_ENTRY_INVALID,
                        format!("providerUserInfo[{i}] skipped: {why}"),
                    )),
                }
            }
        }
        Some(other) => return Err(wrong_type("providerUserInfo", "an array", &other)),
    }
    // Everything else (mfaInfo, tenantId, emulator-only keys such as passwordUpdatedAt,
    // validSince, lastRefreshAt) stays available to the mapping by its source name.
    account.metadata = obj.rest;
    Ok(account)
}

/// One `providerUserInfo` entry: `Ok(None)` for the account's own password/phone entries.
fn provider_entry(entry: &Value) -> Result<Option<kcm_model::LinkedIdentity>, String> {
    let Value::Object(map) = entry else {
        return Err(format!("expected an object, found {}", type_name(entry)));
    };
    let provider = match map.get("providerId") {
        Some(Value::String(p)) if !p.is_empty() => p.as_str(),
        _ => return Err("no `providerId`".into()),
    };
    let raw_id = match map.get("rawId") {
        Some(Value::String(r)) if !r.is_empty() => r.clone(),
        // Some tools write numeric provider ids as numbers.
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(format!("`{provider}` entry has no `rawId`")),
    };
    let email = match map.get("email") {
        Some(Value::String(e)) => non_empty(e.as_str()),
        _ => None,
    };
    Ok(identity(provider, &raw_id, email))
}

fn take_str(obj: &mut Record, key: &str) -> Result<Option<String>, FieldError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(non_empty(s)),
        Some(other) => Err(wrong_type(key, "a string", &other)),
    }
}

fn take_bool(obj: &mut Record, key: &str) -> Result<Option<bool>, FieldError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(other) => Err(wrong_type(key, "true or false", &other)),
    }
}

/// Epoch milliseconds: the exports write strings of digits; numbers are tolerated.
fn take_millis(obj: &mut Record, key: &str) -> Result<Option<i64>, FieldError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => parse_millis(&s).map(Some).ok_or_else(|| {
            (
                Reason::InvalidField,
                format!("`{key}` must be milliseconds since the epoch, found a non-numeric string"),
            )
        }),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| {
                (
                    Reason::InvalidField,
                    format!("`{key}` is not a whole number of milliseconds"),
                )
            }),
        Some(other) => Err(wrong_type(key, "milliseconds since the epoch", &other)),
    }
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> FieldError {
    (
        Reason::InvalidField,
        format!("`{key}` must be {expected}, found {}", type_name(found)),
    )
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_text(text: &str) -> Result<Option<SourceItem>, RecordError> {
        let raw = RecordText {
            text,
            line: 3,
            record: 2,
        };
        convert(&raw, &Arc::from("users.json"))
    }

    #[test]
    fn records_are_read_like_maps() {
        // Not an object: the same message a map would give.
        let err = convert_text("[1]").unwrap_err();
        assert_eq!(err.reason, Reason::InvalidField);
        assert!(
            err.message
                .starts_with("invalid type: sequence, expected a map"),
            "{}",
            err.message
        );
        // Only response keys: an empty download-account response, not an account.
        assert!(convert_text(r#"{"kind": "x", "users": []}"#)
            .unwrap()
            .is_none());
        // An account field, even null, makes it an account (without an id here).
        let err = convert_text(r#"{"kind": "x", "email": null}"#).unwrap_err();
        assert_eq!(
            (err.reason, err.message.as_str()),
            (Reason::MissingField, "`localId` is missing")
        );
        // A repeated key counts by its last value; unknown keys reach metadata.
        let item =
            convert_text(r#"{"localId": "a", "email": "x@y", "email": "z@y", "tenantId": "t"}"#);
        let Ok(Some(SourceItem::User(user))) = item else {
            panic!("{item:?}");
        };
        assert_eq!(user.email.as_deref(), Some("z@y"));
        assert_eq!(
            user.metadata.get("tenantId"),
            Some(&Value::String("t".into()))
        );
        assert_eq!(user.provenance.line, 3);
    }
}
