//! One test per Auth0 parser gotcha of export-formats.md §1.6.

mod common;

use common::*;
use kcm_model::{PasswordHash, Reason, SourceItem};
use kcm_source_io::SourceInputs;
use serde_json::json;

#[test]
fn trap1_gzipped_ndjson_with_blank_lines_and_a_malformed_line() {
    let text = "{\"user_id\":\"auth0|1\",\"email\":\"a@x.io\"}\n\n\
                {\"user_id\":\"auth0|2\",\"email\":\"b@x\n\
                \n\
                {\"user_id\":\"auth0|3\"}\n";
    let items = users_from("export.json.gz", gz(text));
    let ids: Vec<_> = users(&items).iter().map(|u| u.source_id.clone()).collect();
    assert_eq!(ids, ["auth0|1", "auth0|3"]);
    let errs = errors(&items);
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0].reason, errs[0].provenance.line),
        (Reason::Malformed, 3)
    );
    assert_eq!(user(&items, "auth0|3").provenance.line, 5);
}

#[test]
fn trap2_csv_quote_escaping_is_stripped_once_and_only_from_strings() {
    let csv = "user_id,email,name,nickname,created_at,email_verified,logins_count,user_metadata.code,user_metadata.zip\n\
               \"'auth0|1\",\"'a@x.io\",\"'D'Arcy\",\"''quoted\",2023-01-25T17:48:14.784Z,true,42,\"'42\",007\n";
    let items = users_from("export.csv", csv);
    let u = user(&items, "auth0|1");
    assert_eq!(u.email.as_deref(), Some("a@x.io"));
    assert_eq!(u.display_name.as_deref(), Some("D'Arcy"));
    assert_eq!(u.attributes["nickname"], ["'quoted"]);
    assert_eq!(u.created_at, Some(1_674_668_894_784));
    assert_eq!(u.email_verified, Some(true));
    assert_eq!(u.metadata["logins_count"], json!(42));
    // An escaped cell is a string even when it looks like a number; raw `007` keeps its zeros.
    assert_eq!(
        u.metadata["user_metadata"],
        json!({"code": "42", "zip": "007"})
    );
}

#[test]
fn trap3_user_id_splits_on_the_first_pipe_only() {
    let items = users_from(
        "u.ndjson",
        "{\"user_id\":\"samlp|acme-saml|carol@acme.example\",\"email\":\"carol@acme.example\"}\n",
    );
    let u = user(&items, "samlp|acme-saml|carol@acme.example");
    assert_eq!(u.identities.len(), 1);
    assert_eq!(u.identities[0].provider, "samlp");
    assert_eq!(u.identities[0].user_id, "acme-saml|carol@acme.example");
    assert!(u.identities[0].primary);
    assert_eq!(
        kcm_source_auth0::split_user_id("samlp|a|b|c"),
        Some(("samlp", "a|b|c"))
    );
}

#[test]
fn trap4_numeric_identity_user_id_and_string_email_verified() {
    let items = users_from(
        "u.ndjson",
        "{\"user_id\":\"github|5832319\",\"email_verified\":\"true\",\
          \"identities\":[{\"provider\":\"github\",\"connection\":\"github\",\"user_id\":5832319,\"isSocial\":true}]}\n\
         {\"user_id\":\"auth0|2\",\"email_verified\":\"false\"}\n",
    );
    let gh = user(&items, "github|5832319");
    assert_eq!(gh.identities[0].user_id, "5832319");
    assert_eq!(gh.identities[0].connection.as_deref(), Some("github"));
    assert_eq!(gh.email_verified, Some(true));
    assert_eq!(user(&items, "auth0|2").email_verified, Some(false));
    assert!(gh.diagnostics.is_empty(), "{:?}", gh.diagnostics);
}

#[test]
fn trap5_linked_secondary_identities_stay_inside_their_primary_user() {
    let record = json!({
        "user_id": "auth0|63d17c6a9d503d76c056c177",
        "email": "chuck249@example.com",
        "identities": [
            {"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "63d17c6a9d503d76c056c177", "isSocial": false},
            {"profileData": {"email": "chuck203@example.com", "username": "test-user840", "email_verified": true},
             "connection": "Username-Password-Authentication", "user_id": "63d17c6b77d74b740960460a", "provider": "auth0", "isSocial": false},
            {"profileData": {"email": "c@gmail.com"}, "provider": "google-oauth2", "user_id": "1035", "connection": "google-oauth2",
             "access_token": "ya29.secret-token", "isSocial": true}
        ]
    });
    let items = users_from("u.ndjson", format!("{record}\n"));
    assert_eq!(users(&items).len(), 1);
    let u = user(&items, "auth0|63d17c6a9d503d76c056c177");
    let ids: Vec<_> = u
        .identities
        .iter()
        .map(|i| (i.provider.as_str(), i.user_id.as_str(), i.primary))
        .collect();
    assert_eq!(
        ids,
        [
            ("auth0", "63d17c6a9d503d76c056c177", true),
            ("auth0", "63d17c6b77d74b740960460a", false),
            ("google-oauth2", "1035", false)
        ]
    );
    assert_eq!(u.identities[1].username.as_deref(), Some("test-user840"));
    assert_eq!(
        u.identities[1].email.as_deref(),
        Some("chuck203@example.com")
    );
    assert!(
        !format!("{u:?}").contains("ya29"),
        "identity tokens must not be carried"
    );
}

#[test]
fn trap6_password_export_alt_id_oid_identifiers_and_extended_json() {
    let dir = tempfile::tempdir().unwrap();
    let users = write(
        dir.path(),
        "users.ndjson",
        "{\"user_id\":\"auth0|5dea9f9c82dd7c0e76e4ec93\",\"email\":\"plain@example.com\"}\n\
         {\"user_id\":\"auth0|euclid\",\"email\":\"euclid@example.com\"}\n",
    );
    let hashes = write(
        dir.path(),
        "hashes.ndjson",
        format!(
            "{{\"_id\":{{\"$oid\":\"5dea9f9c82dd7c0e76e4ec93\"}},\"passwordHash\":\"{BCRYPT_HELLO}\",\
               \"password_set_date\":{{\"$date\":\"2019-12-06T18:36:12.412Z\"}},\
               \"identifiers\":[{{\"type\":\"email\",\"value\":\"plain@example.com\",\"verified\":false}}]}}\n\
             {{\"_id\":{{\"$oid\":\"5dea9f9c82dd7c0e76e4ec94\"}},\"alt_id\":\"euclid\",\"passwordHash\":\"{BCRYPT_HELLO}\"}}\n"
        ),
    );
    let items = run(&SourceInputs {
        hashes: Some(hashes),
        ..inputs(&[&users])
    });
    assert_eq!(shape(&items), "UHUH");
    let m = merged(&items);
    assert_eq!(
        m[0],
        (
            "password_hash".into(),
            "auth0|5dea9f9c82dd7c0e76e4ec93".into(),
            1
        )
    );
    assert_eq!(m[1], ("password_hash".into(), "auth0|euclid".into(), 2));
    for u in common::users(&items) {
        assert!(matches!(
            u.password_hash,
            Some(PasswordHash::Bcrypt { cost: 10, .. })
        ));
    }
}

#[test]
fn trap7_social_users_have_no_password_and_blocked_users_are_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let users = write(
        dir.path(),
        "users.ndjson",
        "{\"user_id\":\"google-oauth2|1\",\"email\":\"same@example.com\",\"blocked\":true,\
           \"identities\":[{\"provider\":\"google-oauth2\",\"user_id\":\"1\",\"connection\":\"google-oauth2\",\"isSocial\":true}]}\n\
         {\"user_id\":\"auth0|db\",\"email\":\"other@example.com\",\"blocked\":false}\n",
    );
    // A hash row that names the social user's e-mail must not give it a password.
    let hashes = write(
        dir.path(),
        "h.ndjson",
        format!("{{\"_id\":{{\"$oid\":\"ffff\"}},\"email\":\"SAME@example.com\",\"passwordHash\":\"{BCRYPT_HELLO}\"}}\n"),
    );
    let items = run(&SourceInputs {
        hashes: Some(hashes),
        ..inputs(&[&users])
    });
    let social = user(&items, "google-oauth2|1");
    assert!(social.is_social_only());
    assert!(social.password_hash.is_none());
    assert!(!social.enabled);
    assert_eq!(social.status, "blocked");
    let db = user(&items, "auth0|db");
    assert!(db.enabled);
    assert_eq!(db.status, "active");
    assert_eq!(errors(&items)[0].reason, Reason::Unmatched);
}

#[test]
fn trap8_metadata_roles_stay_in_free_form_app_metadata() {
    let items = users_from(
        "u.ndjson",
        "{\"user_id\":\"auth0|1\",\"app_metadata\":{\"roles\":[\"admin\"],\"authorization\":{\"roles\":[\"viewer\"]},\"tier\":\"gold\"},\
           \"user_metadata\":{\"theme\":\"dark\"},\"logins_count\":3,\"custom_top\":{\"x\":1}}\n",
    );
    let u = user(&items, "auth0|1");
    assert!(u.roles.is_empty(), "roles are resolved by the transform");
    assert_eq!(
        u.metadata_path("app_metadata.roles"),
        Some(&json!(["admin"]))
    );
    assert_eq!(
        u.metadata_path("app_metadata.authorization.roles.0"),
        Some(&json!("viewer"))
    );
    assert_eq!(u.metadata_path("user_metadata.theme"), Some(&json!("dark")));
    assert_eq!(u.metadata_path("custom_top.x"), Some(&json!(1)));
    assert_eq!(u.metadata["logins_count"], json!(3));
}

#[test]
fn trap9_search_api_pages_read_as_several_files_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let page = |start: u32, ids: &[&str]| {
        let users: Vec<_> = ids.iter().map(|id| json!({"user_id": id})).collect();
        json!({"start": start, "limit": 2, "length": ids.len(), "total": 3, "users": users})
            .to_string()
    };
    let p0 = write(dir.path(), "page0.json", page(0, &["auth0|a", "auth0|b"]));
    let p1 = write(dir.path(), "page1.json", page(1, &["auth0|c"]));
    let items = run(&inputs(&[&p0, &p1]));
    let got: Vec<_> = items
        .iter()
        .map(|i| match i {
            Ok(SourceItem::User(u)) => format!(
                "{}@{}",
                u.source_id,
                u.provenance.file.rsplit('/').next().unwrap_or("")
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            "auth0|a@page0.json",
            "auth0|b@page0.json",
            "auth0|c@page1.json"
        ]
    );
}
