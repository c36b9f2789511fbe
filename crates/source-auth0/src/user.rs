//! One Auth0 user object → the shared [`User`].
//!
//! JSON records (bulk export NDJSON, Management API responses, Dashboard raw JSON) and CSV rows
//! (folded by `csv_users` into the same key space) both go through [`user_from_object`], so
//! the two formats cannot drift apart. Fields the model has a place for are mapped; every
//! other top-level field lands in `metadata` unchanged so mapping files can reach it by path.

use kcm_model::{Diagnostic, LinkedIdentity, PasswordHash, Provenance, Reason, RecordError, User};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `status` of a user that may sign in.
pub const STATUS_ACTIVE: &str = "active";
/// `status` of a user with `blocked: true`.
pub const STATUS_BLOCKED: &str = "blocked";

/// Highest `identities[N]` index accepted in a flattened key: Auth0 users have a handful of
/// linked identities, and a huge index in a hand-edited header must not allocate a huge array.
const MAX_IDENTITY_INDEX: usize = 64;

/// Integers up to 2^53 survive a round trip through `f64` exactly.
const MAX_EXACT_F64_INT: f64 = 9_007_199_254_740_992.0;

/// Fields carrying secret material. They are never copied into `metadata` (which reaches
/// reports); `password_hash` (the bulk-import field) is kept as the user's hash, the others
/// are dropped with a diagnostic.
const SECRET_FIELDS: &[&str] = &[
    "custom_password_hash",
    "mfa_factors",
    "password",
    "passwordHash",
];

/// Roots of nested objects that flattened keys (`user_metadata.consent.given`) fold into.
const METADATA_ROOTS: &[&str] = &["user_metadata", "app_metadata"];

/// Map one user object. `Err` only when the record cannot be a user at all (no `user_id`).
pub fn user_from_object(
    mut obj: Map<String, Value>,
    provenance: Provenance,
) -> Result<User, RecordError> {
    let mut diags = Vec::new();
    fold_flattened_keys(&mut obj);

    let source_id = match obj.get("user_id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(RecordError::new(
                provenance,
                Reason::MissingField,
                "the user has no `user_id`",
            ))
        }
        Some(other) => {
            return Err(RecordError::new(
                provenance,
                Reason::InvalidField,
                format!("`user_id` must be a string, found {}", type_name(other)),
            ))
        }
    };
    obj.remove("user_id");
    let split = split_user_id(&source_id);

    let mut user = User {
        source_id: source_id.clone(),
        username: take_string(&mut obj, "username", &mut diags),
        email: take_string(&mut obj, "email", &mut diags),
        email_verified: take_bool(&mut obj, "email_verified", &mut diags),
        first_name: take_string(&mut obj, "given_name", &mut diags),
        last_name: take_string(&mut obj, "family_name", &mut diags),
        display_name: take_string(&mut obj, "name", &mut diags),
        created_at: take_timestamp(&mut obj, "created_at", &mut diags),
        last_login_at: take_timestamp(&mut obj, "last_login", &mut diags),
        provenance,
        ..User::default()
    };
    user.phone = take_string(&mut obj, "phone_number", &mut diags);
    if user.phone.is_none() {
        // Dashboard raw JSON carries a non-standard top-level `phone`.
        user.phone = take_string(&mut obj, "phone", &mut diags);
    }
    let blocked = take_bool(&mut obj, "blocked", &mut diags).unwrap_or(false);
    user.enabled = !blocked;
    user.status = if blocked {
        STATUS_BLOCKED
    } else {
        STATUS_ACTIVE
    }
    .to_string();
    for attr in ["nickname", "picture"] {
        if let Some(v) = take_string(&mut obj, attr, &mut diags) {
            user.attributes.insert(attr.to_string(), vec![v]);
        }
    }

    user.identities = take_identities(&mut obj, split, &mut diags);

    if let Some(Value::String(raw)) = obj.get("password_hash") {
        if !raw.trim().is_empty() {
            user.password_hash = Some(PasswordHash::from_encoded(raw));
        }
    }
    if obj.remove("password_hash").is_some() && user.password_hash.is_none() {
        diags.push(Diagnostic::new(
            "secret_field_dropped",
            "`password_hash` is not a non-empty string; ignored",
        ));
    }
    for field in SECRET_FIELDS {
        if obj.remove(*field).is_some() {
            diags.push(Diagnostic::new(
                "secret_field_dropped",
                format!("`{field}` holds secret material and is not carried over"),
            ));
        }
    }

    user.metadata = obj;
    user.diagnostics = diags;
    Ok(user)
}

/// `provider|rest`: Auth0 ids are split on the first `|` only; the rest may contain `|`
/// (`samlp|connection|user@example.com`).
pub fn split_user_id(user_id: &str) -> Option<(&str, &str)> {
    user_id
        .split_once('|')
        .filter(|(p, r)| !p.is_empty() && !r.is_empty())
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

fn invalid(diags: &mut Vec<Diagnostic>, field: &str, what: &str, found: &Value) {
    diags.push(Diagnostic::new(
        "invalid_field",
        format!(
            "`{field}` should be {what}, found {}; kept in metadata",
            type_name(found)
        ),
    ));
}

/// Remove and return a string field. Numbers are stringified; a value of another type stays
/// in the object (so it reaches `metadata`) and is reported.
fn take_string(
    obj: &mut Map<String, Value>,
    key: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let value = obj.get(key)?;
    let out = match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => None,
        other => {
            invalid(diags, key, "a string", other);
            return None;
        }
    };
    obj.remove(key);
    out
}

/// Remove and return a boolean; the strings `"true"`/`"false"` count too (older API
/// responses and CSV exports).
fn take_bool(obj: &mut Map<String, Value>, key: &str, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    let value = obj.get(key)?;
    let out = match value {
        Value::Bool(b) => Some(*b),
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        other => {
            invalid(diags, key, "true or false", other);
            return None;
        }
    };
    obj.remove(key);
    out
}

/// Remove and convert an ISO-8601 timestamp (or epoch milliseconds) to epoch milliseconds.
/// An unparsable value stays in `metadata` and is reported.
fn take_timestamp(
    obj: &mut Map<String, Value>,
    key: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<i64> {
    let value = obj.get(key)?;
    let out = match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => match parse_timestamp(s) {
            Some(ms) => Some(ms),
            None => {
                diags.push(Diagnostic::new(
                    "invalid_timestamp",
                    format!("`{key}` is not an ISO-8601 date-time; kept in metadata"),
                ));
                return None;
            }
        },
        Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
        other => {
            invalid(diags, key, "an ISO-8601 date-time", other);
            return None;
        }
    };
    obj.remove(key);
    out
}

/// ISO-8601 / RFC 3339 date-time → milliseconds since the Unix epoch.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Map `identities[]`. Index 0 is the primary identity; when its provider or id is missing
/// (flattened exports) they come from `user_id`. A record without identities gets its
/// primary identity derived from `user_id`, so social-only users are recognisable in CSV
/// and field-limited exports too.
fn take_identities(
    obj: &mut Map<String, Value>,
    split: Option<(&str, &str)>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<LinkedIdentity> {
    let items = match obj.get("identities") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(_)) => match obj.remove("identities") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        Some(other) => {
            invalid(diags, "identities", "an array", other);
            Vec::new()
        }
    };
    let mut out = Vec::with_capacity(items.len().max(1));
    for (index, item) in items.iter().enumerate() {
        match item {
            Value::Object(map) => {
                if let Some(identity) = identity(map, index, split, diags) {
                    out.push(identity);
                }
            }
            other => invalid(diags, &format!("identities[{index}]"), "an object", other),
        }
    }
    if out.is_empty() {
        if let Some((provider, rest)) = split {
            out.push(LinkedIdentity {
                provider: provider.to_string(),
                user_id: rest.to_string(),
                connection: None,
                username: None,
                email: None,
                primary: true,
            });
        }
    }
    out
}

fn identity(
    map: &Map<String, Value>,
    index: usize,
    split: Option<(&str, &str)>,
    diags: &mut Vec<Diagnostic>,
) -> Option<LinkedIdentity> {
    let text = |key: &str| match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    };
    let primary = index == 0;
    let provider =
        text("provider").or_else(|| split.filter(|_| primary).map(|(p, _)| p.to_string()));
    let user_id = match map.get("user_id") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(number_id(n, primary, split, index, diags)),
        _ => split.filter(|_| primary).map(|(_, rest)| rest.to_string()),
    };
    let (Some(provider), Some(user_id)) = (provider, user_id) else {
        diags.push(Diagnostic::new(
            "incomplete_identity",
            format!("identities[{index}] has no provider or user_id; skipped"),
        ));
        return None;
    };
    let profile = match map.get("profileData") {
        Some(Value::Object(p)) => Some(p),
        _ => None,
    };
    let profile_text = |key: &str| match profile.and_then(|p| p.get(key)) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    };
    Some(LinkedIdentity {
        provider,
        user_id,
        connection: text("connection"),
        username: profile_text("username"),
        email: profile_text("email"),
        primary,
    })
}

/// A numeric `identities[].user_id` as a string. Integers that `serde_json` holds exactly are
/// printed as such; larger ones (21-digit Google ids) only survive as `f64`, so for the
/// primary identity the exact digits are taken from `user_id` when they denote the same number.
fn number_id(
    n: &serde_json::Number,
    primary: bool,
    split: Option<(&str, &str)>,
    index: usize,
    diags: &mut Vec<Diagnostic>,
) -> String {
    if n.is_u64() || n.is_i64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() == 0.0 && f.abs() <= MAX_EXACT_F64_INT {
        return format!("{f:.0}");
    }
    if let Some((_, rest)) = split.filter(|_| primary) {
        if rest.parse::<f64>().ok() == Some(f) {
            return rest.to_string();
        }
    }
    diags.push(Diagnostic::new(
        "imprecise_identity_id",
        format!("identities[{index}].user_id is a number too large to represent exactly"),
    ));
    n.to_string()
}

/// Fold flattened keys into nested values: `user_metadata.a.b` → `user_metadata: {a: {b}}`,
/// `identities[0].connection` → `identities: [{connection}]`, and a top-level `connection`
/// (the usual `export_as` of `identities[0].connection`) into the primary identity. The bulk
/// export may key dotted field names either way; CSV headers always flatten. A key that
/// conflicts with an existing value of another shape is left as it is.
pub fn fold_flattened_keys(obj: &mut Map<String, Value>) {
    let flattened: Vec<String> = obj
        .keys()
        .filter(|k| {
            k.starts_with("identities[")
                || METADATA_ROOTS
                    .iter()
                    .any(|r| metadata_suffix(k, r).is_some())
        })
        .cloned()
        .collect();
    for key in flattened {
        let Some(value) = obj.remove(&key) else {
            continue;
        };
        if let Err(value) = fold_one(obj, &key, value) {
            obj.insert(key, value);
        }
    }
    if let Some(Value::String(connection)) = obj.get("connection") {
        let connection = Value::String(connection.clone());
        let primary = obj
            .get("identities")
            .and_then(|ids| ids.get(0))
            .and_then(|identity| identity.get("connection"));
        // Already there (exported both ways): drop the copy; a different value is kept.
        if primary == Some(&connection)
            || set_identity_field(obj, 0, "connection", connection, false).is_ok()
        {
            obj.remove("connection");
        }
    }
}

/// `root.rest` → `rest` when `key` starts with `root.` (case-insensitively for the root).
fn metadata_suffix<'k>(key: &'k str, root: &str) -> Option<&'k str> {
    let head = key.get(..root.len() + 1)?;
    let (name, dot) = head.split_at(root.len());
    (name.eq_ignore_ascii_case(root) && dot == ".")
        .then(|| &key[root.len() + 1..])
        .filter(|rest| !rest.is_empty())
}

fn fold_one(obj: &mut Map<String, Value>, key: &str, value: Value) -> Result<(), Value> {
    if let Some(rest) = key.strip_prefix("identities[") {
        let Some((index, field)) = rest.split_once("].") else {
            return Err(value);
        };
        let Ok(index) = index.parse::<usize>() else {
            return Err(value);
        };
        if index > MAX_IDENTITY_INDEX || field.is_empty() {
            return Err(value);
        }
        let field = if field.eq_ignore_ascii_case("issocial") {
            "isSocial"
        } else {
            field
        };
        return set_identity_field(obj, index, field, value, true);
    }
    for root in METADATA_ROOTS {
        if let Some(path) = metadata_suffix(key, root) {
            return set_path(obj, root, path, value);
        }
    }
    Err(value)
}

fn set_identity_field(
    obj: &mut Map<String, Value>,
    index: usize,
    field: &str,
    value: Value,
    overwrite: bool,
) -> Result<(), Value> {
    let identities = obj
        .entry("identities")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = identities else {
        return Err(value);
    };
    while items.len() <= index {
        items.push(Value::Object(Map::new()));
    }
    let Some(Value::Object(identity)) = items.get_mut(index) else {
        return Err(value);
    };
    if !overwrite && identity.contains_key(field) {
        return Err(value);
    }
    identity.insert(field.to_string(), value);
    Ok(())
}

fn set_path(
    obj: &mut Map<String, Value>,
    root: &str,
    path: &str,
    value: Value,
) -> Result<(), Value> {
    let mut cur = obj.entry(root).or_insert_with(|| Value::Object(Map::new()));
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Object(map) = cur else {
            return Err(value);
        };
        if parts.peek().is_none() {
            map.insert(part.to_string(), value);
            return Ok(());
        }
        cur = map.entry(part).or_insert_with(|| Value::Object(Map::new()));
    }
    Err(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn flattened_keys_fold_into_nested_values() {
        let mut obj = map(json!({
            "user_metadata.consent.given": true,
            "App_Metadata.plan": "pro",
            "identities[0].connection": "db",
            "identities[1].provider": "github",
            "connection": "ignored-because-identity-has-one",
            "user_metadata": {"lang": "de"}
        }));
        fold_flattened_keys(&mut obj);
        assert_eq!(
            obj["user_metadata"],
            json!({"lang": "de", "consent": {"given": true}})
        );
        assert_eq!(obj["app_metadata"], json!({"plan": "pro"}));
        assert_eq!(
            obj["identities"],
            json!([{"connection": "db"}, {"provider": "github"}])
        );
        assert_eq!(obj["connection"], json!("ignored-because-identity-has-one"));
    }

    #[test]
    fn conflicting_or_absurd_flattened_keys_stay_as_they_are() {
        let mut obj =
            map(json!({"user_metadata": 3, "user_metadata.a": 1, "identities[99999].x": 2}));
        fold_flattened_keys(&mut obj);
        assert_eq!(obj["user_metadata.a"], json!(1));
        assert_eq!(obj["identities[99999].x"], json!(2));
    }

    #[test]
    fn timestamps_parse_to_epoch_millis() {
        assert_eq!(
            parse_timestamp("2023-01-25T17:48:14.784Z"),
            Some(1_674_668_894_784)
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:01+00:00"), Some(1000));
        assert_eq!(parse_timestamp("25/01/2023"), None);
    }

    #[test]
    fn secrets_never_reach_metadata() {
        let user = user_from_object(
            map(json!({
                "user_id": "auth0|1",
                "password_hash": "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K",
                "custom_password_hash": {"algorithm": "md5", "hash": {"value": "abc"}},
                "mfa_factors": [{"totp": {"secret": "JBSWY3DP"}}]
            })),
            Provenance::default(),
        )
        .unwrap();
        assert!(user.metadata.is_empty(), "{:?}", user.metadata);
        assert!(matches!(
            user.password_hash,
            Some(PasswordHash::Bcrypt { cost: 10, .. })
        ));
        assert_eq!(user.diagnostics.len(), 2);
        let shown = format!("{user:?}");
        assert!(
            !shown.contains("nFgu") && !shown.contains("JBSW"),
            "{shown}"
        );
    }

    #[test]
    fn wrong_types_are_reported_and_kept_in_metadata() {
        let user = user_from_object(
            map(json!({"user_id": "auth0|1", "email": ["a@x"], "email_verified": "yes", "created_at": "soon"})),
            Provenance::default(),
        )
        .unwrap();
        assert_eq!(
            (user.email, user.email_verified, user.created_at),
            (None, None, None)
        );
        assert_eq!(user.metadata.len(), 3);
        let codes: Vec<_> = user.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            ["invalid_field", "invalid_field", "invalid_timestamp"]
        );
    }

    #[test]
    fn huge_numeric_primary_identity_id_takes_the_exact_digits_from_user_id() {
        let obj: Map<String, Value> = serde_json::from_str(
            r#"{"user_id":"google-oauth2|103547991597142817347",
                "identities":[{"provider":"google-oauth2","user_id":103547991597142817347}]}"#,
        )
        .unwrap();
        let user = user_from_object(obj, Provenance::default()).unwrap();
        assert_eq!(user.identities[0].user_id, "103547991597142817347");
        assert!(user.diagnostics.is_empty());
    }
}
