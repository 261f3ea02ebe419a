//! Thin handlers: parse the request, run the engine on the blocking pool, answer JSON.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::engine::{ImpactRequest, ImpactView, PathView, SearchRequest, SearchView, ShowView};
use crate::graph::Direction;
use crate::model::Node;

pub(super) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&crate::Engine) -> crate::error::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = state.engine.clone();
    tokio::task::spawn_blocking(move || f(&engine))
        .await
        .map_err(|e| ApiError::from(crate::Error::Internal(e.to_string())))?
        .map_err(ApiError::from)
}

pub(super) fn parse_at(at: Option<&str>) -> Result<Option<i64>, ApiError> {
    at.map(|t| crate::time::parse(t).map_err(ApiError::bad_request)).transpose()
}

pub(super) async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

pub(super) async fn readyz(
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (nodes, edges) =
        blocking(&state, |e| e.graph(None).map(|g| (g.nodes().len(), g.edge_count()))).await?;
    Ok(Json(serde_json::json!({ "status": "ready", "nodes": nodes, "edges": edges })))
}

pub(super) async fn openapi() -> impl IntoResponse {
    ([("content-type", "application/json")], include_str!("openapi.json"))
}

/// No route: JSON for the API, an HTML page for a browser asking for a page.
pub(super) async fn not_found(
    headers: axum::http::HeaderMap,
    uri: Uri,
) -> axum::response::Response {
    if crate::portal::wants_page(&headers, &uri) {
        return crate::portal::not_found(&uri);
    }
    ApiError::not_found("no such route; see /v1/openapi.json").into_response()
}

/// A route that exists but not with this method (axum adds the `Allow` header).
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    let message = format!("{method} is not allowed on {}; see the Allow header", uri.path());
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message)
}

#[derive(Debug, Deserialize)]
pub(super) struct NodesQuery {
    kind: Option<String>,
    q: Option<String>,
}

pub(super) async fn nodes(
    State(state): State<AppState>,
    query: Result<Query<NodesQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query?;
    let nodes: Vec<Node> = blocking(&state, move |e| {
        let g = e.graph(None)?;
        let needle = q.q.unwrap_or_default().to_ascii_lowercase();
        Ok(g.nodes()
            .iter()
            .filter(|n| q.kind.as_deref().is_none_or(|k| n.kind.as_str() == k))
            .filter(|n| {
                needle.is_empty()
                    || n.name.contains(&needle)
                    || n.aliases.iter().any(|a| a.contains(&needle))
            })
            .map(|n| (**n).clone())
            .collect())
    })
    .await?;
    Ok(Json(serde_json::json!({ "nodes": nodes })))
}

#[derive(Debug, Deserialize)]
pub(super) struct ShowQuery {
    at: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ShowQuery>, QueryRejection>,
) -> Result<Json<ShowView>, ApiError> {
    let Path(node) = path?;
    let Query(q) = query?;
    let at = parse_at(q.at.as_deref())?;
    let (since, until) = (parse_at(q.since.as_deref())?, parse_at(q.until.as_deref())?);
    Ok(Json(blocking(&state, move |e| e.show_in(&node, at, since, until)).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct ImpactQuery {
    node: String,
    direction: String,
    depth: Option<usize>,
    edge_kinds: Option<String>,
    #[serde(default)]
    include_plumbing: bool,
    #[serde(default)]
    include_optional: bool,
    at: Option<String>,
    /// `both` (default), `declared` or `observed`.
    #[serde(default)]
    sides: crate::graph::Sides,
}

pub(super) async fn impact(
    State(state): State<AppState>,
    query: Result<Query<ImpactQuery>, QueryRejection>,
) -> Result<Json<ImpactView>, ApiError> {
    let Query(q) = query?;
    let direction: Direction = q.direction.parse().map_err(ApiError::bad_request)?;
    let edge_kinds = q
        .edge_kinds
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(ApiError::bad_request))
        .collect::<Result<Vec<_>, _>>()?;
    let req = ImpactRequest {
        node: q.node,
        direction,
        depth: q.depth,
        edge_kinds,
        include_plumbing: q.include_plumbing,
        include_optional: q.include_optional,
        at: parse_at(q.at.as_deref())?,
        sides: q.sides,
    };
    Ok(Json(blocking(&state, move |e| e.impact(&req)).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct PathQuery {
    from: String,
    to: String,
    #[serde(default)]
    include_plumbing: bool,
    at: Option<String>,
}

pub(super) async fn path(
    State(state): State<AppState>,
    query: Result<Query<PathQuery>, QueryRejection>,
) -> Result<Json<PathView>, ApiError> {
    let Query(q) = query?;
    let at = parse_at(q.at.as_deref())?;
    Ok(Json(blocking(&state, move |e| e.path(&q.from, &q.to, q.include_plumbing, at)).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    q: String,
    kind: Option<String>,
    service: Option<String>,
    team: Option<String>,
    alert: Option<String>,
    mode: Option<String>,
    limit: Option<usize>,
}

pub(super) async fn search(
    State(state): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchView>, ApiError> {
    let Query(q) = query?;
    if q.q.trim().is_empty() {
        return Err(ApiError::bad_request("query parameter `q` is empty"));
    }
    let req = SearchRequest {
        query: q.q,
        kinds: q.kind.map(|k| k.split(',').map(str::to_string).collect()).unwrap_or_default(),
        service: q.service,
        team: q.team,
        alert: q.alert,
        limit: q.limit.unwrap_or(10),
        mode: q.mode.unwrap_or_else(|| "hybrid".to_string()),
    };
    Ok(Json(blocking(&state, move |e| e.search(&req)).await?))
}
