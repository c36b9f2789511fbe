//! What the cutover operations (rollback, delta sync, password-reset e-mails, identity
//! providers) rely on: deleting clients, client roles and identity providers, client-role
//! mapping removal, federated links to missing providers, the realm's SMTP map, and user
//! updates that keep credentials.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

const HASHED: &str = r#"{"value":"SGFzaEEx","salt":"c2FsdEEx","additionalParameters":{}}"#;
const HASH_DATA: &str =
    r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#;

#[tokio::test]
async fn deleting_client_roles_and_clients_drops_every_mapping_to_them() {
    let env = start().await;
    let r = env.post("/clients", json!({"clientId": "shop"})).await;
    let client = r.location.unwrap().rsplit('/').next().unwrap().to_string();
    for role in ["viewer", "editor"] {
        let r = env
            .post(&format!("/clients/{client}/roles"), json!({"name": role}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let user = env
        .create_user(json!({"username": "ada", "enabled": true}))
        .await;
    let mapping = format!("/users/{user}/role-mappings/clients/{client}");
    let roles = env.get(&format!("/clients/{client}/roles")).await.json();
    let r = env.post(&mapping, roles.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Removing one mapping: same name + id rule as adding.
    let editor = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "editor")
        .unwrap()
        .clone();
    let r = env.delete(&mapping, Some(json!([editor]))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let left = env.get(&mapping).await.json();
    assert_eq!(left.as_array().map(Vec::len), Some(1));
    assert_eq!(left[0]["name"], "viewer");

    let r = env
        .delete(&format!("/clients/{client}/roles/viewer"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(env.get(&mapping).await.json(), json!([]));
    let r = env
        .delete(&format!("/clients/{client}/roles/viewer"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (404, json!({"error": "Could not find role"}))
    );

    assert_eq!(
        env.delete(&format!("/clients/{client}"), None).await.status,
        204
    );
    assert_eq!(env.get(&format!("/clients/{client}")).await.status, 404);
    assert_eq!(
        env.delete(&format!("/clients/{client}"), None).await.status,
        404
    );
    let stored = env.fake.user_by_username(REALM, "ada").unwrap();
    assert_eq!(stored.client_roles, Some(Default::default()));
}

#[tokio::test]
async fn links_to_missing_identity_providers_are_stored_but_not_listed() {
    let env = start().await;
    let r = env
        .partial_import(json!({"users": [{
            "username": "linked", "enabled": true,
            "federatedIdentities": [{"identityProvider": "google", "userId": "g-1", "userName": "linked"}]
        }]}))
        .await;
    assert_eq!(
        r.status, 200,
        "the import path never checks the alias: {}",
        r.text
    );
    let id = env
        .fake
        .user_by_username(REALM, "linked")
        .unwrap()
        .id
        .unwrap();
    let links = format!("/users/{id}/federated-identity");
    assert_eq!(env.get(&links).await.json(), json!([]));
    let stored = env.fake.user_by_username(REALM, "linked").unwrap();
    assert_eq!(stored.federated_identities.map(|f| f.len()), Some(1));

    let r = env
        .post(
            "/identity-provider/instances",
            json!({"alias": "google", "providerId": "google", "enabled": false, "config": {}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        env.get(&links).await.json(),
        json!([{"identityProvider": "google", "userId": "g-1", "userName": "linked"}]),
        "a disabled provider is enough to make the link visible"
    );

    let r = env
        .delete("/identity-provider/instances/google", None)
        .await;
    assert_eq!(r.status, 204);
    let stored = env.fake.user_by_username(REALM, "linked").unwrap();
    assert_eq!(
        stored.federated_identities,
        Some(vec![]),
        "deleting a provider deletes the links to it"
    );
    let r = env
        .delete("/identity-provider/instances/google", None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn identity_provider_types_must_be_shipped_by_the_server() {
    let env = start().await;
    let r = env
        .post(
            "/identity-provider/instances",
            json!({"alias": "apple", "providerId": "apple"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (
            400,
            json!({"errorMessage": "Invalid identity provider id [apple]"})
        )
    );
    let r = env
        .post(
            "/identity-provider/instances",
            json!({"alias": "apple", "providerId": "oidc", "enabled": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let idp = env.get("/identity-provider/instances/apple").await.json();
    assert_eq!(idp["enabled"], false);
    assert_eq!(idp["providerId"], "oidc");
    assert!(idp["internalId"].is_string());
    let r = env
        .post(
            "/identity-provider/instances",
            json!({"alias": "linkedin", "providerId": "linkedin-openid-connect"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(env.fake.identity_providers(REALM).len(), 2);
}

#[tokio::test]
async fn the_realm_shows_its_smtp_server_or_an_empty_map() {
    let env = start().await;
    let realm = env.get("").await.json();
    assert_eq!(realm["smtpServer"], json!({}));
    env.fake.set_smtp_configured(REALM, true).unwrap();
    let realm = env.get("").await.json();
    assert_eq!(realm["smtpServer"]["host"], "localhost");
    // A realm update without a host removes the configuration.
    let r = env
        .send(
            Method::PUT,
            &env.realm_url(""),
            Some(json!({"smtpServer": {}})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(env.get("").await.json()["smtpServer"], json!({}));
}

#[tokio::test]
async fn user_updates_keep_credentials_unless_credentials_are_given() {
    let env = start().await;
    let r = env
        .partial_import(json!({"users": [{
            "username": "keeper", "email": "keeper@example.com", "enabled": true,
            "credentials": [{"type": "password", "secretData": HASHED, "credentialData": HASH_DATA}]
        }]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = env.fake.user_by_username(REALM, "keeper").unwrap();
    let id = before.id.clone().unwrap();

    // Read back, modify, write back: the credential is untouched.
    let mut rep = env.get(&format!("/users/{id}")).await.json();
    rep["firstName"] = json!("Kept");
    rep["enabled"] = json!(false);
    let r = env.put(&format!("/users/{id}"), rep).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let after = env.fake.user_by_username(REALM, "keeper").unwrap();
    assert_eq!(after.first_name.as_deref(), Some("Kept"));
    assert_eq!(after.enabled, Some(false));
    assert_eq!(after.credentials, before.credentials);

    // With `credentials`, the update creates them (a plaintext one replaces the password).
    let r = env
        .put(
            &format!("/users/{id}"),
            json!({"credentials": [{"type": "password", "value": "N3w-Passw0rd!", "temporary": true}]}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let replaced = env.fake.user_by_username(REALM, "keeper").unwrap();
    let creds = replaced.credentials.unwrap();
    assert_eq!(creds.len(), 1);
    assert_ne!(creds[0].secret_data.as_deref(), Some(HASHED));
    assert!(replaced
        .required_actions
        .unwrap()
        .contains(&"UPDATE_PASSWORD".to_string()));
}
