//! Merging the password-hash export into users: by id, by `alt_id`, by e-mail, unmatched rows,
//! `identifiers[]` fallback, unknown hash formats, and secrecy of the hash everywhere.

mod common;

use common::*;
use kcm_model::{PasswordHash, Reason, SourceItem, SourceResult};
use kcm_source_io::SourceInputs;

fn run_pair(users: &str, hashes: &str) -> Vec<SourceResult> {
    let dir = tempfile::tempdir().unwrap();
    let u = write(dir.path(), "users.ndjson", users);
    let h = write(dir.path(), "hashes.ndjson", hashes);
    run(&SourceInputs {
        hashes: Some(h),
        ..inputs(&[&u])
    })
}

fn row(oid: &str, extra: &str) -> String {
    format!("{{\"_id\":{{\"$oid\":\"{oid}\"}},\"passwordHash\":\"{BCRYPT_HELLO}\"{extra}}}\n")
}

#[test]
fn merge_by_user_id_yields_the_user_then_the_merged_row() {
    let items = run_pair(
        "{\"user_id\":\"auth0|aa\",\"email\":\"a@x.io\"}\n{\"user_id\":\"auth0|bb\"}\n",
        &row("aa", ",\"email\":\"a@x.io\""),
    );
    assert_eq!(shape(&items), "UHU");
    match &items[1] {
        Ok(SourceItem::Merged {
            what,
            into,
            provenance,
        }) => {
            assert_eq!(
                (what.as_str(), into.as_str()),
                ("password_hash", "auth0|aa")
            );
            assert!(provenance.file.ends_with("hashes.ndjson"));
            assert_eq!((provenance.line, provenance.record), (1, 1));
        }
        other => panic!("{other:?}"),
    }
    assert!(user(&items, "auth0|aa").password_hash.is_some());
    assert!(user(&items, "auth0|bb").password_hash.is_none());
}

#[test]
fn merge_by_alt_id_ignores_the_oid() {
    let items = run_pair(
        "{\"user_id\":\"auth0|euclid\"}\n{\"user_id\":\"auth0|5dea9f9c82dd7c0e76e4ec93\"}\n",
        &row("5dea9f9c82dd7c0e76e4ec93", ",\"alt_id\":\"euclid\""),
    );
    assert_eq!(
        merged(&items),
        [("password_hash".into(), "auth0|euclid".into(), 1)]
    );
    assert!(user(&items, "auth0|5dea9f9c82dd7c0e76e4ec93")
        .password_hash
        .is_none());
}

#[test]
fn merge_by_email_is_case_insensitive_and_noted_on_the_user() {
    let items = run_pair(
        "{\"user_id\":\"auth0|new-id\",\"email\":\"Kim.Park@Example.com\"}\n",
        &row("old-id", ",\"email\":\"kim.park@example.com\""),
    );
    assert_eq!(shape(&items), "UH");
    let u = user(&items, "auth0|new-id");
    assert!(u.password_hash.is_some());
    assert_eq!(u.diagnostics.len(), 1);
    assert_eq!(u.diagnostics[0].code, kcm_source_auth0::DIAG_HASH_BY_EMAIL);
}

#[test]
fn hash_row_email_falls_back_to_identifiers() {
    let items = run_pair(
        "{\"user_id\":\"auth0|other\",\"email\":\"only-in-identifiers@example.com\"}\n",
        &row(
            "5dea",
            ",\"identifiers\":[{\"type\":\"username\",\"value\":\"u1\"},{\"type\":\"email\",\"value\":\"only-in-identifiers@example.com\",\"verified\":false}]",
        ),
    );
    assert_eq!(merged(&items).len(), 1);
}

#[test]
fn each_row_is_used_once_and_id_matches_are_not_stolen_by_email() {
    // The second record repeats the first user; the third shares the e-mail.
    let items = run_pair(
        "{\"user_id\":\"auth0|aa\",\"email\":\"a@x.io\"}\n{\"user_id\":\"auth0|aa\",\"email\":\"a@x.io\"}\n{\"user_id\":\"auth0|cc\",\"email\":\"a@x.io\"}\n",
        &row("aa", ",\"email\":\"a@x.io\""),
    );
    assert_eq!(shape(&items), "UHUU");
}

#[test]
fn unmatched_rows_come_last_naming_the_user_id_but_never_the_hash() {
    let items = run_pair(
        "{\"user_id\":\"auth0|aa\"}\n",
        &format!(
            "{}{}",
            row("gone1", ",\"email\":\"gone@x.io\""),
            row("gone2", "")
        ),
    );
    assert_eq!(shape(&items), "UEE");
    let errs = errors(&items);
    assert_eq!(errs[0].reason, Reason::Unmatched);
    assert_eq!(errs[0].source_id.as_deref(), Some("auth0|gone1"));
    assert!(errs[0].message.contains("auth0|gone1"));
    assert_eq!((errs[0].provenance.line, errs[1].provenance.line), (1, 2));
    for e in errs {
        assert!(!format!("{e} {e:?}").contains("nFgu"), "{e}");
    }
}

#[test]
fn invalid_hash_rows_are_reported_before_the_users() {
    let items = run_pair(
        "{\"user_id\":\"auth0|aa\"}\n",
        &format!(
            "{{\"passwordHash\":\"{BCRYPT_HELLO}\"}}\n{{\"_id\":{{\"$oid\":\"a\n{}",
            row("aa", "")
        ),
    );
    assert_eq!(shape(&items), "EEUH");
    let reasons: Vec<_> = errors(&items)
        .iter()
        .map(|e| (e.reason, e.provenance.line))
        .collect();
    assert_eq!(reasons, [(Reason::MissingField, 1), (Reason::Malformed, 2)]);
}

#[test]
fn an_unrecognised_hash_still_merges_as_unknown() {
    let items = run_pair(
        "{\"user_id\":\"auth0|md5\"}\n",
        "{\"_id\":{\"$oid\":\"md5\"},\"passwordHash\":\"5f4dcc3b5aa765d61d8327deb882cf99\"}\n",
    );
    assert_eq!(shape(&items), "UH");
    let u = user(&items, "auth0|md5");
    assert!(matches!(
        u.password_hash,
        Some(PasswordHash::Unknown { .. })
    ));
    assert!(
        !format!("{u:?}").contains("5f4dcc"),
        "hash bytes must not show in Debug"
    );
}

#[test]
fn the_hash_export_may_be_a_json_array() {
    let items = run_pair(
        "{\"user_id\":\"auth0|aa\"}\n",
        &format!("[\n{}]\n", row("aa", "").trim_end()),
    );
    assert_eq!(shape(&items), "UH");
}

#[test]
fn hashes_merge_into_csv_users_too() {
    let dir = tempfile::tempdir().unwrap();
    let u = write(
        dir.path(),
        "users.csv",
        "user_id,email\n\"'auth0|aa\",\"'a@x.io\"\n",
    );
    let h = write(dir.path(), "h.ndjson", row("aa", ""));
    let items = run(&SourceInputs {
        hashes: Some(h),
        ..inputs(&[&u])
    });
    assert_eq!(shape(&items), "UH");
}
