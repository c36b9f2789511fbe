//! The Admin REST client: one `reqwest` client (rustls), the token manager, pacing, retries and
//! request statistics. Every request of the sink goes through [`KeycloakClient::send`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kcm_keycloak_types::ErrorRepresentation;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::ConnectionSettings;
use crate::error::SinkError;
use crate::retry::{
    classify_status, classify_transport, parse_retry_after, transport_label, Backoff, Disposition,
    Replay,
};
use crate::throttle::Throttle;
use crate::token::Tokens;

/// Connect timeout ceiling (the request timeout applies when shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest server message kept in an error or a rejection.
const MAX_MESSAGE_CHARS: usize = 500;
const USER_AGENT: &str = concat!("kc-migrate/", env!("CARGO_PKG_VERSION"));

/// A connected Admin REST client for one realm. Cheap to clone (shared state).
#[derive(Clone)]
pub struct KeycloakClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) settings: ConnectionSettings,
    pub(crate) tokens: Tokens,
    pub(crate) throttle: Throttle,
    pub(crate) backoff: Backoff,
    pub(crate) stats: Stats,
}

impl std::fmt::Debug for KeycloakClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeycloakClient")
            .field("url", &self.inner.settings.display_url())
            .field("realm", &self.inner.settings.realm)
            .field("auth_realm", &self.inner.settings.auth_realm)
            .field("client_id", &self.inner.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl KeycloakClient {
    /// Builds the HTTP client and obtains the first token, so bad credentials fail here.
    pub async fn connect(settings: ConnectionSettings) -> Result<Self, SinkError> {
        let client = Self::new(settings)?;
        client.inner.bearer().await?;
        Ok(client)
    }

    /// Builds the client without contacting the server.
    pub fn new(settings: ConnectionSettings) -> Result<Self, SinkError> {
        settings.validate()?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(USER_AGENT)
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(CONNECT_TIMEOUT));
        if let Some(path) = &settings.ca_cert {
            let pem = std::fs::read(path).map_err(|e| SinkError::CaCert {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| SinkError::CaCert {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            // rustls skips non-certificate PEM content silently; an empty result is a wrong file.
            if certs.is_empty() {
                return Err(SinkError::CaCert {
                    path: path.clone(),
                    message: "no PEM certificate found".into(),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if settings.insecure {
            tracing::warn!("TLS certificate verification is disabled (--insecure): the connection can be intercepted");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| SinkError::HttpClient(e.to_string()))?;
        let throttle = Throttle::new(settings.traffic.rate, settings.traffic.concurrency)?;
        let backoff = Backoff::new(settings.traffic.retry.clone());
        Ok(KeycloakClient {
            inner: Arc::new(Inner {
                http,
                settings,
                tokens: Tokens::default(),
                throttle,
                backoff,
                stats: Stats::default(),
            }),
        })
    }

    /// The realm this client loads into.
    pub fn realm(&self) -> &str {
        &self.inner.settings.realm
    }

    /// The server root URL (no trailing slash; any `user:password@` part removed).
    pub fn base_url(&self) -> String {
        self.inner.settings.display_url()
    }

    /// Requests per second the client currently allows itself (lower than configured after load shedding).
    pub fn effective_rate(&self) -> f64 {
        self.inner.throttle.effective_rate()
    }

    pub(crate) fn concurrency(&self) -> usize {
        self.inner.settings.traffic.concurrency
    }

    /// Counters since the client was built.
    pub fn stats(&self) -> RequestStats {
        self.inner.stats.snapshot(self.inner.throttle.reductions())
    }

    /// `/admin/realms/{realm}` + `suffix`, with the realm name percent-encoded.
    pub(crate) fn realm_path(&self, suffix: &str) -> String {
        format!("/admin/realms/{}{}", encode_segment(self.realm()), suffix)
    }

    /// Sends a request with pacing, retries and token handling. Returns every response that is
    /// not transient, whatever its status; the caller decides what a status means.
    pub(crate) async fn send(&self, req: &ApiRequest) -> Result<ApiResponse, SinkError> {
        self.inner.send(req).await
    }

    /// GET that must answer 200 with JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        req: &ApiRequest,
    ) -> Result<T, SinkError> {
        let resp = self.send(req).await?;
        if resp.status != 200 {
            return Err(resp.into_error(req));
        }
        resp.json(req)
    }
}

impl Inner {
    async fn send(&self, req: &ApiRequest) -> Result<ApiResponse, SinkError> {
        let url = format!("{}{}", self.settings.base_url(), req.path);
        let mut failed: u32 = 0;
        let mut reauthenticated = false;
        loop {
            let slot = self.throttle.slot().await;
            // Token first: a renewal is itself a paced request, and pacing last keeps the
            // moment of sending close to the moment the limiter allowed it.
            let (token, generation) = self.bearer().await?;
            self.throttle.pace().await;
            let mut builder = self
                .http
                .request(req.method.clone(), &url)
                .bearer_auth(secrecy::ExposeSecret::expose_secret(&token));
            if !req.query.is_empty() {
                builder = builder.query(&req.query);
            }
            if let Some(body) = &req.body {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = read_response(builder).await;
            drop(slot);
            let (disposition, retry_after, last) = match result {
                Ok(resp) => {
                    self.stats.count_status(&resp.status.to_string());
                    if resp.status == 401 && !reauthenticated {
                        // The token may have been revoked or expired in flight (§1): one fresh grant.
                        reauthenticated = true;
                        self.stats.reauthentications.fetch_add(1, Ordering::Relaxed);
                        self.tokens.invalidate(generation).await;
                        continue;
                    }
                    match classify_status(resp.status) {
                        Disposition::Done => {
                            if resp.status < 500 {
                                self.throttle.recovered();
                            }
                            return Ok(resp);
                        }
                        d => {
                            let last = format!("HTTP {}{}", resp.status, prefixed(&resp.message()));
                            (d, resp.retry_after, last)
                        }
                    }
                }
                Err(err) => {
                    self.stats
                        .count_status(&format!("error:{}", transport_label(&err)));
                    let d = classify_transport(&err);
                    if d == Disposition::Done {
                        return Err(SinkError::HttpClient(err.to_string()));
                    }
                    (d, None, error_chain(&err))
                }
            };
            match disposition {
                Disposition::MaybeApplied if req.replay == Replay::Reconcile => {
                    self.stats.unknown_outcomes.fetch_add(1, Ordering::Relaxed);
                    return Err(SinkError::UnknownOutcome {
                        method: req.method.to_string(),
                        path: req.path.clone(),
                        detail: last,
                    });
                }
                Disposition::Retry { slow_down: true } => self.throttle.slow_down(),
                _ => {}
            }
            failed += 1;
            if failed >= self.backoff.max_attempts() {
                return Err(SinkError::RetriesExhausted {
                    method: req.method.to_string(),
                    path: req.path.clone(),
                    attempts: failed,
                    last,
                });
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            let delay = self.backoff.delay(failed, retry_after);
            tracing::debug!(path = %req.path, attempt = failed, ?delay, reason = %last, "retrying");
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }

    /// A token-endpoint form post: paced and retried like any request, but without a
    /// concurrency slot, because it runs while an admin request already holds one.
    pub(crate) async fn post_token_form(
        &self,
        form: &[(&str, &str)],
    ) -> Result<ApiResponse, SinkError> {
        let path = format!(
            "/realms/{}/protocol/openid-connect/token",
            encode_segment(&self.settings.auth_realm)
        );
        let url = format!("{}{}", self.settings.base_url(), path);
        let mut failed: u32 = 0;
        loop {
            self.throttle.pace().await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let result = read_response(self.http.post(&url).form(form)).await;
            let (disposition, retry_after, last) = match result {
                Ok(resp) => {
                    self.stats.count_status(&resp.status.to_string());
                    match classify_status(resp.status) {
                        Disposition::Done => return Ok(resp),
                        d => (d, resp.retry_after, format!("HTTP {}", resp.status)),
                    }
                }
                Err(err) => {
                    self.stats
                        .count_status(&format!("error:{}", transport_label(&err)));
                    let d = classify_transport(&err);
                    if d == Disposition::Done {
                        return Err(SinkError::HttpClient(err.to_string()));
                    }
                    (d, None, error_chain(&err))
                }
            };
            if disposition == (Disposition::Retry { slow_down: true }) {
                self.throttle.slow_down();
            }
            failed += 1;
            if failed >= self.backoff.max_attempts() {
                return Err(SinkError::RetriesExhausted {
                    method: "POST".into(),
                    path,
                    attempts: failed,
                    last,
                });
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            let delay = self.backoff.delay(failed, retry_after);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
}

async fn read_response(builder: reqwest::RequestBuilder) -> Result<ApiResponse, reqwest::Error> {
    let resp = builder.send().await?;
    let status = resp.status().as_u16();
    let header = |name: reqwest::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header(reqwest::header::LOCATION);
    let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(&v));
    let body = resp.bytes().await?.to_vec();
    Ok(ApiResponse {
        status,
        location,
        retry_after,
        body,
    })
}

/// Display of an error and its sources ("error sending request: connection closed ...").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn prefixed(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" {message}")
    }
}

/// One Admin REST request. The body is JSON text built by the sink (it may hold credential
/// data, so it is never formatted into a message).
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    /// Path after the server root, e.g. `/admin/realms/acme/users`.
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) replay: Replay,
}

impl ApiRequest {
    pub(crate) fn get(path: String) -> Self {
        ApiRequest {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            replay: Replay::Safe,
        }
    }

    /// A request without a body (`DELETE`, `PUT /users/{id}/groups/{group}`, ...).
    pub(crate) fn new(method: Method, path: String) -> Self {
        ApiRequest {
            method,
            path,
            query: Vec::new(),
            body: None,
            replay: Replay::Safe,
        }
    }

    pub(crate) fn with_json<T: Serialize + ?Sized>(
        method: Method,
        path: String,
        body: &T,
    ) -> Result<Self, SinkError> {
        let body = serde_json::to_vec(body).map_err(|e| SinkError::Decode {
            method: method.to_string(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(ApiRequest {
            method,
            path,
            query: Vec::new(),
            body: Some(body),
            replay: Replay::Safe,
        })
    }

    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub(crate) fn replay(mut self, replay: Replay) -> Self {
        self.replay = replay;
        self
    }
}

/// A complete response (body read).
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

impl ApiResponse {
    pub(crate) fn json<T: DeserializeOwned>(&self, req: &ApiRequest) -> Result<T, SinkError> {
        serde_json::from_slice(&self.body).map_err(|e| SinkError::Decode {
            method: req.method.to_string(),
            path: req.path.clone(),
            message: e.to_string(),
        })
    }

    /// Keycloak's message from an error body (`errorMessage`, `error_description`, ...), or the
    /// start of a non-JSON body.
    pub(crate) fn message(&self) -> String {
        let text = match serde_json::from_slice::<ErrorRepresentation>(&self.body)
            .ok()
            .and_then(|e| e.message())
        {
            Some(m) => m,
            None => String::from_utf8_lossy(&self.body).trim().to_string(),
        };
        truncate_chars(&text, MAX_MESSAGE_CHARS)
    }

    /// The last path segment of `Location` (the id of a created group, the name of a created role).
    pub(crate) fn location_id(&self) -> Option<String> {
        let loc = self.location.as_deref()?;
        let last = loc.trim_end_matches('/').rsplit('/').next()?;
        (!last.is_empty()).then(|| last.to_string())
    }

    pub(crate) fn into_error(self, req: &ApiRequest) -> SinkError {
        let message = self.message();
        let method = req.method.to_string();
        let path = req.path.clone();
        match self.status {
            403 => SinkError::Forbidden {
                method,
                path,
                message,
            },
            status => SinkError::Api {
                method,
                path,
                status,
                message,
            },
        }
    }
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Percent-encodes one URL path segment (everything but RFC 3986 unreserved characters).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Live counters.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) requests: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) token_grants: AtomicU64,
    pub(crate) token_refreshes: AtomicU64,
    pub(crate) reauthentications: AtomicU64,
    pub(crate) unknown_outcomes: AtomicU64,
    by_status: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    fn count_status(&self, label: &str) {
        let mut map = match self.by_status.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        *map.entry(label.to_string()).or_default() += 1;
    }

    fn snapshot(&self, rate_reductions: u64) -> RequestStats {
        let by_status = match self.by_status.lock() {
            Ok(m) => m.clone(),
            Err(p) => p.into_inner().clone(),
        };
        RequestStats {
            requests_total: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            requests_by_status: by_status,
            token_grants: self.token_grants.load(Ordering::Relaxed),
            token_refreshes: self.token_refreshes.load(Ordering::Relaxed),
            reauthentications: self.reauthentications.load(Ordering::Relaxed),
            unknown_outcomes: self.unknown_outcomes.load(Ordering::Relaxed),
            rate_reductions,
        }
    }
}

/// Request counters (since the client was built, or between two snapshots with [`RequestStats::since`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// HTTP requests sent, token requests and retries included.
    pub requests_total: u64,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// Responses by status code (`"200"`, `"429"`) and transport failures (`"error:timeout"`).
    pub requests_by_status: BTreeMap<String, u64>,
    /// Full grants (password / client credentials).
    pub token_grants: u64,
    /// Refresh-token grants.
    pub token_refreshes: u64,
    /// Admin requests answered 401 and repeated with a fresh token.
    pub reauthentications: u64,
    /// Writes whose effect was unknown (timeout / dropped connection) and had to be reconciled.
    pub unknown_outcomes: u64,
    /// Times the request rate was halved after load shedding.
    pub rate_reductions: u64,
}

impl RequestStats {
    /// The difference `self - earlier`.
    pub fn since(&self, earlier: &RequestStats) -> RequestStats {
        let mut by_status = self.requests_by_status.clone();
        for (k, v) in &earlier.requests_by_status {
            if let Some(n) = by_status.get_mut(k) {
                *n = n.saturating_sub(*v);
            }
        }
        by_status.retain(|_, n| *n > 0);
        RequestStats {
            requests_total: self.requests_total.saturating_sub(earlier.requests_total),
            retries: self.retries.saturating_sub(earlier.retries),
            requests_by_status: by_status,
            token_grants: self.token_grants.saturating_sub(earlier.token_grants),
            token_refreshes: self.token_refreshes.saturating_sub(earlier.token_refreshes),
            reauthentications: self
                .reauthentications
                .saturating_sub(earlier.reauthentications),
            unknown_outcomes: self
                .unknown_outcomes
                .saturating_sub(earlier.unknown_outcomes),
            rate_reductions: self.rate_reductions.saturating_sub(earlier.rate_reductions),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("acme"), "acme");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn messages_come_from_keycloak_error_bodies() {
        let resp = |body: &str| ApiResponse {
            status: 409,
            location: None,
            retry_after: None,
            body: body.as_bytes().to_vec(),
        };
        assert_eq!(
            resp(r#"{"errorMessage":"User with user name a already exists."}"#).message(),
            "User with user name a already exists."
        );
        assert_eq!(
            resp(r#"{"error":"unknown_error","error_description":"For more on this error consult the server log."}"#).message(),
            "For more on this error consult the server log."
        );
        assert_eq!(resp("plain text").message(), "plain text");
        assert_eq!(
            resp(&"x".repeat(2_000)).message().chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn location_ids_are_the_last_segment() {
        let resp = ApiResponse {
            status: 201,
            location: Some("http://kc/admin/realms/acme/groups/1234-abcd".into()),
            retry_after: None,
            body: vec![],
        };
        assert_eq!(resp.location_id().as_deref(), Some("1234-abcd"));
    }

    #[test]
    fn an_unreadable_ca_certificate_is_reported_with_its_path() {
        let mut settings = crate::config::ConnectionSettings::new(
            "https://kc.example",
            "acme",
            crate::config::Auth::ClientCredentials { secret: "s".into() },
        );
        settings.ca_cert = Some("/nonexistent/ca.pem".into());
        match KeycloakClient::new(settings.clone()) {
            Err(SinkError::CaCert { path, .. }) => {
                assert_eq!(path, std::path::PathBuf::from("/nonexistent/ca.pem"))
            }
            other => panic!("expected a CA error, got {other:?}"),
        }
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        settings.ca_cert = Some(junk);
        assert!(matches!(
            KeycloakClient::new(settings),
            Err(SinkError::CaCert { .. })
        ));
    }

    #[test]
    fn stats_difference() {
        let mut a = RequestStats {
            requests_total: 10,
            ..Default::default()
        };
        a.requests_by_status.insert("200".into(), 8);
        a.requests_by_status.insert("429".into(), 2);
        let mut b = a.clone();
        b.requests_total = 15;
        b.requests_by_status.insert("200".into(), 13);
        let d = b.since(&a);
        assert_eq!(d.requests_total, 5);
        assert_eq!(
            d.requests_by_status,
            BTreeMap::from([("200".to_string(), 5)])
        );
    }
}
