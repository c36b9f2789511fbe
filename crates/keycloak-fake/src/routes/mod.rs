//! Handlers of the emulated endpoints, one module per resource family, and the helpers they
//! share (strict body parsing, query parameters, standard answers).

pub mod clients;
pub mod groups;
pub mod misc;
pub mod partial_import;
pub mod realms;
pub mod roles;
pub mod token;
pub mod users;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Keycloak's default page size for `max` (`Constants.DEFAULT_MAX_RESULTS`).
pub const DEFAULT_MAX_RESULTS: usize = 100;

pub type Query = axum::extract::Query<HashMap<String, String>>;

/// Parses a JAX-RS JSON body: wrong media type → 415; a body Jackson cannot bind (unknown
/// property in a strict representation, wrong type) → 400 "Cannot parse the JSON"
/// (keycloak-target.md §3 "Unknown JSON fields → 400").
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(ApiError::web(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "HTTP 415 Unsupported Media Type",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        // Only the position: serde's message can quote a value from the body.
        tracing::debug!(kind = ?e.classify(), line = e.line(), column = e.column(), "request body rejected");
        ApiError::json(StatusCode::BAD_REQUEST)
    })
}

pub fn json(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(value)).into_response()
}

pub fn ok(value: Value) -> Response {
    json(StatusCode::OK, value)
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// 201 with a `Location` header and no body.
pub fn created(location: &str) -> Response {
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// 201 with a `Location` header and a JSON body (groups in newer versions).
pub fn created_with(location: &str, value: Value) -> Response {
    let mut response = json(StatusCode::CREATED, value);
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Percent-encodes one path segment of a `Location` URL.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn q_bool(q: &HashMap<String, String>, key: &str) -> Option<bool> {
    q.get(key).map(|v| v.eq_ignore_ascii_case("true"))
}

pub fn q_usize(q: &HashMap<String, String>, key: &str) -> Result<Option<usize>, ApiError> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n < 0 => Ok(None),
            Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            // JAX-RS cannot convert the parameter: the resource method is not found.
            Err(_) => Err(ApiError::not_found("HTTP 404 Not Found")),
        },
    }
}

/// Applies `first`/`max` paging (default max 100).
pub fn page<T>(items: Vec<T>, q: &HashMap<String, String>) -> Result<Vec<T>, ApiError> {
    let first = q_usize(q, "first")?.unwrap_or(0);
    let max = q_usize(q, "max")?.unwrap_or(DEFAULT_MAX_RESULTS);
    Ok(items.into_iter().skip(first).take(max).collect())
}
