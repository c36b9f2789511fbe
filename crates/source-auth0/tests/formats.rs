//! Container and framing variants: gzip by magic bytes, BOM, CRLF, arrays and wrappers, CSV
//! headers of every vintage (export_as names, field names, the old extension's TSV labels).

mod common;

use common::*;
use kcm_model::Reason;
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};
use serde_json::json;

#[test]
fn gzip_is_detected_by_magic_bytes_even_with_a_misleading_name() {
    let items = users_from(
        "users.csv",
        gz("{\"user_id\":\"auth0|1\",\"email\":\"a@x.io\"}\n"),
    );
    assert_eq!(users(&items).len(), 1);
    let csv = users_from("users.json", gz("user_id,email\n'auth0|2,b@x.io\n"));
    assert_eq!(user(&csv, "auth0|2").email.as_deref(), Some("b@x.io"));
}

#[test]
fn a_byte_order_mark_is_skipped_for_json_and_csv() {
    let items = users_from("u.ndjson", b"\xef\xbb\xbf{\"user_id\":\"auth0|1\"}\n");
    assert_eq!(users(&items).len(), 1);
    let items = users_from(
        "u.csv",
        b"\xef\xbb\xbfuser_id,email\r\n\"'auth0|2\",\"'b@x.io\"\r\n",
    );
    assert_eq!(user(&items, "auth0|2").email.as_deref(), Some("b@x.io"));
}

#[test]
fn crlf_line_ends_are_read_with_correct_line_numbers() {
    let items = users_from(
        "u.ndjson",
        "{\"user_id\":\"auth0|1\",\"name\":\"A\"}\r\n{\"user_id\":\"auth0|2\",\"name\":\"B\"}\r\n",
    );
    assert_eq!(user(&items, "auth0|2").provenance.line, 2);
    assert_eq!(user(&items, "auth0|2").display_name.as_deref(), Some("B"));
    let csv = users_from(
        "u.csv",
        "user_id,name\r\n\"'auth0|1\",\"'A\"\r\n\"'auth0|2\",\"'B\"\r\n",
    );
    let b = user(&csv, "auth0|2");
    assert_eq!(
        (
            b.display_name.as_deref(),
            b.provenance.line,
            b.provenance.record
        ),
        (Some("B"), 3, 2)
    );
}

#[test]
fn json_array_and_management_api_wrappers() {
    let array = users_from(
        "a.json",
        "[\n  {\"user_id\": \"auth0|1\"},\n  {\"user_id\": \"auth0|2\"}\n]\n",
    );
    assert_eq!(users(&array).len(), 2);
    let wrapped = users_from(
        "w.json",
        json!({"users": [{"user_id": "auth0|3"}]}).to_string(),
    );
    assert_eq!(users(&wrapped)[0].source_id, "auth0|3");
}

#[test]
fn paged_wrapper_with_counts_after_the_users() {
    let text = "{\"start\":0,\"limit\":50,\"length\":2,\n\"users\":[\n{\"user_id\":\"auth0|1\",\"blocked\":false},\n{\"user_id\":\"auth0|2\"}\n],\"total\":2}";
    let items = users_from("page.json", text);
    assert_eq!(users(&items).len(), 2);
    assert!(errors(&items).is_empty());
    assert_eq!(user(&items, "auth0|2").provenance.line, 4);
}

#[test]
fn tsv_from_the_old_extension_with_its_column_labels() {
    let tsv = "Id\tGiven Name\tFamily Name\tNickname\tName\tEmail\tEmail Verified\tPicture\tConnection\tCreated At\tUpdated At\n\
               auth0|5a1\tAda\tLovelace\tada\tAda Lovelace\tada@example.com\ttrue\thttps://p/a.png\tUsername-Password-Authentication\t2018-01-02T03:04:05.000Z\t2019-01-01T00:00:00.000Z\n\
               google-oauth2|77\tAlan\tTuring\tat\tAlan Turing\talan@example.com\tfalse\t\tgoogle-oauth2\t2018-01-02T03:04:05.000Z\t\n";
    let items = users_from("export.csv", tsv);
    assert!(errors(&items).is_empty(), "{:?}", errors(&items));
    let ada = user(&items, "auth0|5a1");
    assert_eq!(ada.first_name.as_deref(), Some("Ada"));
    assert_eq!(ada.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(ada.email_verified, Some(true));
    assert_eq!(ada.attributes["picture"], ["https://p/a.png"]);
    assert_eq!(
        ada.identities[0].connection.as_deref(),
        Some("Username-Password-Authentication")
    );
    assert_eq!(ada.identities[0].provider, "auth0");
    assert_eq!(
        ada.metadata["updated_at"],
        json!("2019-01-01T00:00:00.000Z")
    );
    let alan = user(&items, "google-oauth2|77");
    assert!(alan.is_social_only());
    assert_eq!(alan.email_verified, Some(false));
}

#[test]
fn csv_field_names_fold_into_nested_metadata_and_unknown_columns_become_attributes() {
    let csv = "user_id,identities[0].connection,identities[0].isSocial,user_metadata.consent.given,app_metadata.plan,app_metadata.roles,Department\n\
               \"'auth0|1\",\"'db\",false,true,\"'pro\",\"[\"\"admin\"\"]\",\"'Sales\"\n";
    let items = users_from("u.csv", csv);
    let u = user(&items, "auth0|1");
    assert_eq!(
        u.metadata["user_metadata"],
        json!({"consent": {"given": true}})
    );
    assert_eq!(
        u.metadata["app_metadata"],
        json!({"plan": "pro", "roles": ["admin"]})
    );
    assert_eq!(u.attributes["Department"], ["Sales"]);
    assert_eq!(u.identities[0].connection.as_deref(), Some("db"));
    assert_eq!(u.identities[0].user_id, "1");
}

#[test]
fn literal_dotted_keys_in_ndjson_are_accepted_too() {
    let items = users_from(
        "u.ndjson",
        "{\"user_id\":\"auth0|1\",\"identities[0].connection\":\"db\",\"user_metadata.consent.given\":true,\"connection\":\"db\"}\n",
    );
    let u = user(&items, "auth0|1");
    assert_eq!(u.identities[0].connection.as_deref(), Some("db"));
    assert_eq!(
        u.metadata_path("user_metadata.consent.given"),
        Some(&json!(true))
    );
    assert!(!u.metadata.contains_key("connection"));
}

#[test]
fn memberships_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let u = write(dir.path(), "u.ndjson", "");
    let err = kcm_source_auth0::read(
        &SourceInputs {
            memberships: Some(u.clone()),
            ..inputs(&[&u])
        },
        &ReadOptions::default(),
    )
    .err()
    .expect("refused");
    assert!(
        matches!(&err, SourceError::Unsupported(m) if m.contains("--roles")),
        "{err}"
    );
}

#[test]
fn an_unreadable_later_file_fails_before_anything_streams() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "u.ndjson", "{\"user_id\":\"auth0|1\"}\n");
    let missing = dir.path().join("missing.ndjson");
    let err = kcm_source_auth0::read(&inputs(&[&good, &missing]), &ReadOptions::default())
        .err()
        .expect("fatal");
    assert!(err.to_string().contains("missing.ndjson"), "{err}");
    let err = kcm_source_auth0::read(
        &SourceInputs {
            roles: Some(write(dir.path(), "roles.csv", "id,name\n")),
            ..inputs(&[&good])
        },
        &ReadOptions::default(),
    )
    .err()
    .expect("fatal");
    assert!(
        matches!(&err, SourceError::UnknownFormat { path, .. } if path.ends_with("roles.csv")),
        "{err}"
    );
    let err = kcm_source_auth0::read(
        &SourceInputs {
            hashes: Some(write(dir.path(), "h.txt", "_id,passwordHash\n")),
            ..inputs(&[&good])
        },
        &ReadOptions::default(),
    )
    .err()
    .expect("fatal");
    assert!(err.to_string().contains("password-hash export"), "{err}");
    let err = kcm_source_auth0::read(
        &SourceInputs {
            hashes: Some(write(dir.path(), "h.ndjson.gpg", b"\x85\x02\x0c\x03\xa1")),
            ..inputs(&[&good])
        },
        &ReadOptions::default(),
    )
    .err()
    .expect("fatal");
    assert!(err.to_string().contains("gpg --decrypt"), "{err}");
}

#[test]
fn non_object_records_and_wrong_user_id_types_are_record_errors() {
    let items = users_from(
        "u.json",
        "[1, {\"user_id\": {\"a\": 1}}, {\"user_id\": 12345}]",
    );
    let reasons: Vec<_> = errors(&items).iter().map(|e| e.reason).collect();
    assert_eq!(reasons, [Reason::InvalidField, Reason::InvalidField]);
    assert_eq!(users(&items)[0].source_id, "12345");
}

#[test]
fn an_empty_users_file_yields_nothing() {
    assert!(users_from("u.ndjson", "").is_empty());
    assert!(users_from("u.csv", "user_id,email\r\n").is_empty());
}
