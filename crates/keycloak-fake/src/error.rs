//! Error answers in Keycloak's shapes.
//!
//! Keycloak writes three kinds of error bodies (keycloak-target.md §2 "Errors", §3):
//! `ErrorRepresentation` (`{"errorMessage": ...}`) from `ErrorResponse.error/exists`;
//! `{"error": <message>}` from a `WebApplicationException` such as `NotFoundException("User
//! not found")`, mapped by `KeycloakErrorHandler`; and for unexpected exceptions
//! `{"error":"unknown_error","error_description":"For more on this error consult the server
//! log."}` (JSON problems: `"Cannot parse the JSON"`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// `error_description` of unexpected server errors.
pub const SERVER_LOG_DESCRIPTION: &str = "For more on this error consult the server log.";
/// `error_description` when a body could not be parsed.
pub const CANNOT_PARSE_JSON: &str = "Cannot parse the JSON";

/// An error answer: status, optional JSON body, optional extra headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, body: Value) -> Self {
        ApiError {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    /// `ErrorResponse.error(message, status)` → `{"errorMessage": ...}`.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::new(status, json!({ "errorMessage": message.into() }))
    }

    /// `ErrorResponse.exists(message)` → 409 `{"errorMessage": ...}`.
    pub fn exists(message: impl Into<String>) -> Self {
        ApiError::message(StatusCode::CONFLICT, message)
    }

    /// A `WebApplicationException` with a message → `{"error": message}`.
    pub fn web(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::new(status, json!({ "error": message.into() }))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::web(StatusCode::NOT_FOUND, message)
    }

    /// An unexpected exception (RuntimeException, NPE, reaper timeout): 500 `unknown_error`.
    pub fn unknown() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "unknown_error", "error_description": SERVER_LOG_DESCRIPTION }),
        )
    }

    /// A body Jackson could not bind (unknown property, wrong type): `status` is 400 for
    /// JAX-RS bodies and 500 inside partialImport (§2 "Errors").
    pub fn json(status: StatusCode) -> Self {
        ApiError::new(
            status,
            json!({ "error": "unknown_error", "error_description": CANNOT_PARSE_JSON }),
        )
    }

    /// OAuth token-endpoint error.
    pub fn oauth(status: StatusCode, error: &str, description: &str) -> Self {
        ApiError::new(
            status,
            json!({ "error": error, "error_description": description }),
        )
    }

    /// Admin API without a valid bearer token (`NotAuthorizedException("Bearer")`).
    pub fn unauthorized() -> Self {
        let mut err = ApiError::web(StatusCode::UNAUTHORIZED, "HTTP 401 Unauthorized");
        err.headers.push(("www-authenticate", "Bearer".to_string()));
        err
    }

    /// Admin API caller lacking the role (§1 "Forbidden → 403").
    pub fn forbidden() -> Self {
        ApiError::web(StatusCode::FORBIDDEN, "HTTP 403 Forbidden")
    }

    pub fn realm_not_found() -> Self {
        ApiError::not_found("Realm not found.")
    }

    pub fn user_not_found() -> Self {
        ApiError::not_found("User not found")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, axum::Json(body)).into_response(),
            None => self.status.into_response(),
        };
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
        response
    }
}
