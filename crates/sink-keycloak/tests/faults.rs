//! A 2,000-user load under seeded faults, alone in its test binary so that no other test
//! competes for the CPU while the request rate is measured.

mod common;

use std::time::Duration;

use common::*;
use kcm_keycloak_fake::Faults;
use kcm_sink_keycloak::{apply, NoProgress};

/// 2,000 users under a 2 s token lifespan, seeded 429/503 answers and dropped connections
/// (before and after processing): every user ends present exactly once and the request rate
/// stays within 5 % of the limit over every 5 s window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_users_under_faults_arrive_exactly_once_within_the_rate() {
    const RATE: f64 = 25.0;
    const USERS: usize = 2_000;
    let mut config = fake_config();
    config.access_token_lifespan = Duration::from_secs(2);
    config.refresh_token_lifespan = Duration::from_secs(4);
    config.sso_max_lifespan = Duration::from_secs(6);
    config.faults = Faults {
        seed: 2024,
        rate_429: 0.07,
        retry_after_secs: 1,
        rate_503: 0.03,
        drop_connection_rate: 0.01,
        drop_after_processing_rate: 0.01,
        include_token_endpoint: true,
        ..Default::default()
    };
    let fake = start(config).await;
    let mut connection = connection(&fake, REALM);
    connection.traffic.rate = RATE;
    connection.traffic.concurrency = 4;
    let client = kcm_sink_keycloak::KeycloakClient::connect(connection)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let report = apply(
        &client,
        &targets(),
        users(0..USERS),
        &load_settings(&dir, "j.ndjson", 10),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(report.is_clean(), "{:?}", report.interrupted);
    assert_eq!(
        report.users.added + report.users.added_unconfirmed,
        USERS as u64
    );
    assert_eq!(fake.user_count(REALM), USERS);
    let stored = fake.realm_users(REALM);
    let names: std::collections::BTreeSet<_> =
        stored.iter().filter_map(|u| u.username.clone()).collect();
    assert_eq!(names.len(), USERS, "no duplicates");
    assert!((0..USERS).all(|i| names.contains(&username(i))));

    let stats = &report.requests;
    assert!(stats.retries > 0, "faults were injected: {stats:?}");
    assert!(
        stats.token_grants + stats.token_refreshes >= 3,
        "tokens were renewed: {stats:?}"
    );
    assert!(
        stats.rate_reductions > 0,
        "load shedding lowered the rate: {stats:?}"
    );
    let limit = (RATE * 5.0 * 1.05).floor() as usize;
    let peak = fake.max_requests_in_window(Duration::from_secs(5));
    assert!(
        peak <= limit,
        "{peak} requests in a 5 s window, limit {limit}"
    );
    assert!(
        fake.stats().total as usize > limit,
        "the run was long enough to measure a full window"
    );
}
