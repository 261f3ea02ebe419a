//! The main crate's error type and the codes it maps to at the boundaries.

use std::path::PathBuf;

/// What went wrong, by category, for HTTP status and CLI exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request names something that does not exist.
    NotFound,
    /// The request is malformed or ambiguous.
    BadRequest,
    /// The request is well-formed but names nothing Lore can act on.
    Unprocessable,
    /// The request contradicts what is stored (an event id another source owns).
    Conflict,
    /// Lore failed.
    Internal,
}

impl ErrorCode {
    /// Snake-case code used in JSON errors.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unprocessable => "unprocessable",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Internal => "internal",
        }
    }
}

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No node has this name, id or alias.
    #[error("node `{0}` not found")]
    NodeNotFound(String),
    /// Several nodes answer to this name.
    #[error("`{name}` is ambiguous; candidates: {}", candidates.join(", "))]
    Ambiguous {
        /// The name asked for.
        name: String,
        /// Ids of the nodes it could mean.
        candidates: Vec<String>,
    },
    /// A parameter is invalid.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParam {
        /// Parameter name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Nothing in the request resolved to a node; `tried` lists every attempt.
    #[error("cannot resolve {what}; tried: {}", tried.join("; "))]
    Unresolved {
        /// What was being resolved.
        what: String,
        /// Each attempt and its outcome.
        tried: Vec<String>,
    },
    /// A path to ingest does not exist or cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Input {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Lore failed in a way the caller cannot fix.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The request contradicts what is stored.
    #[error("conflict on `{name}`: {reason}")]
    Conflict {
        /// The field in conflict.
        name: String,
        /// Why.
        reason: String,
    },
    /// No stored item of this kind (a note, a piece of feedback) has this id.
    #[error("{what} `{id}` not found")]
    NotFound {
        /// What was looked for: `note`, `feedback`.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
}

impl Error {
    /// The category of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NodeNotFound(_) | Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Ambiguous { .. } | Error::InvalidParam { .. } | Error::Input { .. } => {
                ErrorCode::BadRequest
            }
            Error::Unresolved { .. } => ErrorCode::Unprocessable,
            Error::Conflict { .. } => ErrorCode::Conflict,
            Error::Store(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// Result with the engine's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
