//! Observed topology from traces: trace files found by `lore ingest` and spans POSTed to
//! the OTLP/HTTP receiver become observed edges with golden signals, never stored spans.
//!
//! `decode` reads the formats into spans, `join` pairs CLIENT and SERVER spans (bounded
//! window) into observations, `aggregate` counts them per edge and minute bucket with a
//! latency sketch, the store keeps the buckets (`store/observed.rs`), and `view` resolves
//! them onto graph nodes when read: `observed`, `drift`, RED per service.

pub mod aggregate;
pub mod decode;
pub mod identity;
pub mod join;
pub mod red;
pub mod view;

pub use view::{DriftView, ObservedView};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::Store;
use std::collections::{HashMap, HashSet};

use aggregate::{Aggregate, EdgeKey, Figures, HOUR, MINUTE, ROLLUP_AFTER};
use join::{Joiner, Observation, Unjoined};

/// Spans held waiting for their other side before the oldest is attributed.
pub const JOIN_WINDOW: usize = 500_000;

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
    /// Totals so far.
    pub summary: TraceSummary,
}

/// Key of a bucket: edge, then width and start (big-endian, so a source's keys sort by edge).
fn bucket_key(edge: &EdgeKey, start: i64, width: i64) -> Vec<u8> {
    let mut k = serde_json::to_vec(edge).unwrap_or_default();
    k.push(0);
    k.extend_from_slice(&width.to_be_bytes());
    k.extend_from_slice(&start.to_be_bytes());
    k
}

/// A stored bucket key back into (edge, start, width).
pub(crate) fn parse_bucket_key(k: &[u8]) -> Option<(EdgeKey, i64, i64)> {
    if k.len() < 17 {
        return None;
    }
    let (edge, tail) = k.split_at(k.len() - 17);
    let width = i64::from_be_bytes(tail[1..9].try_into().ok()?);
    let start = i64::from_be_bytes(tail[9..17].try_into().ok()?);
    Some((serde_json::from_slice(edge).ok()?, start, width))
}

fn merge_values(old: &[u8], new: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut a: Figures = serde_json::from_slice(old).map_err(|e| e.to_string())?;
    let b: Figures = serde_json::from_slice(new).map_err(|e| e.to_string())?;
    a.merge(&b);
    serde_json::to_vec(&a).map_err(|e| e.to_string())
}

impl Sink {
    /// A sink for `source` (`api:otlp` for the receiver, the ingest root for files).
    pub fn new(source: &str) -> Sink {
        Sink {
            source: source.to_string(),
            joiner: Joiner::new(JOIN_WINDOW),
            aggregate: Aggregate::default(),
            services: Default::default(),
            summary: TraceSummary::default(),
        }
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
        self.count(&out);
    }

    fn count(&mut self, out: &[Observation]) {
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
        self.count(&out);
    }

    /// Writes what was counted since the last write into the store at `now`, and rolls
    /// the source's minute buckets first written more than a day before `now` up into
    /// their hours.
    pub fn write(&mut self, store: &Store, now: i64) -> Result<()> {
        let mut merged: HashMap<(EdgeKey, i64, i64), Figures> = HashMap::new();
        for (key, mut fig) in std::mem::take(&mut self.aggregate.buckets) {
            fig.written = now;
            merged.insert(key, fig);
        }
        let cutoff = now - ROLLUP_AFTER;
        let mut rolled = HashSet::new();
        for (_, k, v) in store.observed(Some(&self.source)).map_err(Error::from)? {
            let Some((edge, start, MINUTE)) = parse_bucket_key(&k) else { continue };
            let Ok(fig) = serde_json::from_slice::<Figures>(&v) else { continue };
            if fig.written != 0 && fig.written < cutoff {
                merged.entry((edge, start - start.rem_euclid(HOUR), HOUR)).or_default().merge(&fig);
                rolled.insert(k);
            }
        }
        if !rolled.is_empty() {
            store.remove_observed(&self.source, |k| rolled.contains(k)).map_err(Error::from)?;
        }
        let items: Vec<(Vec<u8>, Vec<u8>)> = merged
            .iter()
            .map(|((edge, start, width), fig)| {
                (bucket_key(edge, *start, *width), serde_json::to_vec(fig).unwrap_or_default())
            })
            .collect();
        self.summary.buckets += items.len();
        store.merge_observed(&self.source, items, merge_values).map_err(Error::from)?;
        Ok(())
    }
}

/// Reads trace `files` (path, format) of `source`, replacing what the source had.
pub fn ingest_files(
    store: &Store,
    source: &str,
    files: &[(String, std::path::PathBuf, decode::Format)],
) -> (TraceSummary, Vec<crate::ingest::DiagnosticView>) {
    let mut sink = Sink::new(source);
    let mut diagnostics = Vec::new();
    for (shown, path, format) in files {
        let decoded = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| decode::decode(*format, &b));
        match decoded {
            Ok((spans, rejected)) => {
                sink.summary.files += 1;
                sink.summary.rejected += rejected;
                sink.push(spans);
            }
            Err(message) => diagnostics.push(crate::ingest::DiagnosticView {
                locator: format!("{shown}:1"),
                severity: "error".to_string(),
                message,
            }),
        }
    }
    sink.close_window();
    let written = if diagnostics.is_empty() || sink.summary.files > 0 {
        store
            .remove_observed(source, |_| true)
            .map_err(Error::from)
            .and_then(|_| sink.write(store, crate::time::now()))
    } else {
        Ok(())
    };
    if let Err(e) = written {
        diagnostics.push(crate::ingest::DiagnosticView {
            locator: source.to_string(),
            severity: "error".to_string(),
            message: e.to_string(),
        });
    }
    (sink.summary, diagnostics)
}
