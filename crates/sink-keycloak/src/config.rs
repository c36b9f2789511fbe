//! Settings for talking to Keycloak and for a load run, with their documented defaults and a
//! pure `validate()` step (no I/O) that the CLI runs before connecting.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::SinkError;

/// Realm the admin authenticates against when none is given.
pub const DEFAULT_AUTH_REALM: &str = "master";
/// Public client used for the admin password grant (keycloak-target.md §1).
pub const DEFAULT_CLIENT_ID: &str = "admin-cli";
/// Per-request timeout. A partialImport of [`DEFAULT_BATCH_SIZE`] pre-hashed users takes well under
/// a second on a healthy server; a minute is the usual reverse-proxy ceiling (§2 "Performance").
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Requests per second across all requests (token grants included).
pub const DEFAULT_RATE: f64 = 20.0;
/// Requests in flight at once (and partialImport batches in flight at once).
pub const DEFAULT_CONCURRENCY: usize = 2;
/// Users per partialImport request, chosen by measurement (BENCHMARKS.md "apply"): 250 is the
/// smallest size that keeps a load within 5 requests per 1,000 users (4.0 measured, token
/// refreshes included; 100 needed 10), requests stay 130–200 KiB (below nginx's 1 MiB default
/// body limit), and at Keycloak's documented ~1 s per 50 pre-hashed users a batch takes ~5 s —
/// far below proxy timeouts (~60 s) and the 300 s transaction reaper even on pre-26.3 servers
/// whose persistence context grows per entity (keycloak-target.md §2, §8). Bisecting a failing
/// batch takes 8 levels.
pub const DEFAULT_BATCH_SIZE: usize = 250;
/// Largest accepted batch: beyond this a single transaction risks the 300 s reaper (§2).
pub const MAX_BATCH_SIZE: usize = 1_000;
/// Attempts per request (first try included) for transient failures.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// First backoff delay; doubles per attempt.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(500);
/// Ceiling for one backoff delay, and for an honoured `Retry-After`.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
/// Seed of the jitter RNG when none is given (runs stay reproducible).
pub const DEFAULT_RETRY_SEED: u64 = 0x6b63_6d69_6772_6174;

/// Where and how to connect. Secrets live in [`Auth`] as `SecretString` (Debug prints them redacted).
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Server root, e.g. `https://kc.example.com` (append `/auth` for Keycloak ≤ 16).
    pub url: String,
    /// Realm to load into.
    pub realm: String,
    /// Realm the admin authenticates against ([`DEFAULT_AUTH_REALM`]).
    pub auth_realm: String,
    /// Client used for the token request ([`DEFAULT_CLIENT_ID`]).
    pub client_id: String,
    pub auth: Auth,
    /// Extra PEM root certificate (private CA) added to the built-in roots.
    pub ca_cert: Option<PathBuf>,
    /// Skip TLS certificate verification (only when explicitly asked; logs a warning).
    pub insecure: bool,
    pub request_timeout: Duration,
    /// Rate, concurrency and retry policy for every request of this client.
    pub traffic: TrafficSettings,
}

impl ConnectionSettings {
    /// Settings with every default filled in.
    pub fn new(url: impl Into<String>, realm: impl Into<String>, auth: Auth) -> Self {
        ConnectionSettings {
            url: url.into(),
            realm: realm.into(),
            auth_realm: DEFAULT_AUTH_REALM.to_string(),
            client_id: DEFAULT_CLIENT_ID.to_string(),
            auth,
            ca_cert: None,
            insecure: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            traffic: TrafficSettings::default(),
        }
    }

    /// Checks the settings without any I/O.
    pub fn validate(&self) -> Result<(), SinkError> {
        let url = self.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(SinkError::InvalidSettings(format!(
                "Keycloak URL must start with http:// or https://, got {url:?}"
            )));
        }
        for (what, value) in [
            ("realm", &self.realm),
            ("auth realm", &self.auth_realm),
            ("client id", &self.client_id),
        ] {
            if value.trim().is_empty() {
                return Err(SinkError::InvalidSettings(format!(
                    "{what} must not be empty"
                )));
            }
        }
        if let Auth::Password { username, .. } = &self.auth {
            if username.trim().is_empty() {
                return Err(SinkError::InvalidSettings(
                    "admin username must not be empty".into(),
                ));
            }
        }
        if self.request_timeout.is_zero() {
            return Err(SinkError::InvalidSettings(
                "request timeout must be positive".into(),
            ));
        }
        self.traffic.validate()
    }

    /// The URL without a trailing slash.
    pub(crate) fn base_url(&self) -> &str {
        self.url.trim().trim_end_matches('/')
    }

    /// The URL for journals and reports: any `user:password@` part removed.
    pub(crate) fn display_url(&self) -> String {
        let url = self.base_url();
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_string();
        };
        let authority_end = rest.find('/').unwrap_or(rest.len());
        match rest[..authority_end].rfind('@') {
            Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
            None => url.to_string(),
        }
    }
}

/// How the sink authenticates (keycloak-target.md §1).
#[derive(Debug, Clone)]
pub enum Auth {
    /// Resource-owner password grant (an admin user, usually in `master` via `admin-cli`).
    Password {
        username: String,
        password: SecretString,
    },
    /// Service account of a confidential client (`client_id` of [`ConnectionSettings`]).
    ClientCredentials { secret: SecretString },
}

/// Request pacing and retry policy.
#[derive(Debug, Clone, Serialize)]
pub struct TrafficSettings {
    /// Requests per second across all requests ([`DEFAULT_RATE`]).
    pub rate: f64,
    /// Requests in flight at once ([`DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
    pub retry: RetrySettings,
}

impl Default for TrafficSettings {
    fn default() -> Self {
        TrafficSettings {
            rate: DEFAULT_RATE,
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetrySettings::default(),
        }
    }
}

impl TrafficSettings {
    pub fn validate(&self) -> Result<(), SinkError> {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(SinkError::InvalidSettings(format!(
                "rate must be a positive number, got {}",
                self.rate
            )));
        }
        if self.concurrency == 0 {
            return Err(SinkError::InvalidSettings(
                "concurrency must be at least 1".into(),
            ));
        }
        if self.retry.max_attempts == 0 {
            return Err(SinkError::InvalidSettings(
                "max attempts must be at least 1".into(),
            ));
        }
        if self.retry.base_delay > self.retry.max_delay {
            return Err(SinkError::InvalidSettings(
                "retry base delay exceeds the max delay".into(),
            ));
        }
        Ok(())
    }
}

/// Exponential backoff with seeded jitter. Tests set the delays to zero or a few milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct RetrySettings {
    /// Attempts per request including the first ([`DEFAULT_MAX_ATTEMPTS`]).
    pub max_attempts: u32,
    pub base_delay: Duration,
    /// Cap for one delay, including an honoured `Retry-After`.
    pub max_delay: Duration,
    /// Seed of the jitter RNG.
    pub seed: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            seed: DEFAULT_RETRY_SEED,
        }
    }
}

/// What to do with a planned user that already exists in the realm (partialImport `ifResourceExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnExisting {
    Skip,
    /// Delete and re-create. Keycloak matches by username, and by email when duplicate emails are
    /// not allowed, so a different user sharing the email is deleted too (§2).
    Overwrite,
    /// Reject the user (the rest of its batch is still loaded).
    Fail,
}

impl OnExisting {
    pub(crate) fn policy(self) -> kcm_keycloak_types::Policy {
        match self {
            OnExisting::Skip => kcm_keycloak_types::Policy::Skip,
            OnExisting::Overwrite => kcm_keycloak_types::Policy::Overwrite,
            OnExisting::Fail => kcm_keycloak_types::Policy::Fail,
        }
    }
}

/// How to make custom attributes visible through the user profile (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserProfileMode {
    /// Declare every missing attribute (admin view/edit); names Keycloak cannot declare fall back
    /// to the unmanaged policy `ADMIN_EDIT`.
    Declare,
    /// Set `unmanagedAttributePolicy` to `ADMIN_EDIT`.
    Unmanaged,
    /// Change nothing; report the attributes that will be invisible.
    Leave,
}

/// Settings of one `apply` run.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    /// Users per partialImport request ([`DEFAULT_BATCH_SIZE`]).
    pub batch_size: usize,
    pub on_existing: OnExisting,
    /// Append-only NDJSON journal (created with mode 0600).
    pub journal: PathBuf,
    /// Continue the run recorded in `journal` instead of starting a new one.
    pub resume: bool,
    /// Create the realm (`{"realm","enabled":true}`) when it does not exist.
    pub create_realm: bool,
    pub user_profile: UserProfileMode,
    /// Identifies the plan (inputs + mapping); a resume with a different fingerprint is refused.
    pub plan_fingerprint: String,
    /// Send at most this many batches, let them finish, then stop as interrupted (trial runs;
    /// tests use it to interrupt a run that a resume then completes).
    pub max_batches: Option<u64>,
}

impl LoadSettings {
    pub fn new(journal: impl Into<PathBuf>) -> Self {
        LoadSettings {
            batch_size: DEFAULT_BATCH_SIZE,
            on_existing: OnExisting::Skip,
            journal: journal.into(),
            resume: false,
            create_realm: false,
            user_profile: UserProfileMode::Declare,
            plan_fingerprint: String::new(),
            max_batches: None,
        }
    }

    pub fn validate(&self) -> Result<(), SinkError> {
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(SinkError::InvalidSettings(format!(
                "batch size must be between 1 and {MAX_BATCH_SIZE}, got {}",
                self.batch_size
            )));
        }
        if self.journal.as_os_str().is_empty() {
            return Err(SinkError::InvalidSettings(
                "a journal path is required".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ConnectionSettings {
        ConnectionSettings::new(
            "https://kc.example/",
            "acme",
            Auth::Password {
                username: "admin".into(),
                password: SecretString::from("pw-canary-91"),
            },
        )
    }

    #[test]
    fn defaults_validate_and_base_url_is_trimmed() {
        let s = settings();
        s.validate().unwrap();
        assert_eq!(s.base_url(), "https://kc.example");
        assert_eq!(s.auth_realm, "master");
        assert_eq!(s.client_id, "admin-cli");
        LoadSettings::new("/tmp/j").validate().unwrap();
    }

    #[test]
    fn invalid_settings_are_refused() {
        let mut s = settings();
        s.url = "kc.example".into();
        assert!(matches!(s.validate(), Err(SinkError::InvalidSettings(_))));
        let mut s = settings();
        s.traffic.rate = 0.0;
        assert!(s.validate().is_err());
        let mut s = settings();
        s.traffic.concurrency = 0;
        assert!(s.validate().is_err());
        let mut l = LoadSettings::new("/tmp/j");
        l.batch_size = MAX_BATCH_SIZE + 1;
        assert!(l.validate().is_err());
    }

    #[test]
    fn display_url_drops_user_info() {
        let mut s = settings();
        s.url = "https://ops:pw-canary-91@kc.example/auth/".into();
        assert_eq!(s.display_url(), "https://kc.example/auth");
        assert_eq!(settings().display_url(), "https://kc.example");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let text = format!("{:?}", settings());
        assert!(!text.contains("pw-canary-91"), "{text}");
        assert!(text.contains("admin"));
    }
}
