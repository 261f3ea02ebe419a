//! `ApiError`: every HTTP error as JSON `{"error": {"code", "message"}}` with its status,
//! including the framework's own (rejected query, path or body; unknown method; limits).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{Error, ErrorCode};

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

/// The JSON code of an error status (one code per status; `openapi.json` relies on it).
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound.as_str(),
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Unprocessable.as_str(),
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::CONFLICT => ErrorCode::Conflict.as_str(),
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        s if s.is_server_error() => ErrorCode::Internal.as_str(),
        _ => ErrorCode::BadRequest.as_str(),
    }
}

impl ApiError {
    /// An error with `status`, its code and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code_for(status), message: message.into() }
    }

    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// An extractor's rejection, with its status and its text (first letter lowered).
    fn rejection(status: StatusCode, text: String) -> ApiError {
        let mut chars = text.chars();
        let message = chars
            .next()
            .map(|c| c.to_lowercase().chain(chars).collect::<String>())
            .unwrap_or_default();
        ApiError::new(status, message)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        let code = err.code();
        let status = match code {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if code == ErrorCode::Internal {
            tracing::error!(error = %err, "internal error");
            "internal error; see the server log".to_string()
        } else {
            err.to_string()
        };
        ApiError { status, code: code.as_str(), message }
    }
}

impl From<JsonRejection> for ApiError {
    /// A body that is not JSON (400), not of the expected shape (422), not declared as
    /// JSON (415) or too large (413).
    fn from(rejection: JsonRejection) -> ApiError {
        ApiError::rejection(rejection.status(), rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    /// A query string that does not fit the parameters (400).
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::rejection(rejection.status(), rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    /// A path segment that cannot be decoded (400).
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::rejection(rejection.status(), rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}
