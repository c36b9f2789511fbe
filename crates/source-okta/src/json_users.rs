//! Okta Users API JSON (`GET /api/v1/users` pages saved as a JSON array, NDJSON, or a
//! `{"users": [...]}` wrapper), one user object per record.

use std::sync::Arc;

use kcm_model::{Reason, RecordError, SourceItem, SourceResult};
use kcm_source_io::{Input, JsonRecords, RawRecord};
use serde_json::{Map, Value};

use crate::draft::{clean, sanitize_credentials, Draft};

/// Wrapper keys whose array holds the users.
pub(crate) const USERS_WRAPPER_KEYS: &[&str] = &["users"];

/// Top-level fields that are only links or embedded resources, not user data.
const DROPPED_FIELDS: &[&str] = &["_links", "_embedded"];

/// The users of one JSON file.
pub(crate) struct JsonUsers {
    records: JsonRecords,
}

impl JsonUsers {
    pub(crate) fn new(input: Input, max_record_bytes: usize) -> Self {
        Self {
            records: JsonRecords::new(input, USERS_WRAPPER_KEYS, max_record_bytes),
        }
    }
}

impl Iterator for JsonUsers {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        let raw = match self.records.next()? {
            Ok(raw) => raw,
            Err(e) => return Some(Err(e)),
        };
        let path = self.records.path().clone();
        Some(user(&raw, &path))
    }
}

fn user(raw: &RawRecord, path: &Arc<str>) -> SourceResult {
    let object: Map<String, Value> = raw.parse(path)?;
    let invalid =
        |message: String| RecordError::new(raw.provenance(path), Reason::InvalidField, message);
    let mut draft = Draft::default();
    for (key, value) in object {
        match key.as_str() {
            "id" => {
                draft.id =
                    scalar(value).map_err(|t| invalid(format!("`id` is {t}, not a string")))?
            }
            "status" => {
                draft.status =
                    scalar(value).map_err(|t| invalid(format!("`status` is {t}, not a string")))?
            }
            "created" => {
                draft.created = scalar(value)
                    .map_err(|t| invalid(format!("`created` is {t}, not a timestamp")))?
            }
            "lastLogin" => {
                draft.last_login = scalar(value)
                    .map_err(|t| invalid(format!("`lastLogin` is {t}, not a timestamp")))?
            }
            "profile" => match value {
                Value::Object(profile) => {
                    draft.profile = profile
                        .into_iter()
                        .filter_map(|(k, v)| clean(v).map(|v| (k, v)))
                        .collect();
                }
                Value::Null => {}
                other => {
                    return Err(invalid(format!(
                        "`profile` is {}, not an object",
                        kind(&other)
                    )))
                }
            },
            "credentials" => {
                if let Value::Object(credentials) = value {
                    if let Some(kept) = sanitize_credentials(credentials, &mut draft.diagnostics) {
                        draft.meta.insert(key, kept);
                    }
                }
            }
            k if DROPPED_FIELDS.contains(&k) => {}
            _ => {
                if let Some(value) = clean(value) {
                    draft.meta.insert(key, value);
                }
            }
        }
    }
    draft
        .into_user(raw.provenance(path))
        .map(|u| SourceItem::User(Box::new(u)))
}

/// A top-level scalar as text; `Err` names the JSON type when it is not a scalar.
fn scalar(value: Value) -> Result<Option<String>, &'static str> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(kind(&other)),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
