//! Observations into per-edge, per-time-bucket figures: requests, errors, a latency
//! sketch (DDSketch, 1% relative accuracy), first and last seen, the last trace id.
//!
//! Buckets are one minute; a day after a minute bucket was first written it is rolled up
//! into its hour (for live data: a day after it happened). An import of old traces thus
//! keeps minute resolution for a day, which is when incident reviews look at it. Spans
//! are never stored.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};

use super::decode::ServiceKey;
use super::join::{Observation, Target};

/// Relative accuracy of latency quantiles.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// Seconds per fine bucket.
pub const MINUTE: i64 = 60;
/// Seconds per coarse bucket.
pub const HOUR: i64 = 3600;
/// Age (before the newest data) after which buckets are hourly.
pub const ROLLUP_AFTER: i64 = 86_400;

fn sketch() -> DDSketch {
    DDSketch::new(Config::new(RELATIVE_ACCURACY, 4096, 1e-6))
}

/// Figures of one edge over one bucket (or any merge of them).
#[derive(Clone, Serialize, Deserialize)]
pub struct Figures {
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Latency in milliseconds.
    pub latency: DDSketch,
    /// First request, unix seconds.
    pub first: i64,
    /// Last request, unix seconds.
    pub last: i64,
    /// Trace id of the last request (hex).
    pub last_trace: String,
    /// When the bucket was first written, unix seconds (0 until written).
    #[serde(default)]
    pub written: i64,
}

impl std::fmt::Debug for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Figures")
            .field("requests", &self.requests)
            .field("errors", &self.errors)
            .finish()
    }
}

impl Default for Figures {
    fn default() -> Figures {
        Figures {
            requests: 0,
            errors: 0,
            latency: sketch(),
            first: i64::MAX,
            last: i64::MIN,
            last_trace: String::new(),
            written: 0,
        }
    }
}

impl Figures {
    fn add(&mut self, o: &Observation) {
        self.requests += 1;
        self.errors += u64::from(o.error);
        self.latency.add(o.dur_ns as f64 / 1e6);
        let secs = o.start_ns.div_euclid(1_000_000_000);
        self.first = self.first.min(secs);
        if secs >= self.last {
            self.last = secs;
            self.last_trace = format!("{:032x}", o.trace);
        }
    }

    /// Adds `other` into these figures.
    pub fn merge(&mut self, other: &Figures) {
        self.requests += other.requests;
        self.errors += other.errors;
        let _ = self.latency.merge(&other.latency);
        self.first = self.first.min(other.first);
        if other.last >= self.last {
            self.last = other.last;
            self.last_trace.clone_from(&other.last_trace);
        }
        self.written = match (self.written, other.written) {
            (0, w) | (w, 0) => w,
            (a, b) => a.min(b),
        };
    }

    /// The nearest-rank `q` quantile of latency (ms), within [`RELATIVE_ACCURACY`].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.latency.count() as u64;
        if n == 0 {
            return None;
        }
        // Nearest rank: the ceil(q·n)-th smallest. The sketch answers the element at rank
        // floor(q'·(n−1)) (0-based), so ask for the rank k−1 exactly.
        let k = ((q * n as f64).ceil() as u64).clamp(1, n);
        let q = if k == n || n == 1 { 1.0 } else { (k as f64 - 1.0 + 0.5) / (n as f64 - 1.0) };
        self.latency.quantile(q.min(1.0)).ok().flatten()
    }
}

/// What an edge connects, as names (resolved to nodes when read, so a catalog ingested
/// later still lands them on the right node).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EdgeKey {
    /// `s` service call, `d` datastore/topic use, `a` call by address, `r` own RED.
    pub kind: char,
    /// The caller's resource identity.
    pub from: Vec<String>,
    /// The callee: a service identity, or names, best first.
    pub to: Vec<String>,
}

fn service_parts(s: &ServiceKey) -> Vec<String> {
    vec![s.name.clone(), s.namespace.clone(), s.deployment.clone(), s.k8s_namespace.clone()]
}

impl EdgeKey {
    fn of(o: &Observation) -> EdgeKey {
        let (kind, to) = match &o.to {
            Target::Service(s) => ('s', service_parts(s)),
            Target::Store(names) => ('d', names.clone()),
            Target::Address(names) => ('a', names.clone()),
            Target::Own => ('r', Vec::new()),
        };
        EdgeKey { kind, from: service_parts(&o.from), to }
    }
}

/// Figures per edge and bucket start, waiting to be written.
#[derive(Debug, Default)]
pub struct Aggregate {
    /// (edge, minute start, bucket seconds) → figures.
    pub buckets: HashMap<(EdgeKey, i64, i64), Figures>,
}

impl Aggregate {
    /// Counts `o` in its minute.
    pub fn add(&mut self, o: &Observation) {
        let secs = o.start_ns.div_euclid(1_000_000_000);
        let start = secs - secs.rem_euclid(MINUTE);
        self.buckets.entry((EdgeKey::of(o), start, MINUTE)).or_default().add(o);
    }
}
