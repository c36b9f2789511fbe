//! The HTTP server: shared state, the router, request accounting and fault injection, and
//! the connection loop that can close a connection without answering.
//!
//! axum's `serve` owns connections, so the accept loop here drives hyper directly: each
//! connection gets a [`ConnControl`] handle in its requests' extensions; a handler that
//! decides to drop the connection notifies it, and the connection task then drops the
//! connection (TCP close without a response).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::auth::{self, Need, Subject, TokenStore};
use crate::config::{Clock, FakeConfig, Faults, RealmSettings};
use crate::error::ApiError;
use crate::faults::{self, FaultAction};
use crate::model::Realm;
use crate::routes;
use crate::stats::{lock, StatsCollector, UNMATCHED_ROUTE};

/// Closes the connection a request arrived on.
#[derive(Clone)]
pub struct ConnControl(Arc<Notify>);

pub struct FaultState {
    pub faults: Faults,
    /// Eligible requests seen since the faults were set.
    pub counter: u64,
}

/// State shared by all handlers and by the test-side handle.
pub struct Shared {
    pub config: FakeConfig,
    pub base_url: String,
    pub clock: Clock,
    pub realms: Mutex<BTreeMap<String, Arc<Mutex<Realm>>>>,
    pub tokens: Mutex<TokenStore>,
    pub faults: Mutex<FaultState>,
    pub stats: StatsCollector,
}

impl Shared {
    pub fn new(config: FakeConfig, base_url: String) -> Shared {
        let clock = config.clock.clone();
        let shared = Shared {
            base_url,
            clock,
            realms: Mutex::new(BTreeMap::new()),
            tokens: Mutex::new(TokenStore::default()),
            faults: Mutex::new(FaultState {
                faults: config.faults.clone(),
                counter: 0,
            }),
            stats: StatsCollector::new(),
            config,
        };
        let master = RealmSettings::new("master");
        let lifespan = shared.config.access_token_lifespan.as_secs();
        let _ = shared.add_realm(Realm::new(
            &master,
            None,
            lifespan,
            shared.config.smtp_configured,
        ));
        for settings in shared.config.realms.clone() {
            let _ = shared.create_realm(&settings);
        }
        shared
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }

    pub fn realm(&self, name: &str) -> Option<Arc<Mutex<Realm>>> {
        lock(&self.realms).get(name).cloned()
    }

    /// Adds a realm; `false` when the name is taken.
    pub fn add_realm(&self, realm: Realm) -> bool {
        let mut realms = lock(&self.realms);
        if realms.contains_key(&realm.name) {
            return false;
        }
        realms.insert(realm.name.clone(), Arc::new(Mutex::new(realm)));
        true
    }

    /// Creates a realm from test-side settings; `false` when it exists.
    pub fn create_realm(&self, settings: &RealmSettings) -> bool {
        let lifespan = settings
            .access_token_lifespan
            .unwrap_or(crate::config::DEFAULT_REALM_ACCESS_TOKEN_LIFESPAN)
            .as_secs();
        self.add_realm(Realm::new(
            settings,
            None,
            lifespan,
            self.config.smtp_configured,
        ))
    }

    pub fn remove_realm(&self, name: &str) -> bool {
        lock(&self.realms).remove(name).is_some()
    }

    /// Admin API gate: valid token (401), existing realm (404), role (403).
    pub fn admin(
        &self,
        headers: &axum::http::HeaderMap,
        realm: &str,
        need: Need,
    ) -> Result<(Subject, Arc<Mutex<Realm>>), ApiError> {
        let subject = self.authenticate(headers)?;
        let found = self.realm(realm).ok_or_else(ApiError::realm_not_found)?;
        if !auth::permits(&subject, Some(realm), need) {
            return Err(ApiError::forbidden());
        }
        Ok((subject, found))
    }

    pub fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<Subject, ApiError> {
        auth::authenticate(&lock(&self.tokens), headers, self.now_ms())
    }

    pub fn fail_user_names(&self) -> Vec<String> {
        lock(&self.faults).faults.fail_user_names.clone()
    }

    /// The fault for a request to `route`, counting it if eligible; also returns the
    /// latency and `Retry-After` to apply.
    fn fault_for(&self, route_key: &str, route: &str) -> (FaultAction, std::time::Duration, u64) {
        let mut state = lock(&self.faults);
        if !faults::applies_to(&state.faults, route_key, route) {
            return (FaultAction::None, std::time::Duration::ZERO, 0);
        }
        state.counter += 1;
        let n = state.counter;
        let retry_after = if state.faults.retry_after_secs == 0 {
            crate::config::DEFAULT_RETRY_AFTER_SECS
        } else {
            state.faults.retry_after_secs
        };
        (
            faults::decide(&state.faults, n),
            state.faults.latency,
            retry_after,
        )
    }
}

/// Request accounting and request-level faults, run after routing so the route template
/// is known.
async fn track(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
    let method = req.method().to_string();
    let key = format!("{method} {route}");
    let mut guard = shared.stats.begin(&method, &route);
    let (action, latency, retry_after) = shared.fault_for(&key, &route);
    if !latency.is_zero() {
        // Server-side latency is the behaviour being emulated, not a test sleep.
        tokio::time::sleep(latency).await;
    }
    let conn = req.extensions().get::<ConnControl>().cloned();
    let response = match action {
        FaultAction::None => next.run(req).await,
        FaultAction::Fail => ApiError::unknown().into_response(),
        FaultAction::Throttle => {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "429 Too Many Requests").into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            r
        }
        FaultAction::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable").into_response()
        }
        FaultAction::DropBefore | FaultAction::DropAfter => {
            if action == FaultAction::DropBefore {
                // Read the whole request first: the client has sent everything and cannot
                // tell whether it was processed.
                let _ = axum::body::to_bytes(req.into_body(), shared.config.max_body_bytes).await;
            } else {
                let _ = next.run(req).await;
            }
            guard.set_dropped();
            drop(guard);
            if let Some(conn) = conn {
                conn.0.notify_one();
                // The connection task drops this future together with the connection.
                return std::future::pending::<Response>().await;
            }
            return ApiError::unknown().into_response();
        }
    };
    guard.set_status(response.status().as_u16());
    response
}

async fn not_found() -> ApiError {
    ApiError::web(
        StatusCode::NOT_FOUND,
        "Unable to find matching target resource method",
    )
}

pub fn router(shared: Arc<Shared>) -> Router {
    use routes::{clients, groups, misc, partial_import, realms, roles, token, users};
    const R: &str = "/admin/realms/{realm}";
    Router::new()
        .route(
            "/realms/{realm}/protocol/openid-connect/token",
            post(token::token),
        )
        .route("/admin/serverinfo", get(misc::serverinfo))
        .route("/admin/realms", get(realms::list).post(realms::create))
        .route(
            R,
            get(realms::get_one)
                .put(realms::update)
                .delete(realms::delete),
        )
        .route(&format!("{R}/users"), get(users::list).post(users::create))
        .route(&format!("{R}/users/count"), get(users::count))
        .route(
            &format!("{R}/users/profile"),
            get(users::get_profile).put(users::put_profile),
        )
        .route(
            &format!("{R}/users/{{user-id}}"),
            get(users::get_one).put(users::update).delete(users::delete),
        )
        .route(
            &format!("{R}/users/{{user-id}}/credentials"),
            get(users::credentials),
        )
        .route(
            &format!("{R}/users/{{user-id}}/federated-identity"),
            get(users::federated_identities),
        )
        .route(
            &format!("{R}/users/{{user-id}}/reset-password"),
            put(users::reset_password),
        )
        .route(
            &format!("{R}/users/{{user-id}}/execute-actions-email"),
            put(users::execute_actions_email),
        )
        .route(
            &format!("{R}/users/{{user-id}}/role-mappings"),
            get(roles::user_mappings),
        )
        .route(
            &format!("{R}/users/{{user-id}}/role-mappings/realm"),
            get(roles::user_realm_list)
                .post(roles::user_realm_add)
                .delete(roles::user_realm_remove),
        )
        .route(
            &format!("{R}/users/{{user-id}}/role-mappings/clients/{{client-id}}"),
            get(roles::user_client_list)
                .post(roles::user_client_add)
                .delete(roles::user_client_remove),
        )
        .route(
            &format!("{R}/users/{{user-id}}/groups"),
            get(groups::user_groups),
        )
        .route(
            &format!("{R}/users/{{user-id}}/groups/count"),
            get(groups::user_groups_count),
        )
        .route(
            &format!("{R}/users/{{user-id}}/groups/{{groupId}}"),
            put(groups::join).delete(groups::leave),
        )
        .route(&format!("{R}/roles"), get(roles::list).post(roles::create))
        .route(
            &format!("{R}/roles/{{role-name}}"),
            get(roles::get_one).delete(roles::delete),
        )
        .route(
            &format!("{R}/clients"),
            get(clients::list).post(clients::create),
        )
        .route(
            &format!("{R}/clients/{{client-uuid}}"),
            get(clients::get_one).delete(clients::delete),
        )
        .route(
            &format!("{R}/clients/{{client-uuid}}/roles"),
            get(clients::roles_list).post(clients::roles_create),
        )
        .route(
            &format!("{R}/clients/{{client-uuid}}/roles/{{role-name}}"),
            get(clients::role_get).delete(clients::role_delete),
        )
        .route(
            &format!("{R}/groups"),
            get(groups::list).post(groups::create),
        )
        .route(&format!("{R}/groups/count"), get(groups::count))
        .route(
            &format!("{R}/groups/{{group-id}}"),
            get(groups::get_one)
                .put(groups::update)
                .delete(groups::delete),
        )
        .route(
            &format!("{R}/groups/{{group-id}}/children"),
            get(groups::children).post(groups::add_child),
        )
        .route(
            &format!("{R}/groups/{{group-id}}/members"),
            get(groups::members),
        )
        .route(
            &format!("{R}/groups/{{group-id}}/role-mappings"),
            get(roles::group_mappings),
        )
        .route(
            &format!("{R}/groups/{{group-id}}/role-mappings/realm"),
            get(roles::group_realm_list)
                .post(roles::group_realm_add)
                .delete(roles::group_realm_remove),
        )
        .route(
            &format!("{R}/groups/{{group-id}}/role-mappings/clients/{{client-id}}"),
            get(roles::group_client_list)
                .post(roles::group_client_add)
                .delete(roles::group_client_remove),
        )
        .route(
            &format!("{R}/group-by-path/{{*path}}"),
            get(groups::by_path),
        )
        .route(
            &format!("{R}/partialImport"),
            post(partial_import::partial_import),
        )
        .route(
            &format!("{R}/authentication/required-actions"),
            get(misc::required_actions),
        )
        .route(
            &format!("{R}/identity-provider/instances"),
            get(misc::idp_list).post(misc::idp_create),
        )
        .route(
            &format!("{R}/identity-provider/instances/{{alias}}"),
            get(misc::idp_get).delete(misc::idp_delete),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), track))
        .layer(DefaultBodyLimit::max(shared.config.max_body_bytes))
        .with_state(shared)
}

/// Accepts connections until `shutdown` changes; connection tasks are aborted then.
pub async fn serve(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let app = app.clone();
        connections.spawn(async move {
            let kill = Arc::new(Notify::new());
            let control = ConnControl(kill.clone());
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(control.clone());
                    let app = app.clone();
                    async move {
                        let response = app.oneshot(req.map(axum::body::Body::new)).await;
                        Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
                    }
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = kill.notified() => {}
            }
        });
    }
}
