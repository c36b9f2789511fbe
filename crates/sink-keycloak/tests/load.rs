//! Loading against the Keycloak emulator: structure + users, idempotent re-runs, bisection,
//! the fail policy, unknown outcomes and resume.

mod common;

use common::*;
use kcm_keycloak_fake::Faults;
use kcm_sink_keycloak::{
    apply, JournalEntry, NoProgress, OnExisting, RejectReason, UserProfileMode,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_users_roles_and_groups_and_a_second_run_skips_everything() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();

    let report = apply(
        &client,
        &targets(),
        users(0..30),
        &load_settings(&dir, "one.ndjson", 8),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.users.seen, 30);
    assert_eq!(report.users.added, 30);
    assert_eq!(report.batches_sent, 4);
    assert_eq!(report.structure.realm_roles.created, 1);
    assert_eq!(report.structure.clients.created, 1);
    assert_eq!(report.structure.client_roles.created, 1);
    assert_eq!(report.structure.groups.created, 2, "/staff and /staff/eng");
    assert_eq!(
        report.structure.user_profile.declared,
        ["dept".to_string()].into_iter().collect()
    );
    assert_eq!(fake.user_count(REALM), 30);
    let stored = fake.user_by_username(REALM, &username(7)).unwrap();
    assert_eq!(
        stored.groups.as_deref(),
        Some(&["/staff/eng".to_string()][..])
    );
    assert!(stored
        .realm_roles
        .unwrap_or_default()
        .contains(&"member".to_string()));
    assert_eq!(
        stored.attributes.unwrap_or_default().get("dept"),
        Some(&vec!["d1".to_string()])
    );
    let group_paths: Vec<_> = fake
        .realm_groups(REALM)
        .into_iter()
        .filter_map(|g| g.path)
        .collect();
    assert_eq!(group_paths, vec!["/staff", "/staff/eng"]);

    let before = partial_imports(&fake);
    let again = apply(
        &client,
        &targets(),
        users(0..30),
        &load_settings(&dir, "two.ndjson", 8),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(again.users.skipped, 30, "{again:?}");
    assert_eq!(
        again.users.added + again.users.overwritten + again.users.rejected,
        0
    );
    assert_eq!(again.structure.realm_roles.existing, 1);
    assert_eq!(again.structure.clients.existing, 1);
    assert_eq!(again.structure.client_roles.existing, 1);
    assert_eq!(again.structure.groups.existing, 2);
    assert_eq!(
        again.structure.groups.created + again.structure.realm_roles.created,
        0
    );
    assert!(again.structure.user_profile.declared.is_empty());
    assert_eq!(partial_imports(&fake) - before, 4);
    assert_eq!(fake.user_count(REALM), 30);
    assert_eq!(fake.realm_groups(REALM).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bisection_isolates_a_bad_record_and_keeps_the_server_message() {
    let mut config = fake_config();
    config.faults = Faults {
        fail_user_names: vec![username(13)],
        ..Default::default()
    };
    let fake = start(config).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();

    let report = apply(
        &client,
        &targets(),
        users(0..40),
        &load_settings(&dir, "j.ndjson", 16),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(report.users.added, 39, "{report:?}");
    assert_eq!(report.users.rejected, 1);
    let rejected = &report.rejected[0];
    assert_eq!(rejected.key, "src-13");
    assert_eq!(rejected.username, username(13));
    assert_eq!(rejected.reason, RejectReason::KeycloakServerError);
    assert_eq!(rejected.status, Some(500));
    assert!(!rejected.message.is_empty());
    assert!(
        report.bisections >= 4,
        "16 → 8 → 4 → 2 → 1: {}",
        report.bisections
    );
    assert!(report.interrupted.is_none());
    assert_eq!(fake.user_count(REALM), 39);
    assert!(fake.user_by_username(REALM, &username(13)).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_policy_rejects_existing_users_by_name_and_loads_the_rest() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    apply(
        &client,
        &targets(),
        users(3..5),
        &load_settings(&dir, "pre.ndjson", 10),
        &NoProgress,
    )
    .await
    .unwrap();

    let mut settings = load_settings(&dir, "fail.ndjson", 10);
    settings.on_existing = OnExisting::Fail;
    let report = apply(&client, &targets(), users(0..10), &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!(report.users.added, 8, "{report:?}");
    assert_eq!(report.users.rejected, 2);
    let mut keys: Vec<_> = report.rejected.iter().map(|r| r.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, vec!["src-3", "src-4"]);
    assert!(report
        .rejected
        .iter()
        .all(|r| r.reason == RejectReason::KeycloakConflict));
    assert!(
        report.rejected[0].message.contains("already exists"),
        "{}",
        report.rejected[0].message
    );
    assert_eq!(
        report.bisections, 0,
        "the 409 names the user; no bisection needed"
    );
    assert_eq!(fake.user_count(REALM), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_applied_but_unanswered_is_reconciled_not_duplicated() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    // Structure first, so the fault numbering below counts partialImport requests only.
    apply(
        &client,
        &targets(),
        users(0..0),
        &load_settings(&dir, "s.ndjson", 10),
        &NoProgress,
    )
    .await
    .unwrap();
    fake.set_faults(Faults {
        drop_after_processing_nth: vec![2],
        routes: vec![format!("POST {PARTIAL_IMPORT}")],
        ..Default::default()
    });

    let mut settings = load_settings(&dir, "j.ndjson", 10);
    settings.on_existing = OnExisting::Fail;
    let report = apply(&client, &targets(), users(0..30), &settings, &NoProgress)
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.users.added, 20);
    assert_eq!(
        report.users.added_unconfirmed, 10,
        "the dropped batch was applied and found"
    );
    assert_eq!(report.requests.unknown_outcomes, 1);
    assert_eq!(fake.user_count(REALM), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_finishes_an_interrupted_run_without_resending_completed_batches() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = load_settings(&dir, "j.ndjson", 10);
    settings.max_batches = Some(4);
    let first = apply(&client, &targets(), users(0..100), &settings, &NoProgress)
        .await
        .unwrap();
    assert!(first.interrupted.is_some());
    assert_eq!(first.users.added, 40);
    assert_eq!(
        first.users.unresolved, 10,
        "the batch that would have been the fifth"
    );
    assert_eq!(fake.user_count(REALM), 40);

    let before = partial_imports(&fake);
    settings.max_batches = None;
    settings.resume = true;
    let second = apply(&client, &targets(), users(0..100), &settings, &NoProgress)
        .await
        .unwrap();
    assert!(second.is_clean(), "{second:?}");
    assert!(second.resumed);
    assert_eq!(second.users.already_done_from_journal, 40);
    assert_eq!(second.users.added, 60);
    assert_eq!(
        partial_imports(&fake) - before,
        6,
        "only the six unfinished batches are sent"
    );
    assert_eq!(fake.user_count(REALM), 100);

    // A third resume has nothing left to do.
    let before = partial_imports(&fake);
    let third = apply(&client, &targets(), users(0..100), &settings, &NoProgress)
        .await
        .unwrap();
    assert_eq!(third.users.already_done_from_journal, 100);
    assert_eq!(partial_imports(&fake), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_reconciles_batches_sent_but_never_recorded() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = load_settings(&dir, "j.ndjson", 10);
    settings.on_existing = OnExisting::Fail;
    apply(&client, &targets(), users(0..50), &settings, &NoProgress)
        .await
        .unwrap();

    // Simulate a crash after two batches were applied but before their outcomes were written:
    // drop their `done` lines and cut the last line in half.
    let path = settings.journal.clone();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut dropped = 0;
    let mut kept: Vec<String> = Vec::new();
    for line in text.lines().rev() {
        let entry: JournalEntry = serde_json::from_str(line).unwrap();
        if dropped < 2 && matches!(entry, JournalEntry::Done { .. }) {
            dropped += 1;
            continue;
        }
        kept.push(line.to_string());
    }
    kept.reverse();
    let mut cut = kept.join("\n");
    cut.push_str("\n{\"type\":\"done\",\"batch\":");
    std::fs::write(&path, cut).unwrap();

    let before = partial_imports(&fake);
    settings.resume = true;
    let report = apply(&client, &targets(), users(0..50), &settings, &NoProgress)
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.reconciled_batches, 2);
    assert_eq!(report.users.added_unconfirmed, 20);
    assert_eq!(report.users.already_done_from_journal, 30);
    assert_eq!(report.users.rejected, 0, "nothing was resent into a 409");
    assert_eq!(partial_imports(&fake), before, "no batch was resent");
    assert_eq!(fake.user_count(REALM), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_of_another_plan_or_an_existing_journal_is_refused() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, REALM).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = load_settings(&dir, "j.ndjson", 10);
    apply(&client, &targets(), users(0..5), &settings, &NoProgress)
        .await
        .unwrap();
    let err = apply(&client, &targets(), users(0..5), &settings, &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kcm_sink_keycloak::SinkError::JournalExists { .. }),
        "{err}"
    );
    let mut other = settings.clone();
    other.resume = true;
    other.plan_fingerprint = "plan-2".into();
    let err = apply(&client, &targets(), users(0..5), &other, &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kcm_sink_keycloak::SinkError::JournalMismatch { .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_realm_is_an_error_unless_created() {
    let fake = start(fake_config()).await;
    let client = connect(&fake, "fresh").await;
    let dir = tempfile::tempdir().unwrap();
    let err = apply(
        &client,
        &targets(),
        users(0..3),
        &load_settings(&dir, "a.ndjson", 10),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, kcm_sink_keycloak::SinkError::RealmNotFound { .. }),
        "{err}"
    );
    let mut settings = load_settings(&dir, "b.ndjson", 10);
    settings.create_realm = true;
    settings.user_profile = UserProfileMode::Unmanaged;
    let report = apply(&client, &targets(), users(0..3), &settings, &NoProgress)
        .await
        .unwrap();
    assert!(report.structure.realm_created);
    assert_eq!(
        report.structure.user_profile.policy_after.as_deref(),
        Some("ADMIN_EDIT")
    );
    assert_eq!(fake.user_count("fresh"), 3);
}
