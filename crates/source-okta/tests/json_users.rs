//! Users API JSON: array, NDJSON and wrapper shapes; nulls, numbers, arrays; metadata.

mod common;

use common::{attr, users_from};
use kcm_model::Reason;
use serde_json::json;

const FULL_USER: &str = r#"{
  "id": "00u118oQYT4TBTemp0g4",
  "status": "ACTIVE",
  "created": "2022-04-04T15:56:05.000Z",
  "activated": null,
  "statusChanged": null,
  "lastLogin": "2022-05-04T19:50:52.000Z",
  "lastUpdated": "2022-05-05T18:15:44.000Z",
  "passwordChanged": "2022-04-04T16:00:22.000Z",
  "type": {"id": "oty1162QAr8hJjTaq0g4"},
  "realmId": "guo1afiNtSnZYILxO0g4",
  "profile": {
    "firstName": "Alice", "lastName": "Smith", "mobilePhone": null, "secondEmail": "",
    "login": "alice.smith@example.com", "email": "alice.smith@example.com",
    "employeeNumber": 1234, "skills": ["rust", "go"], "department": "Engineering"
  },
  "credentials": {
    "password": {},
    "emails": [{"value": "alice.smith@example.com", "status": "VERIFIED", "type": "PRIMARY"}],
    "provider": {"type": "OKTA", "name": "OKTA"},
    "recovery_question": {"question": "Favourite colour?"}
  },
  "_links": {"self": {"href": "https://example.okta.com/api/v1/users/00u118oQYT4TBTemp0g4"}}
}"#;

#[test]
fn a_full_api_user_is_mapped() {
    let run = users_from("users.json", &format!("[{FULL_USER}]"));
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    let u = run.user("alice.smith@example.com");
    assert_eq!(u.source_id, "00u118oQYT4TBTemp0g4");
    assert_eq!(u.status, "ACTIVE");
    assert!(u.enabled);
    assert_eq!(u.email_verified, Some(true));
    assert_eq!(u.first_name.as_deref(), Some("Alice"));
    assert_eq!(u.created_at, Some(1_649_087_765_000));
    assert_eq!(u.last_login_at, Some(1_651_693_852_000));
    assert_eq!(u.phone, None);
    assert_eq!(attr(u, "employeeNumber"), Some(&["1234".to_string()][..]));
    assert_eq!(
        attr(u, "skills"),
        Some(&["rust".to_string(), "go".to_string()][..])
    );
    assert_eq!(
        attr(u, "department"),
        Some(&["Engineering".to_string()][..])
    );
    assert_eq!(u.attributes.len(), 3, "{:?}", u.attributes);
    assert_eq!(u.metadata["lastUpdated"], json!("2022-05-05T18:15:44.000Z"));
    assert_eq!(
        u.metadata["passwordChanged"],
        json!("2022-04-04T16:00:22.000Z")
    );
    assert_eq!(u.metadata["type"], json!({"id": "oty1162QAr8hJjTaq0g4"}));
    assert_eq!(u.metadata["realmId"], json!("guo1afiNtSnZYILxO0g4"));
    assert!(!u.metadata.contains_key("activated") && !u.metadata.contains_key("_links"));
    assert_eq!(
        u.metadata["credentials"],
        json!({
            "emails": [{"value": "alice.smith@example.com", "status": "VERIFIED", "type": "PRIMARY"}],
            "provider": {"type": "OKTA", "name": "OKTA"}
        }),
        "password and recovery question are not kept"
    );
    assert_eq!(u.metadata_path("profile.skills.1"), Some(&json!("go")));
    assert_eq!(u.provenance.line, 1);
    assert!(u.password_hash.is_none());
}

#[test]
fn array_ndjson_and_users_wrapper_give_the_same_users() {
    let one = r#"{"id":"00u1","status":"ACTIVE","profile":{"login":"a"}}"#;
    let two = r#"{"id":"00u2","status":"SUSPENDED","profile":{"login":"b"}}"#;
    let shapes = [
        ("array.json", format!("[\n  {one},\n  {two}\n]\n")),
        ("ndjson.json", format!("{one}\n{two}\n")),
        (
            "wrapped.json",
            format!("{{\"users\": [{one}, {two}], \"next\": null}}"),
        ),
    ];
    for (name, text) in shapes {
        let run = users_from(name, &text);
        let got: Vec<_> = run
            .users()
            .iter()
            .map(|u| (u.source_id.clone(), u.status.clone(), u.enabled))
            .collect();
        assert_eq!(
            got,
            [
                ("00u1".into(), "ACTIVE".into(), true),
                ("00u2".into(), "SUSPENDED".into(), false)
            ],
            "{name}"
        );
    }
}

#[test]
fn a_broken_record_is_reported_and_the_rest_read() {
    let text = "{\"id\":\"00u1\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"a\"}}\n\
                {\"id\":\"00u2\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"b\"}\n\
                {\"id\":\"00u3\",\"status\":\"WEIRD\",\"profile\":{\"login\":\"c\"}}\n\
                {\"id\":\"00u4\",\"status\":\"ACTIVE\",\"profile\":{\"email\":\"d@example.com\"}}\n\
                [1]\n\
                {\"id\":\"00u6\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"f\"}}\n";
    let run = users_from("mixed.ndjson", text);
    let ok: Vec<_> = run.users().iter().map(|u| u.source_id.clone()).collect();
    assert_eq!(ok, ["00u1", "00u6"]);
    let errors: Vec<_> = run
        .errors()
        .iter()
        .map(|e| (e.provenance.line, e.reason))
        .collect();
    assert_eq!(
        errors,
        [
            (2, Reason::Malformed),
            (3, Reason::InvalidField),
            (4, Reason::MissingField),
            (5, Reason::InvalidField),
        ]
    );
    assert_eq!(run.results.len(), 6, "one result per record");
}

#[test]
fn wrong_json_types_are_invalid_fields() {
    let run = users_from(
        "types.json",
        r#"[{"id":"00u1","status":["ACTIVE"],"profile":{"login":"a"}},
            {"id":"00u2","status":"ACTIVE","profile":"a"},
            {"id":7,"status":"ACTIVE","profile":{"login":"numeric-id"}}]"#,
    );
    let errors = run.errors();
    assert_eq!(errors.len(), 2);
    assert!(
        errors[0].message.contains("`status` is an array"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[1].message.contains("`profile` is a string"),
        "{}",
        errors[1].message
    );
    assert_eq!(run.user("numeric-id").source_id, "7");
}

#[test]
fn an_unverified_primary_email_is_reported_as_such() {
    let run = users_from(
        "u.json",
        r#"{"id":"00u1","status":"ACTIVE","profile":{"login":"x","email":"X@example.com"},
            "credentials":{"emails":[{"value":"x@example.com","status":"UNVERIFIED","type":"PRIMARY"}]}}"#,
    );
    assert_eq!(run.user("x").email_verified, Some(false));
}
