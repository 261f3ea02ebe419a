//! Request limits, answered as JSON errors: a body larger than [`MAX_BODY_BYTES`] is a 413
//! (`DefaultBodyLimit`, seen by the `Json` extractor and turned into an `ApiError`), a
//! URI (path and query) longer than [`MAX_URI_BYTES`] a 414.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Largest request body by default (`[limits] max_request_bytes`): room for
/// `MAX_EVENTS_PER_REQUEST` change events of about 400 bytes each, or an Alertmanager
/// payload of many alerts.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Longest path and query string.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Answers 414 to a request whose path and query exceed [`MAX_URI_BYTES`].
pub(super) async fn uri_limit(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        let message = format!("the URI is {len} bytes; at most {MAX_URI_BYTES} are accepted");
        return ApiError::new(StatusCode::URI_TOO_LONG, message).into_response();
    }
    next.run(req).await
}
