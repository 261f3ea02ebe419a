//! `GET /v1/queries` (names, descriptions, parameter schemas) and
//! `POST /v1/queries/{name}` (JSON parameters → the query's answer).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};

use super::api::blocking;
use super::{ApiError, AppState};
use crate::queries::Answer;

pub(super) async fn list(State(state): State<AppState>) -> Json<serde_json::Value> {
    let diagnostics: Vec<String> =
        state.queries.diagnostics.iter().map(ToString::to_string).collect();
    Json(serde_json::json!({ "queries": state.queries.infos(), "diagnostics": diagnostics }))
}

pub(super) async fn run(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<Answer>, ApiError> {
    let params = match body {
        Ok(Json(serde_json::Value::Object(map))) => map,
        Ok(Json(serde_json::Value::Null)) => serde_json::Map::new(),
        Ok(Json(_)) => {
            return Err(ApiError::bad_request("body: expected a JSON object of parameters"));
        }
        Err(rejection) if rejection.status() == axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            return Err(rejection.into());
        }
        Err(rejection) => return Err(rejection.into()),
    };
    if state.queries.get(&name).is_none() {
        return Err(ApiError::not_found(format!("no query named `{name}`; see GET /v1/queries")));
    }
    let queries = state.queries.clone();
    Ok(Json(blocking(&state, move |e| queries.run(e, &name, &params)).await?))
}
