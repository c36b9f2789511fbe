//! Token endpoint, token expiry, service accounts and permissions (§1); serverinfo; realms.

use std::time::Duration;

use kcm_keycloak_fake::{Clock, FakeConfig, ServiceClient};
use reqwest::Method;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn password_grant_gives_master_lifespans_and_wrong_password_is_401() {
    let env = start().await;
    let t = admin_token(&env.fake, &env.http).await;
    assert_eq!(t["expires_in"], 60);
    assert_eq!(t["refresh_expires_in"], 1800);
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["refresh_token"].as_str().is_some_and(|s| s.len() >= 32));

    let r = form(
        &env.http,
        &env.url("/realms/master/protocol/openid-connect/token"),
        &[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "admin"),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_grant", "error_description": "Invalid user credentials"})
    );

    let r = form(
        &env.http,
        &env.url("/realms/master/protocol/openid-connect/token"),
        &[("grant_type", "magic")],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    let r = form(
        &env.http,
        &env.url("/realms/nope/protocol/openid-connect/token"),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn expired_token_is_401_and_refresh_gives_a_working_token() {
    let clock = Clock::manual();
    let env = start_with(FakeConfig {
        clock: clock.clone(),
        ..Default::default()
    })
    .await;
    let t = admin_token(&env.fake, &env.http).await;
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    let url = env.url("/admin/realms");
    assert_eq!(
        env.send_as(access, Method::GET, &url, None).await.status,
        200
    );

    clock.advance(Duration::from_secs(61));
    let r = env.send_as(access, Method::GET, &url, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), json!({"error": "HTTP 401 Unauthorized"}));

    let r = form(
        &env.http,
        &env.url("/realms/master/protocol/openid-connect/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "admin-cli"),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        env.send_as(&fresh, Method::GET, &url, None).await.status,
        200
    );

    // The refresh token dies with the SSO idle timeout.
    clock.advance(Duration::from_secs(1801));
    let r = form(
        &env.http,
        &env.url("/realms/master/protocol/openid-connect/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "admin-cli"),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");

    assert_eq!(
        env.send_as("not-a-token", Method::GET, &url, None)
            .await
            .status,
        401
    );
    let anonymous = reply(env.http.get(&url).send().await.unwrap()).await;
    assert_eq!(anonymous.status, 401);
    assert!(env.fake.stats().unauthorized >= 3);
}

#[tokio::test]
async fn client_credentials_have_no_refresh_token_and_restricted_roles_get_403() {
    let env = start_with(FakeConfig {
        service_clients: vec![
            ServiceClient::new("loader", "s3cret"),
            ServiceClient::new("users-only", "pw")
                .in_realm(REALM)
                .with_roles(&["manage-users"]),
        ],
        ..Default::default()
    })
    .await;
    let token_url = env.url("/realms/master/protocol/openid-connect/token");
    let r = form(
        &env.http,
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "loader"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    assert!(t.get("refresh_token").is_none());
    assert_eq!(t["expires_in"], 60);
    let full = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        env.send_as(&full, Method::GET, &env.realm_url("/users"), None)
            .await
            .status,
        200
    );

    let r = form(
        &env.http,
        &token_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "loader"),
            ("client_secret", "bad"),
        ],
    )
    .await;
    assert_eq!(r.status, 401);

    let r = form(
        &env.http,
        &env.url(&format!("/realms/{REALM}/protocol/openid-connect/token")),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "users-only"),
            ("client_secret", "pw"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    assert_eq!(t["expires_in"], 300, "a new realm's access-token lifespan");
    let limited = t["access_token"].as_str().unwrap().to_string();
    let ok = env
        .send_as(
            &limited,
            Method::POST,
            &env.realm_url("/users"),
            Some(json!({"username": "ada", "enabled": true})),
        )
        .await;
    assert_eq!(ok.status, 201);
    let denied = env
        .send_as(
            &limited,
            Method::POST,
            &env.realm_url("/partialImport"),
            Some(json!({"users": []})),
        )
        .await;
    assert_eq!(denied.status, 403);
    let other_realm = env
        .send_as(
            &limited,
            Method::GET,
            &env.url("/admin/realms/master/users"),
            None,
        )
        .await;
    assert_eq!(other_realm.status, 403);
    assert_eq!(env.fake.stats().forbidden, 2);
}

#[tokio::test]
async fn serverinfo_lists_configured_hash_providers_and_version() {
    let env = start_with(FakeConfig {
        hash_providers: vec!["pbkdf2-sha512".into(), "bcrypt".into()],
        keycloak_version: "24.0.4".into(),
        ..Default::default()
    })
    .await;
    let r = env
        .send(Method::GET, &env.url("/admin/serverinfo"), None)
        .await;
    assert_eq!(r.status, 200);
    let info = r.json();
    assert_eq!(info["systemInfo"]["version"], "24.0.4");
    let providers = info["providers"]["password-hashing"]["providers"]
        .as_object()
        .unwrap();
    let mut ids: Vec<&String> = providers.keys().collect();
    ids.sort();
    assert_eq!(ids, ["bcrypt", "pbkdf2-sha512"]);
    assert_eq!(info["providers"]["password-hashing"]["internal"], true);
}

#[tokio::test]
async fn realm_create_conflict_settings_and_default_role() {
    let env = start().await;
    let r = env
        .send(
            Method::POST,
            &env.url("/admin/realms"),
            Some(json!({"realm": "shop", "enabled": true, "duplicateEmailsAllowed": true, "registrationEmailAsUsername": false})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.location.as_deref(),
        Some(env.url("/admin/realms/shop").as_str())
    );
    let r = env
        .send(
            Method::POST,
            &env.url("/admin/realms"),
            Some(json!({"realm": "shop", "enabled": true})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Conflict detected. See logs for details"})
    );

    let r = env
        .send(Method::GET, &env.url("/admin/realms/shop"), None)
        .await;
    assert_eq!(r.json()["duplicateEmailsAllowed"], true);
    assert_eq!(r.json()["enabled"], true);
    assert_eq!(r.json()["defaultRole"]["name"], "default-roles-shop");
    let r = env
        .send(
            Method::GET,
            &env.url("/admin/realms/shop/roles/default-roles-shop"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);

    // enabled absent ⇒ disabled realm (§10).
    env.send(
        Method::POST,
        &env.url("/admin/realms"),
        Some(json!({"realm": "off"})),
    )
    .await;
    let r = env
        .send(Method::GET, &env.url("/admin/realms/off"), None)
        .await;
    assert_eq!(r.json()["enabled"], false);

    let list = env
        .send(Method::GET, &env.url("/admin/realms"), None)
        .await
        .json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["realm"].as_str())
        .collect();
    assert_eq!(names, ["acme", "master", "off", "shop"]);
    assert_eq!(
        env.send(Method::GET, &env.url("/admin/realms/nope/users"), None)
            .await
            .status,
        404
    );

    let r = env
        .send(
            Method::PUT,
            &env.url("/admin/realms/shop"),
            Some(json!({"registrationEmailAsUsername": true})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .send(Method::GET, &env.url("/admin/realms/shop"), None)
        .await;
    assert_eq!(r.json()["registrationEmailAsUsername"], true);
}

#[tokio::test]
async fn realm_create_imports_embedded_users_through_the_import_path() {
    let env = start().await;
    let r = env
        .send(
            Method::POST,
            &env.url("/admin/realms"),
            Some(json!({
                "realm": "restore", "enabled": true,
                "groups": [{"name": "staff", "path": "/staff"}],
                "users": [{"id": "fixed-id", "username": "Bob", "groups": ["/staff"], "attributes": {"x": ["1"]}}]
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let users = env.fake.realm_users("restore");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id.as_deref(), Some("fixed-id"));
    assert_eq!(users[0].username.as_deref(), Some("bob"));
    assert_eq!(users[0].enabled, Some(false));
    assert_eq!(
        users[0].groups.as_deref(),
        Some(&["/staff".to_string()][..])
    );

    let r = env
        .send(
            Method::POST,
            &env.url("/admin/realms"),
            Some(json!({"realm": "broken", "users": [{"username": "x", "nickname": "y"}]})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(!env.fake.realm_exists("broken"));
}

#[tokio::test]
async fn unknown_routes_are_404_and_counted() {
    let env = start().await;
    let r = env
        .send(
            Method::GET,
            &env.url("/admin/realms/acme/nothing-here"),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(env.fake.stats().count("GET", "<unmatched>"), 1);
}
