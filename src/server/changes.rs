//! Handlers for change events: `GET /v1/changes` (what changed near a node),
//! `GET /v1/diff` (topology added and removed in a window) and `POST /v1/events` (one
//! event or an array, validated whole before anything is stored).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use serde::Deserialize;

use super::api::{blocking, parse_at};
use super::{ApiError, AppState};
use crate::changes::{self, ChangesRequest, ChangesView, DiffView, EventsReport};

#[derive(Debug, Deserialize)]
pub(super) struct ChangesQuery {
    node: String,
    depth: Option<usize>,
    since: Option<String>,
    until: Option<String>,
    at: Option<String>,
}

pub(super) async fn changes(
    State(state): State<AppState>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<ChangesView>, ApiError> {
    let Query(q) = query?;
    let req = ChangesRequest {
        node: q.node,
        depth: q.depth,
        since: parse_at(q.since.as_deref())?,
        until: parse_at(q.until.as_deref())?,
        at: parse_at(q.at.as_deref())?,
    };
    Ok(Json(blocking(&state, move |e| e.changes(&req)).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct DiffQuery {
    since: String,
    until: Option<String>,
}

pub(super) async fn diff(
    State(state): State<AppState>,
    query: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Json<DiffView>, ApiError> {
    let Query(q) = query?;
    let since = crate::time::parse(&q.since).map_err(ApiError::bad_request)?;
    let until = parse_at(q.until.as_deref())?;
    Ok(Json(blocking(&state, move |e| e.diff(since, until)).await?))
}

pub(super) async fn post_events(
    State(state): State<AppState>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<EventsReport>, ApiError> {
    let Json(body) = body?;
    let events = changes::parse_events_at_most(&body, state.engine.limits().max_events_per_batch)?;
    let now = crate::time::now();
    Ok(Json(blocking(&state, move |e| e.add_events(events, now)).await?))
}
