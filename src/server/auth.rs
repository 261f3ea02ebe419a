//! The guard in front of every route: the `Host` allow-list (DNS rebinding), the bearer
//! token and its scope ([`crate::auth::Policy`]), and the audit log of every write.
//!
//! A request is a write when it changes the store: `POST`/`DELETE` (and any other
//! method but `GET`/`HEAD`) outside the read-only `POST` routes (`/v1/context`,
//! `/v1/queries/{name}`), and an MCP `tools/call` of a write tool (`add_note`,
//! `feedback`), found by reading the JSON-RPC body. Health probes, the portal page and
//! the OpenAPI document need no token. A refusal is JSON: 401 (no or unknown token, with
//! `WWW-Authenticate: Bearer`) or 403 (a token without the scope, or a `Host` not
//! allowed). Every write that passed the guard is audited with its status.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::auth::{Denied, Scope};
use crate::store::AuditEntry;

/// Routes anyone may read.
const PUBLIC: &[&str] = &["/", "/healthz", "/readyz", "/v1/openapi.json"];
/// `POST` routes that only read.
const READ_POSTS: &[&str] = &["/v1/context", "/v1/queries/"];

/// What a request needs, and how the audit log names it.
async fn classify(
    req: Request,
    max_body: usize,
) -> Result<(Option<Scope>, String, Request), Response> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let what = format!("{method} {path}");
    if PUBLIC.contains(&path.as_str()) && (method == Method::GET || method == Method::HEAD) {
        return Ok((None, what, req));
    }
    if method == Method::GET || method == Method::HEAD {
        return Ok((Some(Scope::Read), what, req));
    }
    if path == "/mcp" || path.starts_with("/mcp/") {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, max_body).await.map_err(|_| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body over the limit").into_response()
        })?;
        let tools = write_tools(&bytes);
        let req = Request::from_parts(parts, Body::from(bytes));
        return Ok(if tools.is_empty() {
            (Some(Scope::Read), what, req)
        } else {
            (Some(Scope::Write), format!("mcp tools/call {}", tools.join(",")), req)
        });
    }
    let read_only =
        READ_POSTS.iter().any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)));
    if method == Method::POST && read_only {
        return Ok((Some(Scope::Read), what, req));
    }
    Ok((Some(Scope::Write), what, req))
}

/// The write tools a JSON-RPC body (one message or a batch) calls.
fn write_tools(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return Vec::new() };
    let messages = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    messages
        .iter()
        .filter(|m| m["method"] == "tools/call")
        .filter_map(|m| m["params"]["name"].as_str())
        .filter(|name| crate::mcp::is_write_tool(name))
        .map(str::to_string)
        .collect()
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Middleware: Host, token and scope; audit of writes.
pub(super) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let policy = state.auth.clone();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if !policy.host_allowed(host.as_deref()) {
        let host = host.unwrap_or_default();
        let message = format!("host `{host}` is not allowed (see [auth] allowed_hosts)");
        return ApiError::new(StatusCode::FORBIDDEN, message).into_response();
    }
    let origin = req.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null"));
    if !policy.origin_allowed(origin) {
        let message = format!(
            "origin `{}` is not allowed: pages of other sites cannot call this server (see \
             [auth] allowed_hosts)",
            origin.unwrap_or_default()
        );
        return ApiError::new(StatusCode::FORBIDDEN, message).into_response();
    }
    let from = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "in-process".to_string(), |c| c.0.to_string());
    let token = bearer(&req);
    let max_body = state.engine.limits().max_request_bytes;
    let (needed, what, req) = match classify(req, max_body).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(needed) = needed else { return next.run(req).await };
    let who = match policy.authorize(token.as_deref(), needed) {
        Ok(t) => t.map_or_else(|| "anonymous".to_string(), |t| t.name.clone()),
        Err(Denied::Unauthorized(message)) => {
            let mut res = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return res;
        }
        Err(Denied::Forbidden(message)) => {
            return ApiError::new(StatusCode::FORBIDDEN, message).into_response();
        }
    };
    let res = next.run(req).await;
    if needed >= Scope::Write {
        let entry =
            AuditEntry { ts: crate::time::now(), who, what, from, status: res.status().as_u16() };
        let engine = state.engine.clone();
        let written =
            tokio::task::spawn_blocking(move || engine.store().append_audit(&entry)).await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::error!("could not write the audit log entry");
        }
    }
    res
}
