//! Turning the parts every Okta user format has (id, status, timestamps, a profile, a few
//! top-level fields) into a model [`User`], the same way for CSV rows and API JSON.

use kcm_model::{Attributes, Diagnostic, Provenance, Reason, RecordError, User};
use serde_json::{Map, Value};

use crate::status::{self, DEFAULT_STATUS};
use crate::timestamp;

/// Diagnostic codes put on users this source keeps. Stable: reports group by them.
pub(crate) mod code {
    /// No Okta user id: the login stands in as the source id.
    pub(crate) const ID_MISSING: &str = "okta_id_missing";
    /// No status: the user is taken as ACTIVE.
    pub(crate) const STATUS_MISSING: &str = "okta_status_missing";
    /// A timestamp without a UTC offset was read as UTC.
    pub(crate) const TIME_ASSUMED_UTC: &str = "okta_timestamp_assumed_utc";
    /// A timestamp could not be read and was left out.
    pub(crate) const TIME_INVALID: &str = "okta_timestamp_invalid";
    /// Okta holds an imported password hash for this user that it never exports.
    pub(crate) const IMPORTED_PASSWORD: &str = "okta_imported_password_not_exported";
    /// The input carried password material in `credentials.password`; it was not read.
    pub(crate) const PASSWORD_IGNORED: &str = "okta_password_ignored";
}

/// Profile attributes that become first-class user fields rather than attributes.
const FIRST_CLASS: &[&str] = &["login", "email", "firstName", "lastName", "displayName"];

/// A user as read from one record, before validation.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub(crate) id: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) created: Option<String>,
    pub(crate) last_login: Option<String>,
    /// Profile attributes that have a value (nulls and empty strings already dropped).
    pub(crate) profile: Map<String, Value>,
    /// Other top-level fields, kept for mapping (`activated`, `credentials.provider`, ...).
    pub(crate) meta: Map<String, Value>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

/// A value worth keeping: `null`, blank strings and empty arrays mean "no value" in Okta
/// exports (the import CSV documents `,` and `""` as both empty; the API sends `null` and
/// `""` for unset attributes), so they are dropped. Strings are trimmed.
pub(crate) fn clean(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) => {
            let trimmed = s.trim();
            if trimmed.is_empty() {
                None
            } else if trimmed.len() == s.len() {
                Some(Value::String(s))
            } else {
                Some(Value::String(trimmed.to_string()))
            }
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items.into_iter().filter_map(clean).collect();
            if kept.is_empty() {
                None
            } else {
                Some(Value::Array(kept))
            }
        }
        other => Some(other),
    }
}

/// Set `path` inside `map`, creating objects on the way; a scalar in the way is replaced.
pub(crate) fn insert_path(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = map;
    for part in parents {
        let slot = cur
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else { return };
        cur = next;
    }
    cur.insert(last.clone(), value);
}

/// A scalar as text (first-class fields); arrays and objects are not text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Attribute values: arrays become several values, objects their JSON text.
fn attribute_values(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .filter_map(|item| match item {
                Value::Null => None,
                Value::Object(_) | Value::Array(_) => Some(item.to_string()),
                scalar => text(scalar),
            })
            .collect(),
        Value::Object(_) => vec![value.to_string()],
        scalar => text(scalar).into_iter().collect(),
    }
}

impl Draft {
    /// Validate and build the user. Rejects a record without a login or with an unknown
    /// status; everything else is kept, with diagnostics for what was assumed.
    pub(crate) fn into_user(mut self, provenance: Provenance) -> Result<User, RecordError> {
        let login = self.profile.get("login").and_then(text);
        let Some(login) = login else {
            let err = RecordError::new(
                provenance,
                Reason::MissingField,
                "the user has no login (`login` / `profile.login` / `Username`)",
            );
            return Err(match self.id {
                Some(id) => err.with_source_id(id),
                None => err,
            });
        };
        let source_id = match self.id.take().filter(|id| !id.trim().is_empty()) {
            Some(id) => id,
            None => {
                self.diagnostics.push(Diagnostic::new(
                    code::ID_MISSING,
                    "the export has no Okta user id for this user; the login is used as its source id",
                ));
                login.clone()
            }
        };
        let status = match self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(raw) => match status::normalize(raw) {
                Some(status) => status,
                None => {
                    return Err(RecordError::new(
                        provenance,
                        Reason::InvalidField,
                        format!(
                            "unknown status {} (expected an Okta status such as ACTIVE, or a console label such as `Pending user action`)",
                            status::quoted(raw)
                        ),
                    )
                    .with_source_id(source_id));
                }
            },
            None => {
                self.diagnostics.push(Diagnostic::new(
                    code::STATUS_MISSING,
                    format!("the export gives no status for this user; taken as {DEFAULT_STATUS}"),
                ));
                DEFAULT_STATUS
            }
        };
        let created_at = self.timestamp("created", self.created.clone());
        let last_login_at = self.timestamp("lastLogin", self.last_login.clone());

        let email = self.profile.get("email").and_then(text);
        let mobile = self.profile.get("mobilePhone").and_then(text);
        let (phone, phone_field) = match mobile {
            Some(m) => (Some(m), Some("mobilePhone")),
            None => match self.profile.get("primaryPhone").and_then(text) {
                Some(p) => (Some(p), Some("primaryPhone")),
                None => (None, None),
            },
        };
        // The profile is sorted by name, so the attributes are built from sorted pairs.
        let attributes: Attributes = self
            .profile
            .iter()
            .filter(|(name, _)| {
                !FIRST_CLASS.contains(&name.as_str()) && Some(name.as_str()) != phone_field
            })
            .filter_map(|(name, value)| {
                let values = attribute_values(value);
                (!values.is_empty()).then(|| (name.clone(), values))
            })
            .collect();
        let email_verified = email.as_deref().and_then(|e| self.email_verified(e));
        if self
            .provider_type()
            .is_some_and(|t| t.eq_ignore_ascii_case("IMPORT"))
        {
            self.diagnostics.push(Diagnostic::new(
                code::IMPORTED_PASSWORD,
                "Okta holds an imported password hash for this user but never exports it; \
                 the original hash may still exist at the system it was imported from",
            ));
        }

        let mut metadata = std::mem::take(&mut self.meta);
        let first_name = self.profile.get("firstName").and_then(text);
        let last_name = self.profile.get("lastName").and_then(text);
        let display_name = self.profile.get("displayName").and_then(text);
        metadata.insert(
            "profile".into(),
            Value::Object(std::mem::take(&mut self.profile)),
        );

        Ok(User {
            source_id,
            username: Some(login),
            email,
            email_verified,
            first_name,
            last_name,
            display_name,
            phone,
            enabled: status::is_enabled(status),
            status: status.to_string(),
            created_at,
            last_login_at,
            attributes,
            metadata,
            password_hash: None,
            identities: Vec::new(),
            roles: Vec::new(),
            groups: Vec::new(),
            diagnostics: self.diagnostics,
            provenance,
        })
    }

    fn timestamp(&mut self, field: &str, raw: Option<String>) -> Option<i64> {
        let raw = raw?;
        match timestamp::parse(&raw) {
            Some(parsed) => {
                if parsed.assumed_utc {
                    self.diagnostics.push(Diagnostic::new(
                        code::TIME_ASSUMED_UTC,
                        format!("`{field}` ({raw}) has no UTC offset; read as UTC (console reports may use Pacific time)"),
                    ));
                }
                Some(parsed.millis)
            }
            None => {
                self.diagnostics.push(Diagnostic::new(
                    code::TIME_INVALID,
                    format!(
                        "`{field}` ({}) is not a timestamp; left out",
                        status::quoted(&raw)
                    ),
                ));
                None
            }
        }
    }

    fn provider_type(&self) -> Option<&str> {
        self.meta
            .get("credentials")?
            .get("provider")?
            .get("type")?
            .as_str()
    }

    /// Okta's verification state of the primary e-mail, from `credentials.emails` (present
    /// in some API responses): `VERIFIED` or `UNVERIFIED` for the matching address.
    fn email_verified(&self, email: &str) -> Option<bool> {
        let emails = self.meta.get("credentials")?.get("emails")?.as_array()?;
        let entry = emails.iter().find(|e| {
            e.get("value")
                .and_then(Value::as_str)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(email))
        })?;
        match entry.get("status")?.as_str()? {
            s if s.eq_ignore_ascii_case("VERIFIED") => Some(true),
            s if s.eq_ignore_ascii_case("UNVERIFIED") => Some(false),
            _ => None,
        }
    }
}

/// Keep the parts of `credentials` that are safe and useful (`provider`, `emails`). The
/// password and recovery-question objects can carry secrets in request-shaped inputs
/// (a password value, an imported hash, a recovery answer); they are never kept, and a
/// password object that carried something is flagged on the user.
pub(crate) fn sanitize_credentials(
    credentials: Map<String, Value>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let mut kept = Map::new();
    for (key, value) in credentials {
        match key.as_str() {
            "provider" | "emails" => {
                if let Some(value) = clean(value) {
                    kept.insert(key, value);
                }
            }
            "password" => {
                let carries_secret = value
                    .as_object()
                    .is_some_and(|p| p.contains_key("value") || p.contains_key("hash"));
                if carries_secret {
                    diagnostics.push(Diagnostic::new(
                        code::PASSWORD_IGNORED,
                        "`credentials.password` carries a password or hash (an API request body, not an export); \
                         it is not read: Okta sources never supply password hashes",
                    ));
                }
            }
            _ => {}
        }
    }
    if kept.is_empty() {
        None
    } else {
        Some(Value::Object(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_drops_nulls_blanks_and_empty_arrays() {
        assert_eq!(clean(json!(null)), None);
        assert_eq!(clean(json!("  ")), None);
        assert_eq!(clean(json!([null, ""])), None);
        assert_eq!(clean(json!([" a ", null, 2])), Some(json!(["a", 2])));
        assert_eq!(clean(json!(0)), Some(json!(0)));
    }

    #[test]
    fn insert_path_builds_nested_objects() {
        let mut map = Map::new();
        insert_path(
            &mut map,
            &["credentials".into(), "provider".into(), "type".into()],
            json!("OKTA"),
        );
        insert_path(
            &mut map,
            &["credentials".into(), "provider".into(), "name".into()],
            json!("OKTA"),
        );
        assert_eq!(
            Value::Object(map),
            json!({"credentials": {"provider": {"type": "OKTA", "name": "OKTA"}}})
        );
    }

    #[test]
    fn secrets_in_credentials_are_dropped_and_flagged() {
        let creds = json!({
            "password": {"hash": {"algorithm": "BCRYPT", "value": "qaMq"}},
            "recovery_question": {"question": "q", "answer": "a"},
            "provider": {"type": "IMPORT", "name": "IMPORT"}
        });
        let mut diags = Vec::new();
        let kept = sanitize_credentials(creds.as_object().unwrap().clone(), &mut diags).unwrap();
        assert_eq!(
            kept,
            json!({"provider": {"type": "IMPORT", "name": "IMPORT"}})
        );
        assert_eq!(diags.len(), 1);
        assert!(!format!("{diags:?}").contains("qaMq"));
    }
}
