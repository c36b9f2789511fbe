//! Users REST API (§3) and user profile (§6).

use kcm_keycloak_fake::{FakeConfig, RealmSettings};
use kcm_keycloak_types::UserRepresentation;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn create_ignores_id_and_roles_lowercases_and_disables_by_default() {
    let env = start().await;
    let r = env
        .post(
            "/users",
            json!({"id": "my-id", "username": "Ada.Lovelace", "email": "ADA@Example.com",
                   "realmRoles": ["admin"], "clientRoles": {"account": ["manage-account"]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.text.is_empty(), "201 has an empty body");
    let location = r.location.unwrap();
    let prefix = env.realm_url("/users/");
    assert!(location.starts_with(&prefix), "{location}");
    let id = location.trim_start_matches(&prefix).to_string();
    assert_ne!(id, "my-id");
    assert_eq!(id.len(), 36);

    let user = env.get(&format!("/users/{id}")).await.json();
    assert_eq!(user["username"], "ada.lovelace");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["enabled"], false);
    let mappings = env.get(&format!("/users/{id}/role-mappings")).await.json();
    let realm_roles: Vec<&str> = mappings["realmMappings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(realm_roles, ["default-roles-acme"]);
    assert!(mappings.get("clientMappings").is_none());
    assert!(
        env.get("/roles/admin").await.status == 404,
        "REST create never creates roles"
    );
}

#[tokio::test]
async fn conflicts_validation_and_strict_parsing() {
    let env = start().await;
    env.create_user(json!({"username": "ada", "email": "ada@example.com"}))
        .await;
    let r = env.post("/users", json!({"username": "ADA"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "User exists with same username"})
    );
    let r = env
        .post(
            "/users",
            json!({"username": "other", "email": "Ada@example.com"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "User exists with same email"})
    );

    let r = env.post("/users", json!({"username": "ab"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "username");
    assert_eq!(r.json()["errorMessage"], "error-invalid-length");
    let r = env.post("/users", json!({"email": "x@example.com"})).await;
    assert_eq!(r.json(), json!({"errorMessage": "User name is missing"}));
    let r = env
        .post("/users", json!({"username": "with space", "email": "bad"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"].as_array().map(Vec::len), Some(2));

    let r = env
        .post("/users", json!({"username": "grace", "nickname": "g"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": "unknown_error", "error_description": "Cannot parse the JSON"})
    );
    let r = env
        .post(
            "/users",
            json!({"username": "grace", "credentials": [{"type": "password", "value": "x", "federationLinkX": "y"}]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(env.user_count().await, 1);
}

#[tokio::test]
async fn duplicate_emails_and_email_as_username_follow_realm_settings() {
    let mut shop = RealmSettings::new("shop");
    shop.duplicate_emails_allowed = true;
    let mut mail = RealmSettings::new("mail");
    mail.registration_email_as_username = true;
    let env = start_with(FakeConfig::default().with_realm(shop).with_realm(mail)).await;
    for name in ["a-one", "a-two"] {
        let r = env
            .send(
                reqwest::Method::POST,
                &env.url("/admin/realms/shop/users"),
                Some(json!({"username": name, "email": "same@example.com"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = env
        .send(
            reqwest::Method::POST,
            &env.url("/admin/realms/mail/users"),
            Some(json!({"username": "ignored", "email": "Mail@Example.com"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let users = env.fake.realm_users("mail");
    assert_eq!(users[0].username.as_deref(), Some("mail@example.com"));
}

#[tokio::test]
async fn unmanaged_attributes_are_dropped_until_the_profile_allows_them() {
    let env = start().await;
    let id = env
        .create_user(json!({"username": "ada", "attributes": {"department": ["math"]}}))
        .await;
    assert_eq!(
        env.fake.realm_users(REALM)[0]
            .attributes
            .as_ref()
            .map(|a| a.len()),
        Some(0)
    );
    assert!(env
        .get(&format!("/users/{id}"))
        .await
        .json()
        .get("attributes")
        .is_none());

    let mut profile = env.get("/users/profile").await.json();
    assert!(profile.get("unmanagedAttributePolicy").is_none());
    let names: Vec<&str> = profile["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["username", "email", "firstName", "lastName"]);
    profile["unmanagedAttributePolicy"] = json!("ADMIN_EDIT");
    let r = env.put("/users/profile", profile).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["unmanagedAttributePolicy"], "ADMIN_EDIT");

    let id2 = env
        .create_user(json!({"username": "grace", "attributes": {"department": ["navy"]}}))
        .await;
    assert_eq!(
        env.get(&format!("/users/{id2}")).await.json()["attributes"],
        json!({"department": ["navy"]})
    );

    // PUT replaces the whole configuration.
    let r = env
        .put(
            "/users/profile",
            json!({"attributes": [{"name": "username"}, {"name": "email"}]}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(env
        .get("/users/profile")
        .await
        .json()
        .get("unmanagedAttributePolicy")
        .is_none());
    assert!(env
        .get(&format!("/users/{id2}"))
        .await
        .json()
        .get("attributes")
        .is_none());
    let r = env
        .put(
            "/users/profile",
            json!({"attributes": [{"name": "bad:name"}, {"name": "username"}, {"name": "email"}]}),
        )
        .await;
    assert_eq!(r.status, 400);
    let _ = id;
}

#[tokio::test]
async fn required_actions_temporary_password_and_missing_group_path() {
    let env = start().await;
    let id = env
        .create_user(json!({
            "username": "ada", "enabled": true,
            "requiredActions": ["VERIFY_EMAIL", "NOT_A_REAL_ACTION"],
            "credentials": [{"type": "password", "value": "Secret-123", "temporary": true}]
        }))
        .await;
    let user = env.get(&format!("/users/{id}")).await.json();
    assert_eq!(
        user["requiredActions"],
        json!(["VERIFY_EMAIL", "UPDATE_PASSWORD"])
    );
    let creds = env.get(&format!("/users/{id}/credentials")).await.json();
    let cred = &creds[0];
    assert_eq!(cred["type"], "password");
    assert!(
        cred.get("secretData").is_none(),
        "secretData is never returned"
    );
    assert!(cred["credentialData"].as_str().unwrap().contains("argon2"));

    let before = env.user_count().await;
    let r = env
        .post(
            "/users",
            json!({"username": "lost", "groups": ["/no/such/group"]}),
        )
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json(), unknown_error());
    assert_eq!(env.user_count().await, before);
}

#[tokio::test]
async fn list_search_paging_count_update_and_delete() {
    let env = start().await;
    for (u, first) in [
        ("alice", "Alice"),
        ("alicia", "Alicia"),
        ("bob", "Bob"),
        ("malice", "Mal"),
    ] {
        env.create_user(json!({"username": u, "firstName": first, "email": format!("{u}@example.com"), "enabled": true}))
            .await;
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(env.get("/users?username=alice&exact=true").await.json()),
        ["alice"]
    );
    assert_eq!(
        names(env.get("/users?username=alic").await.json()),
        ["alice", "alicia", "malice"]
    );
    assert_eq!(
        names(env.get("/users?search=ali").await.json()),
        ["alice", "alicia"]
    );
    assert_eq!(
        names(env.get("/users?search=*lic*").await.json()),
        ["alice", "alicia", "malice"]
    );
    assert_eq!(
        names(env.get("/users?first=1&max=2").await.json()),
        ["alicia", "bob"]
    );
    assert_eq!(
        names(
            env.get("/users?email=bob@example.com&exact=true")
                .await
                .json()
        ),
        ["bob"]
    );
    assert_eq!(env.get("/users/count").await.json(), 4);
    assert_eq!(env.get("/users/count?search=ali").await.json(), 2);
    let brief = env
        .get("/users?briefRepresentation=true&username=bob")
        .await
        .json();
    assert!(brief[0].get("requiredActions").is_none());

    let id = env.get("/users?username=bob&exact=true").await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = env
        .put(
            &format!("/users/{id}"),
            json!({"firstName": "Robert", "enabled": false}),
        )
        .await;
    assert_eq!(r.status, 204);
    let bob = env.get(&format!("/users/{id}")).await.json();
    assert_eq!(bob["firstName"], "Robert");
    assert_eq!(bob["enabled"], false);
    let r = env
        .put(
            &format!("/users/{id}"),
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(env.delete(&format!("/users/{id}"), None).await.status, 204);
    let r = env.get(&format!("/users/{id}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({"error": "User not found"}));
}

#[tokio::test]
async fn attribute_query_finds_imported_users() {
    let env = start().await;
    env.fake
        .seed_user(
            REALM,
            serde_json::from_value::<UserRepresentation>(
                json!({"username": "ext", "attributes": {"source_id": ["auth0|1"]}}),
            )
            .unwrap(),
        )
        .unwrap();
    env.fake
        .set_unmanaged_attribute_policy(REALM, Some("ADMIN_VIEW"))
        .unwrap();
    let found = env.get("/users?q=source_id:auth0%7C1").await.json();
    assert_eq!(found[0]["username"], "ext");
    assert_eq!(found[0]["attributes"]["source_id"][0], "auth0|1");
    assert_eq!(env.get("/users?q=source_id:nope").await.json(), json!([]));
}
