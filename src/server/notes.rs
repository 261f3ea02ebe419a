//! Handlers for tribal notes and bundle feedback: `POST /v1/notes`, `GET /v1/notes`,
//! `DELETE /v1/notes/{id}`; `POST /v1/feedback`, `GET /v1/feedback`,
//! `DELETE /v1/feedback/{id}`. Bodies are validated by the engine, which names the field
//! at fault.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::api::blocking;
use super::{ApiError, AppState};
use crate::feedback::{FeedbackList, FeedbackRequest, FeedbackView};
use crate::notes::{NoteList, NoteRequest, NoteView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteBody {
    node: String,
    text: String,
    author: Option<String>,
    expires: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

pub(super) async fn add_note(
    State(state): State<AppState>,
    body: Result<Json<NoteBody>, JsonRejection>,
) -> Result<(StatusCode, Json<NoteView>), ApiError> {
    let Json(b) = body?;
    let req = NoteRequest {
        node: b.node,
        text: b.text,
        author: b.author,
        expires: b.expires,
        tags: b.tags,
    };
    let now = crate::time::now();
    let note = blocking(&state, move |e| e.add_note(&req, now)).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[derive(Debug, Deserialize)]
pub(super) struct NotesQuery {
    node: Option<String>,
    #[serde(default)]
    all: bool,
}

pub(super) async fn list_notes(
    State(state): State<AppState>,
    query: Result<Query<NotesQuery>, QueryRejection>,
) -> Result<Json<NoteList>, ApiError> {
    let Query(q) = query?;
    let now = crate::time::now();
    Ok(Json(blocking(&state, move |e| e.notes(q.node.as_deref(), q.all, now)).await?))
}

pub(super) async fn remove_note(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<NoteView>, ApiError> {
    let Path(id) = path?;
    let now = crate::time::now();
    Ok(Json(blocking(&state, move |e| e.remove_note(&id, now)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FeedbackBody {
    bundle_id: Option<String>,
    focus: Option<String>,
    item: String,
    verdict: String,
    author: Option<String>,
    comment: Option<String>,
}

pub(super) async fn add_feedback(
    State(state): State<AppState>,
    body: Result<Json<FeedbackBody>, JsonRejection>,
) -> Result<(StatusCode, Json<FeedbackView>), ApiError> {
    let Json(b) = body?;
    let req = FeedbackRequest {
        bundle_id: b.bundle_id,
        focus: b.focus,
        item: b.item,
        verdict: b.verdict,
        author: b.author,
        comment: b.comment,
    };
    let now = crate::time::now();
    let feedback = blocking(&state, move |e| e.add_feedback(&req, now)).await?;
    Ok((StatusCode::CREATED, Json(feedback)))
}

#[derive(Debug, Deserialize)]
pub(super) struct FeedbackQuery {
    focus: Option<String>,
}

pub(super) async fn list_feedback(
    State(state): State<AppState>,
    query: Result<Query<FeedbackQuery>, QueryRejection>,
) -> Result<Json<FeedbackList>, ApiError> {
    let Query(q) = query?;
    Ok(Json(blocking(&state, move |e| e.feedback(q.focus.as_deref())).await?))
}

pub(super) async fn remove_feedback(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<FeedbackView>, ApiError> {
    let Path(id) = path?;
    let now = crate::time::now();
    Ok(Json(blocking(&state, move |e| e.remove_feedback(&id, now)).await?))
}
