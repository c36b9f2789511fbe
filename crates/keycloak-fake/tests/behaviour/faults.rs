//! Fault injection (deterministic from the seed) and request statistics.

use std::time::Duration;

use kcm_keycloak_fake::{FakeConfig, Faults};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn throttling_and_unavailability_spare_the_token_endpoint() {
    let env = start().await;
    env.fake.set_faults(Faults {
        rate_429: 1.0,
        retry_after_secs: 7,
        ..Default::default()
    });
    let r = env.get("/users").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "7");
    assert_eq!(admin_token(&env.fake, &env.http).await["expires_in"], 60);

    env.fake.set_faults(Faults {
        rate_503: 1.0,
        ..Default::default()
    });
    assert_eq!(env.get("/users").await.status, 503);
    env.fake.set_faults(Faults::default());
    assert_eq!(env.get("/users").await.status, 200);
    let stats = env.fake.stats();
    assert_eq!((stats.throttled, stats.unavailable), (1, 1));
}

#[tokio::test]
async fn nth_request_failure_counts_only_eligible_requests() {
    let env = start().await;
    env.fake.set_faults(Faults {
        fail_nth_requests: vec![2],
        ..Default::default()
    });
    assert_eq!(env.get("/users").await.status, 200);
    admin_token(&env.fake, &env.http).await; // not eligible: does not count
    let r = env.get("/users").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json(), unknown_error());
    assert_eq!(env.get("/users").await.status, 200);
}

async fn status_sequence(seed: u64) -> Vec<u16> {
    let env = start_with(FakeConfig {
        faults: Faults {
            seed,
            rate_429: 0.3,
            rate_503: 0.2,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut out = Vec::new();
    for _ in 0..30 {
        out.push(env.get("/users/count").await.status.as_u16());
    }
    out
}

#[tokio::test]
async fn same_seed_gives_the_same_fault_sequence() {
    let a = status_sequence(7).await;
    let b = status_sequence(7).await;
    let c = status_sequence(8).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(
        a.contains(&429) && a.contains(&503) && a.contains(&200),
        "{a:?}"
    );
}

#[tokio::test]
async fn dropped_connection_leaves_the_client_with_an_error() {
    let env = start().await;
    env.fake.set_faults(Faults {
        drop_nth_requests: vec![1],
        ..Default::default()
    });
    let err = env
        .http
        .post(env.realm_url("/users"))
        .bearer_auth(&env.token)
        .json(&json!({"username": "ghost"}))
        .send()
        .await
        .expect_err("the connection is closed without a response");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert!(
        env.fake.user_by_username(REALM, "ghost").is_none(),
        "dropped before processing"
    );
    assert_eq!(
        env.get("/users").await.status,
        200,
        "the server keeps serving"
    );
    assert_eq!(env.fake.stats().dropped, 1);
}

#[tokio::test]
async fn partial_import_can_be_applied_and_then_dropped() {
    let env = start().await;
    env.fake.set_faults(Faults {
        drop_after_processing_nth: vec![1],
        routes: vec!["POST /admin/realms/{realm}/partialImport".into()],
        ..Default::default()
    });
    assert_eq!(
        env.get("/users").await.status,
        200,
        "other routes are not eligible"
    );
    let sent = env
        .http
        .post(env.realm_url("/partialImport"))
        .bearer_auth(&env.token)
        .json(&json!({"users": [{"username": "applied"}]}))
        .send()
        .await;
    assert!(sent.is_err());
    assert!(
        env.fake.user_by_username(REALM, "applied").is_some(),
        "the import was applied"
    );
    let retry = env
        .partial_import(json!({"users": [{"username": "applied"}]}))
        .await;
    assert_eq!(retry.status, 409, "a blind retry with FAIL now conflicts");
}

#[tokio::test]
async fn latency_concurrency_and_per_endpoint_counts() {
    let env = start().await;
    env.fake.reset_stats();
    env.fake.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Default::default()
    });
    let (a, b, c, d, e) = tokio::join!(
        env.get("/users"),
        env.get("/users"),
        env.get("/users"),
        env.get("/users"),
        env.get("/users")
    );
    assert!([a, b, c, d, e].iter().all(|r| r.status == 200));
    let stats = env.fake.stats();
    assert_eq!(stats.peak_concurrency, 5);
    assert_eq!(stats.count("GET", "/admin/realms/{realm}/users"), 5);
    assert_eq!(stats.total, 5);
    assert_eq!(
        env.fake.max_requests_in_window(Duration::from_millis(100)),
        5
    );
    assert!(stats
        .requests
        .iter()
        .all(|r| r.status == Some(200) && !r.dropped));

    env.fake.set_faults(Faults::default());
    let id = env.create_user(json!({"username": "counted"})).await;
    env.get(&format!("/users/{id}")).await;
    let stats = env.fake.stats();
    assert_eq!(
        stats.count("GET", "/admin/realms/{realm}/users/{user-id}"),
        1
    );
    assert_eq!(stats.count("POST", "/admin/realms/{realm}/users"), 1);
}
