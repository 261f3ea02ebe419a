//! `POST /v1/ingest`: ingest paths on the server's machine, as `lore ingest` does (the
//! CLI forwards its `ingest` here while `lore serve` holds the store). A write: it needs
//! the `write` scope and is audited by the guard (`auth.rs`).
//!
//! Paths must be absolute: the server's working directory is not the caller's. The
//! answer is the object `lore ingest --json` prints: `{"sources", "embeddings"}`.

use std::path::PathBuf;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};

use super::api::blocking;
use super::{ApiError, AppState};
use crate::ingest::SourceReport;
use crate::retrieval::EmbedReport;

/// The body of `POST /v1/ingest`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestRequest {
    /// Absolute paths (files or directories); each is one source.
    pub paths: Vec<PathBuf>,
    /// How the caller typed each path, for the report (the paths themselves when absent).
    #[serde(default)]
    pub shown: Vec<String>,
    /// Do not embed new document sections now.
    #[serde(default)]
    pub no_embed: bool,
}

/// The answer: one report per path, and what was embedded.
#[derive(Debug, Serialize, Deserialize)]
pub struct IngestAnswer {
    /// One report per path, in order.
    pub sources: Vec<SourceReport>,
    /// Embedding of new sections.
    pub embeddings: EmbedReport,
}

impl IngestAnswer {
    /// Runs an ingest of `(path, shown)` roots on `engine` at `now`: what `lore ingest`
    /// does, and what the route answers.
    pub fn run(
        engine: &crate::Engine,
        roots: &[(PathBuf, String)],
        no_embed: bool,
        now: i64,
    ) -> crate::error::Result<IngestAnswer> {
        let sources = engine.ingest_as(roots, now)?;
        let embeddings = if no_embed {
            EmbedReport {
                notice: Some("embedding skipped (--no-embed)".to_string()),
                ..Default::default()
            }
        } else {
            engine.embed_pending()?
        };
        // The graph projection is brought up to date (and saved beside the store) before
        // ingest returns, so the next query, in this process or a fresh one, opens it.
        if let Err(e) = engine.graph(None) {
            tracing::warn!(error = %e, "graph not built after ingest");
        }
        // So are the history graph (`show` reads past edges from it; it is the current
        // graph while no fact was superseded) and the change index, when the write moved
        // them.
        if let Err(e) = engine.save_history() {
            tracing::warn!(error = %e, "history graph not built after ingest");
        }
        if let Err(e) = engine.change_index() {
            tracing::warn!(error = %e, "change index not built after ingest");
        }
        // And the search index, and (the model being loaded when it embedded) the vector
        // index, saved for the next process.
        engine.refresh_search();
        Ok(IngestAnswer { sources, embeddings })
    }
}

pub(super) async fn ingest(
    State(state): State<AppState>,
    body: Result<Json<IngestRequest>, JsonRejection>,
) -> Result<Json<IngestAnswer>, ApiError> {
    let Json(req) = body?;
    if req.paths.is_empty() {
        return Err(ApiError::bad_request("body: `paths` is empty"));
    }
    if let Some(p) = req.paths.iter().find(|p| !p.is_absolute()) {
        return Err(ApiError::bad_request(format!(
            "path `{}` is not absolute: the server resolves no path against your directory",
            p.display()
        )));
    }
    if !req.shown.is_empty() && req.shown.len() != req.paths.len() {
        return Err(ApiError::bad_request("body: `shown` must name every path, or be absent"));
    }
    let roots: Vec<(PathBuf, String)> = req
        .paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (p.clone(), req.shown.get(i).cloned().unwrap_or_else(|| p.display().to_string()))
        })
        .collect();
    let now = crate::time::now();
    Ok(Json(blocking(&state, move |e| IngestAnswer::run(e, &roots, req.no_embed, now)).await?))
}
