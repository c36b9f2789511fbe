//! An in-process Keycloak Admin REST API emulator for tests, faithful to Keycloak's status
//! codes, transaction rules and strict parsing, with fault injection.
//!
//! [`FakeKeycloak::start`] (async) or [`FakeKeycloak::start_in_thread`] (own runtime, for
//! tests that run the `kc-migrate` binary as a subprocess) listens on `127.0.0.1` with an
//! OS-assigned port and serves every endpoint the kc-migrate sink uses: the token endpoint,
//! serverinfo, realms, users, credentials, role mappings, groups, clients, user profile,
//! `partialImport`, required actions, execute-actions-email and identity providers. Each
//! behaviour cites the section of `shared/reference/keycloak-target.md` it follows.
//!
//! The handle gives tests the full stored state ([`FakeKeycloak::realm_users`] shows hidden
//! attributes and credentials), setup helpers, request statistics and live fault control.

pub mod config;
pub mod stats;

mod auth;
mod error;
mod faults;
mod import;
mod model;
mod password;
mod profile;
mod representation;
mod routes;
mod server;

use std::sync::Arc;
use std::time::Duration;

use kcm_keycloak_types::{
    ClientRepresentation, GroupRepresentation, IdentityProviderRepresentation, RoleRepresentation,
    UpConfig, UserRepresentation,
};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{Clock, FakeConfig, Faults, RealmSettings, ServiceClient};
pub use model::SentEmail;
pub use stats::{RequestRecord, Stats};

use crate::import::ImportEnv;
use crate::server::Shared;
use crate::stats::lock;

/// Errors of the test-side helpers.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    #[error("realm '{0}' does not exist")]
    RealmNotFound(String),
    #[error("realm '{0}' already exists")]
    RealmExists(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("rejected: {0}")]
    Rejected(String),
}

/// A running emulator. Dropping it (or [`FakeKeycloak::shutdown`]) stops the server.
pub struct FakeKeycloak {
    /// `http://127.0.0.1:<port>` — the Keycloak base URL (no `/auth`).
    pub base_url: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn bind(config: &FakeConfig) -> std::io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, format!("http://{addr}")))
}

impl FakeKeycloak {
    /// Starts the server on the current tokio runtime.
    pub async fn start(config: FakeConfig) -> std::io::Result<FakeKeycloak> {
        let (listener, base_url) = bind(&config).await?;
        let shared = Arc::new(Shared::new(config, base_url.clone()));
        let (stop, stopped) = watch::channel(false);
        let app = server::router(shared.clone());
        tokio::spawn(server::serve(listener, app, stopped));
        Ok(FakeKeycloak {
            base_url,
            shared,
            stop,
            thread: None,
        })
    }

    /// Starts the server on its own thread with its own runtime, for synchronous tests.
    pub fn start_in_thread(config: FakeConfig) -> std::io::Result<FakeKeycloak> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (listener, base_url) = runtime.block_on(bind(&config))?;
        let shared = Arc::new(Shared::new(config, base_url.clone()));
        let (stop, stopped) = watch::channel(false);
        let app = server::router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("kc-fake".into())
            .spawn(move || {
                runtime.block_on(server::serve(listener, app, stopped));
            })?;
        Ok(FakeKeycloak {
            base_url,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the server (also done on drop).
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The clock used for token expiry and timestamps (advance it in tests).
    pub fn clock(&self) -> Clock {
        self.shared.clock.clone()
    }

    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// The largest number of requests that arrived within any window of this length.
    pub fn max_requests_in_window(&self, window: Duration) -> usize {
        self.stats().max_requests_in_window(window)
    }

    /// Replaces the faults; request numbering for `*_nth` lists restarts at 1.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = lock(&self.shared.faults);
        state.faults = faults;
        state.counter = 0;
    }

    pub fn create_realm(&self, settings: RealmSettings) -> Result<(), FakeError> {
        if self.shared.create_realm(&settings) {
            Ok(())
        } else {
            Err(FakeError::RealmExists(settings.name))
        }
    }

    pub fn realm_exists(&self, realm: &str) -> bool {
        self.shared.realm(realm).is_some()
    }

    fn with_realm<T>(
        &self,
        realm: &str,
        f: impl FnOnce(&mut model::Realm) -> T,
    ) -> Result<T, FakeError> {
        let found = self
            .shared
            .realm(realm)
            .ok_or_else(|| FakeError::RealmNotFound(realm.to_string()))?;
        let mut r = lock(&found);
        Ok(f(&mut r))
    }

    /// Stores a user through the import path (attributes verbatim, id kept, no validation),
    /// returning its id.
    pub fn seed_user(&self, realm: &str, user: UserRepresentation) -> Result<String, FakeError> {
        let providers = self.shared.config.hash_providers.clone();
        let now_ms = self.shared.now_ms();
        self.with_realm(realm, |r| {
            let env = ImportEnv {
                providers: &providers,
                now_ms,
                fail_user_names: &[],
                keep_client_ids: true,
            };
            import::import_user(r, &user, &env).map_err(|e| match e {
                import::ImportError::Conflict(m) => FakeError::Conflict(m),
                import::ImportError::Server(m)
                | import::ImportError::Precondition(m)
                | import::ImportError::PolicyNotMet(m, _) => FakeError::Rejected(m),
            })
        })?
    }

    /// Creates a realm role (or returns the id of the existing one).
    pub fn seed_role(&self, realm: &str, name: &str) -> Result<String, FakeError> {
        self.with_realm(realm, |r| match r.roles.get(name) {
            Some(role) => role.id.clone(),
            None => r.add_realm_role(name, None),
        })
    }

    /// Creates a public client and returns its internal id.
    pub fn seed_client(&self, realm: &str, client_id: &str) -> Result<String, FakeError> {
        self.with_realm(realm, |r| {
            let rep = kcm_keycloak_types::ClientRepresentation {
                client_id: Some(client_id.to_string()),
                public_client: Some(true),
                ..Default::default()
            };
            import::import_client(r, &rep, false).map_err(|e| FakeError::Conflict(format!("{e:?}")))
        })?
    }

    /// Creates a client role (the client must exist) and returns its id.
    pub fn seed_client_role(
        &self,
        realm: &str,
        client_id: &str,
        name: &str,
    ) -> Result<String, FakeError> {
        self.with_realm(realm, |r| {
            let internal = r
                .client_by_client_id(client_id)
                .map(|c| c.id.clone())
                .ok_or_else(|| FakeError::Rejected(format!("client {client_id} does not exist")))?;
            if let Some(existing) = r.clients.get(&internal).and_then(|c| c.roles.get(name)) {
                return Ok(existing.id.clone());
            }
            r.add_client_role(&internal, name)
                .ok_or_else(|| FakeError::Rejected("client vanished".into()))
        })?
    }

    /// Creates the groups of a path (`/a/b/c`), returning the id of the last one.
    pub fn seed_group(&self, realm: &str, path: &str) -> Result<String, FakeError> {
        self.with_realm(realm, |r| {
            let segments = model::split_group_path(path)
                .ok_or_else(|| FakeError::Rejected("empty group path".into()))?;
            let mut parent: Option<String> = None;
            for name in segments {
                let existing = r
                    .sibling_named(parent.as_deref(), &name)
                    .map(|g| g.id.clone());
                let id = match existing {
                    Some(id) => id,
                    None => r
                        .add_group(None, &name, parent.as_deref())
                        .map_err(|d| FakeError::Conflict(d.0))?,
                };
                parent = Some(id);
            }
            parent.ok_or_else(|| FakeError::Rejected("empty group path".into()))
        })?
    }

    /// Everything stored about every user, in username order: all attributes (including
    /// ones the Admin API hides), credentials with `secretData`, role names, group paths.
    pub fn realm_users(&self, realm: &str) -> Vec<UserRepresentation> {
        self.with_realm(realm, |r| {
            r.users_sorted()
                .map(|u| representation::user_full(r, u))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    }

    /// One user (by username, case-insensitive) as [`FakeKeycloak::realm_users`] shows it.
    pub fn user_by_username(&self, realm: &str, username: &str) -> Option<UserRepresentation> {
        self.with_realm(realm, |r| {
            r.user_by_username(username)
                .map(|u| representation::user_full(r, u))
        })
        .ok()
        .flatten()
    }

    /// Deletes a user (by username, case-insensitive) the way `DELETE /users/{id}` does;
    /// returns whether it existed.
    pub fn remove_user(&self, realm: &str, username: &str) -> bool {
        self.with_realm(realm, |r| {
            let id = r.user_by_username(username).map(|u| u.id.clone());
            id.and_then(|id| r.remove_user(&id)).is_some()
        })
        .unwrap_or(false)
    }

    /// Every client of a realm (built-in ones included), in `clientId` order.
    pub fn realm_clients(&self, realm: &str) -> Vec<ClientRepresentation> {
        self.with_realm(realm, |r| {
            let mut list: Vec<ClientRepresentation> =
                r.clients.values().map(representation::client_rep).collect();
            list.sort_by(|a, b| a.client_id.cmp(&b.client_id));
            list
        })
        .unwrap_or_default()
    }

    /// Role names of a client (by `clientId`), sorted.
    pub fn client_role_names(&self, realm: &str, client_id: &str) -> Vec<String> {
        self.with_realm(realm, |r| {
            r.client_by_client_id(client_id)
                .map(|c| c.roles.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .unwrap_or_default()
    }

    pub fn user_count(&self, realm: &str) -> usize {
        self.with_realm(realm, |r| r.user_count()).unwrap_or(0)
    }

    pub fn realm_roles(&self, realm: &str) -> Vec<RoleRepresentation> {
        self.with_realm(realm, |r| {
            r.roles
                .values()
                .map(|role| representation::role_rep(r, role, false))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    }

    /// All groups (flat, with paths), in path order.
    pub fn realm_groups(&self, realm: &str) -> Vec<GroupRepresentation> {
        self.with_realm(realm, |r| {
            let mut list: Vec<GroupRepresentation> = r
                .groups
                .values()
                .map(|g| representation::group_rep(r, g, false, Vec::new()))
                .collect();
            list.sort_by(|a, b| a.path.cmp(&b.path));
            list
        })
        .unwrap_or_default()
    }

    pub fn user_profile(&self, realm: &str) -> Option<UpConfig> {
        self.with_realm(realm, |r| r.profile.clone()).ok()
    }

    /// Sets the realm's `unmanagedAttributePolicy` (`None` disables unmanaged attributes).
    pub fn set_unmanaged_attribute_policy(
        &self,
        realm: &str,
        policy: Option<&str>,
    ) -> Result<(), FakeError> {
        self.with_realm(realm, |r| {
            r.profile.unmanaged_attribute_policy = policy.map(str::to_string)
        })
    }

    /// Identity providers of a realm, in alias order (`enabled` filled in as Keycloak does).
    pub fn identity_providers(&self, realm: &str) -> Vec<IdentityProviderRepresentation> {
        self.with_realm(realm, |r| {
            r.idps.values().map(|i| i.rep.clone()).collect::<Vec<_>>()
        })
        .unwrap_or_default()
    }

    /// Creates an identity provider (any `providerId`) and returns its internal id.
    pub fn seed_identity_provider(
        &self,
        realm: &str,
        rep: IdentityProviderRepresentation,
    ) -> Result<String, FakeError> {
        self.with_realm(realm, |r| {
            let alias = rep
                .alias
                .clone()
                .ok_or_else(|| FakeError::Rejected("identity provider alias missing".into()))?;
            if r.idps.contains_key(&alias) {
                return Err(FakeError::Conflict(format!(
                    "Identity Provider {alias} already exists"
                )));
            }
            let stored = model::StoredIdp::new(rep);
            let id = stored.internal_id.clone();
            r.idps.insert(alias, stored);
            Ok(id)
        })?
    }

    /// Configures (or removes) the realm's SMTP server (`smtpServer.host`).
    pub fn set_smtp_configured(&self, realm: &str, configured: bool) -> Result<(), FakeError> {
        self.with_realm(realm, |r| r.smtp_configured = configured)
    }

    /// Users a password-reset e-mail is due to, judged from the stored users alone: enabled,
    /// with an e-mail and the `UPDATE_PASSWORD` required action. Tests compare `notify`
    /// with it.
    pub fn users_due_a_reset_email(&self, realm: &str) -> Vec<UserRepresentation> {
        self.realm_users(realm)
            .into_iter()
            .filter(|u| u.enabled == Some(true) && u.email.is_some())
            .filter(|u| {
                u.required_actions
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|x| x == "UPDATE_PASSWORD"))
            })
            .collect()
    }

    /// The execute-actions e-mails "sent" in a realm.
    pub fn sent_emails(&self, realm: &str) -> Vec<SentEmail> {
        self.with_realm(realm, |r| r.sent_emails.clone())
            .unwrap_or_default()
    }
}

impl Drop for FakeKeycloak {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl std::fmt::Debug for FakeKeycloak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKeycloak")
            .field("base_url", &self.base_url)
            .finish()
    }
}
