//! Rollback against the Keycloak emulator: a dry run lists, a real run restores the realm as it
//! was before `apply` (pre-existing users, roles and groups untouched), an interrupted rollback
//! resumes without errors, replaced users and foreign journals are refused.

mod common;

use common::*;
use kcm_keycloak_fake::FakeKeycloak;
use kcm_keycloak_types::{UpConfig, UserRepresentation};
use kcm_sink_keycloak::{
    apply, rollback, CreatedKind, LeftReason, NoProgress, RollbackAction, RollbackReport,
    RollbackSettings, SinkError,
};

/// Everything a rollback may touch, in a comparable form.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<UserRepresentation>,
    realm_roles: Vec<String>,
    clients: Vec<(String, Vec<String>)>,
    groups: Vec<String>,
    profile: Option<UpConfig>,
}

fn snapshot(fake: &FakeKeycloak) -> Snapshot {
    let mut realm_roles: Vec<String> = fake
        .realm_roles(REALM)
        .into_iter()
        .filter_map(|r| r.name)
        .collect();
    realm_roles.sort();
    Snapshot {
        users: fake.realm_users(REALM),
        realm_roles,
        clients: fake
            .realm_clients(REALM)
            .into_iter()
            .filter_map(|c| c.client_id)
            .map(|id| {
                let roles = fake.client_role_names(REALM, &id);
                (id, roles)
            })
            .collect(),
        groups: fake
            .realm_groups(REALM)
            .into_iter()
            .filter_map(|g| g.path)
            .collect(),
        profile: fake.user_profile(REALM),
    }
}

fn plain_user(name: &str) -> UserRepresentation {
    UserRepresentation {
        username: Some(name.into()),
        email: Some(format!("{name}@old.example")),
        enabled: Some(true),
        ..Default::default()
    }
}

fn assert_counts_add_up(r: &RollbackReport) {
    let u = &r.users;
    assert_eq!(
        u.added_in_journal,
        u.deleted
            + u.would_delete
            + u.already_gone
            + u.replaced
            + u.unverifiable
            + u.kept
            + u.failed
            + u.already_done_from_journal
            + u.not_reached,
        "{u:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_lists_and_a_real_rollback_restores_the_realm() {
    let fake = start(fake_config()).await;
    // Before the migration: five of the planned usernames, a bystander, the role and the
    // parent group the plan also uses.
    for i in 0..5 {
        fake.seed_user(REALM, plain_user(&username(i))).unwrap();
    }
    fake.seed_user(REALM, plain_user("bystander")).unwrap();
    fake.seed_role(REALM, "member").unwrap();
    fake.seed_group(REALM, "/staff").unwrap();
    let before = snapshot(&fake);

    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let load = load_settings(&dir, "apply.ndjson", 8);
    let applied = apply(&client, &targets(), users(0..20), &load, &NoProgress)
        .await
        .unwrap();
    assert_eq!((applied.users.added, applied.users.skipped), (15, 5));
    let after_apply = snapshot(&fake);

    let mut settings = RollbackSettings::new(dir.path().join("rollback.ndjson"));
    settings.roles_and_groups = true;
    let dry = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert!(dry.dry_run && dry.is_clean(), "{dry:?}");
    assert_eq!(dry.users.added_in_journal, 15);
    assert_eq!(dry.users.would_delete, 15);
    assert_counts_add_up(&dry);
    assert_eq!(dry.left_in_place.skipped, 5);
    let mut left: Vec<&str> = dry
        .left_in_place
        .users
        .iter()
        .map(|u| {
            assert_eq!(u.reason, LeftReason::Skipped);
            u.username.as_str()
        })
        .collect();
    left.sort();
    assert_eq!(left, (0..5).map(username).collect::<Vec<_>>());
    let objects: Vec<(CreatedKind, &str, RollbackAction)> = dry
        .objects
        .iter()
        .map(|o| (o.kind, o.name.as_str(), o.action))
        .collect();
    assert_eq!(
        objects,
        vec![
            (
                CreatedKind::Group,
                "/staff/eng",
                RollbackAction::WouldDelete
            ),
            (
                CreatedKind::ClientRole,
                "viewer",
                RollbackAction::WouldDelete
            ),
            (CreatedKind::Client, "billing", RollbackAction::WouldDelete),
            (
                CreatedKind::UserProfileAttribute,
                "dept",
                RollbackAction::WouldDelete
            ),
        ],
        "newest first; the pre-existing role and parent group are not the run's"
    );
    assert!(dry.journal.is_none());
    assert!(
        !settings.journal_out.exists(),
        "a dry run writes no journal"
    );
    assert_eq!(snapshot(&fake), after_apply, "a dry run changes nothing");

    settings.dry_run = false;
    let deletes_before = fake
        .stats()
        .count("DELETE", "/admin/realms/{realm}/users/{user-id}");
    let real = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert!(real.is_clean(), "{real:?}");
    assert_eq!(real.users.deleted, 15);
    assert_counts_add_up(&real);
    assert!(real
        .objects
        .iter()
        .all(|o| o.action == RollbackAction::Deleted));
    assert_eq!(
        fake.stats()
            .count("DELETE", "/admin/realms/{realm}/users/{user-id}")
            - deletes_before,
        15
    );
    assert!(real.requests.requests_total > 15, "{:?}", real.requests);
    assert_eq!(
        snapshot(&fake),
        before,
        "the realm is exactly as before apply"
    );
    let journal = std::fs::read_to_string(&settings.journal_out).unwrap();
    assert_no_secrets("rollback journal", &journal);
    assert_no_secrets("rollback report", &serde_json::to_string(&real).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_rollback_resumes_without_errors_or_repeats() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let load = load_settings(&dir, "apply.ndjson", 10);
    apply(&client, &targets(), users(0..30), &load, &NoProgress)
        .await
        .unwrap();

    let mut settings = RollbackSettings::new(dir.path().join("rollback.ndjson"));
    settings.dry_run = false;
    settings.max_users = Some(10);
    let first = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert!(first.interrupted.is_some());
    assert_eq!((first.users.deleted, first.users.not_reached), (10, 20));
    assert_counts_add_up(&first);
    assert_eq!(fake.user_count(REALM), 20);

    // A crash lost the records of the last two deletions.
    let text = std::fs::read_to_string(&settings.journal_out).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.truncate(lines.len() - 2);
    std::fs::write(&settings.journal_out, lines.join("\n") + "\n").unwrap();

    settings.max_users = None;
    settings.resume = true;
    let second = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert!(second.is_clean() && second.resumed, "{second:?}");
    assert_eq!(second.users.already_done_from_journal, 8);
    assert_eq!(second.users.already_gone, 2, "deleted, but not recorded");
    assert_eq!(second.users.deleted, 20);
    assert_counts_add_up(&second);
    assert_eq!(fake.user_count(REALM), 0);

    let deletes = fake
        .stats()
        .count("DELETE", "/admin/realms/{realm}/users/{user-id}");
    let third = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!(third.users.already_done_from_journal, 30);
    assert_eq!(
        fake.stats()
            .count("DELETE", "/admin/realms/{realm}/users/{user-id}"),
        deletes,
        "nothing is deleted twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_created_users_old_journals_and_foreign_journals_are_left_alone() {
    let config = fake_config().with_realm(kcm_keycloak_fake::RealmSettings::new("other"));
    let fake = start(config).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let load = load_settings(&dir, "apply.ndjson", 10);
    apply(&client, &targets(), users(0..3), &load, &NoProgress)
        .await
        .unwrap();
    // Someone deleted user 0 and created another user with the same name.
    assert!(fake.remove_user(REALM, &username(0)));
    fake.seed_user(REALM, plain_user(&username(0))).unwrap();

    let mut settings = RollbackSettings::new(dir.path().join("rollback.ndjson"));
    settings.dry_run = false;
    let report = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!((report.users.deleted, report.users.replaced), (2, 1));
    assert!(fake.user_by_username(REALM, &username(0)).is_some());
    let replaced = report
        .user_actions
        .iter()
        .find(|u| u.action == RollbackAction::Replaced)
        .unwrap();
    assert_eq!(replaced.username, username(0));

    // A format-1 journal recorded no ids: nothing can be proven to be the run's.
    let old = dir.path().join("old.ndjson");
    let header = serde_json::json!({"type": "header", "format": 1, "started_at": "2024-01-01T00:00:00Z",
        "url": client.base_url(), "realm": REALM, "plan_fingerprint": "p", "on_existing": "SKIP",
        "batch_size": 10, "user_profile": "declare", "create_realm": false, "rate": 1.0, "concurrency": 1});
    let lines = [
        header.to_string(),
        r#"{"type":"sent","batch":0,"users":[{"key":"k","username":"bystander"}]}"#.to_string(),
        r#"{"type":"done","batch":0,"outcomes":[{"key":"k","username":"bystander","outcome":"added"}]}"#.to_string(),
    ];
    std::fs::write(&old, lines.join("\n") + "\n").unwrap();
    fake.seed_user(REALM, plain_user("bystander")).unwrap();
    let mut settings = RollbackSettings::new(dir.path().join("rollback-old.ndjson"));
    settings.dry_run = false;
    settings.roles_and_groups = true;
    let report = rollback(&client, &old, &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.users.unverifiable, 1);
    assert!(!report.objects_recorded);
    assert!(fake.user_by_username(REALM, "bystander").is_some());

    let other = connect(&fake, "other").await;
    let err = rollback(
        &other,
        &load.journal,
        &RollbackSettings::new(""),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SinkError::JournalMismatch { field: "realm", .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_users_are_the_runs_unless_kept() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    // Structure first, so that the fault below counts partialImport requests only.
    apply(
        &client,
        &targets(),
        users(0..0),
        &load_settings(&dir, "structure.ndjson", 10),
        &NoProgress,
    )
    .await
    .unwrap();
    fake.set_faults(kcm_keycloak_fake::Faults {
        drop_after_processing_nth: vec![1],
        routes: vec![format!("POST {PARTIAL_IMPORT}")],
        ..Default::default()
    });
    let load = load_settings(&dir, "apply.ndjson", 10);
    let applied = apply(&client, &targets(), users(0..20), &load, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (applied.users.added, applied.users.added_unconfirmed),
        (10, 10)
    );

    let mut settings = RollbackSettings::new(dir.path().join("rollback.ndjson"));
    settings.keep_unconfirmed = true;
    let kept = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!((kept.users.would_delete, kept.users.kept), (10, 10));
    assert_counts_add_up(&kept);

    settings.keep_unconfirmed = false;
    settings.dry_run = false;
    let report = rollback(&client, &load.journal, &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        report.users.deleted, 20,
        "ids recorded by the confirming lookup"
    );
    assert_eq!(
        report.user_actions.iter().filter(|u| u.unconfirmed).count(),
        10
    );
    assert_eq!(fake.user_count(REALM), 0);
}
