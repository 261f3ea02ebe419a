//! Traces over HTTP: the OTLP/HTTP receiver (`POST /v1/traces`, protobuf or JSON, gzip
//! bodies, answered as the OTLP spec says) and the observed graph (`GET /v1/observed`,
//! `GET /v1/drift`).
//!
//! Spans are joined and counted under the source `api:otlp` (`traces::Sink`); spans
//! waiting for their other side stay in memory across requests (bounded). Under
//! back-pressure (more than [`MAX_IN_FLIGHT`] requests at once) the answer is 429 with
//! `Retry-After`; a store that cannot be written is 503 with `Retry-After`.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde::Deserialize;

use super::api::{blocking, parse_at};
use super::{ApiError, AppState};
use crate::traces::{DriftView, ObservedView, Sink};

/// Requests decoded at once before the receiver answers 429.
pub(super) const MAX_IN_FLIGHT: usize = 8;
/// Largest decompressed body.
pub(super) const MAX_DECODED_BYTES: usize = 64 << 20;
/// Source of spans received over HTTP.
pub(super) const SOURCE: &str = "api:otlp";

/// The receiver's state: the join window and counts of `api:otlp`.
#[derive(Debug)]
pub(super) struct Receiver {
    sink: Mutex<Sink>,
    in_flight: AtomicUsize,
}

impl Default for Receiver {
    fn default() -> Receiver {
        Receiver { sink: Mutex::new(Sink::new(SOURCE)), in_flight: AtomicUsize::new(0) }
    }
}

impl Receiver {
    /// What the receiver has read so far.
    pub(super) fn summary(&self) -> crate::traces::TraceSummary {
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).summary.clone()
    }
}

fn retry(status: StatusCode, message: &str) -> Response {
    let mut res = ApiError::new(status, message).into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let receiver = state.receiver.clone();
    if receiver.in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
        receiver.in_flight.fetch_sub(1, Ordering::SeqCst);
        return retry(StatusCode::TOO_MANY_REQUESTS, "too many trace requests at once; retry");
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let json = content_type.starts_with("application/json");
    if !json && !content_type.starts_with("application/x-protobuf") {
        receiver.in_flight.fetch_sub(1, Ordering::SeqCst);
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type application/x-protobuf or application/json",
        )
        .into_response();
    }
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let engine = state.engine.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let _guard = InFlight(&receiver.in_flight);
        let bytes = if gzip {
            let mut out = Vec::new();
            let mut reader =
                flate2::read::GzDecoder::new(&body[..]).take(MAX_DECODED_BYTES as u64 + 1);
            if let Err(e) = reader.read_to_end(&mut out) {
                return Err(ApiError::bad_request(format!("body: not gzip: {e}"))
                    .into_response()
                    .into());
            }
            if out.len() > MAX_DECODED_BYTES {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "decompressed body over 64 MiB",
                )
                .into_response()
                .into());
            }
            out
        } else {
            body.to_vec()
        };
        let req: ExportTraceServiceRequest = if json {
            serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::bad_request(format!(
                    "body: not an OTLP/JSON ExportTraceServiceRequest: {e}"
                ))
                .into_response()
            })?
        } else {
            prost::Message::decode(&bytes[..]).map_err(|e| {
                ApiError::bad_request(format!(
                    "body: not an OTLP protobuf ExportTraceServiceRequest: {e}"
                ))
                .into_response()
            })?
        };
        let (spans, rejected) = crate::traces::decode::from_otlp(req);
        let mut sink = receiver.sink.lock().unwrap_or_else(|p| p.into_inner());
        sink.summary.files += 1;
        sink.summary.rejected += rejected;
        sink.push(spans);
        sink.write(engine.store(), crate::time::now()).map_err(|e| {
            tracing::error!(error = %e, "cannot store received traces");
            Box::new(retry(StatusCode::SERVICE_UNAVAILABLE, "cannot store traces now; retry"))
        })?;
        Ok::<u64, Box<Response>>(rejected)
    })
    .await;
    let rejected = match answer {
        Ok(Ok(r)) => r,
        Ok(Err(res)) => return *res,
        Err(e) => return ApiError::from(crate::Error::Internal(e.to_string())).into_response(),
    };
    let partial = (rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: rejected as i64,
        error_message: format!("{rejected} spans without a valid 8-byte span id were rejected"),
    });
    let response = ExportTraceServiceResponse { partial_success: partial };
    if json {
        (StatusCode::OK, Json(serde_json::to_value(&response).unwrap_or_default())).into_response()
    } else {
        let bytes = prost::Message::encode_to_vec(&response);
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-protobuf")], bytes).into_response()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ObservedQuery {
    node: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

pub(super) async fn observed(
    State(state): State<AppState>,
    query: Result<Query<ObservedQuery>, QueryRejection>,
) -> Result<Json<ObservedView>, ApiError> {
    let Query(q) = query?;
    let (since, until) = (parse_at(q.since.as_deref())?, parse_at(q.until.as_deref())?);
    Ok(Json(blocking(&state, move |e| e.observed(q.node.as_deref(), since, until)).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct DriftQuery {
    since: Option<String>,
}

pub(super) async fn drift(
    State(state): State<AppState>,
    query: Result<Query<DriftQuery>, QueryRejection>,
) -> Result<Json<DriftView>, ApiError> {
    let Query(q) = query?;
    let since = parse_at(q.since.as_deref())?;
    Ok(Json(blocking(&state, move |e| e.drift(since)).await?))
}

/// Keeps the type public for `AppState`.
pub(super) type Shared = Arc<Receiver>;
