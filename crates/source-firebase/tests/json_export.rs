//! `auth:export` JSON and emulator/raw-API JSON: field mapping, hashes, custom claims,
//! provider entries, wrong types.

mod common;

use common::read_text;
use kcm_model::{PasswordHash, Reason};

const HASH: &str =
    "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
const SALT: &str = "42xEC+ixf3L2lw==";

fn export(users: &[&str]) -> String {
    format!("{{\"users\": [\n{}]}}", users.join(",\n"))
}

#[test]
fn cli_export_fields_map_to_the_user() {
    let user = format!(
        r#"{{
  "localId": "uid-1",
  "email": "ann@example.test",
  "emailVerified": true,
  "passwordHash": "{HASH}",
  "salt": "{SALT}",
  "displayName": "Ann  Lee",
  "photoUrl": "https://x.test/ann.png",
  "lastSignedInAt": "1754719180981",
  "createdAt": "1754719180980",
  "phoneNumber": "+15555550100",
  "disabled": false,
  "customAttributes": "{{\"role\":\"admin\"}}",
  "mfaInfo": [{{"mfaEnrollmentId": "m1", "phoneInfo": "+15555550101"}}],
  "providerUserInfo": []
}}"#
    );
    let run = read_text("u.json", &export(&[&user]));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let u = run.user("uid-1");
    assert_eq!(u.email.as_deref(), Some("ann@example.test"));
    assert_eq!(u.email_verified, Some(true));
    assert_eq!(u.display_name.as_deref(), Some("Ann  Lee"));
    assert_eq!(
        (
            u.first_name.as_deref(),
            u.last_name.as_deref(),
            u.username.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(
        u.attributes["picture"],
        vec!["https://x.test/ann.png".to_string()]
    );
    assert_eq!(
        (u.created_at, u.last_login_at),
        (Some(1754719180980), Some(1754719180981))
    );
    assert_eq!(u.phone.as_deref(), Some("+15555550100"));
    assert_eq!((u.enabled, u.status.as_str()), (true, "active"));
    assert_eq!(
        u.metadata["customAttributes"],
        serde_json::json!({"role": "admin"})
    );
    assert_eq!(u.metadata["mfaInfo"][0]["mfaEnrollmentId"], "m1");
    assert!(u.roles.is_empty() && u.groups.is_empty() && u.identities.is_empty());
    match &u.password_hash {
        Some(PasswordHash::FirebaseScrypt { hash, salt }) => {
            assert_eq!(
                (hash.expose().as_str(), salt.expose().as_str()),
                (HASH, SALT)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((u.provenance.line, u.provenance.record), (2, 1));
}

#[test]
fn secrets_never_appear_in_debug_or_serialized_output() {
    let user = format!(r#"{{"localId": "u", "passwordHash": "{HASH}", "salt": "{SALT}"}}"#);
    let run = read_text("u.json", &export(&[&user]));
    let shown = format!(
        "{:?} {}",
        run.users,
        serde_json::to_string(&run.users).unwrap()
    );
    assert!(
        !shown.contains(&HASH[..20]) && !shown.contains(&SALT[..8]),
        "{shown}"
    );
    assert!(shown.contains("firebase-scrypt"));
}

#[test]
fn emulator_shape_renames_last_login_and_keeps_extra_keys_in_metadata() {
    let text = r#"{"kind":"identitytoolkit#DownloadAccountResponse","users":[{"localId":"e1","lastLoginAt":"1717813759332","emailVerified":false,"email":"t@x.test","passwordUpdatedAt":1717813759333,"validSince":"1717813759","createdAt":"1717813759332","tenantId":"t-1","providerUserInfo":[],"lastRefreshAt":"2024-06-08T02:29:19.339Z"}]}"#;
    let run = read_text("accounts.json", text);
    let u = run.user("e1");
    assert_eq!(u.last_login_at, Some(1717813759332));
    assert_eq!(u.metadata["passwordUpdatedAt"], 1717813759333_i64);
    assert_eq!(u.metadata["validSince"], "1717813759");
    assert_eq!(u.metadata["lastRefreshAt"], "2024-06-08T02:29:19.339Z");
    assert_eq!(u.metadata["tenantId"], "t-1");
    assert!(!u.metadata.contains_key("lastLoginAt") && !u.metadata.contains_key("kind"));
}

#[test]
fn emulator_fake_hash_is_no_hash_and_the_plaintext_is_never_shown() {
    let text = r#"{"kind":"identitytoolkit#DownloadAccountResponse","users":[{"localId":"e1","salt":"fakeSaltAbc","passwordHash":"fakeHash:salt=fakeSaltAbc:password=S3cret-Plain","providerUserInfo":[{"providerId":"password","rawId":"t@x.test","federatedId":"t@x.test","email":"t@x.test"}]}]}"#;
    let run = read_text("accounts.json", text);
    let u = run.user("e1");
    assert!(u.password_hash.is_none());
    assert_eq!(run.codes(), vec!["hash_fake_emulator"]);
    assert!(
        u.identities.is_empty(),
        "the password provider is not a linked identity"
    );
    let shown = format!(
        "{:?} {}",
        run.users,
        serde_json::to_string(&run.users).unwrap()
    );
    assert!(!shown.contains("S3cret-Plain"), "{shown}");
}

#[test]
fn redacted_hash_is_no_hash_with_a_diagnostic() {
    let user = r#"{"localId": "u", "passwordHash": "UkVEQUNURUQ=", "salt": "UkVEQUNURUQ="}"#;
    let run = read_text("u.json", &export(&[user]));
    assert!(run.user("u").password_hash.is_none());
    assert_eq!(run.codes(), vec!["hash_redacted"]);
}

#[test]
fn hash_without_salt_and_salt_without_hash_are_no_hash() {
    let a = format!(r#"{{"localId": "a", "passwordHash": "{HASH}"}}"#);
    let b = format!(r#"{{"localId": "b", "salt": "{SALT}"}}"#);
    let run = read_text("u.json", &export(&[&a, &b]));
    assert!(run.users.iter().all(|u| u.password_hash.is_none()));
    assert_eq!(run.codes(), vec!["hash_without_salt", "salt_without_hash"]);
    assert!(!format!("{:?}", run.users).contains(&HASH[..20]));
}

#[test]
fn raw_api_base64url_hash_is_converted_to_standard_base64() {
    let url_hash = HASH
        .replace('/', "_")
        .replace('+', "-")
        .trim_end_matches('=')
        .to_string();
    let user =
        format!(r#"{{"localId": "u", "passwordHash": "{url_hash}", "salt": "42xEC-ixf3L2lw"}}"#);
    let run = read_text("u.json", &export(&[&user]));
    match &run.user("u").password_hash {
        Some(PasswordHash::FirebaseScrypt { hash, salt }) => assert_eq!(
            (hash.expose().as_str(), salt.expose().as_str()),
            (HASH, SALT)
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn custom_attributes_valid_invalid_and_object() {
    let valid = r#"{"localId": "v", "customAttributes": "{\"roles\":[\"editor\",\"viewer\"]}"}"#;
    let invalid = r#"{"localId": "i", "customAttributes": "{\"role\":admin}"}"#;
    let object = r#"{"localId": "o", "customAttributes": {"role": "owner"}}"#;
    let empty = r#"{"localId": "e", "customAttributes": ""}"#;
    let run = read_text("u.json", &export(&[valid, invalid, object, empty]));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        run.user("v").metadata["customAttributes"]["roles"],
        serde_json::json!(["editor", "viewer"])
    );
    let i = run.user("i");
    assert!(!i.metadata.contains_key("customAttributes"));
    assert_eq!(
        i.attributes["customAttributes"],
        vec![r#"{"role":admin}"#.to_string()]
    );
    assert_eq!(i.diagnostics[0].code, "custom_attributes_invalid");
    assert_eq!(run.user("o").metadata["customAttributes"]["role"], "owner");
    assert!(run.user("e").metadata.is_empty() && run.user("e").diagnostics.is_empty());
}

#[test]
fn provider_user_info_becomes_linked_identities() {
    let user = r#"{"localId": "u", "providerUserInfo": [
    {"providerId": "google.com", "rawId": "104857392016482937561", "email": "g@x.test", "displayName": "G", "photoUrl": "https://x.test/g"},
    {"providerId": "password", "rawId": "p@x.test", "email": "p@x.test"},
    {"providerId": "phone", "rawId": "+15555550100"},
    {"providerId": "apple.com", "rawId": "001457.abc.1342"},
    {"providerId": "saml.acme", "rawId": "acme-77", "email": ""},
    {"providerId": "github.com", "rawId": 5832310},
    {"providerId": "facebook.com"},
    "junk"
  ]}"#;
    let run = read_text("u.json", &export(&[user]));
    let u = run.user("u");
    let got: Vec<(&str, &str, Option<&str>)> = u
        .identities
        .iter()
        .map(|i| (i.provider.as_str(), i.user_id.as_str(), i.email.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("google.com", "104857392016482937561", Some("g@x.test")),
            ("apple.com", "001457.abc.1342", None),
            ("saml.acme", "acme-77", None),
            ("github.com", "5832310", None),
        ]
    );
    assert!(u
        .identities
        .iter()
        .all(|i| i.username.is_none() && !i.primary && i.connection.is_none()));
    assert_eq!(
        run.codes(),
        vec!["provider_entry_invalid", "provider_entry_invalid"]
    );
    assert!(u.is_social_only());
}

#[test]
fn numeric_timestamps_are_tolerated() {
    let user = r#"{"localId": "u", "createdAt": 1754719180980, "lastSignedInAt": 1754719180981.0}"#;
    let run = read_text("u.json", &export(&[user]));
    let u = run.user("u");
    assert_eq!(
        (u.created_at, u.last_login_at),
        (Some(1754719180980), Some(1754719180981))
    );
}

#[test]
fn wrong_types_and_missing_ids_are_record_errors_and_the_stream_goes_on() {
    let users = [
        r#"{"email": "no-id@x.test"}"#,
        r#"{"localId": "t1", "createdAt": "yesterday"}"#,
        r#"{"localId": "t2", "emailVerified": "maybe"}"#,
        r#"{"localId": "t3", "disabled": 1}"#,
        r#"{"localId": 17}"#,
        r#"{"localId": "t5", "providerUserInfo": {}}"#,
        r#"{"localId": "ok", "emailVerified": "true"}"#,
    ];
    let run = read_text("u.json", &export(&users));
    assert_eq!(run.ids(), vec!["ok"]);
    let got: Vec<(Reason, u64, Option<&str>)> = run
        .errors
        .iter()
        .map(|e| (e.reason, e.provenance.record, e.source_id.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Reason::MissingField, 1, None),
            (Reason::InvalidField, 2, Some("t1")),
            (Reason::InvalidField, 3, Some("t2")),
            (Reason::InvalidField, 4, Some("t3")),
            (Reason::InvalidField, 5, None),
            (Reason::InvalidField, 6, Some("t5")),
        ]
    );
    assert!(
        run.errors[1].message.contains("`createdAt`"),
        "{}",
        run.errors[1].message
    );
    assert!(
        run.errors[3].message.contains("`disabled`"),
        "{}",
        run.errors[3].message
    );
    assert_eq!(run.user("ok").email_verified, Some(true));
}

#[test]
fn top_level_array_and_empty_exports() {
    let run = read_text("a.json", r#"[{"localId": "a"}, {"localId": "b"}]"#);
    assert_eq!(run.ids(), vec!["a", "b"]);
    let run = read_text(
        "empty.json",
        r#"{"kind":"identitytoolkit#DownloadAccountResponse"}"#,
    );
    assert!(run.users.is_empty() && run.errors.is_empty());
    let run = read_text("empty2.json", r#"{"users": []}"#);
    assert!(run.users.is_empty() && run.errors.is_empty());
    let run = read_text("odd.json", r#"{"users": 3}"#);
    assert_eq!(
        (run.users.len(), run.errors[0].reason),
        (0, Reason::MissingField)
    );
}

#[test]
fn several_files_are_read_in_order_with_their_own_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.csv");
    std::fs::write(
        &a,
        export(&[r#"{"localId": "a1"}"#, r#"{"localId": "a2"}"#]),
    )
    .unwrap();
    std::fs::write(&b, common::line52(&[(0, "b1"), (23, "1508893925000")])).unwrap();
    let run = common::read_files(&[a, b.clone()]);
    assert_eq!(run.ids(), vec!["a1", "a2", "b1"]);
    let b1 = run.user("b1");
    assert_eq!(
        (b1.provenance.record, b1.provenance.file.as_ref()),
        (1, b.display().to_string().as_str())
    );
}
