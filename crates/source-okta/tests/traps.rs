//! One test per Okta gotcha of export-formats.md §2.6.

mod common;

use common::{attr, run, users_from, Dir};
use kcm_source_io::{SourceError, SourceInputs};
use serde_json::json;

#[test]
fn trap1_status_is_an_api_enum_or_a_console_label_in_the_same_file() {
    let run = users_from(
        "mixed-status.csv",
        "id,login,status\n00u1,a,PROVISIONED\n00u2,b,Pending user action\n00u3,c,DEPROVISIONED\n00u4,d,Deactivated\n00u5,e,RECOVERY\n00u6,f,Password reset\n",
    );
    let statuses: Vec<_> = run.users().iter().map(|u| u.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            "PROVISIONED",
            "PROVISIONED",
            "DEPROVISIONED",
            "DEPROVISIONED",
            "RECOVERY",
            "RECOVERY"
        ]
    );
}

#[test]
fn trap2_deprovisioned_users_are_kept_and_disabled() {
    // Exports made with a `filter` include DEPROVISIONED users; they must not be dropped.
    let run = users_from(
        "deprov.json",
        r#"[{"id":"00u1","status":"DEPROVISIONED","profile":{"login":"gone@example.com","email":"gone@example.com"}},
            {"id":"00u2","status":"ACTIVE","profile":{"login":"here@example.com","email":"here@example.com"}}]"#,
    );
    let gone = run.user("gone@example.com");
    assert_eq!(gone.status, "DEPROVISIONED");
    assert!(!gone.enabled);
    assert!(run.user("here@example.com").enabled);
}

#[test]
fn trap3_headers_are_parsed_by_name_not_position() {
    let titles = "Primary email,Last name,Username,User Id,Status,First name\n\
                  \"ada@example.com\",\"Lovelace\",\"ada\",\"00u1\",\"Active\",\"Ada\"\n";
    let api =
        "id,status,login,firstName,lastName,email\n00u1,ACTIVE,ada,Ada,Lovelace,ada@example.com\n";
    let dotted = "profile.lastName,status,profile.email,id,profile.firstName,profile.login\n\
                  Lovelace,ACTIVE,ada@example.com,00u1,Ada,ada\n";
    let users: Vec<_> = [
        ("titles.csv", titles),
        ("api.csv", api),
        ("dotted.csv", dotted),
    ]
    .into_iter()
    .map(|(name, text)| {
        let run = users_from(name, text);
        let mut u = run.user("ada").clone();
        u.provenance = Default::default();
        u
    })
    .collect();
    assert_eq!(users[0], users[1]);
    assert_eq!(users[1], users[2]);
    assert_eq!(users[0].email.as_deref(), Some("ada@example.com"));
    assert_eq!(users[0].last_name.as_deref(), Some("Lovelace"));
}

#[test]
fn trap4_login_is_not_necessarily_an_email() {
    let run = users_from(
        "logins.csv",
        "id,login,email\n00u1,jdoe,john.doe@example.com\n00u2,ann@corp.example,ann.private@example.net\n00u3,svc-backup,\n",
    );
    let jdoe = run.user("jdoe");
    assert_eq!(jdoe.email.as_deref(), Some("john.doe@example.com"));
    let ann = run.user("ann@corp.example");
    assert_eq!(ann.email.as_deref(), Some("ann.private@example.net"));
    let svc = run.user("svc-backup");
    assert_eq!(svc.email, None);
    assert!(run.errors().is_empty());
}

#[test]
fn trap5_nulls_and_empty_strings_both_mean_no_value() {
    let csv = users_from(
        "empty.csv",
        "id,login,secondEmail,mobilePhone,department,title\n00u1,a,,\"\",\"  \",Boss\n",
    );
    let a = csv.user("a");
    assert_eq!(a.phone, None);
    assert_eq!(a.attributes.keys().collect::<Vec<_>>(), ["title"]);
    assert_eq!(
        a.metadata["profile"],
        json!({"login": "a", "title": "Boss"})
    );

    let json = users_from(
        "empty.json",
        r#"{"id":"00u1","status":"STAGED","activated":null,"profile":{"login":"b","secondEmail":"","mobilePhone":null,"title":"Boss","tags":[]}}"#,
    );
    let b = json.user("b");
    assert_eq!(b.phone, None);
    assert_eq!(b.attributes.keys().collect::<Vec<_>>(), ["title"]);
    assert_eq!(
        b.metadata["profile"],
        json!({"login": "b", "title": "Boss"})
    );
    assert!(!b.metadata.contains_key("activated"));
}

#[test]
fn trap5_custom_attributes_of_any_json_type() {
    let run = users_from(
        "custom.json",
        r#"{"id":"00u1","status":"ACTIVE","profile":{"login":"c","number123":1,"ratio":0.5,"flag":false,"array123":["test",null,2],"nested":{"k":"v"}}}"#,
    );
    let u = run.user("c");
    assert_eq!(attr(u, "number123"), Some(&["1".to_string()][..]));
    assert_eq!(attr(u, "ratio"), Some(&["0.5".to_string()][..]));
    assert_eq!(attr(u, "flag"), Some(&["false".to_string()][..]));
    assert_eq!(
        attr(u, "array123"),
        Some(&["test".to_string(), "2".to_string()][..])
    );
    assert_eq!(attr(u, "nested"), Some(&["{\"k\":\"v\"}".to_string()][..]));
    assert_eq!(u.metadata_path("profile.number123"), Some(&json!(1)));
    assert_eq!(
        u.metadata_path("profile.array123"),
        Some(&json!(["test", 2]))
    );
}

#[test]
fn trap5_import_provider_users_are_flagged() {
    let run = users_from(
        "import.json",
        r#"{"id":"00u1","status":"STAGED","profile":{"login":"imp@example.com"},"credentials":{"password":{},"provider":{"type":"IMPORT","name":"IMPORT"}}}"#,
    );
    let u = run.user("imp@example.com");
    assert_eq!(u.status, "STAGED");
    assert_eq!(
        u.metadata["credentials"],
        json!({"provider": {"type": "IMPORT", "name": "IMPORT"}})
    );
    assert!(u.password_hash.is_none());
    assert!(
        u.diagnostics
            .iter()
            .any(|d| d.code == "okta_imported_password_not_exported"),
        "{:?}",
        u.diagnostics
    );
}

#[test]
fn trap6_report_timestamps_without_offset_are_read_as_utc_and_flagged() {
    let run = users_from(
        "report.csv",
        "Login,Status,Activation date,Last Login,created\nx,Active,2022-04-04 15:56:05,2022-05-04 19:50:52,2022-04-04T08:56:05-07:00\n",
    );
    let u = run.user("x");
    assert_eq!(u.last_login_at, Some(1_651_693_852_000));
    assert_eq!(
        u.created_at,
        Some(1_649_087_765_000),
        "an explicit offset is honoured"
    );
    let flagged: Vec<_> = u
        .diagnostics
        .iter()
        .filter(|d| d.code == "okta_timestamp_assumed_utc")
        .collect();
    assert_eq!(flagged.len(), 1, "{:?}", u.diagnostics);
    assert!(flagged[0].message.contains("lastLogin"));
    assert_eq!(u.metadata["activated"], json!("2022-04-04 15:56:05"));
}

#[test]
fn trap7_no_password_hashes_ever() {
    let dir = Dir::new();
    let users = dir.file(
        "u.json",
        r#"{"id":"00u1","status":"STAGED","profile":{"login":"h"},"credentials":{"password":{"hash":{"algorithm":"BCRYPT","workFactor":10,"salt":"rwh3vH166HCH/NT9XV5FYu","value":"qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}}}}"#,
    );
    let hashes = dir.file("hashes.json", "[]");
    let err = run(&SourceInputs {
        users: vec![users.clone()],
        hashes: Some(hashes),
        ..SourceInputs::default()
    })
    .expect_err("--hashes is refused");
    assert!(matches!(err, SourceError::Unsupported(_)));
    assert!(
        err.to_string()
            .contains("Okta never exports password hashes"),
        "{err}"
    );

    let ok = run(&SourceInputs {
        users: vec![users],
        ..SourceInputs::default()
    })
    .unwrap();
    let u = ok.user("h");
    assert!(u.password_hash.is_none());
    assert!(u
        .diagnostics
        .iter()
        .any(|d| d.code == "okta_password_ignored"));
    let shown = format!("{:?} {}", u, serde_json::to_string(u).unwrap());
    assert!(
        !shown.contains("qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna") && !shown.contains("rwh3vH166HCH"),
        "{shown}"
    );
}
