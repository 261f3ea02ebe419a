//! Where a fact comes from.

use serde::{Deserialize, Serialize};

/// Whether a fact was declared in configuration or observed at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written in a manifest, catalog or document.
    Declared,
    /// Seen in traces or other telemetry.
    Observed,
}

/// Provenance of one fact: the file and line (or URL, commit, span) it was read from.
///
/// The source (ingestor + root) and first/last seen times are kept by the store, which
/// owns the facts per source; the record carries what the parser knows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Provenance {
    /// Ingestor that produced the fact (`kubernetes`, `compose`, ...).
    pub ingestor: String,
    /// `path:line` relative to the ingest root, or a URL, commit or span id.
    pub locator: String,
    /// Declared or observed.
    pub origin: Origin,
    /// Confidence in the fact, in per mille (1000 = certain), so records stay `Eq`.
    pub confidence: u16,
    /// A short human note on why the fact exists (`env CART_ADDR=cart:7070`).
    pub note: String,
}

impl Provenance {
    /// Prefix of the note of a relation a proxy or catalog declares as a request route:
    /// such an edge stays a call whatever its target turns out to be (a proxy routing to
    /// a feature-flag service is still on the request path).
    pub const ROUTE_PREFIX: &'static str = "route:";

    /// Whether the fact is a declared request route (see [`Provenance::ROUTE_PREFIX`]).
    pub fn is_route(&self) -> bool {
        self.note.starts_with(Self::ROUTE_PREFIX)
    }

    /// A declared fact read at `locator` by `ingestor`, with full confidence.
    pub fn declared(ingestor: &str, locator: String, note: impl Into<String>) -> Provenance {
        Provenance {
            ingestor: ingestor.to_string(),
            locator,
            origin: Origin::Declared,
            confidence: 1000,
            note: note.into(),
        }
    }
}
