//! RED in ranking: did the service a change touched (or one on the path to it) start
//! failing or slowing after the change landed?
//!
//! For a change at `t` and an incident at `at`, the figures of the node over the
//! [`BEFORE_SECS`] before `t` are compared with those of the [`AFTER_SECS`] from `t` (up to
//! `at` at most; buckets that straddle `t` or `at` are left out, so nothing after `at` is
//! ever used). The short after-window asks whether the node degraded *right after* the
//! change: an earlier change whose window only catches the tail of someone else's
//! degradation sees a diluted signal. The node's own
//! figures are those of its SERVER/CONSUMER spans; a node that sends no spans (a
//! datastore, an uninstrumented service) is judged by its callers' spans to it.
//!
//! ```text
//! errors  = clamp((rate_after − rate_before) / 0.1, 0, 5)   with ≥ 2 errors after
//! latency = clamp(log2(p50_after / p50_before) − 0.5, 0, 5)  with ≥ 3 requests each side
//! factor  = 1 + 2 × max(errors, latency)                     (1 to 11)
//! rate_before = (errors + 0.5) / (requests + 10)             (a prior for thin baselines)
//! ```
//!
//! With no figures after the change (or fewer than 3 requests) the factor is 1: no
//! evidence either way.

use lore_schema::{NodeId, NodeKind};
use serde::Serialize;

use super::index::ObservedIndex;

/// Seconds of baseline before a change.
pub const BEFORE_SECS: i64 = 6 * 3600;
/// Seconds after a change in which its effect is looked for.
pub const AFTER_SECS: i64 = 1800;
/// Largest strength of a signal.
const MAX_STRENGTH: f64 = 5.0;
/// Fewest requests after a change that say anything.
const MIN_AFTER: u64 = 3;

/// How a node's figures moved after a change.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Degradation {
    /// The rank factor (1 to 11).
    pub factor: f64,
    /// The node whose figures moved.
    pub node: NodeId,
    /// What moved, in words.
    pub why: String,
}

impl ObservedIndex {
    /// The degradation of `node` after a change at `t`, for an incident at `at`.
    pub fn degradation(&self, node: &NodeId, t: i64, at: i64) -> Option<Degradation> {
        let series = self.node_series(node)?;
        let before = series.within(t - BEFORE_SECS, t);
        let after = series.within(t, at.min(t + AFTER_SECS));
        if after.requests < MIN_AFTER {
            return None;
        }
        let rate_b = (before.errors as f64 + 0.5) / (before.requests as f64 + 10.0);
        let rate_a = after.errors as f64 / after.requests as f64;
        let errors = if after.errors >= 2 {
            ((rate_a - rate_b) / 0.1).clamp(0.0, MAX_STRENGTH)
        } else {
            0.0
        };
        let latency = match (before.quantile(0.5), after.quantile(0.5)) {
            (Some(b), Some(a)) if before.requests >= MIN_AFTER && b > 0.0 => {
                ((a / b).log2() - 0.5).clamp(0.0, MAX_STRENGTH)
            }
            _ => 0.0,
        };
        let strength = errors.max(latency);
        if strength <= 0.0 {
            return None;
        }
        let why = if errors >= latency {
            format!(
                "{} errors {:.0}% → {:.0}% after it ({} → {} requests)",
                node.name(),
                100.0 * before.errors as f64 / before.requests.max(1) as f64,
                100.0 * rate_a,
                before.requests,
                after.requests
            )
        } else {
            format!(
                "{} p50 {:.0} ms → {:.0} ms after it",
                node.name(),
                before.quantile(0.5).unwrap_or(0.0),
                after.quantile(0.5).unwrap_or(0.0)
            )
        };
        let factor = ((1.0 + 2.0 * strength) * 1000.0).round() / 1000.0;
        Some(Degradation { factor, node: node.clone(), why })
    }
}

/// The strongest degradation among `nodes` (the changed node and the path to it).
pub fn strongest<'a>(
    index: &ObservedIndex,
    nodes: impl Iterator<Item = &'a NodeId>,
    t: i64,
    at: i64,
) -> Option<Degradation> {
    nodes
        .filter(|n| matches!(n.kind(), NodeKind::Service | NodeKind::Datastore))
        .filter_map(|n| index.degradation(n, t, at))
        .max_by(|a, b| a.factor.total_cmp(&b.factor))
}
