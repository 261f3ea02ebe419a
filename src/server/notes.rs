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

pub(super) async fn add_note(
    State(state): State<AppState>,
    body: Result<Json<NoteRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<NoteView>), ApiError> {
    let Json(req) = body?;
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

pub(super) async fn add_feedback(
    State(state): State<AppState>,
    body: Result<Json<FeedbackRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<FeedbackView>), ApiError> {
    let Json(req) = body?;
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
