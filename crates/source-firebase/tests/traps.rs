//! One test per Firebase trap listed in export-formats.md §3.6, named after the trap.

mod common;

use common::{line, line52, read_text};
use kcm_model::PasswordHash;
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};

const HASH: &str =
    "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
const SALT: &str = "42xEC+ixf3L2lw==";

/// The fields every shape agrees on, for comparison.
#[derive(Debug, PartialEq)]
struct Core {
    id: String,
    email: Option<String>,
    verified: Option<bool>,
    created: Option<i64>,
    login: Option<i64>,
    enabled: bool,
    hash: String,
}

fn algorithm(u: &kcm_model::User) -> String {
    u.password_hash
        .as_ref()
        .map_or("none".into(), PasswordHash::algorithm_name)
}

fn core(u: &kcm_model::User) -> Core {
    Core {
        id: u.source_id.clone(),
        email: u.email.clone(),
        verified: u.email_verified,
        created: u.created_at,
        login: u.last_login_at,
        enabled: u.enabled,
        hash: algorithm(u),
    }
}

#[test]
fn trap1_json_csv_and_emulator_shapes_and_every_csv_layout_give_the_same_account() {
    let json = format!(
        "{{\"users\": [\n{{\n  \"localId\": \"u1\",\n  \"email\": \"a@x.test\",\n  \"emailVerified\": true,\n  \"passwordHash\": \"{HASH}\",\n  \"salt\": \"{SALT}\",\n  \"lastSignedInAt\": \"1508893926000\",\n  \"createdAt\": \"1508893925000\",\n  \"disabled\": true,\n  \"providerUserInfo\": []\n}}]}}"
    );
    let emulator = format!(
        r#"{{"kind":"identitytoolkit#DownloadAccountResponse","users":[{{"localId":"u1","lastLoginAt":"1508893926000","emailVerified":true,"email":"a@x.test","salt":"{SALT}","passwordHash":"{HASH}","createdAt":"1508893925000","disabled":true}}]}}"#
    );
    let common_cells = [
        (0, "u1"),
        (1, "a@x.test"),
        (2, "true"),
        (3, HASH),
        (4, SALT),
    ];
    let with = |extra: &[(usize, &'static str)]| -> Vec<(usize, &'static str)> {
        common_cells.iter().chain(extra).copied().collect()
    };
    let csvs = [
        line(
            26,
            &with(&[(23, "true"), (24, "1508893925000"), (25, "1508893926000")]),
        ),
        line(
            27,
            &with(&[(23, "true"), (24, "1508893925000"), (25, "1508893926000")]),
        ),
        line(
            27,
            &with(&[(23, "1508893925000"), (24, "1508893926000"), (26, "true")]),
        ),
        line(
            28,
            &with(&[(23, "1508893925000"), (24, "1508893926000"), (26, "true")]),
        ),
        line52(&with(&[
            (23, "1508893925000"),
            (24, "1508893926000"),
            (26, "true"),
        ])),
    ];
    let expected = Core {
        id: "u1".into(),
        email: Some("a@x.test".into()),
        verified: Some(true),
        created: Some(1508893925000),
        login: Some(1508893926000),
        enabled: false,
        hash: "firebase-scrypt".into(),
    };
    let mut runs = vec![
        read_text("u.json", &json),
        read_text("accounts.json", &emulator),
    ];
    runs.extend(csvs.iter().map(|c| read_text("u.csv", c)));
    for run in &runs {
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        assert_eq!(core(run.user("u1")), expected);
    }
}

#[test]
fn trap2_hashes_only_for_scrypt_users_and_redacted_means_none() {
    let text = [
        line52(&[(0, "pw"), (3, HASH), (4, SALT)]),
        line52(&[(0, "redacted"), (3, "UkVEQUNURUQ="), (4, SALT)]),
        line52(&[(0, "social"), (7, "1234"), (8, "g@x.test")]),
        line52(&[(0, "phone"), (25, "+15555550100")]),
        line52(&[(0, "anon")]),
    ]
    .concat();
    let run = read_text("u.csv", &text);
    let algos: Vec<String> = run.users.iter().map(algorithm).collect();
    assert_eq!(
        algos,
        vec!["firebase-scrypt", "none", "none", "none", "none"]
    );
    assert_eq!(
        run.codes(),
        vec!["hash_redacted"],
        "only the redacted hash is worth a diagnostic"
    );
}

#[test]
fn trap3_hash_config_is_not_in_the_export_so_only_hash_and_salt_are_kept_and_a_hashes_file_is_refused(
) {
    let json =
        format!(r#"{{"users": [{{"localId": "u", "passwordHash": "{HASH}", "salt": "{SALT}"}}]}}"#);
    let run = read_text("u.json", &json);
    match &run.user("u").password_hash {
        Some(PasswordHash::FirebaseScrypt { hash, salt }) => assert_eq!(
            (hash.expose().as_str(), salt.expose().as_str()),
            (HASH, SALT)
        ),
        other => panic!("{other:?}"),
    }
    let inputs = SourceInputs {
        users: vec!["u.json".into()],
        hashes: Some("hash_config.txt".into()),
        ..SourceInputs::default()
    };
    match kcm_source_firebase::read(&inputs, &ReadOptions::default()) {
        Err(SourceError::Unsupported(msg)) => assert!(
            msg.contains("hash parameters") && msg.contains("configuration"),
            "{msg}"
        ),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a hashes file must be refused"),
    }
}

#[test]
fn trap4_custom_attributes_is_json_inside_a_string_and_raw_with_commas_in_old_csv() {
    let json = r#"{"users": [{"localId": "j", "customAttributes": "{\"roles\":[\"a\",\"b\"]}"}]}"#;
    let run = read_text("u.json", json);
    assert_eq!(
        run.user("j").metadata["customAttributes"]["roles"],
        serde_json::json!(["a", "b"])
    );
    let csv = line(
        28,
        &[
            (0, "c"),
            (23, "1508893925000"),
            (27, r#"{"roles":["a","b"],"level":2}"#),
        ],
    );
    let run = read_text("u.csv", &csv);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        run.user("c").metadata["customAttributes"],
        serde_json::json!({"roles": ["a", "b"], "level": 2})
    );
}

#[test]
fn trap5_timestamps_are_millisecond_strings_and_last_sign_in_may_be_absent() {
    let json = r#"{"users": [
{"localId": "a", "createdAt": "1708892666907", "disabled": false},
{"localId": "b", "createdAt": "1683836466023", "lastSignedInAt": "1683837820304"}]}"#;
    let run = read_text("u.json", json);
    assert_eq!(
        (run.user("a").created_at, run.user("a").last_login_at),
        (Some(1708892666907), None)
    );
    assert_eq!(run.user("b").last_login_at, Some(1683837820304));
    let csv = line52(&[(0, "c"), (23, "1708892666907")]);
    let run = read_text("u.csv", &csv);
    assert_eq!(
        (run.user("c").created_at, run.user("c").last_login_at),
        (Some(1708892666907), None)
    );
}

#[test]
fn trap6_password_and_phone_providers_are_not_identities_and_unknown_providers_are_kept() {
    let json = r#"{"users": [{"localId": "u", "phoneNumber": "+15555550100", "providerUserInfo": [
  {"providerId": "password", "rawId": "u@x.test", "federatedId": "u@x.test"},
  {"providerId": "phone", "rawId": "+15555550100"},
  {"providerId": "oidc.corp", "rawId": "corp-1"}]}]}"#;
    let run = read_text("u.json", json);
    let u = run.user("u");
    let providers: Vec<&str> = u.identities.iter().map(|i| i.provider.as_str()).collect();
    assert_eq!(providers, vec!["oidc.corp"]);
    assert_eq!(u.phone.as_deref(), Some("+15555550100"));
}

#[test]
fn trap7_users_without_email_and_duplicate_emails_are_all_kept() {
    let json = r#"{"users": [
{"localId": "phone", "phoneNumber": "+15555550100", "providerUserInfo": []},
{"localId": "anon", "createdAt": "1708892666907", "providerUserInfo": []},
{"localId": "social", "providerUserInfo": [{"providerId": "github.com", "rawId": "42"}]},
{"localId": "d1", "email": "same@x.test"},
{"localId": "d2", "email": "same@x.test"}]}"#;
    let run = read_text("u.json", json);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(run.ids(), vec!["phone", "anon", "social", "d1", "d2"]);
    assert!(run.users.iter().take(3).all(|u| u.email.is_none()));
}

#[test]
fn trap8_crlf_line_endings_and_large_files_are_streamed() {
    // Windows export: os.EOL between users, JSON.stringify's \n inside them.
    let crlf = "{\"users\": [\r\n{\n  \"localId\": \"a\"\n},\r\n{\n  \"localId\": \"b\",\n  \"email\": \"b@x.test\"\n}]}";
    let run = read_text("u.json", crlf);
    let places: Vec<(u64, u64)> = run
        .users
        .iter()
        .map(|u| (u.provenance.line, u.provenance.record))
        .collect();
    assert_eq!(places, vec![(2, 1), (5, 2)]);
    assert_eq!(run.user("b").email.as_deref(), Some("b@x.test"));
    let csv = format!("{}{}", line52(&[(0, "c1")]), line52(&[(0, "c2")])).replace('\n', "\r\n");
    let run = read_text("u.csv", &csv);
    assert_eq!(run.ids(), vec!["c1", "c2"]);
    assert!(run.users.iter().all(|u| u.diagnostics.is_empty()));

    // Many users, read one record at a time.
    let n: u64 = 20_000;
    let mut big = String::from("{\"users\": [\r\n");
    for i in 0..n {
        if i > 0 {
            big.push_str(",\r\n");
        }
        big.push_str(&format!(
            "{{\n  \"localId\": \"user{i}\",\n  \"createdAt\": \"{}\"\n}}",
            1_700_000_000_000_u64 + i
        ));
    }
    big.push_str("]}");
    let run = read_text("big.json", &big);
    assert_eq!((run.users.len(), run.errors.len()), (n as usize, 0));
    let last = run.users.last().unwrap();
    assert_eq!(
        (
            last.source_id.as_str(),
            last.provenance.line,
            last.provenance.record
        ),
        ("user19999", 2 + 4 * (n - 1), n)
    );
}
