//! `POST /v1/context` (a bundle for a service, an alert with labels, or an Alertmanager
//! webhook payload as Alertmanager POSTs it) and `GET /v1/context/{bundle_id}/more`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::api::{blocking, parse_at};
use super::{ApiError, AppState};
use crate::context::{ContextRequest, Format, MoreView};

/// Query parameters that override the body (handy for an Alertmanager `webhook_config`
/// URL such as `/v1/context?budget_tokens=2000`).
#[derive(Debug, Deserialize)]
pub(super) struct ContextQuery {
    budget_tokens: Option<usize>,
    format: Option<String>,
    window: Option<String>,
    at: Option<String>,
}

pub(super) async fn context(
    State(state): State<AppState>,
    query: Result<Query<ContextQuery>, QueryRejection>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let Json(body) = body?;
    let mut req = ContextRequest::from_json(&body)?;
    if let Some(b) = q.budget_tokens {
        req.budget_tokens = Some(b);
    }
    if let Some(f) = &q.format {
        req.format = f.parse::<Format>().map_err(ApiError::bad_request)?;
    }
    if let Some(w) = &q.window {
        req.window_secs = Some(crate::time::parse_span(w).map_err(ApiError::bad_request)?);
    }
    if let Some(at) = parse_at(q.at.as_deref())? {
        req.at = Some(at);
    }
    let format = req.format;
    let (_, text) = blocking(&state, move |e| e.context(&req)).await?;
    let content_type = match format {
        Format::Json => "application/json",
        Format::Markdown => "text/markdown; charset=utf-8",
    };
    Ok(([("content-type", content_type)], text).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct MoreQuery {
    section: String,
    cursor: Option<String>,
    budget_tokens: Option<usize>,
}

pub(super) async fn more(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<MoreQuery>, QueryRejection>,
) -> Result<Json<MoreView>, ApiError> {
    let Path(bundle_id) = path?;
    let Query(q) = query?;
    Ok(Json(
        blocking(&state, move |e| {
            e.context_more(&bundle_id, &q.section, q.cursor.as_deref(), q.budget_tokens)
        })
        .await?,
    ))
}
