//! One Auth0 user object → the shared [`User`].
//!
//! JSON records (bulk export NDJSON, Management API responses, Dashboard raw JSON) and CSV rows
//! (folded by `csv_users` into the same key space) both go through [`user_from_object`], so
//! the two formats cannot drift apart. Fields the model has a place for are mapped; every
//! other top-level field lands in `metadata` unchanged so mapping files can reach it by path.

use std::fmt;

use kcm_model::{Diagnostic, LinkedIdentity, PasswordHash, Provenance, Reason, RecordError, User};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// Top-level fields read into slots of their own (see [`KnownFields`]).
const KNOWN_FIELDS: [&str; 14] = [
    "user_id",
    "username",
    "email",
    "email_verified",
    "given_name",
    "family_name",
    "name",
    "created_at",
    "last_login",
    "phone_number",
    "phone",
    "blocked",
    "nickname",
    "picture",
];

fn known_index(key: &str) -> Option<usize> {
    KNOWN_FIELDS.iter().position(|k| *k == key)
}

/// The values of the top-level fields the mapping reads directly, kept apart from the rest
/// of the object: a JSON record is read straight into these slots, so the user's dozen common
/// fields are never inserted into (and then removed from) the object's map. A value of the
/// wrong type goes back into the object, where the old reader would have left it.
#[derive(Default)]
pub struct KnownFields([Option<Value>; KNOWN_FIELDS.len()]);

impl KnownFields {
    /// Move the known fields out of `obj`.
    fn take_from(obj: &mut Map<String, Value>) -> Self {
        let mut known = KnownFields::default();
        for (slot, key) in known.0.iter_mut().zip(KNOWN_FIELDS) {
            *slot = obj.remove(key);
        }
        known
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.0.get_mut(known_index(key)?)?.take()
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(known_index(key)?)?.as_ref()
    }
}

/// One JSON user record: its known fields and the rest of the object, or a value that is not
/// an object.
// Lives on the stack for one record; boxing the slots would cost an allocation per user.
#[allow(clippy::large_enum_variant)]
pub enum UserJson {
    Object(KnownFields, Map<String, Value>),
    NotObject,
}

impl<'de> Deserialize<'de> for UserJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserJson;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a user object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UserJson, A::Error> {
                let mut known = KnownFields::default();
                let mut rest = Map::new();
                while let Some(kcm_source_io::BorrowedKey(key)) = map.next_key()? {
                    let value: Value = map.next_value()?;
                    match known_index(&key).and_then(|i| known.0.get_mut(i)) {
                        Some(slot) => *slot = Some(value),
                        None => {
                            rest.insert(key.into_owned(), value);
                        }
                    }
                }
                Ok(UserJson::Object(known, rest))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserJson, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(UserJson::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<UserJson, E> {
                Ok(UserJson::NotObject)
            }
            fn visit_unit<E>(self) -> Result<UserJson, E> {
                Ok(UserJson::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<UserJson, E> {
                Ok(UserJson::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<UserJson, E> {
                Ok(UserJson::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<UserJson, E> {
                Ok(UserJson::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<UserJson, E> {
                Ok(UserJson::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}

/// Map one user object. `Err` only when the record cannot be a user at all (no `user_id`).
pub fn user_from_object(
    mut obj: Map<String, Value>,
    provenance: Provenance,
) -> Result<User, RecordError> {
    let known = KnownFields::take_from(&mut obj);
    user_from_parts(known, obj, provenance)
}

/// Map one user given as its known fields and the rest of its object.
pub fn user_from_parts(
    mut known: KnownFields,
    mut obj: Map<String, Value>,
    provenance: Provenance,
) -> Result<User, RecordError> {
    let mut diags = Vec::new();
    fold_flattened_keys(&mut obj);

    let source_id = match known.get("user_id") {
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
    let split = split_user_id(&source_id);
    let mut f = Fields {
        known: &mut known,
        obj: &mut obj,
        diags: &mut diags,
    };

    let mut user = User {
        username: f.string("username"),
        email: f.string("email"),
        email_verified: f.bool("email_verified"),
        first_name: f.string("given_name"),
        last_name: f.string("family_name"),
        display_name: f.string("name"),
        created_at: f.timestamp("created_at"),
        last_login_at: f.timestamp("last_login"),
        provenance,
        ..User::default()
    };
    user.phone = f.string("phone_number");
    if user.phone.is_none() {
        // Dashboard raw JSON carries a non-standard top-level `phone`.
        user.phone = f.string("phone");
    }
    let blocked = f.bool("blocked").unwrap_or(false);
    user.enabled = !blocked;
    user.status = if blocked {
        STATUS_BLOCKED
    } else {
        STATUS_ACTIVE
    }
    .to_string();
    for attr in ["nickname", "picture"] {
        if let Some(v) = f.string(attr) {
            user.attributes.insert(attr.to_string(), vec![v]);
        }
    }
    // Known fields not taken above (the phone fallback when there is a phone number) stay
    // in metadata, as they would have in the object.
    for (slot, key) in known.0.iter_mut().zip(KNOWN_FIELDS).skip(1) {
        if let Some(value) = slot.take() {
            obj.insert(key.to_string(), value);
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

    user.source_id = source_id;
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

/// Where the known fields are taken from, and where a wrong-typed one goes back to.
struct Fields<'a> {
    known: &'a mut KnownFields,
    obj: &'a mut Map<String, Value>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Fields<'_> {
    /// Put back a value that is not taken: it stays in `metadata`, and is reported.
    fn keep(&mut self, key: &str, what: &str, value: Value) {
        invalid(self.diags, key, what, &value);
        self.obj.insert(key.to_string(), value);
    }

    /// A string field (numbers are stringified); a value of another type stays in metadata
    /// and is reported.
    fn string(&mut self, key: &str) -> Option<String> {
        match self.known.take(key)? {
            Value::String(s) => Some(trimmed(s)).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            Value::Null => None,
            other => {
                self.keep(key, "a string", other);
                None
            }
        }
    }

    /// A boolean; the strings `"true"`/`"false"` count too (older API responses and CSV
    /// exports).
    fn bool(&mut self, key: &str) -> Option<bool> {
        match self.known.take(key)? {
            Value::Bool(b) => Some(b),
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            other => {
                self.keep(key, "true or false", other);
                None
            }
        }
    }

    /// An ISO-8601 timestamp (or epoch milliseconds) as epoch milliseconds. An unparsable
    /// value stays in `metadata` and is reported.
    fn timestamp(&mut self, key: &str) -> Option<i64> {
        match self.known.take(key)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => match parse_timestamp(&s) {
                Some(ms) => Some(ms),
                None => {
                    self.diags.push(Diagnostic::new(
                        "invalid_timestamp",
                        format!("`{key}` is not an ISO-8601 date-time; kept in metadata"),
                    ));
                    self.obj.insert(key.to_string(), Value::String(s));
                    None
                }
            },
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            other => {
                self.keep(key, "an ISO-8601 date-time", other);
                None
            }
        }
    }
}

/// `s` without surrounding white space, reusing its allocation when there is none.
fn trimmed(s: String) -> String {
    if s.trim().len() == s.len() {
        s
    } else {
        s.trim().to_string()
    }
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
    // `get` instead of slicing or `split_at`: the key is arbitrary UTF-8 and the root's length
    // may fall inside a multi-byte character (`user_metadatä`).
    let name = key.get(..root.len())?;
    let rest = key.get(root.len()..)?.strip_prefix('.')?;
    (name.eq_ignore_ascii_case(root) && !rest.is_empty()).then_some(rest)
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

    #[test]
    fn json_records_map_exactly_like_parsed_objects() {
        let records = [
            r#"{"user_id":" auth0|1 ","email":["a@x"],"email_verified":"yes","created_at":"soon","phone_number":"+1","phone":"+2","blocked":"TRUE","nickname":7,"name":null,"identities[0].connection":"db","user_metadata.a":1,"x":{"y":2}}"#,
            r#"{"user_id":5,"username":"  ","given_name":"Ann","given_name":"Bea","last_login":1700000000000,"picture":{"url":"p"},"password_hash":"x","mfa_factors":[]}"#,
            r#"{"user_id":{"no":1},"email":"e"}"#,
            r#"{"email":"no id"}"#,
        ];
        for text in records {
            let obj: Map<String, Value> = serde_json::from_str(text).unwrap();
            let expected = user_from_object(obj, Provenance::default());
            let Ok(UserJson::Object(known, rest)) = serde_json::from_str::<UserJson>(text) else {
                panic!("not an object: {text}");
            };
            let got = user_from_parts(known, rest, Provenance::default());
            assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{text}");
        }
        assert!(matches!(
            serde_json::from_str::<UserJson>("[1, {\"a\": 2}]"),
            Ok(UserJson::NotObject)
        ));
    }
}
