//! Delta sync, password-reset e-mails and identity-provider placeholders against the
//! Keycloak emulator.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use kcm_keycloak_fake::{FakeKeycloak, Faults, RealmSettings};
use kcm_keycloak_types::{FederatedIdentityRepresentation, UserRepresentation};
use kcm_sink_keycloak::{
    apply, create_identity_providers, notify, preflight, rollback, update_existing, verify,
    CreatedKind, NoProgress, NotifyAction, NotifyReport, NotifySettings, RollbackAction,
    RollbackSettings, SinkError, UpdateOutcome, UpdateReport, UpdateSettings, UserToLoad,
};

const USER_PUT: &str = "/admin/realms/{realm}/users/{user-id}";
const EMAIL_PUT: &str = "/admin/realms/{realm}/users/{user-id}/execute-actions-email";

fn update_settings(dir: &tempfile::TempDir, name: &str, previous: &[&str]) -> UpdateSettings {
    let mut s = UpdateSettings::new(dir.path().join(name));
    s.previous_journals = previous.iter().map(|p| dir.path().join(p)).collect();
    s.plan_fingerprint = "plan-1".into();
    s
}

fn assert_update_counts(r: &UpdateReport) {
    let u = &r.users;
    assert_eq!(
        u.seen,
        u.updated
            + u.unchanged
            + u.in_line
            + u.not_found
            + u.failed
            + u.already_done_from_journal
            + u.not_reached,
        "{u:?}"
    );
}

fn credentials(fake: &FakeKeycloak) -> BTreeMap<String, String> {
    fake.realm_users(REALM)
        .into_iter()
        .map(|u| {
            (
                u.username.unwrap_or_default(),
                serde_json::to_string(&u.credentials).unwrap(),
            )
        })
        .collect()
}

/// The plan of the second run: some users changed.
fn changed(i: usize) -> UserToLoad {
    let mut u = user(i);
    match i {
        1 => u.user.first_name = Some("Renamed-Canary".into()),
        2 => u.user.realm_roles = Some(vec!["member".into(), "auditor".into()]),
        3 => u.user.enabled = Some(false),
        4 => u.user.groups = Some(vec!["/staff/eng".into(), "/staff/ops".into()]),
        5 => {
            u.user.attributes = Some(BTreeMap::from([(
                "dept".to_string(),
                vec!["moved".to_string()],
            )]))
        }
        6 => {
            u.user.client_roles = Some(BTreeMap::from([(
                "billing".to_string(),
                vec!["viewer".to_string(), "editor".to_string()],
            )]))
        }
        _ => {}
    }
    u
}

/// The plan of the third run: mappings dropped.
fn pruned(i: usize) -> UserToLoad {
    let mut u = changed(i);
    match i {
        2 => u.user.realm_roles = Some(vec!["auditor".into()]),
        4 => u.user.groups = Some(vec!["/staff/ops".into()]),
        6 => {
            u.user.client_roles = Some(BTreeMap::from([(
                "billing".to_string(),
                vec!["editor".to_string()],
            )]))
        }
        _ => {}
    }
    u
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_sync_updates_what_changed_and_keeps_credentials() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    apply(
        &client,
        &targets(),
        users(0..12),
        &load_settings(&dir, "apply.ndjson", 5),
        &NoProgress,
    )
    .await
    .unwrap();
    fake.seed_role(REALM, "auditor").unwrap();
    fake.seed_group(REALM, "/staff/ops").unwrap();
    fake.seed_client_role(REALM, "billing", "editor").unwrap();
    let creds_before = credentials(&fake);

    // Run 1: seven planned changes among twelve users, one planned user not in the realm.
    let puts = fake.stats().count("PUT", USER_PUT);
    let plan = (0..12).map(changed).chain(std::iter::once(user(99)));
    let first = update_existing(
        &client,
        plan,
        &update_settings(&dir, "u1.ndjson", &["apply.ndjson"]),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(first.is_clean(), "{first:?}");
    assert_update_counts(&first);
    assert_eq!(first.users.updated, 6, "{:?}", first.users);
    assert_eq!(first.users.in_line, 6, "unchanged hashes are not even read");
    assert_eq!(first.users.not_found, 1);
    assert_eq!(
        fake.stats().count("PUT", USER_PUT) - puts,
        3,
        "only users with changed fields are PUT (first name, enabled, attribute)"
    );
    assert_eq!(
        first.field_changes,
        BTreeMap::from([
            ("attributes.dept".to_string(), 1),
            ("enabled".to_string(), 1),
            ("firstName".to_string(), 1),
        ])
    );
    assert_eq!(first.role_mappings_added, 2);
    assert_eq!(first.group_memberships_added, 1);
    assert_eq!(credentials(&fake), creds_before, "credentials untouched");

    let get = |i: usize| fake.user_by_username(REALM, &username(i)).unwrap();
    assert_eq!(get(1).first_name.as_deref(), Some("Renamed-Canary"));
    assert_eq!(get(1).last_name.as_deref(), Some("Tester"));
    assert!(get(2).realm_roles.unwrap().contains(&"auditor".to_string()));
    assert_eq!(get(3).enabled, Some(false));
    let mut groups = get(4).groups.unwrap();
    groups.sort();
    assert_eq!(
        groups,
        vec!["/staff/eng".to_string(), "/staff/ops".to_string()]
    );
    assert_eq!(
        get(5).attributes.unwrap().get("dept"),
        Some(&vec!["moved".to_string()])
    );
    let billing: BTreeSet<String> = get(6).client_roles.unwrap()["billing"]
        .iter()
        .cloned()
        .collect();
    assert_eq!(
        billing,
        ["editor", "viewer"].iter().map(|s| s.to_string()).collect()
    );
    let journal = std::fs::read_to_string(dir.path().join("u1.ndjson")).unwrap();
    assert!(
        !journal.contains("Renamed-Canary"),
        "field names only, never values"
    );
    assert!(journal.contains("firstName"));
    assert_no_secrets("update journal", &journal);

    // Run 2: the same plan again — everyone is in line, nothing is read or written.
    let requests = fake.stats().total;
    let second = update_existing(
        &client,
        (0..12).map(changed),
        &update_settings(&dir, "u2.ndjson", &["apply.ndjson", "u1.ndjson"]),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(second.users.in_line, 12, "{:?}", second.users);
    assert_eq!(
        fake.stats().total - requests,
        1,
        "only the user-profile read"
    );

    // Run 3: with prune, dropped mappings disappear; compare_all also catches a change made
    // by hand (user 7 lost its group) even though its plan did not change.
    let id7 = get(7).id.unwrap();
    let eng = fake
        .realm_groups(REALM)
        .into_iter()
        .find(|g| g.path.as_deref() == Some("/staff/eng"))
        .unwrap()
        .id
        .unwrap();
    let http = reqwest::Client::new();
    let token = admin_token(&fake).await;
    let r = http
        .delete(format!(
            "{}/admin/realms/{REALM}/users/{id7}/groups/{eng}",
            fake.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mut settings = update_settings(&dir, "u3.ndjson", &["apply.ndjson", "u1.ndjson"]);
    settings.prune = true;
    settings.compare_all = true;
    let third = update_existing(&client, (0..12).map(pruned), &settings, &NoProgress)
        .await
        .unwrap();
    assert!(third.is_clean(), "{third:?}");
    assert_update_counts(&third);
    assert_eq!(third.users.updated, 4, "{:?}", third.listed);
    assert_eq!(third.role_mappings_removed, 2);
    assert_eq!(third.group_memberships_removed, 1);
    assert_eq!(
        third.group_memberships_added, 1,
        "user 7 rejoins /staff/eng"
    );
    assert_eq!(get(2).realm_roles.unwrap(), vec!["auditor".to_string()]);
    assert_eq!(get(4).groups.unwrap(), vec!["/staff/ops".to_string()]);
    assert_eq!(
        get(6).client_roles.unwrap().get("billing"),
        Some(&vec!["editor".to_string()])
    );
    assert_eq!(get(7).groups.unwrap(), vec!["/staff/eng".to_string()]);
    let two = third.listed.iter().find(|u| u.key == "src-2").unwrap();
    assert_eq!(two.outcome, UpdateOutcome::Updated);
    assert_eq!(two.changes.realm_roles_removed, vec!["member".to_string()]);
    assert_eq!(credentials(&fake), creds_before);

    // A resumed run of a finished journal has nothing left to do.
    settings.resume = true;
    let requests = fake.stats().total;
    let again = update_existing(&client, (0..12).map(pruned), &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.users.already_done_from_journal, 12);
    assert_eq!(fake.stats().total - requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_sync_fails_a_user_whose_role_is_missing_without_partial_changes() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    apply(
        &client,
        &targets(),
        users(0..2),
        &load_settings(&dir, "apply.ndjson", 5),
        &NoProgress,
    )
    .await
    .unwrap();
    let mut u = user(0);
    u.user.first_name = Some("Changed".into());
    u.user.realm_roles = Some(vec!["member".into(), "ghost".into()]);
    let report = update_existing(
        &client,
        vec![u, user(1)].into_iter(),
        &update_settings(&dir, "u.ndjson", &[]),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!((report.users.failed, report.users.unchanged), (1, 1));
    let failed = &report.listed[0];
    assert!(
        failed.message.as_deref().unwrap().contains("ghost"),
        "{failed:?}"
    );
    assert_eq!(
        fake.user_by_username(REALM, &username(0))
            .unwrap()
            .first_name
            .as_deref(),
        Some("First0"),
        "nothing was written"
    );
}

async fn admin_token(fake: &FakeKeycloak) -> String {
    let resp: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/realms/master/protocol/openid-connect/token",
            fake.base_url
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&client_id=admin-cli&username=admin&password={ADMIN_PASSWORD}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["access_token"].as_str().unwrap().to_string()
}

/// Users who must reset their password: no credential, `UPDATE_PASSWORD` planned.
fn resetting(i: usize) -> UserToLoad {
    let mut u = user(i);
    u.user.credentials = None;
    u.user.required_actions = Some(vec!["UPDATE_PASSWORD".into()]);
    match i {
        3 => u.user.email = None,
        4 => u.user.enabled = Some(false),
        10.. => u.user.required_actions = None,
        _ => {}
    }
    u
}

fn assert_notify_counts(r: &NotifyReport) {
    let u = &r.users;
    assert_eq!(
        u.candidates,
        u.sent
            + u.would_send
            + u.already_sent
            + u.unknown
            + u.no_email
            + u.disabled
            + u.not_found
            + u.already_reset
            + u.failed
            + u.not_reached,
        "{u:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_emails_each_eligible_user_exactly_once_across_interruptions() {
    let mut realm = RealmSettings::new(REALM);
    realm.smtp_configured = Some(true);
    let config = kcm_keycloak_fake::FakeConfig {
        admin_password: ADMIN_PASSWORD.into(),
        ..Default::default()
    }
    .with_realm(realm);
    let fake = start(config).await;
    // User 5 existed before the migration: the run skips it and never e-mails it.
    fake.seed_user(
        REALM,
        UserRepresentation {
            username: Some(username(5)),
            email: Some("five@example.com".into()),
            enabled: Some(true),
            required_actions: Some(vec!["UPDATE_PASSWORD".into()]),
            ..Default::default()
        },
    )
    .unwrap();
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let load = load_settings(&dir, "apply.ndjson", 4);
    let applied = apply(
        &client,
        &targets(),
        (0..12).map(resetting),
        &load,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!((applied.users.added, applied.users.skipped), (11, 1));

    let mut settings = NotifySettings::new(dir.path().join("notify.ndjson"));
    settings.lifespan = Some(3_600);
    let dry = notify(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_notify_counts(&dry);
    assert_eq!(dry.users.candidates, 9, "0..10 without the skipped user 5");
    assert_eq!((dry.users.would_send, dry.users.no_email), (8, 1));
    assert_eq!(dry.not_candidates.no_update_password, 2);
    assert_eq!(dry.not_candidates.not_loaded_by_run, 1);
    assert!(fake.sent_emails(REALM).is_empty());
    assert!(!settings.journal.exists());

    // Run 1: the answer to the second e-mail is lost after Keycloak sent it; stop after three.
    fake.set_faults(Faults {
        drop_after_processing_nth: vec![2],
        routes: vec![format!("PUT {EMAIL_PUT}")],
        ..Default::default()
    });
    settings.dry_run = false;
    settings.max_sends = Some(3);
    let first = notify(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_notify_counts(&first);
    assert!(first.interrupted.is_some());
    assert_eq!((first.users.sent, first.users.unknown), (2, 1), "{first:?}");
    let unknown = first
        .listed
        .iter()
        .find(|u| u.action == NotifyAction::Unknown)
        .unwrap()
        .key
        .clone();

    // Run 2: resumed; the unknown one is reported, never e-mailed again.
    fake.set_faults(Faults::default());
    settings.max_sends = None;
    settings.resume = true;
    let second = notify(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_notify_counts(&second);
    assert!(second.interrupted.is_none());
    assert_eq!(second.users.already_sent, 2);
    assert_eq!(second.users.unknown, 1);
    assert_eq!(second.users.sent, 4);
    assert_eq!((second.users.disabled, second.users.no_email), (1, 1));
    assert!(second
        .listed
        .iter()
        .any(|u| u.key == unknown && u.action == NotifyAction::Unknown));

    let sent = fake.sent_emails(REALM);
    let ids: BTreeSet<&str> = sent.iter().map(|e| e.user_id.as_str()).collect();
    assert_eq!(sent.len(), 7, "seven eligible users");
    assert_eq!(ids.len(), 7, "nobody twice");
    assert!(sent
        .iter()
        .all(|e| e.actions == ["UPDATE_PASSWORD"] && e.lifespan == Some(3_600)));
    let five = fake
        .user_by_username(REALM, &username(5))
        .unwrap()
        .id
        .unwrap();
    assert!(!ids.contains(five.as_str()));

    // Run 3: nothing left.
    let third = notify(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!((third.users.already_sent, third.users.sent), (6, 0));
    assert_eq!(fake.sent_emails(REALM).len(), 7);
    let journal = std::fs::read_to_string(&settings.journal).unwrap();
    assert!(
        !journal.contains("@example.com"),
        "no address in the journal"
    );
    assert_no_secrets("notify journal", &journal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_refuses_a_realm_without_smtp_before_any_request() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let load = load_settings(&dir, "apply.ndjson", 4);
    apply(
        &client,
        &targets(),
        (0..3).map(resetting),
        &load,
        &NoProgress,
    )
    .await
    .unwrap();
    let mut settings = NotifySettings::new(dir.path().join("notify.ndjson"));
    let dry = notify(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert!(!dry.smtp_configured);
    assert_eq!(dry.users.would_send, 3);
    settings.dry_run = false;
    let err = notify(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::SmtpNotConfigured { .. }), "{err}");
    assert_eq!(fake.stats().count("PUT", EMAIL_PUT), 0);
    assert!(!settings.journal.exists());
}

fn linked(i: usize, alias: &str) -> UserToLoad {
    let mut u = user(i);
    u.user.federated_identities = Some(vec![FederatedIdentityRepresentation {
        identity_provider: Some(alias.into()),
        user_id: Some(format!("{alias}-{i}")),
        user_name: Some(username(i)),
    }]);
    u
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_provider_placeholders_are_created_disabled_once_and_rolled_back() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let aliases: BTreeSet<String> = ["apple", "github", "linkedin"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut targets = targets();
    targets.identity_provider_aliases = aliases.clone();
    fake.seed_identity_provider(
        REALM,
        kcm_keycloak_types::IdentityProviderRepresentation {
            alias: Some("github".into()),
            provider_id: Some("github".into()),
            enabled: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    let p = preflight(&client, &targets).await.unwrap();
    assert_eq!(
        p.missing_identity_providers,
        ["apple", "linkedin"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );

    let load = load_settings(&dir, "apply.ndjson", 4);
    let plan = || {
        vec![
            linked(0, "apple"),
            linked(1, "linkedin"),
            linked(2, "github"),
        ]
        .into_iter()
    };
    apply(&client, &targets, plan(), &load, &NoProgress)
        .await
        .unwrap();
    let before = verify(&client, plan(), None, 1, &NoProgress).await.unwrap();
    assert!(before.is_clean(), "{before:?}");
    assert_eq!(
        before.identity_links_not_checked,
        ["apple", "linkedin"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        "links to missing providers are stored but invisible"
    );

    let created = create_identity_providers(&client, &aliases, Some(&load.journal))
        .await
        .unwrap();
    let summary: Vec<(&str, &str, bool)> = created
        .iter()
        .map(|c| (c.alias.as_str(), c.provider_id.as_str(), c.created))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("apple", "oidc", true),
            ("github", "github", false),
            ("linkedin", "linkedin-openid-connect", true),
        ]
    );
    let stored = fake.identity_providers(REALM);
    let apple = stored
        .iter()
        .find(|i| i.alias.as_deref() == Some("apple"))
        .unwrap();
    assert_eq!(apple.enabled, Some(false));
    assert_eq!(
        apple.config,
        Some(BTreeMap::new()),
        "no client id, no secret"
    );
    assert!(preflight(&client, &targets)
        .await
        .unwrap()
        .missing_identity_providers
        .is_empty());
    let after = verify(&client, plan(), None, 1, &NoProgress).await.unwrap();
    assert!(after.is_clean() && after.identity_links_not_checked.is_empty());

    let again = create_identity_providers(&client, &aliases, None)
        .await
        .unwrap();
    assert!(again.iter().all(|c| !c.created), "idempotent");
    assert_eq!(fake.identity_providers(REALM).len(), 3);

    let mut settings = RollbackSettings::new(dir.path().join("rollback.ndjson"));
    settings.dry_run = false;
    settings.roles_and_groups = true;
    let report = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    let idps: Vec<(&str, RollbackAction)> = report
        .objects
        .iter()
        .filter(|o| o.kind == CreatedKind::IdentityProvider)
        .map(|o| (o.name.as_str(), o.action))
        .collect();
    assert_eq!(
        idps,
        vec![
            ("linkedin", RollbackAction::Deleted),
            ("apple", RollbackAction::Deleted)
        ]
    );
    let left: Vec<_> = fake
        .identity_providers(REALM)
        .into_iter()
        .filter_map(|i| i.alias)
        .collect();
    assert_eq!(
        left,
        vec!["github".to_string()],
        "the pre-existing one stays"
    );
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn the_cutover_futures_can_be_spawned() {
    let settings = kcm_sink_keycloak::ConnectionSettings::new(
        "http://127.0.0.1:9",
        REALM,
        kcm_sink_keycloak::Auth::ClientCredentials {
            secret: CLIENT_SECRET.into(),
        },
    );
    let client = kcm_sink_keycloak::KeycloakClient::new(settings).unwrap();
    let journal = std::path::Path::new("/nonexistent/apply.ndjson");
    let rollback_settings = RollbackSettings::new("/nonexistent/rb.ndjson");
    assert_send(&rollback(&client, journal, &rollback_settings, &NoProgress));
    let notify_settings = NotifySettings::new("/nonexistent/n.ndjson");
    assert_send(&notify(&client, journal, &notify_settings, &NoProgress));
    let update = UpdateSettings::new("/nonexistent/u.ndjson");
    assert_send(&update_existing(
        &client,
        Vec::<UserToLoad>::new().into_iter(),
        &update,
        &NoProgress,
    ));
    let aliases = BTreeSet::new();
    assert_send(&create_identity_providers(&client, &aliases, None));
}
