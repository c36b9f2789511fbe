//! Configuration of the emulator: admin credentials, service clients, lifespans, hash
//! providers, the simulated transaction budget, fault injection and the clock.
//!
//! Defaults follow a fresh Keycloak server (keycloak-target.md §1 "Lifespans", §2
//! "Transaction timeout", §4 "Native algorithms per version").

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Master admin user name when none is configured.
pub const DEFAULT_ADMIN_USERNAME: &str = "admin";
/// Master admin password when none is configured.
pub const DEFAULT_ADMIN_PASSWORD: &str = "admin";
/// `master` realm access-token lifespan: `ApplianceBootstrap` sets 60 s (§1).
pub const DEFAULT_ACCESS_TOKEN_LIFESPAN: Duration = Duration::from_secs(60);
/// Refresh tokens are bounded by the SSO idle timeout, 1800 s in `master` (§1).
pub const DEFAULT_REFRESH_TOKEN_LIFESPAN: Duration = Duration::from_secs(1800);
/// SSO max lifespan of `master` (36000 s): refreshing stops working after it (§1).
pub const DEFAULT_SSO_MAX_LIFESPAN: Duration = Duration::from_secs(36_000);
/// Access-token lifespan of realms created later (`accessTokenLifespan=300`, §1).
pub const DEFAULT_REALM_ACCESS_TOKEN_LIFESPAN: Duration = Duration::from_secs(300);
/// Version reported by `GET /admin/serverinfo`.
pub const DEFAULT_KEYCLOAK_VERSION: &str = "26.0.0";
/// Password-hash providers of a stock Keycloak 25+ (§4 "Native algorithms per version").
pub const DEFAULT_HASH_PROVIDERS: [&str; 4] =
    ["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512", "argon2"];
/// Narayana reaper timeout of one partialImport transaction (§2 "Transaction timeout").
pub const DEFAULT_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(300);
/// Simulated cost of importing one resource in a partialImport transaction. At 10 ms a
/// request of more than 30 000 resources exceeds the 300 s budget.
pub const DEFAULT_IMPORT_COST_PER_RESOURCE: Duration = Duration::from_millis(10);
/// Quarkus' default `quarkus.http.limits.max-body-size` (10240K); larger bodies get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// `Retry-After` seconds sent with an injected 429 when none is configured.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;
/// Start of a manual clock: a fixed instant so timestamps in tests are reproducible.
pub const MANUAL_CLOCK_START_MILLIS: i64 = 1_700_000_000_000;

/// A confidential client allowed to use the `client_credentials` grant (§1 "Service account").
#[derive(Clone)]
pub struct ServiceClient {
    /// Realm the client lives in. A client in `master` may administer every realm; a client
    /// in another realm only that realm.
    pub realm: String,
    pub client_id: String,
    /// Never logged or shown in `Debug`.
    pub secret: String,
    /// `realm-management` roles held by the service account (`manage-users`, `view-users`,
    /// `query-users`, `manage-realm`, `view-realm`, `manage-clients`, `create-realm`,
    /// `realm-admin`, ...). `None` means full admin (master `admin` role).
    pub roles: Option<Vec<String>>,
}

impl ServiceClient {
    /// A full-admin service client in `master`.
    pub fn new(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        ServiceClient {
            realm: "master".to_string(),
            client_id: client_id.into(),
            secret: secret.into(),
            roles: None,
        }
    }

    /// Restricts the service account to the given `realm-management` roles.
    pub fn with_roles(mut self, roles: &[&str]) -> Self {
        self.roles = Some(roles.iter().map(|r| r.to_string()).collect());
        self
    }

    /// Moves the client into another realm (it can then administer only that realm).
    pub fn in_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }
}

impl fmt::Debug for ServiceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceClient")
            .field("realm", &self.realm)
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .field("roles", &self.roles)
            .finish()
    }
}

/// Settings of a realm created by the emulator's helpers or pre-created at start.
#[derive(Debug, Clone)]
pub struct RealmSettings {
    pub name: String,
    pub enabled: bool,
    pub duplicate_emails_allowed: bool,
    pub registration_email_as_username: bool,
    pub login_with_email_allowed: bool,
    /// Keycloak password policy text, e.g. `hashAlgorithm(pbkdf2-sha256) and hashIterations(1000)`.
    pub password_policy: Option<String>,
    /// `None`: 300 s like a new realm (§1).
    pub access_token_lifespan: Option<Duration>,
    /// User-profile `unmanagedAttributePolicy` (`ENABLED`, `ADMIN_VIEW`, `ADMIN_EDIT`); `None`
    /// is the default of new realms: unmanaged attributes disabled (§6).
    pub unmanaged_attribute_policy: Option<String>,
    /// `None`: follow [`FakeConfig::smtp_configured`].
    pub smtp_configured: Option<bool>,
}

impl RealmSettings {
    pub fn new(name: impl Into<String>) -> Self {
        RealmSettings {
            name: name.into(),
            enabled: true,
            duplicate_emails_allowed: false,
            registration_email_as_username: false,
            login_with_email_allowed: true,
            password_policy: None,
            access_token_lifespan: None,
            unmanaged_attribute_policy: None,
            smtp_configured: None,
        }
    }
}

/// Injected faults. Every random choice comes from a ChaCha stream seeded with `seed` and
/// selected by the request's number among fault-eligible requests, so the same seed and
/// the same request order give the same faults regardless of timing.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub seed: u64,
    /// Probability of answering 429 with `Retry-After: retry_after_secs` (like a proxy
    /// `limit_req` in front of Keycloak, §1 "Brute force / rate limits").
    pub rate_429: f64,
    pub retry_after_secs: u64,
    /// Probability of answering 503 (`http-max-queued-requests` load shedding, §1).
    pub rate_503: f64,
    /// Probability of reading the request and closing the connection without processing it.
    pub drop_connection_rate: f64,
    /// Probability of processing the request (e.g. applying a partialImport) and then closing
    /// the connection without sending the response.
    pub drop_after_processing_rate: f64,
    /// Extra delay before every eligible request is processed.
    pub latency: Duration,
    /// 1-based numbers (among eligible requests since the faults were set) answered with 500
    /// `unknown_error` without processing.
    pub fail_nth_requests: Vec<u64>,
    /// 1-based numbers of eligible requests dropped before processing.
    pub drop_nth_requests: Vec<u64>,
    /// 1-based numbers of eligible requests processed and then dropped.
    pub drop_after_processing_nth: Vec<u64>,
    /// Usernames (case-insensitive) that make a partialImport batch or a `POST /users` fail
    /// as a record-level problem would: 500 `unknown_error`, nothing persisted.
    pub fail_user_names: Vec<String>,
    /// Route keys (`"POST /admin/realms/{realm}/partialImport"`) the request-level faults apply
    /// to; empty means every Admin API route.
    pub routes: Vec<String>,
    /// Also apply request-level faults to the token endpoint.
    pub include_token_endpoint: bool,
}

/// Time source for token expiry and timestamps: the system clock, or a manual clock that
/// moves only when [`Clock::advance`] is called. Both accept `advance` (an offset).
#[derive(Clone)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

struct ClockInner {
    manual_base: Option<i64>,
    offset_millis: AtomicI64,
}

impl Clock {
    pub fn system() -> Self {
        Clock {
            inner: Arc::new(ClockInner {
                manual_base: None,
                offset_millis: AtomicI64::new(0),
            }),
        }
    }

    /// A clock standing still at [`MANUAL_CLOCK_START_MILLIS`].
    pub fn manual() -> Self {
        Clock::manual_at(MANUAL_CLOCK_START_MILLIS)
    }

    pub fn manual_at(start_millis: i64) -> Self {
        Clock {
            inner: Arc::new(ClockInner {
                manual_base: Some(start_millis),
                offset_millis: AtomicI64::new(0),
            }),
        }
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.inner.offset_millis.fetch_add(ms, Ordering::SeqCst);
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        let base = match self.inner.manual_base {
            Some(base) => base,
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
        };
        base.saturating_add(self.inner.offset_millis.load(Ordering::SeqCst))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("manual", &self.inner.manual_base.is_some())
            .field("now_millis", &self.now_millis())
            .finish()
    }
}

/// Everything the emulator needs to start.
#[derive(Clone)]
pub struct FakeConfig {
    /// 0 lets the OS choose a port on 127.0.0.1.
    pub port: u16,
    pub admin_username: String,
    /// Never logged or shown in `Debug`.
    pub admin_password: String,
    pub service_clients: Vec<ServiceClient>,
    /// Access-token lifespan of `master` (the admin's tokens).
    pub access_token_lifespan: Duration,
    /// Refresh-token (SSO idle) lifespan.
    pub refresh_token_lifespan: Duration,
    /// SSO max lifespan: no refresh beyond it.
    pub sso_max_lifespan: Duration,
    pub keycloak_version: String,
    /// Password-hash provider ids the server has (serverinfo and login verification).
    pub hash_providers: Vec<String>,
    /// partialImport transaction budget (§2): simulated, see `import_cost_per_resource`.
    pub transaction_timeout: Duration,
    /// Simulated time one imported resource (client, role, IdP, group, user) costs inside
    /// a partialImport transaction; a request whose total exceeds `transaction_timeout`
    /// fails with 500 and is rolled back. Deterministic: nothing sleeps.
    pub import_cost_per_resource: Duration,
    /// Whether realms have an SMTP server (execute-actions-email succeeds) by default.
    pub smtp_configured: bool,
    pub max_body_bytes: usize,
    /// Realms created at start, besides `master`.
    pub realms: Vec<RealmSettings>,
    pub faults: Faults,
    pub clock: Clock,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            port: 0,
            admin_username: DEFAULT_ADMIN_USERNAME.to_string(),
            admin_password: DEFAULT_ADMIN_PASSWORD.to_string(),
            service_clients: Vec::new(),
            access_token_lifespan: DEFAULT_ACCESS_TOKEN_LIFESPAN,
            refresh_token_lifespan: DEFAULT_REFRESH_TOKEN_LIFESPAN,
            sso_max_lifespan: DEFAULT_SSO_MAX_LIFESPAN,
            keycloak_version: DEFAULT_KEYCLOAK_VERSION.to_string(),
            hash_providers: DEFAULT_HASH_PROVIDERS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            transaction_timeout: DEFAULT_TRANSACTION_TIMEOUT,
            import_cost_per_resource: DEFAULT_IMPORT_COST_PER_RESOURCE,
            smtp_configured: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            realms: Vec::new(),
            faults: Faults::default(),
            clock: Clock::system(),
        }
    }
}

impl FakeConfig {
    /// Adds a realm to create at start.
    pub fn with_realm(mut self, realm: RealmSettings) -> Self {
        self.realms.push(realm);
        self
    }
}

impl fmt::Debug for FakeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeConfig")
            .field("port", &self.port)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"<redacted>")
            .field("service_clients", &self.service_clients)
            .field("access_token_lifespan", &self.access_token_lifespan)
            .field("refresh_token_lifespan", &self.refresh_token_lifespan)
            .field("sso_max_lifespan", &self.sso_max_lifespan)
            .field("keycloak_version", &self.keycloak_version)
            .field("hash_providers", &self.hash_providers)
            .field("transaction_timeout", &self.transaction_timeout)
            .field("import_cost_per_resource", &self.import_cost_per_resource)
            .field("smtp_configured", &self.smtp_configured)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("realms", &self.realms)
            .field("faults", &self.faults)
            .field("clock", &self.clock)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let config = FakeConfig {
            admin_password: "s3cr3t-admin".into(),
            service_clients: vec![ServiceClient::new("svc", "s3cr3t-client")],
            ..Default::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("svc"));
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual();
        assert_eq!(clock.now_millis(), MANUAL_CLOCK_START_MILLIS);
        clock.advance(Duration::from_secs(61));
        assert_eq!(clock.now_millis(), MANUAL_CLOCK_START_MILLIS + 61_000);
    }
}
