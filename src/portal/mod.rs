//! The runbook portal: the on-call engineer's web pages, served by `lore serve` beside
//! the API. Search (`/`, `/search`), document pages (`/docs/{id}`), entity pages with a
//! dependency picture (`/services/{name}`), the catalog (`/services`) and the incident
//! page (`/incident`). Pages are HTML built on the server (`html.rs` escapes every
//! value; `markdown.rs` sanitises rendered documents; `svg.rs` and `layout.rs` draw the
//! picture), so they work without script; `assets/app.js` only adds as-you-type search
//! and keyboard moves. Assets are compiled into the binary; nothing is fetched from
//! elsewhere. Handlers are thin: the page is built on the blocking pool; an error is an
//! HTML page with the status the API would give.

mod catalog;
mod document;
mod html;
mod incident;
mod layout;
mod markdown;
mod search;
mod service;
mod snippet;
mod svg;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::Engine;
use crate::error::ErrorCode;
use crate::server::AppState;

/// Scripts and styles from the portal's own assets only: a document's text can never
/// run script, even if sanitising missed something.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// An HTML response with the portal's headers.
fn html_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}

/// An error shown as a page.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError { status, message: message.into() }
    }
}

impl From<crate::Error> for PageError {
    fn from(err: crate::Error) -> PageError {
        let status = match err.code() {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status.is_server_error() {
            tracing::error!(error = %err, "internal error");
            "internal error; see the server log".to_string()
        } else {
            err.to_string()
        };
        PageError { status, message }
    }
}

impl From<QueryRejection> for PageError {
    fn from(r: QueryRejection) -> PageError {
        PageError::new(r.status(), r.body_text())
    }
}

impl From<PathRejection> for PageError {
    fn from(r: PathRejection) -> PageError {
        PageError::new(r.status(), r.body_text())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let body = format!(
            "<h1>{} {}</h1><p class=\"banner stale\" role=\"alert\">{}</p>\
             <p><a href=\"/search\">Search</a> or open the <a href=\"/services\">catalog</a>.</p>",
            self.status.as_u16(),
            html::esc(reason),
            html::esc(&self.message)
        );
        html_response(self.status, html::page(reason, &body))
    }
}

/// Builds a page on the blocking pool.
async fn render(
    state: &AppState,
    f: impl FnOnce(&Engine) -> crate::error::Result<String> + Send + 'static,
) -> Result<Response, PageError> {
    let engine = state.engine().clone();
    let body = tokio::task::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| PageError::from(crate::Error::Internal(e.to_string())))??;
    Ok(html_response(StatusCode::OK, body))
}

/// `/` and `/search`: the search page.
pub(crate) async fn search(
    State(state): State<AppState>,
    query: Result<Query<search::SearchParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(p) = query?;
    render(&state, move |e| search::page(e, &p)).await
}

/// `/docs/{id}`.
pub(crate) async fn document(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let Path(id) = path?;
    render(&state, move |e| document::page(e, &id)).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct DepthQuery {
    depth: Option<usize>,
}

/// `/services/{name}`.
pub(crate) async fn service(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<DepthQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Path(name) = path?;
    let Query(q) = query?;
    render(&state, move |e| service::page(e, &name, q.depth)).await
}

/// `/services`.
pub(crate) async fn catalog(
    State(state): State<AppState>,
    query: Result<Query<catalog::CatalogParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(p) = query?;
    render(&state, move |e| catalog::page(e, &p)).await
}

/// `/incident`.
pub(crate) async fn incident(
    State(state): State<AppState>,
    query: Result<Query<incident::IncidentParams>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(p) = query?;
    render(&state, move |e| incident::page(e, &p)).await
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// `/portal/style.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/style.css"))
}

/// `/portal/app.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("assets/app.js"))
}

/// `/favicon.svg`.
pub(crate) async fn favicon() -> Response {
    asset("image/svg+xml", include_str!("assets/favicon.svg"))
}

/// An unknown route asked for by a browser (outside `/v1`): an HTML 404.
pub(crate) fn wants_page(headers: &HeaderMap, uri: &Uri) -> bool {
    let path = uri.path();
    !(path.starts_with("/v1") || path.starts_with("/mcp"))
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

/// The HTML 404 page.
pub(crate) fn not_found(uri: &Uri) -> Response {
    PageError::new(StatusCode::NOT_FOUND, format!("no page at {}", uri.path())).into_response()
}
