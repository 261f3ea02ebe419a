//! Observations into per-edge, per-time-bucket figures ([`Figures`]): requests, errors,
//! latency, first and last seen, the last trace id.
//!
//! Buckets are one minute; a day after a minute bucket was first written it is rolled up
//! into its hour (for live data: a day after it happened). An import of old traces thus
//! keeps minute resolution for a day, which is when incident reviews look at it. Spans
//! are never stored.
//!
//! Edges are interned as they are first seen (caller identity and target), so counting
//! an observation hashes its identity once and builds no names.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::decode::ServiceKey;
pub use super::figures::{Figures, RELATIVE_ACCURACY};
use super::join::{Observation, Target};

/// Seconds per fine bucket.
pub const MINUTE: i64 = 60;
/// Seconds per coarse bucket.
pub const HOUR: i64 = 3600;
/// Age (before the newest data) after which buckets are hourly.
pub const ROLLUP_AFTER: i64 = 86_400;

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
    fn of(from: &ServiceKey, to: &Target) -> EdgeKey {
        let (kind, to) = match to {
            Target::Service(s) => ('s', service_parts(s)),
            Target::Store(names) => ('d', names.clone()),
            Target::Address(names) => ('a', names.clone()),
            Target::Own => ('r', Vec::new()),
        };
        EdgeKey { kind, from: service_parts(from), to }
    }
}

/// Interned edges kept while nothing waits; beyond it they are forgotten (addresses seen
/// once would otherwise grow the table forever).
const MAX_INTERNED: usize = 200_000;

/// Figures per edge and minute, waiting to be written.
#[derive(Debug, Default)]
pub struct Aggregate {
    /// Interned edges: caller and target → index into `keys`.
    edges: FxHashMap<(Arc<ServiceKey>, Target), u32>,
    /// Names of each interned edge.
    keys: Vec<EdgeKey>,
    /// (edge, minute start) → figures.
    buckets: FxHashMap<(u32, i64), Figures>,
}

impl Aggregate {
    /// Counts `o` in its minute.
    pub fn add(&mut self, o: Observation) {
        if self.buckets.is_empty() && self.keys.len() > MAX_INTERNED {
            self.edges.clear();
            self.keys.clear();
        }
        let Observation { from, to, start_ns, dur_ns, error, trace } = o;
        let secs = start_ns.div_euclid(1_000_000_000);
        let start = secs - secs.rem_euclid(MINUTE);
        let key = (from, to);
        let edge = match self.edges.get(&key) {
            Some(e) => *e,
            None => {
                let next = self.keys.len() as u32;
                self.keys.push(EdgeKey::of(&key.0, &key.1));
                self.edges.insert(key, next);
                next
            }
        };
        self.buckets.entry((edge, start)).or_default().add(start_ns, dur_ns, error, trace);
    }

    /// Buckets waiting.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Every waiting bucket as (edge, minute start, figures), emptying the aggregate (the
    /// interned edges stay).
    pub fn drain(&mut self) -> impl Iterator<Item = (&EdgeKey, i64, Figures)> + '_ {
        let keys = &self.keys;
        self.buckets.drain().map(move |((e, start), fig)| (&keys[e as usize], start, fig))
    }
}
