//! Observed topology from traces: trace files found by `lore ingest` and spans POSTed to
//! the OTLP/HTTP receiver become observed edges with golden signals, never stored spans.
//!
//! `decode` reads the formats into spans, `join` pairs CLIENT and SERVER spans (bounded
//! window) into observations, `aggregate` counts them per edge and minute bucket with a
//! latency sketch, the store keeps the buckets (`store/observed.rs`), and `view` resolves
//! them onto graph nodes when read: `observed`, `drift`, RED per service.

pub mod aggregate;
pub mod decode;
pub mod figures;
pub mod identity;
pub mod index;
pub mod join;
pub mod red;
pub mod segment;
pub mod topology;
pub mod view;

pub use view::{DriftView, ObservedView};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::Store;
use aggregate::{Aggregate, EdgeKey, MINUTE};
use join::{Joiner, Observation, Unjoined};

/// Spans held waiting for their other side before the oldest is attributed.
pub const JOIN_WINDOW: usize = 500_000;
/// Buckets counted in memory before file ingest writes them (bounds its memory).
pub const FLUSH_BUCKETS: usize = 100_000;
/// Seconds between two roll-ups of a source's minute buckets into hours.
const ROLLUP_EVERY: i64 = 3600;

/// What reading traces did.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct TraceSummary {
    /// Trace files (or requests) read.
    pub files: usize,
    /// Spans read.
    pub spans: u64,
    /// Spans rejected (no valid id or service).
    pub rejected: u64,
    /// Distinct services (resource identities) that sent them.
    pub services: usize,
    /// Requests counted on edges (calls and datastore uses).
    pub requests: u64,
    /// Edge buckets written.
    pub buckets: usize,
    /// What could not be joined.
    pub unjoined: Unjoined,
    /// Spans waiting for their other side (the receiver keeps them for later requests).
    pub waiting: usize,
}

/// Spans of one source on their way to the store.
#[derive(Debug)]
pub struct Sink {
    source: String,
    joiner: Joiner,
    aggregate: Aggregate,
    services: std::collections::HashSet<std::sync::Arc<decode::ServiceKey>>,
    /// Whether the first write replaces what the source had (file ingest).
    replace: bool,
    /// When minute buckets were last rolled up.
    rolled_at: i64,
    /// Totals so far.
    pub summary: TraceSummary,
}

/// A bucket key of stores before segments (JSON edge, 0, width and start big-endian) back
/// into (edge, start, width).
pub(crate) fn parse_bucket_key(k: &[u8]) -> Option<(EdgeKey, i64, i64)> {
    if k.len() < 17 {
        return None;
    }
    let (edge, tail) = k.split_at(k.len() - 17);
    let width = i64::from_be_bytes(tail[1..9].try_into().ok()?);
    let start = i64::from_be_bytes(tail[9..17].try_into().ok()?);
    Some((serde_json::from_slice(edge).ok()?, start, width))
}

impl Sink {
    /// A sink for `source` (`api:otlp` for the receiver, the ingest root for files).
    pub fn new(source: &str) -> Sink {
        Sink {
            source: source.to_string(),
            joiner: Joiner::new(JOIN_WINDOW),
            aggregate: Aggregate::default(),
            services: Default::default(),
            replace: false,
            rolled_at: 0,
            summary: TraceSummary::default(),
        }
    }

    /// A sink whose first write replaces every bucket the source had (file ingest).
    pub fn replacing(source: &str) -> Sink {
        Sink { replace: true, ..Sink::new(source) }
    }

    /// Buckets counted and not yet written.
    pub fn pending(&self) -> usize {
        self.aggregate.len()
    }

    /// Joins and counts `spans`.
    pub fn push(&mut self, spans: Vec<decode::Span>) {
        self.summary.spans += spans.len() as u64;
        let mut out: Vec<Observation> = Vec::new();
        for span in spans {
            if !self.services.contains(&span.service) {
                self.services.insert(span.service.clone());
            }
            self.joiner.push(span, &mut out);
        }
        self.summary.services = self.services.len();
        self.count(out);
    }

    fn count(&mut self, out: Vec<Observation>) {
        for o in out {
            if !matches!(o.to, join::Target::Own) {
                self.summary.requests += 1;
            }
            self.aggregate.add(o);
        }
        self.summary.unjoined = self.joiner.unjoined;
        self.summary.waiting = self.joiner.held();
    }

    /// Attributes every span still waiting (the end of a source's files).
    pub fn close_window(&mut self) {
        let mut out = Vec::new();
        self.joiner.flush(&mut out);
        self.count(out);
    }

    /// Writes what was counted since the last write into the store at `now` (new
    /// segments, compacted), and at most once per [`ROLLUP_EVERY`] rolls the source's
    /// minute buckets first written more than a day before `now` up into their hours.
    pub fn write(&mut self, store: &Store, now: i64) -> Result<()> {
        if std::mem::take(&mut self.replace) {
            store.clear_observed(&self.source).map_err(Error::from)?;
        }
        if !self.aggregate.is_empty() {
            let mut builder = segment::Builder::default();
            for (edge, start, mut fig) in self.aggregate.drain() {
                fig.written = now;
                builder.add(edge, start, MINUTE, fig);
            }
            self.summary.buckets += builder.len();
            segment::write(store, &self.source, builder)?;
        }
        if now - self.rolled_at >= ROLLUP_EVERY {
            segment::roll_up(store, &self.source, now)?;
            self.rolled_at = now;
        }
        Ok(())
    }
}

/// Reads trace `files` (path, format) of `source`, replacing what the source had once a
/// file has been read. Buckets are written every [`FLUSH_BUCKETS`], so memory stays
/// bounded by the join window and that many buckets, whatever the files hold.
pub fn ingest_files(
    store: &Store,
    source: &str,
    files: &[(String, std::path::PathBuf, decode::Format)],
) -> (TraceSummary, Vec<crate::ingest::DiagnosticView>) {
    let mut sink = Sink::replacing(source);
    let mut diagnostics = Vec::new();
    let now = crate::time::now();
    let mut written = Ok(());
    for (shown, path, format) in files {
        let decoded = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| decode::decode(*format, &b));
        match decoded {
            Ok((spans, rejected)) => {
                sink.summary.files += 1;
                sink.summary.rejected += rejected;
                sink.push(spans);
                if sink.pending() >= FLUSH_BUCKETS {
                    written = written.and_then(|_| sink.write(store, now));
                }
            }
            Err(message) => diagnostics.push(crate::ingest::DiagnosticView {
                locator: format!("{shown}:1"),
                severity: "error".to_string(),
                message,
            }),
        }
    }
    sink.close_window();
    if sink.summary.files > 0 || diagnostics.is_empty() {
        written = written.and_then(|_| sink.write(store, now));
    }
    let written = written.and_then(|_| store.flush_observed().map_err(Error::from));
    if let Err(e) = written {
        diagnostics.push(crate::ingest::DiagnosticView {
            locator: source.to_string(),
            severity: "error".to_string(),
            message: e.to_string(),
        });
    }
    (sink.summary, diagnostics)
}
