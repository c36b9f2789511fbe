//! Every Firebase user export among the shared real-world fixtures parses, with the counts
//! their PROVENANCE.md describes. Skipped (with a printed line) when ../shared is absent.

mod common;

use std::path::PathBuf;

use common::{read_files, shared_dir, Run};

fn fixture(name: &str) -> Option<Run> {
    let path: PathBuf = shared_dir()?.join("fixtures/firebase").join(name);
    let run = read_files(&[path]);
    assert!(run.errors.is_empty(), "{name}: {:?}", run.errors);
    Some(run)
}

fn hashes(run: &Run) -> usize {
    run.users
        .iter()
        .filter(|u| u.password_hash.is_some())
        .count()
}

#[test]
fn weevi1_cli_export_has_20_users_with_string_custom_attributes() {
    let Some(run) = fixture("redacted_weevi1-hr-disciplinary-system_auth-export.json") else {
        return;
    };
    assert_eq!(run.users.len(), 20);
    assert_eq!(hashes(&run), 20);
    assert_eq!(
        run.users
            .iter()
            .filter(|u| u.email_verified == Some(true))
            .count(),
        1
    );
    assert_eq!(
        run.users
            .iter()
            .filter(|u| u.display_name.is_none())
            .count(),
        6
    );
    assert!(run
        .users
        .iter()
        .all(|u| u.enabled && u.identities.is_empty() && u.diagnostics.is_empty()));
    let with_claims: Vec<&kcm_model::User> = run
        .users
        .iter()
        .filter(|u| u.metadata.contains_key("customAttributes"))
        .collect();
    assert_eq!(with_claims.len(), 1);
    assert_eq!(
        with_claims[0].metadata["customAttributes"]["email"],
        "user8@example.test"
    );
    let double: Vec<&str> = run
        .users
        .iter()
        .filter_map(|u| u.display_name.as_deref())
        .filter(|n| n.contains("  "))
        .collect();
    assert_eq!(double, vec!["Name2  Surname"]);
}

#[test]
fn stellarminds_cli_export_has_28_password_users_the_first_without_last_sign_in() {
    let Some(run) = fixture("redacted_stellarminds-be-migration_firebase-users.json") else {
        return;
    };
    assert_eq!(run.users.len(), 28);
    assert_eq!(hashes(&run), 28);
    assert_eq!(run.users[0].last_login_at, None);
    assert!(run.users[1..].iter().all(|u| u.last_login_at.is_some()));
    assert!(run
        .users
        .iter()
        .all(|u| u.created_at.is_some() && u.enabled));
}

#[test]
fn chrisvogt_cli_export_has_a_google_user_and_a_password_user() {
    let Some(run) = fixture("redacted_chrisvogt-metrics_auth-export.json") else {
        return;
    };
    assert_eq!(run.users.len(), 2);
    let google = &run.users[0];
    assert!(google.password_hash.is_none() && google.is_social_only());
    assert_eq!(google.identities[0].provider, "google.com");
    assert_eq!(google.identities[0].user_id.len(), 21);
    assert_eq!(
        google.attributes["picture"],
        vec!["https://example.test/photo.png".to_string()]
    );
    let password = &run.users[1];
    assert_eq!(
        password.password_hash.as_ref().map(|h| h.algorithm_name()),
        Some("firebase-scrypt".into())
    );
    assert!(password.identities.is_empty() && password.enabled);
    assert_eq!(
        (password.provenance.line, password.provenance.record),
        (20, 2)
    );
}

#[test]
fn legacy_2017_csv_has_one_user_in_the_v3_12_layout() {
    let Some(run) = fixture("firebase-scrypt-readme_users-legacy-2017.csv") else {
        return;
    };
    assert_eq!(run.users.len(), 1);
    let u = &run.users[0];
    assert_eq!(u.source_id, "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2");
    assert_eq!(u.display_name.as_deref(), Some("Test User 1"));
    assert_eq!(
        (u.created_at, u.last_login_at, u.phone.as_deref()),
        (Some(1508893925000), Some(1508893925000), None)
    );
    assert_eq!(hashes(&run), 1);
    assert!(u.enabled && u.diagnostics.is_empty());
}

#[test]
fn firebase_tools_v15_csv_has_one_user_per_line() {
    let Some(run) = fixture("firebase-tools-spec_expected-export-v15.csv") else {
        return;
    };
    assert_eq!(run.users.len(), 9);
    let lines: Vec<u64> = run.users.iter().map(|u| u.provenance.line).collect();
    assert_eq!(lines, (1..=9).collect::<Vec<u64>>());
    let disabled: Vec<bool> = run.users.iter().map(|u| !u.enabled).collect();
    assert_eq!(
        disabled,
        vec![true, false, true, false, true, false, true, false, false]
    );
    let ms = &run.users[6].identities;
    assert_eq!(ms.len(), 1);
    assert_eq!(
        (
            ms[0].provider.as_str(),
            ms[0].user_id.as_str(),
            ms[0].email.as_deref()
        ),
        ("microsoft.com", "123234234", Some("test@test.org"))
    );
    assert_eq!(
        run.users[7].display_name.as_deref(),
        Some("John Tester1, CFA")
    );
    assert_eq!(
        run.users[8].display_name.as_deref(),
        Some(r#"Foo "Bar" Baz"#)
    );
    assert!(run.users.iter().all(|u| u.diagnostics.is_empty()));
}

#[test]
fn both_emulator_exports_have_one_user_with_a_fake_hash() {
    for (name, email, login) in [
        (
            "faker_app_flutter_firebase_emulator-accounts.json",
            "test@test.com",
            1685606347788,
        ),
        (
            "alrossell-demo-data_emulator-accounts.json",
            "alrossell@gmail.com",
            1717813759332,
        ),
    ] {
        let Some(run) = fixture(name) else {
            return;
        };
        assert_eq!(run.users.len(), 1, "{name}");
        let u = &run.users[0];
        assert_eq!(u.email.as_deref(), Some(email));
        assert_eq!(u.last_login_at, Some(login));
        assert!(u.password_hash.is_none() && u.identities.is_empty());
        assert_eq!(run.codes(), vec!["hash_fake_emulator"]);
        assert!(
            u.metadata.contains_key("passwordUpdatedAt") && u.metadata.contains_key("validSince")
        );
    }
}
