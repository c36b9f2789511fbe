//! `samples/auth0/*` read as one run gives exactly the counts its README documents, and the
//! README's known passwords verify against the merged hashes.

mod common;

use std::collections::BTreeMap;

use common::*;
use kcm_model::{PasswordHash, Reason, SourceResult};
use kcm_source_io::SourceInputs;
use serde_json::json;

fn read_samples() -> Vec<SourceResult> {
    let dir = samples_dir();
    run(&SourceInputs {
        users: vec![dir.join("users.ndjson.gz"), dir.join("users.csv")],
        hashes: Some(dir.join("password-hashes.ndjson")),
        roles: Some(dir.join("roles.json")),
        memberships: None,
    })
}

#[test]
fn samples_give_the_documented_counts() {
    let items = read_samples();
    assert_eq!(users(&items).len(), 29);
    let from_gz = users(&items)
        .iter()
        .filter(|u| u.provenance.file.ends_with("users.ndjson.gz"))
        .count();
    assert_eq!(from_gz, 22);
    assert_eq!(roles(&items).len(), 4);
    assert_eq!(memberships(&items).len(), 6);
    assert_eq!(merged(&items).len(), 11);

    let mut rejected: BTreeMap<(Reason, String, u64), usize> = BTreeMap::new();
    for e in errors(&items) {
        let file = e
            .provenance
            .file
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        *rejected
            .entry((e.reason, file, e.provenance.line))
            .or_default() += 1;
    }
    let want: BTreeMap<(Reason, String, u64), usize> = [
        ((Reason::Malformed, "users.ndjson.gz".to_string(), 12), 1),
        ((Reason::MissingField, "users.ndjson.gz".to_string(), 16), 1),
        ((Reason::Malformed, "users.csv".to_string(), 7), 1),
        (
            (Reason::Unmatched, "password-hashes.ndjson".to_string(), 12),
            1,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(rejected, want);
    let unmatched = errors(&items)
        .into_iter()
        .find(|e| e.reason == Reason::Unmatched);
    assert_eq!(
        unmatched.and_then(|e| e.source_id.as_deref()),
        Some("auth0|5e9f8a7b6c5d4e3f2a1b0c9d")
    );
    // Roles first, then users, then the unmatched hash row.
    let s = shape(&items);
    assert!(s.starts_with("RMRMMRMMRM"), "{s}");
    assert!(s.ends_with('E'), "{s}");
}

#[test]
fn samples_exercise_the_traps() {
    let items = read_samples();
    let carol = user(&items, "samlp|acme-okta-saml|carol.nguyen@acme.example");
    assert_eq!(carol.identities[0].provider, "samlp");
    assert_eq!(
        user(&items, "github|5832319").identities[0].user_id,
        "5832319"
    );
    assert_eq!(
        user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e0f2").email_verified,
        Some(true)
    );
    let frank = user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e0f6");
    assert_eq!(frank.identities.len(), 2);
    assert_eq!(
        frank.identities[1].email.as_deref(),
        Some("frank.linked@gmail.com")
    );
    assert!(!users(&items)
        .iter()
        .any(|u| u.source_id.contains("117309875545102983244")));
    for blocked in [
        "auth0|64b0c1a2e4f5a6b7c8d9e0f7",
        "auth0|64c1d2e3f4a5b6c7d8e90002",
    ] {
        assert!(!user(&items, blocked).enabled, "{blocked}");
    }
    let liam = user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e0ff");
    assert_eq!(
        liam.metadata_path("app_metadata.roles"),
        Some(&json!(["editor"]))
    );
    assert_eq!(
        liam.metadata_path("app_metadata.authorization.roles"),
        Some(&json!(["viewer"]))
    );
    assert_eq!(
        user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e0f8")
            .last_name
            .as_deref(),
        Some("Ñúñez")
    );
    let henry_google = user(&items, "google-oauth2|104932117465527714210");
    assert!(henry_google.is_social_only() && henry_google.password_hash.is_none());
    let kim = user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e0fc");
    assert_eq!(
        kim.diagnostics[0].code,
        kcm_source_auth0::DIAG_HASH_BY_EMAIL
    );
    let max = user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e0fe");
    assert_eq!((max.created_at, max.last_login_at), (None, None));
    assert_eq!(max.diagnostics.len(), 2);
    let zoe = user(&items, "auth0|64c1d2e3f4a5b6c7d8e90005");
    assert_eq!(zoe.display_name.as_deref(), Some("Zoë D'Arcy"));
    assert_eq!(zoe.attributes["department"], ["R&D"]);
    assert_eq!(
        user(&items, "auth0|64c1d2e3f4a5b6c7d8e90007").attributes["nickname"],
        ["007"]
    );
    assert_eq!(
        user(&items, "auth0|64c1d2e3f4a5b6c7d8e90008").attributes["nickname"],
        ["=SUM(A1:A9)"]
    );
    let sam = user(&items, "auth0|64b0c1a2e4f5a6b7c8d9e101");
    assert!(matches!(
        sam.password_hash,
        Some(PasswordHash::Unknown { .. })
    ));
}

/// The README's password table, checked against the merged bcrypt hashes.
#[test]
fn readme_passwords_verify_against_the_merged_hashes() {
    let items = read_samples();
    let readme = std::fs::read_to_string(samples_dir().join("README.md")).unwrap();
    for (id, password) in [
        (
            "auth0|64b0c1a2e4f5a6b7c8d9e0f1",
            "correct-horse-battery-staple",
        ),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0f2", "Tr0ub4dor&3"),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0f6", "frank-Linked-2024"),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0f7", "still-blocked-42"),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0f8", "contraseña-segura"),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0fa", "henry-db-only"),
        ("auth0|legacy-10017", "legacy-Pa55word"),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0fc", "kim-found-by-email"),
        ("auth0|64b0c1a2e4f5a6b7c8d9e0ff", "liam-has-two-role-paths"),
        ("auth0|64c1d2e3f4a5b6c7d8e90001", "mia-from-the-csv"),
    ] {
        assert!(
            readme.contains(&format!("`{password}`")),
            "README lists {id}"
        );
        match &user(&items, id).password_hash {
            Some(PasswordHash::Bcrypt { mcf, cost }) => {
                assert_eq!(*cost, 10);
                assert!(bcrypt::verify(password, mcf.expose()).unwrap(), "{id}");
            }
            other => panic!("{id}: {other:?}"),
        }
    }
}
