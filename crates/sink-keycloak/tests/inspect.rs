//! Preflight, user-profile modes, existence checks, verification and secret hygiene against
//! the Keycloak emulator.

mod common;

use std::collections::BTreeSet;

use common::*;
use kcm_keycloak_fake::{FakeConfig, RealmSettings, ServiceClient};
use kcm_keycloak_types::UserRepresentation;
use kcm_sink_keycloak::{
    apply, create_realm_if_missing, existing_users, preflight, verify, Auth, KeycloakClient,
    MatchedBy, NoProgress, SinkError, UserProfileMode,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_reads_capabilities_and_what_exists() {
    let mut config = fake_config();
    config.keycloak_version = "24.0.4".into();
    config.hash_providers = vec![
        "pbkdf2".into(),
        "pbkdf2-sha256".into(),
        "pbkdf2-sha512".into(),
        "bcrypt".into(),
    ];
    let fake = start(config).await;
    fake.seed_role(REALM, "member").unwrap();
    fake.seed_client(REALM, "billing").unwrap();
    fake.seed_group(REALM, "/staff").unwrap();
    let client = connect(&fake, REALM).await;
    let mut targets = targets();
    targets.identity_provider_aliases = ["google".to_string()].into_iter().collect();

    let p = preflight(&client, &targets).await.unwrap();
    assert_eq!(p.server_version.as_deref(), Some("24.0.4"));
    assert_eq!(
        p.hash_providers,
        ["bcrypt", "pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert!(p.realm_exists);
    assert!(!p.duplicate_emails_allowed);
    assert_eq!(p.existing_realm_roles, set(&["member"]));
    assert_eq!(p.existing_clients, set(&["billing"]));
    assert_eq!(
        p.existing_client_roles.get("billing"),
        Some(&BTreeSet::new())
    );
    assert_eq!(p.existing_groups, set(&["/staff"]));
    assert_eq!(p.missing_identity_providers, set(&["google"]));
    assert!(p.user_profile.supported);
    assert_eq!(p.user_profile.invisible, set(&["dept"]));

    let missing = connect(&fake, "nowhere").await;
    let p = preflight(&missing, &targets).await.unwrap();
    assert!(!p.realm_exists);
    assert!(create_realm_if_missing(&missing).await.unwrap());
    assert!(!create_realm_if_missing(&missing).await.unwrap());
    assert!(fake.realm_exists("nowhere"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_profile_modes_declare_unmanaged_and_leave() {
    let config = FakeConfig {
        admin_password: ADMIN_PASSWORD.into(),
        ..Default::default()
    }
    .with_realm(RealmSettings::new("declare"))
    .with_realm(RealmSettings::new("unmanaged"))
    .with_realm(RealmSettings::new("leave"));
    let fake = start(config).await;
    let dir = tempfile::tempdir().unwrap();
    let mut targets = targets();
    targets.attribute_names.insert("odd:name".into());

    for (realm, mode) in [
        ("declare", UserProfileMode::Declare),
        ("unmanaged", UserProfileMode::Unmanaged),
        ("leave", UserProfileMode::Leave),
    ] {
        let client = connect(&fake, realm).await;
        let mut settings = load_settings(&dir, &format!("{realm}.ndjson"), 10);
        settings.user_profile = mode;
        let report = apply(&client, &targets, users(0..2), &settings, &NoProgress)
            .await
            .unwrap();
        let change = &report.structure.user_profile;
        let profile = fake.user_profile(realm).unwrap();
        let declared: BTreeSet<String> =
            profile.attributes.iter().map(|a| a.name.clone()).collect();
        match mode {
            UserProfileMode::Declare => {
                assert_eq!(change.declared, set(&["dept"]));
                assert!(declared.contains("dept"));
                let dept = profile
                    .attributes
                    .iter()
                    .find(|a| a.name == "dept")
                    .unwrap();
                assert_eq!(
                    dept.rest["permissions"]["view"],
                    serde_json::json!(["admin"])
                );
                // The name Keycloak cannot declare falls back to the unmanaged policy.
                assert_eq!(
                    profile.unmanaged_attribute_policy.as_deref(),
                    Some("ADMIN_EDIT")
                );
                assert!(change.invisible.is_empty());
            }
            UserProfileMode::Unmanaged => {
                assert!(change.declared.is_empty());
                assert!(!declared.contains("dept"));
                assert_eq!(
                    profile.unmanaged_attribute_policy.as_deref(),
                    Some("ADMIN_EDIT")
                );
                assert!(change.invisible.is_empty());
            }
            UserProfileMode::Leave => {
                assert!(!declared.contains("dept"));
                assert_eq!(profile.unmanaged_attribute_policy, None);
                assert_eq!(change.invisible, set(&["dept", "odd:name"]));
            }
        }
        // The import path stores the attribute whatever the profile says (§6).
        let stored = fake.user_by_username(realm, &username(1)).unwrap();
        assert!(stored.attributes.unwrap_or_default().contains_key("dept"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_users_match_by_username_and_by_email() {
    let fake = start(fake_config()).await;
    fake.seed_user(
        REALM,
        UserRepresentation {
            username: Some(username(1).to_uppercase()),
            enabled: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    fake.seed_user(
        REALM,
        UserRepresentation {
            username: Some("someone-else".into()),
            email: Some(format!("{}@example.com", username(2))),
            ..Default::default()
        },
    )
    .unwrap();
    let client = connect(&fake, REALM).await;
    let planned: Vec<_> = users(0..4).collect();

    let found = existing_users(&client, &planned, false).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].key, "src-1");
    assert_eq!(found[0].matched_by, MatchedBy::Username);
    assert_eq!(found[1].key, "src-2");
    assert_eq!(found[1].matched_by, MatchedBy::Email);
    assert_eq!(found[1].existing_username.as_deref(), Some("someone-else"));

    let found = existing_users(&client, &planned, true).await.unwrap();
    assert_eq!(
        found.len(),
        1,
        "duplicate emails allowed: only the username counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_finds_no_difference_after_a_load_and_reports_planted_ones() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    apply(
        &client,
        &targets(),
        users(0..25),
        &load_settings(&dir, "j.ndjson", 10),
        &NoProgress,
    )
    .await
    .unwrap();

    let clean = verify(&client, users(0..25), None, 1, &NoProgress)
        .await
        .unwrap();
    assert!(clean.is_clean(), "{clean:?}");
    assert_eq!(clean.checked, 25);
    assert_eq!(clean.matching, 25);
    assert!(clean.attributes_not_checked.is_empty(), "dept was declared");

    // Plant differences: a changed first name, an extra realm role, no password, and a user
    // that was never loaded.
    let planted = users(0..26).map(|mut u| {
        match u.key.as_str() {
            "src-3" => u.user.first_name = Some("Changed".into()),
            "src-4" => u.user.realm_roles = Some(vec!["member".into(), "auditor".into()]),
            "src-5" => u.user.credentials = None,
            _ => {}
        }
        u
    });
    let report = verify(&client, planted, None, 1, &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.checked, 26);
    assert_eq!(report.missing_count, 1);
    assert_eq!(report.missing[0].key, "src-25");
    assert_eq!(report.with_differences, 3);
    let fields: Vec<(&str, &str)> = report
        .differences
        .iter()
        .map(|d| (d.key.as_str(), d.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("src-3", "firstName"),
            ("src-4", "realmRoles"),
            ("src-5", "password")
        ]
    );
    let first_name = &report.differences[0];
    assert_eq!(
        (first_name.expected.as_str(), first_name.actual.as_str()),
        ("Changed", "First3")
    );

    let sampled = verify(&client, users(0..25), Some(5), 9, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (sampled.read, sampled.checked, sampled.matching),
        (25, 5, 5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_journal_report_errors_or_debug_output() {
    let mut config = fake_config();
    config.service_clients = vec![ServiceClient::new("migrator", CLIENT_SECRET)];
    config.faults = kcm_keycloak_fake::Faults {
        fail_user_names: vec![username(2)],
        ..Default::default()
    };
    let fake = start(config).await;
    let dir = tempfile::tempdir().unwrap();

    let mut settings = connection(&fake, REALM);
    settings.client_id = "migrator".into();
    settings.auth = Auth::ClientCredentials {
        secret: CLIENT_SECRET.into(),
    };
    let client = KeycloakClient::connect(settings.clone()).await.unwrap();
    let load = load_settings(&dir, "j.ndjson", 4);
    let report = apply(&client, &targets(), users(0..8), &load, &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.users.rejected, 1);

    let password_client = connect(&fake, REALM).await;
    let report_json = serde_json::to_string(&report).unwrap();
    assert_no_secrets("report JSON", &report_json);
    assert_no_secrets("report Debug", &format!("{report:?}"));
    assert_no_secrets("journal", &std::fs::read_to_string(&load.journal).unwrap());
    assert_no_secrets("client Debug", &format!("{client:?} {password_client:?}"));
    assert_no_secrets(
        "settings Debug",
        &format!("{settings:?} {:?}", connection(&fake, REALM)),
    );
    assert_no_secrets("planned user Debug", &format!("{:?}", user(1)));

    let mut wrong = connection(&fake, REALM);
    wrong.auth = Auth::Password {
        username: "admin".into(),
        password: format!("{ADMIN_PASSWORD}-wrong").into(),
    };
    let err = KeycloakClient::connect(wrong).await.unwrap_err();
    assert!(matches!(err, SinkError::Auth { status: 401, .. }), "{err}");
    assert_no_secrets("auth error", &format!("{err} {err:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_replaced_after_one_401() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    // Server time jumps past the access and refresh lifespans; the client still trusts its token.
    fake.advance_clock(std::time::Duration::from_secs(3_600));
    let p = preflight(&client, &targets()).await.unwrap();
    assert!(p.realm_exists);
    let stats = client.stats();
    assert_eq!(stats.reauthentications, 1, "{stats:?}");
    assert_eq!(
        stats.token_grants, 2,
        "the first grant and one re-authentication"
    );
    assert_eq!(stats.requests_by_status.get("401"), Some(&1));
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
