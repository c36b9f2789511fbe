//! Shared helpers of the behaviour tests: start an emulator, get tokens, send requests with
//! a real HTTP client.

use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const REALM: &str = "acme";

pub struct Env {
    pub fake: FakeKeycloak,
    pub http: reqwest::Client,
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

pub async fn form(http: &reqwest::Client, url: &str, pairs: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded::to_string(pairs).unwrap();
    let resp = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    reply(resp).await
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = resp.text().await.unwrap();
    Reply {
        status,
        location,
        headers,
        text,
    }
}

pub async fn admin_token(fake: &FakeKeycloak, http: &reqwest::Client) -> Value {
    let r = form(
        http,
        &format!(
            "{}/realms/master/protocol/openid-connect/token",
            fake.base_url
        ),
        &[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "admin"),
            ("password", "admin"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// An emulator with realm `acme` and an admin token.
pub async fn start_with(config: FakeConfig) -> Env {
    let fake = FakeKeycloak::start(config.with_realm(RealmSettings::new(REALM)))
        .await
        .unwrap();
    let http = client();
    let token = admin_token(&fake, &http).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    Env { fake, http, token }
}

pub async fn start() -> Env {
    start_with(FakeConfig::default()).await
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.fake.base_url, path)
    }

    /// Admin API path inside realm `acme`.
    pub fn realm_url(&self, path: &str) -> String {
        self.url(&format!("/admin/realms/{REALM}{path}"))
    }

    pub async fn send(&self, method: Method, url: &str, body: Option<Value>) -> Reply {
        self.send_as(&self.token, method, url, body).await
    }

    pub async fn send_as(
        &self,
        token: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, &self.realm_url(path), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, &self.realm_url(path), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, &self.realm_url(path), Some(body))
            .await
    }

    pub async fn put_empty(&self, path: &str) -> Reply {
        self.send(Method::PUT, &self.realm_url(path), None).await
    }

    pub async fn delete(&self, path: &str, body: Option<Value>) -> Reply {
        self.send(Method::DELETE, &self.realm_url(path), body).await
    }

    /// Creates a user through REST and returns its id (from `Location`).
    pub async fn create_user(&self, body: Value) -> String {
        let r = self.post("/users", body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.location.unwrap().rsplit('/').next().unwrap().to_string()
    }

    pub async fn partial_import(&self, body: Value) -> Reply {
        self.post("/partialImport", body).await
    }

    pub async fn user_count(&self) -> i64 {
        self.get("/users/count").await.json().as_i64().unwrap()
    }

    /// Password grant against a realm.
    pub async fn login(&self, realm: &str, username: &str, password: &str) -> Reply {
        form(
            &self.http,
            &self.url(&format!("/realms/{realm}/protocol/openid-connect/token")),
            &[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }
}

pub fn unknown_error() -> Value {
    json!({"error": "unknown_error", "error_description": "For more on this error consult the server log."})
}
