//! Reading observed figures: stored buckets resolved onto graph nodes, merged per edge
//! over a window, compared with what the sources declare.
//!
//! An observed edge is `declared` when the current graph has an edge between the same two
//! nodes. Drift lists observed edges nobody declared, and declared request-path edges out
//! of services that report traces but were not observed in the window (a service that
//! sends no traces at all says nothing about its edges).

use std::collections::{BTreeMap, BTreeSet};

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::Serialize;

use super::aggregate::Figures;
use super::identity::{Resolved, Resolver};
use crate::Engine;
use crate::error::Result;
use crate::model::Evidence;

/// An observed edge with its figures over a window.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ObservedEdge {
    /// Caller.
    pub from: NodeId,
    /// Callee.
    pub to: NodeId,
    /// `calls` (service to service) or `depends_on` (datastore, topic).
    pub kind: EdgeKind,
    /// Whether a declared source has an edge between the two nodes.
    pub declared: bool,
    /// Requests (client-side spans).
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Latency quantiles (nearest rank, within 1%), milliseconds.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// First request in the window (RFC 3339).
    pub first_seen: String,
    /// Last request in the window (RFC 3339).
    pub last_seen: String,
    /// Nodes of the edge no declared source knows (seen only in traces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_only: Vec<NodeId>,
    /// Where it was seen: trace sources and the last trace id.
    pub evidence: ObservedEvidence,
}

/// Where an observed edge was seen.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ObservedEvidence {
    /// Trace sources (ingest roots, `api:otlp`).
    pub sources: Vec<String>,
    /// The last trace id seen on the edge.
    pub last_trace: String,
}

/// `lore observed --json`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ObservedView {
    /// Edges, by caller then callee.
    pub edges: Vec<ObservedEdge>,
}

/// A declared edge that traces did not show.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DeclaredEdge {
    /// Caller.
    pub from: NodeId,
    /// Callee.
    pub to: NodeId,
    /// Declared kind.
    pub kind: EdgeKind,
    /// Where it is declared.
    pub evidence: Vec<Evidence>,
}

/// `lore drift --json`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DriftView {
    /// Observed, declared nowhere.
    pub observed_only: Vec<ObservedEdge>,
    /// Declared, not observed since the window start.
    pub declared_only: Vec<DeclaredEdge>,
}

/// RED figures of one service from its SERVER/CONSUMER spans over a window.
#[derive(Debug, Clone, Serialize)]
pub struct Red {
    /// Requests served.
    pub requests: u64,
    /// Failed.
    pub errors: u64,
    /// Latency quantiles, milliseconds.
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
}

impl Red {
    fn of(f: &Figures) -> Red {
        Red {
            requests: f.requests,
            errors: f.errors,
            p50_ms: f.quantile(0.5),
            p95_ms: f.quantile(0.95),
            p99_ms: f.quantile(0.99),
        }
    }
}

/// Merged figures per (from, to, kind), with the sources they came from.
type Merged = BTreeMap<(NodeId, NodeId, EdgeKind), (Figures, BTreeSet<String>, Vec<NodeId>)>;

fn round(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1000.0).round() / 1000.0)
}

impl Engine {
    /// Stored buckets overlapping [since, until) resolved and merged per edge; RED per
    /// service under `(id, id, Calls)` keys is kept apart in the second map.
    fn merged(
        &self,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<(Merged, BTreeMap<NodeId, Figures>)> {
        let graph = self.graph(None)?;
        let mut resolver = Resolver::new(&graph);
        let mut edges: Merged = BTreeMap::new();
        let mut red: BTreeMap<NodeId, Figures> = BTreeMap::new();
        super::segment::for_each(self.store(), None, |source, edge, start, width, fig| {
            if since.is_some_and(|s| start + width <= s) || until.is_some_and(|u| start >= u) {
                return;
            }
            let from = resolver.service(&edge.from);
            if edge.kind == 'r' {
                red.entry(from.id).or_default().merge(fig);
                return;
            }
            let to: Resolved = match edge.kind {
                's' => resolver.service(&edge.to),
                'd' => resolver.store(&edge.to),
                _ => resolver.address(&edge.to),
            };
            let kind = if to.id.kind() == NodeKind::Service {
                EdgeKind::Calls
            } else {
                EdgeKind::DependsOn
            };
            let entry = edges.entry((from.id.clone(), to.id.clone(), kind)).or_default();
            entry.0.merge(fig);
            if !entry.1.contains(source) {
                entry.1.insert(source.to_string());
            }
            for r in [&from, &to] {
                if r.observed_only && !entry.2.contains(&r.id) {
                    entry.2.push(r.id.clone());
                }
            }
        })?;
        Ok((edges, red))
    }

    /// Observed edges over [since, until) (all data when unbounded), those touching
    /// `node` when given.
    pub fn observed(
        &self,
        node: Option<&str>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<ObservedView> {
        let graph = self.graph(None)?;
        let focus = node.map(|n| graph.lookup(n).map(|n| n.id.clone())).transpose()?;
        let declared: BTreeSet<(&NodeId, &NodeId)> =
            graph.edges().iter().map(|e| (&e.from, &e.to)).collect();
        let (merged, _) = self.merged(since, until)?;
        let edges = merged
            .into_iter()
            .filter(|((f, t, _), _)| focus.as_ref().is_none_or(|n| n == f || n == t))
            .map(|((from, to, kind), (fig, sources, observed_only))| ObservedEdge {
                declared: declared.contains(&(&from, &to)),
                requests: fig.requests,
                errors: fig.errors,
                p50_ms: round(fig.quantile(0.5)),
                p95_ms: round(fig.quantile(0.95)),
                p99_ms: round(fig.quantile(0.99)),
                first_seen: crate::time::format(fig.first),
                last_seen: crate::time::format(fig.last),
                observed_only,
                evidence: ObservedEvidence {
                    sources: sources.into_iter().collect(),
                    last_trace: fig.last_trace_hex(),
                },
                from,
                to,
                kind,
            })
            .collect();
        Ok(ObservedView { edges })
    }

    /// Where declaration and traces disagree since `since` (all data when `None`).
    pub fn drift(&self, since: Option<i64>) -> Result<DriftView> {
        let all = self.observed(None, since, None)?;
        let graph = self.graph(None)?;
        let seen: BTreeSet<(&NodeId, &NodeId)> =
            all.edges.iter().map(|e| (&e.from, &e.to)).collect();
        let reporting: BTreeSet<&NodeId> = all.edges.iter().map(|e| &e.from).collect();
        let declared_only = graph
            .edges()
            .iter()
            .filter(|e| {
                e.kind.is_request_path()
                    && reporting.contains(&e.from)
                    && !seen.contains(&(&e.from, &e.to))
            })
            .map(|e| DeclaredEdge {
                from: e.from.clone(),
                to: e.to.clone(),
                kind: e.kind,
                evidence: e.evidence.clone(),
            })
            .collect();
        let observed_only = all.edges.iter().filter(|e| !e.declared).cloned().collect();
        Ok(DriftView { observed_only, declared_only })
    }

    /// RED of `node` over [since, until) from its SERVER/CONSUMER spans; `None` when it
    /// reports none.
    pub fn red(
        &self,
        node: &NodeId,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Option<Red>> {
        let (_, red) = self.merged(since, until)?;
        Ok(red.get(node).map(Red::of))
    }
}
