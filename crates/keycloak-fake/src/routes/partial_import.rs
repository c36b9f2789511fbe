//! `POST /admin/realms/{realm}/partialImport` (keycloak-target.md §2, §11 checklist 6–8).
//!
//! The body is read with Keycloak's strict mapper: unknown keys are ignored at the top level
//! only; a bad nested field is wrapped into `ModelException("unable to read contents from
//! stream")` and answered 500 "Cannot parse the JSON" (not 400). The realm stays locked for
//! the whole transaction.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::PartialImportRepresentation;
use serde_json::json;

use crate::auth::Need;
use crate::error::{ApiError, CANNOT_PARSE_JSON};
use crate::import::{self, ImportEnv, TxBudget};
use crate::routes::ok;
use crate::server::Shared;
use crate::stats::lock;

pub async fn partial_import(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageRealm)?;
    let rep: PartialImportRepresentation = serde_json::from_slice(&body).map_err(|e| {
        // Only the position: serde's message can quote a value (a hash) from the body.
        tracing::debug!(kind = ?e.classify(), line = e.line(), column = e.column(), "partialImport body rejected");
        // A syntax error surfaces as JsonParseException (error "invalid_request"); a
        // binding error (unknown nested field, bad ifResourceExists) as "unknown_error".
        let code = if e.is_syntax() || e.is_eof() {
            "invalid_request"
        } else {
            "unknown_error"
        };
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": code, "error_description": CANNOT_PARSE_JSON }),
        )
    })?;
    let fail_names = shared.fail_user_names();
    let env = ImportEnv {
        providers: &shared.config.hash_providers,
        now_ms: shared.now_ms(),
        fail_user_names: &fail_names,
        keep_client_ids: false,
    };
    let budget = TxBudget {
        timeout: shared.config.transaction_timeout,
        cost_per_resource: shared.config.import_cost_per_resource,
    };
    let mut r = lock(&realm);
    let results = import::partial_import(&mut r, &rep, &env, &budget)?;
    Ok(ok(serde_json::to_value(&results).unwrap_or_default()))
}
