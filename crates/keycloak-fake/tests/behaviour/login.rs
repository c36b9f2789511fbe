//! Login check of imported credentials (§4 "Login with an imported hash", §11 "Confirmed").

use base64::Engine as _;
use kcm_keycloak_fake::{FakeConfig, RealmSettings};
use serde_json::{json, Value};

use crate::common::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const CHEAP_POLICY: &str = "hashAlgorithm(pbkdf2-sha512) and hashIterations(1000)";

fn pbkdf2_sha512(password: &str, salt: &[u8], iterations: u32, key_len: usize) -> (String, String) {
    use hmac::Hmac;
    let mut key = vec![0u8; key_len];
    pbkdf2::pbkdf2::<Hmac<sha2::Sha512>>(password.as_bytes(), salt, iterations, &mut key).unwrap();
    (B64.encode(&key), B64.encode(salt))
}

fn credential(secret: Value, data: Value) -> Value {
    json!({"type": "password", "secretData": secret.to_string(), "credentialData": data.to_string()})
}

async fn start_cheap(providers: &[&str]) -> Env {
    let mut realm = RealmSettings::new("shop");
    realm.password_policy = Some(CHEAP_POLICY.to_string());
    start_with(FakeConfig {
        hash_providers: providers.iter().map(|p| p.to_string()).collect(),
        ..FakeConfig::default().with_realm(realm)
    })
    .await
}

async fn import(env: &Env, user: Value) {
    let r = env
        .send(
            reqwest::Method::POST,
            &env.url("/admin/realms/shop/partialImport"),
            Some(json!({"users": [user]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn imported_pbkdf2_hash_logs_in_and_padding_matters() {
    let env = start_cheap(&["pbkdf2-sha512", "argon2"]).await;
    let (value, salt) = pbkdf2_sha512("pässwörd", b"sixteen-byte-slt", 1000, 64);
    let data =
        json!({"hashIterations": 1000, "algorithm": "pbkdf2-sha512", "additionalParameters": {}});
    import(
        &env,
        json!({"username": "ada", "email": "ada@example.com", "enabled": true,
               "credentials": [credential(json!({"value": value, "salt": salt, "additionalParameters": {}}), data.clone())]}),
    )
    .await;
    let r = env.login("shop", "ada", "pässwörd").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["expires_in"], 300);
    assert_eq!(
        env.login("shop", "ada@example.com", "pässwörd")
            .await
            .status,
        200,
        "login with email"
    );
    let r = env.login("shop", "ada", "wrong").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_description"], "Invalid user credentials");

    // A user token is not an admin token.
    let user_token = env.login("shop", "ada", "pässwörd").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = env
        .send_as(
            &user_token,
            reqwest::Method::GET,
            &env.url("/admin/realms/shop/users"),
            None,
        )
        .await;
    assert_eq!(r.status, 403);

    // A 256-bit key verifies too (length taken from the stored value); an unpadded salt
    // loses its last group and never verifies.
    let (short_value, salt16) = pbkdf2_sha512("pw-short", b"0123456789abcdef", 1000, 32);
    import(
        &env,
        json!({"username": "short", "enabled": true,
               "credentials": [credential(json!({"value": short_value, "salt": salt16}), data.clone())]}),
    )
    .await;
    assert_eq!(env.login("shop", "short", "pw-short").await.status, 200);
    let (v2, s2) = pbkdf2_sha512("pw-unpadded", b"0123456789abcdef", 1000, 64);
    import(
        &env,
        json!({"username": "unpadded", "enabled": true,
               "credentials": [credential(json!({"value": v2, "salt": s2.trim_end_matches('=')}), data)]}),
    )
    .await;
    assert_eq!(
        env.login("shop", "unpadded", "pw-unpadded").await.status,
        401
    );
}

#[tokio::test]
async fn missing_provider_means_invalid_credentials_and_bcrypt_needs_its_provider() {
    let hash = bcrypt::hash("letmein", 4)
        .unwrap()
        .replacen("$2b$", "$2y$", 1);
    let user = json!({"username": "legacy", "enabled": true, "credentials": [credential(
        json!({"value": hash, "salt": ""}),
        json!({"hashIterations": -1, "algorithm": "bcrypt"})
    )]});

    let without = start_cheap(&["pbkdf2-sha512"]).await;
    import(&without, user.clone()).await;
    let r = without.login("shop", "legacy", "letmein").await;
    assert_eq!(
        r.status, 401,
        "no bcrypt provider: accepted at import, every login fails"
    );

    let with = start_cheap(&["pbkdf2-sha512", "bcrypt"]).await;
    import(&with, user).await;
    assert_eq!(with.login("shop", "legacy", "nope").await.status, 401);
    assert_eq!(with.login("shop", "legacy", "letmein").await.status, 200);
    // After a successful login the hash is re-encoded with the realm policy.
    let stored = with.fake.user_by_username("shop", "legacy").unwrap();
    let data = stored.credentials.unwrap()[0]
        .credential_data
        .clone()
        .unwrap();
    assert!(
        data.contains("pbkdf2-sha512") && data.contains("1000"),
        "{data}"
    );
    assert_eq!(with.login("shop", "legacy", "letmein").await.status, 200);
}

#[tokio::test]
async fn argon2_needs_all_parameters() {
    let env = start_cheap(&["pbkdf2-sha512", "argon2"]).await;
    let salt = b"argon2-salt-1234";
    let params = argon2::Params::new(64, 2, 1, Some(32)).unwrap();
    let mut out = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(b"correct horse", salt, &mut out)
        .unwrap();
    let secret =
        json!({"value": B64.encode(out), "salt": B64.encode(salt), "additionalParameters": {}});
    let full = json!({"hashIterations": 2, "algorithm": "argon2", "additionalParameters": {
        "hashLength": ["32"], "memory": ["64"], "type": ["id"], "version": ["1.3"], "parallelism": ["1"]}});
    let partial = json!({"hashIterations": 2, "algorithm": "argon2", "additionalParameters": {"type": ["id"]}});
    import(&env, json!({"username": "full", "enabled": true, "credentials": [credential(secret.clone(), full)]})).await;
    import(&env, json!({"username": "partial", "enabled": true, "credentials": [credential(secret, partial)]})).await;
    assert_eq!(env.login("shop", "full", "correct horse").await.status, 200);
    assert_eq!(
        env.login("shop", "partial", "correct horse").await.status,
        401
    );
}

#[tokio::test]
async fn disabled_users_and_pending_required_actions_cannot_log_in() {
    let env = start_cheap(&["pbkdf2-sha512"]).await;
    let (value, salt) = pbkdf2_sha512("pw", b"0123456789abcdef", 1000, 64);
    let cred = credential(
        json!({"value": value, "salt": salt}),
        json!({"hashIterations": 1000, "algorithm": "pbkdf2-sha512"}),
    );
    import(
        &env,
        json!({"username": "off", "credentials": [cred.clone()]}),
    )
    .await;
    import(&env, json!({"username": "todo", "enabled": true, "requiredActions": ["UPDATE_PASSWORD"], "credentials": [cred]})).await;
    let r = env.login("shop", "off", "pw").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_description"], "Account disabled");
    let r = env.login("shop", "todo", "pw").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error_description"], "Account is not fully set up");
    assert_eq!(env.login("shop", "nobody", "pw").await.status, 401);
}
