//! Admin token manager (keycloak-target.md §1): password or client-credentials grant, proactive
//! renewal at [`RENEW_AT_FRACTION`] of the lifetime, refresh-token grant while the refresh token
//! lives, a full grant otherwise, and a full re-authentication after a 401. One renewal at a time;
//! concurrent callers wait for it. Tokens are `SecretString`s and never formatted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::client::Inner;
use crate::config::Auth;
use crate::error::SinkError;

/// Renew an access or refresh token once this fraction of its lifetime has passed; the rest
/// covers clock skew and requests queued behind the pacer.
pub const RENEW_AT_FRACTION: f64 = 0.75;

#[derive(Default)]
pub(crate) struct Tokens {
    state: Mutex<Option<TokenState>>,
    generation: AtomicU64,
}

struct TokenState {
    access: SecretString,
    generation: u64,
    renew_at: Instant,
    refresh: Option<RefreshToken>,
}

struct RefreshToken {
    token: SecretString,
    /// `None` when the server gave no lifetime (0 = no expiry for offline tokens).
    usable_until: Option<Instant>,
}

/// The token endpoint's answer. No `Debug`: it holds tokens.
#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_expires_in: Option<u64>,
}

/// Lifetime assumed when the server omits `expires_in` (Keycloak's master default is 60 s).
const FALLBACK_EXPIRES_IN: u64 = 60;

fn renew_after(seconds: u64) -> Duration {
    Duration::from_secs_f64(seconds as f64 * RENEW_AT_FRACTION)
}

impl Tokens {
    /// Drops the token used by a request that got a 401, unless another task already replaced it.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|s| s.generation == generation) {
            *state = None;
        }
    }
}

impl Inner {
    /// A valid access token and its generation (to invalidate exactly that token on a 401).
    pub(crate) async fn bearer(&self) -> Result<(SecretString, u64), SinkError> {
        let mut state = self.tokens.state.lock().await;
        let now = Instant::now();
        if let Some(s) = state.as_ref() {
            if now < s.renew_at {
                return Ok((s.access.clone(), s.generation));
            }
        }
        let refresh = state
            .take()
            .and_then(|s| s.refresh)
            .filter(|r| match r.usable_until {
                Some(until) => now < until,
                None => true,
            });
        let raw = match refresh {
            Some(r) => match self.refresh_grant(&r.token).await {
                Ok(raw) => raw,
                // An expired SSO session or a revoked refresh token: start over with a full grant.
                Err(SinkError::Auth { .. }) => self.full_grant().await?,
                Err(e) => return Err(e),
            },
            None => self.full_grant().await?,
        };
        let generation = self.tokens.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let obtained = Instant::now();
        let expires_in = raw
            .expires_in
            .filter(|s| *s > 0)
            .unwrap_or(FALLBACK_EXPIRES_IN);
        let refresh = raw.refresh_token.map(|token| RefreshToken {
            token: SecretString::from(token),
            usable_until: raw
                .refresh_expires_in
                .filter(|s| *s > 0)
                .map(|s| obtained + renew_after(s)),
        });
        let access = SecretString::from(raw.access_token);
        *state = Some(TokenState {
            access: access.clone(),
            generation,
            renew_at: obtained + renew_after(expires_in),
            refresh,
        });
        Ok((access, generation))
    }

    async fn full_grant(&self) -> Result<RawToken, SinkError> {
        self.stats.token_grants.fetch_add(1, Ordering::Relaxed);
        let client_id = self.settings.client_id.as_str();
        match &self.settings.auth {
            Auth::Password { username, password } => {
                self.token_call(&[
                    ("grant_type", "password"),
                    ("client_id", client_id),
                    ("username", username.as_str()),
                    ("password", password.expose_secret()),
                ])
                .await
            }
            Auth::ClientCredentials { secret } => {
                self.token_call(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret.expose_secret()),
                ])
                .await
            }
        }
    }

    async fn refresh_grant(&self, refresh: &SecretString) -> Result<RawToken, SinkError> {
        self.stats.token_refreshes.fetch_add(1, Ordering::Relaxed);
        let client_id = self.settings.client_id.as_str();
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh.expose_secret()),
        ];
        if let Auth::ClientCredentials { secret } = &self.settings.auth {
            form.push(("client_secret", secret.expose_secret()));
        }
        self.token_call(&form).await
    }

    async fn token_call(&self, form: &[(&str, &str)]) -> Result<RawToken, SinkError> {
        let resp = self.post_token_form(form).await?;
        if resp.status == 200 {
            return serde_json::from_slice::<RawToken>(&resp.body).map_err(|e| SinkError::Decode {
                method: "POST".into(),
                path: "token endpoint".into(),
                // serde_json names the failing field or position, never the token text.
                message: e.to_string(),
            });
        }
        let realm = self.settings.auth_realm.clone();
        match resp.status {
            400 | 401 | 403 => Err(SinkError::Auth { realm, status: resp.status, message: resp.message() }),
            404 => Err(SinkError::Auth {
                realm: realm.clone(),
                status: 404,
                message: format!("no token endpoint for realm {realm} at this URL (Keycloak ≤ 16 needs the /auth prefix)"),
            }),
            status => Err(SinkError::Api {
                method: "POST".into(),
                path: "token endpoint".into(),
                status,
                message: resp.message(),
            }),
        }
    }
}
