//! `firebase auth:export` JSON (`{"users": [...]}`, pretty-printed, LF or CRLF) and the Auth
//! emulator / raw API shape (`{"kind": "identitytoolkit#DownloadAccountResponse", "users":
//! [...]}`, compact, `lastLoginAt` instead of `lastSignedInAt`, extra keys).
//!
//! Records are streamed by [`JsonRecords`]; each one is picked apart field by field so a
//! wrongly typed field names itself in the error.

use std::sync::Arc;

use kcm_model::{Diagnostic, Reason, RecordError, SourceItem, SourceResult};
use kcm_source_io::{record_error, Input, JsonRecords, RawRecord};
use serde_json::{Map, Value};

use crate::account::{codes, identity, non_empty, parse_millis, Account, CustomAttributes};

/// Key of the users array in both the CLI and the emulator/raw API shapes.
const WRAPPER_KEYS: [&str; 1] = ["users"];

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
            let raw = match self.records.next()? {
                Ok(raw) => raw,
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

fn convert(raw: &RawRecord, path: &Arc<str>) -> Result<Option<SourceItem>, RecordError> {
    let mut obj: Map<String, Value> = raw.parse(path)?;
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
fn is_empty_response(obj: &Map<String, Value>) -> bool {
    let users_empty = match obj.get("users") {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    !obj.is_empty() && users_empty && obj.keys().all(|k| RESPONSE_KEYS.contains(&k.as_str()))
}

fn take_id(obj: &mut Map<String, Value>) -> Result<String, FieldError> {
    match obj.remove("localId") {
        None | Some(Value::Null) => Err((Reason::MissingField, "`localId` is missing".into())),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err((Reason::MissingField, "`localId` is empty".into()))
        }
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(wrong_type("localId", "a string", &other)),
    }
}

fn read_account(local_id: String, mut obj: Map<String, Value>) -> Result<Account, FieldError> {
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
    account.metadata = obj;
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

fn take_str(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>, FieldError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(non_empty(s)),
        Some(other) => Err(wrong_type(key, "a string", &other)),
    }
}

fn take_bool(obj: &mut Map<String, Value>, key: &str) -> Result<Option<bool>, FieldError> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(other) => Err(wrong_type(key, "true or false", &other)),
    }
}

/// Epoch milliseconds: the exports write strings of digits; numbers are tolerated.
fn take_millis(obj: &mut Map<String, Value>, key: &str) -> Result<Option<i64>, FieldError> {
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
