//! `partialImport` (§2, §7 "import path", §11 checklist 6–8): policies, all-or-nothing
//! transactions, strict nested parsing, import-path user semantics.

use std::time::Duration;

use base64::Engine as _;
use kcm_keycloak_fake::{FakeConfig, Faults};
use serde_json::{json, Value};

use crate::common::*;

fn pbkdf2_credential(password: &str, iterations: u32) -> Value {
    use hmac::Hmac;
    let salt = b"0123456789abcdef";
    let mut key = [0u8; 64];
    pbkdf2::pbkdf2::<Hmac<sha2::Sha512>>(password.as_bytes(), salt, iterations, &mut key).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "type": "password",
        "secretData": json!({"value": b64.encode(key), "salt": b64.encode(salt), "additionalParameters": {}}).to_string(),
        "credentialData": json!({"hashIterations": iterations, "algorithm": "pbkdf2-sha512", "additionalParameters": {}}).to_string()
    })
}

fn usernames(env: &Env) -> Vec<String> {
    env.fake
        .realm_users(REALM)
        .into_iter()
        .filter_map(|u| u.username)
        .collect()
}

fn result_for<'a>(results: &'a Value, kind: &str, name: &str) -> &'a Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceType"] == kind && r["resourceName"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {results}"))
}

#[tokio::test]
async fn fail_policy_is_default_and_answers_409_before_any_write() {
    let env = start().await;
    env.create_user(json!({"username": "taken"})).await;
    let r = env
        .partial_import(json!({"users": [{"username": "fresh"}, {"username": "TAKEN"}]}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "User with user name TAKEN already exists."})
    );
    assert_eq!(usernames(&env), ["taken"]);

    // Email matching when duplicate emails are not allowed.
    env.create_user(json!({"username": "mailer", "email": "m@example.com"}))
        .await;
    let r = env
        .partial_import(json!({"ifResourceExists": "FAIL", "users": [{"username": "other", "email": "M@example.com"}]}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["errorMessage"],
        "User with user name other already exists."
    );
}

#[tokio::test]
async fn skip_and_overwrite_policies() {
    let env = start().await;
    let first = env
        .partial_import(json!({"ifResourceExists": "SKIP", "users": [
            {"id": "id-ada", "username": "ada", "enabled": true, "firstName": "Ada"}
        ]}))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json()["added"], 1);
    assert_eq!(result_for(&first.json(), "USER", "ada")["id"], "id-ada");

    let r = env
        .partial_import(json!({"ifResourceExists": "SKIP", "users": [
            {"username": "ada", "firstName": "Changed"}, {"username": "bob"}
        ]}))
        .await;
    let body = r.json();
    assert_eq!(
        (
            body["added"].clone(),
            body["skipped"].clone(),
            body["overwritten"].clone()
        ),
        (json!(1), json!(1), json!(0))
    );
    assert_eq!(result_for(&body, "USER", "ada")["action"], "SKIPPED");
    assert_eq!(result_for(&body, "USER", "ada")["id"], "id-ada");
    assert_eq!(
        env.fake
            .user_by_username(REALM, "ada")
            .unwrap()
            .first_name
            .as_deref(),
        Some("Ada")
    );

    let r = env
        .partial_import(json!({"ifResourceExists": "OVERWRITE", "users": [
            {"id": "id-ada", "username": "ada", "firstName": "Overwritten"}
        ]}))
        .await;
    let body = r.json();
    assert_eq!(body["overwritten"], 1);
    assert_eq!(
        result_for(&body, "USER", "ada")["id"],
        "id-ada",
        "a supplied id is kept"
    );
    let ada = env.fake.user_by_username(REALM, "ada").unwrap();
    assert_eq!(ada.first_name.as_deref(), Some("Overwritten"));
    assert_eq!(
        ada.enabled,
        Some(false),
        "recreated without enabled ⇒ disabled"
    );

    let r = env
        .partial_import(json!({"ifResourceExists": "OVERWRITE", "users": [{"username": "ada"}]}))
        .await;
    assert_ne!(
        result_for(&r.json(), "USER", "ada")["id"],
        "id-ada",
        "without an id a new one is generated"
    );

    let r = env
        .partial_import(json!({"ifResourceExists": "skip", "users": []}))
        .await;
    assert_eq!(r.status, 500, "ifResourceExists is case-sensitive");
}

#[tokio::test]
async fn a_bad_credential_rolls_back_the_whole_batch() {
    let env = start().await;
    env.seed_and_count().await;
    let mut bad = pbkdf2_credential("pw", 1000);
    bad["secretData"] = json!(r#"{"value":"x","salt":"","pepper":"nope"}"#);
    let r = env
        .partial_import(json!({
            "roles": {"realm": [{"name": "new-role"}]},
            "groups": [{"name": "new-group", "path": "/new-group"}],
            "users": [
                {"username": "good", "credentials": [pbkdf2_credential("pw", 1000)]},
                {"username": "bad", "credentials": [bad]}
            ]
        }))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json(), unknown_error());
    assert_eq!(usernames(&env), ["existing"]);
    assert_eq!(env.get("/roles/new-role").await.status, 404);
    assert!(env.fake.realm_groups(REALM).is_empty());

    // A JSON object instead of a string is a parse failure of the body.
    let mut object_form = pbkdf2_credential("pw", 1000);
    object_form["secretData"] = json!({"value": "x"});
    let r = env
        .partial_import(json!({"users": [{"username": "obj", "credentials": [object_form]}]}))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error_description"], "Cannot parse the JSON");
}

impl Env {
    async fn seed_and_count(&self) {
        self.create_user(json!({"username": "existing"})).await;
        assert_eq!(self.user_count().await, 1);
    }
}

#[tokio::test]
async fn duplicates_within_one_request_and_missing_group_paths_roll_back() {
    let env = start().await;
    let r = env
        .partial_import(
            json!({"users": [{"username": "twin"}, {"username": "other"}, {"username": "Twin"}]}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.json()["errorMessage"].is_string());
    assert!(usernames(&env).is_empty());

    let r = env
        .partial_import(json!({"users": [{"username": "a@x.io", "email": "same@x.io"}, {"username": "b@x.io", "email": "same@x.io"}]}))
        .await;
    assert_eq!(r.status, 409);

    let r = env
        .partial_import(json!({"users": [{"username": "joiner", "groups": ["/nowhere"]}]}))
        .await;
    assert_eq!(r.status, 500);
    assert!(usernames(&env).is_empty());

    let r = env
        .partial_import(json!({"groups": [{"name": "pathless"}]}))
        .await;
    assert_eq!(
        r.status, 500,
        "a top-level group without path fails after creation"
    );
    assert!(env.fake.realm_groups(REALM).is_empty());
}

#[tokio::test]
async fn nested_unknown_fields_are_500_but_top_level_unknown_keys_are_ignored() {
    let env = start().await;
    let r = env
        .partial_import(json!({"users": [{"username": "ada", "nickname": "x"}]}))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.json(),
        json!({"error": "unknown_error", "error_description": "Cannot parse the JSON"})
    );
    let r = env
        .partial_import(json!({"somethingNew": {"a": 1}, "users": [{"username": "ada"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(usernames(&env), ["ada"]);
}

#[tokio::test]
async fn import_path_semantics() {
    let env = start().await;
    // A cheap policy keeps the plaintext hashing below fast in debug builds.
    let r = env
        .send(
            reqwest::Method::PUT,
            &env.url("/admin/realms/acme"),
            Some(json!({"passwordPolicy": "hashAlgorithm(pbkdf2-sha256) and hashIterations(10)"})),
        )
        .await;
    assert_eq!(r.status, 204);
    env.post("/clients", json!({"clientId": "shop"})).await;
    let r = env
        .partial_import(json!({
            "groups": [{"name": "staff", "path": "/staff", "subGroups": [{"name": "eng", "path": "/staff/eng"}]}],
            "users": [{
                "id": "u1", "username": "X", "email": "X@Example.com",
                "attributes": {"legacy_id": ["42"]},
                "realmRoles": ["auto-created"], "clientRoles": {"shop": ["buyer"]},
                "groups": ["/staff/eng"],
                "requiredActions": ["verify_email", "custom-action"],
                "credentials": [{"type": "password", "value": "plain-Text-1", "temporary": true}]
            }]
        }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["added"], 2);
    assert_eq!(result_for(&body, "GROUP", "staff")["action"], "ADDED");

    let u = env.fake.user_by_username(REALM, "x").unwrap();
    assert_eq!(u.id.as_deref(), Some("u1"));
    assert_eq!(u.email.as_deref(), Some("x@example.com"));
    assert_eq!(u.enabled, Some(false));
    assert_eq!(
        u.realm_roles.as_deref(),
        Some(&["auto-created".to_string()][..]),
        "no default role on the import path"
    );
    assert_eq!(u.client_roles.as_ref().unwrap()["shop"], ["buyer"]);
    assert_eq!(u.groups.as_deref(), Some(&["/staff/eng".to_string()][..]));
    assert_eq!(
        u.required_actions.as_deref(),
        Some(&["VERIFY_EMAIL".to_string(), "custom-action".to_string()][..]),
        "canonical spelling, unknown ids kept, `temporary` ignored"
    );
    let cred = &u.credentials.as_ref().unwrap()[0];
    assert!(cred
        .credential_data
        .as_deref()
        .unwrap()
        .contains("pbkdf2-sha256"));
    assert_eq!(
        u.attributes.as_ref().unwrap()["legacy_id"],
        ["42"],
        "stored verbatim"
    );
    assert!(
        env.get("/users/u1")
            .await
            .json()
            .get("attributes")
            .is_none(),
        "but hidden by the Admin API"
    );
    assert_eq!(env.get("/roles/auto-created").await.status, 200);

    let r = env
        .partial_import(
            json!({"users": [{"username": "y", "clientRoles": {"no-such-client": ["r"]}}]}),
        )
        .await;
    assert_eq!(r.status, 500);
    assert!(env.fake.user_by_username(REALM, "y").is_none());
}

#[tokio::test]
async fn roles_clients_and_groups_are_imported_with_results() {
    let env = start().await;
    let r = env
        .partial_import(json!({
            "ifResourceExists": "SKIP",
            "clients": [{"clientId": "portal", "id": "client-id-is-replaced"}],
            "roles": {"realm": [{"name": "reader", "id": "will-be-replaced"}], "client": {"portal": [{"name": "viewer"}]}},
            "groups": [{"name": "ops", "path": "/ops", "realmRoles": ["reader"]}],
            "identityProviders": [{"alias": "google", "providerId": "google"}]
        }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["added"], 5);
    assert_ne!(
        result_for(&body, "REALM_ROLE", "reader")["id"],
        "will-be-replaced"
    );
    assert_eq!(
        result_for(&body, "CLIENT_ROLE", "portal-->viewer")["action"],
        "ADDED"
    );
    assert_ne!(
        result_for(&body, "CLIENT", "portal")["id"],
        "client-id-is-replaced"
    );
    let idp = result_for(&body, "IDP", "google");
    assert_eq!(idp["action"], "ADDED");
    assert_eq!(
        env.get("/identity-provider/instances/google").await.json()["internalId"],
        idp["id"]
    );
    let again = env
        .partial_import(
            json!({"ifResourceExists": "SKIP", "roles": {"realm": [{"name": "reader"}]}}),
        )
        .await
        .json();
    assert_eq!(again["skipped"], 1);
    let r = env
        .partial_import(json!({"roles": {"realm": [{"name": "reader"}]}}))
        .await;
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Realm role 'reader' already exists."})
    );
    let r = env
        .partial_import(json!({"groups": [{"name": "ops", "path": "/ops"}]}))
        .await;
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Group '/ops' already exists"})
    );
    let r = env
        .partial_import(json!({"roles": {"client": {"ghost": [{"name": "x"}]}}}))
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Can not import client roles for nonexistent client named ghost"})
    );
}

#[tokio::test]
async fn transaction_timeout_and_injected_user_failures_roll_back() {
    let env = start_with(FakeConfig {
        transaction_timeout: Duration::from_secs(1),
        import_cost_per_resource: Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let users = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"username": format!("user{i}")}))
            .collect()
    };
    let r = env.partial_import(json!({"users": users(10)})).await;
    assert_eq!(r.status, 200, "10 × 100 ms fits in 1 s");
    let r = env
        .partial_import(json!({"ifResourceExists": "SKIP", "users": users(11)}))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json(), unknown_error());
    assert_eq!(env.fake.user_count(REALM), 10);

    env.fake.set_faults(Faults {
        fail_user_names: vec!["Poison".into()],
        ..Default::default()
    });
    let r = env
        .partial_import(json!({"users": [{"username": "fine"}, {"username": "poison"}]}))
        .await;
    assert_eq!(r.status, 500);
    assert!(env.fake.user_by_username(REALM, "fine").is_none());
    let r = env.post("/users", json!({"username": "poison"})).await;
    assert_eq!(r.status, 500);
}

#[tokio::test]
async fn results_are_not_in_request_order() {
    let env = start().await;
    let names: Vec<String> = (0..20).map(|i| format!("u{i:02}")).collect();
    let users: Vec<Value> = names.iter().map(|n| json!({"username": n})).collect();
    let body = env.partial_import(json!({"users": users})).await.json();
    let got: Vec<String> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resourceName"].as_str().unwrap().to_string())
        .collect();
    assert_ne!(got, names, "order must not be relied upon");
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, names);
}

#[tokio::test]
async fn import_path_skips_profile_validation_but_not_column_sizes() {
    let env = start().await;
    let r = env
        .partial_import(json!({"users": [{"username": "ab"}, {"username": "with space"}]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(usernames(&env), ["ab", "with space"]);
    let long = "x".repeat(256);
    let r = env
        .partial_import(json!({"users": [{"username": "fine"}, {"username": long}]}))
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(usernames(&env), ["ab", "with space"]);
    let r = env
        .partial_import(json!({"users": [{"email": "no-username@example.com"}]}))
        .await;
    assert_eq!(r.status, 500, "a null username fails on the import path");
}
