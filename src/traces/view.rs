//! Reading observed figures: stored buckets resolved onto graph nodes, merged per edge
//! over a window, compared with what the sources declare.
//!
//! An observed edge is `declared` when the current graph has an edge between the same two
//! nodes. Drift lists observed edges nobody declared, and declared request-path edges out
//! of services that report traces but were not observed in the window (a service that
//! sends no traces at all says nothing about its edges).

use std::collections::BTreeSet;

use lore_schema::{EdgeKind, NodeId};
use serde::Serialize;

use super::aggregate::Figures;
use super::index::{EdgeSeries, ObservedIndex};
use crate::Engine;
use crate::error::Result;
use crate::graph::Graph;
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

/// What traces say about one node over a window (`show`).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Traffic {
    /// Window start (RFC 3339).
    pub since: String,
    /// Window end (RFC 3339).
    pub until: String,
    /// Its own RED, from its SERVER/CONSUMER spans (`None`: it reports none).
    pub red: Option<Red>,
    /// Observed edges in and out of it in the window, each `declared` or not.
    pub edges: Vec<ObservedEdge>,
}

/// RED figures of one service from its SERVER/CONSUMER spans over a window.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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

/// Seconds of traffic `show` reports by default.
pub const TRAFFIC_WINDOW: i64 = 3600;

fn round(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1000.0).round() / 1000.0)
}

impl ObservedEdge {
    fn of(
        (from, to, kind): &(NodeId, NodeId, EdgeKind),
        edge: &EdgeSeries,
        fig: Figures,
        declared: bool,
    ) -> ObservedEdge {
        ObservedEdge {
            declared,
            requests: fig.requests,
            errors: fig.errors,
            p50_ms: round(fig.quantile(0.5)),
            p95_ms: round(fig.quantile(0.95)),
            p99_ms: round(fig.quantile(0.99)),
            first_seen: crate::time::format(fig.first),
            last_seen: crate::time::format(fig.last),
            observed_only: edge.observed_only.clone(),
            evidence: ObservedEvidence {
                sources: edge.sources.iter().cloned().collect(),
                last_trace: fig.last_trace_hex(),
            },
            from: from.clone(),
            to: to.clone(),
            kind: *kind,
        }
    }
}

/// Observed edges of `index` over [since, until) in `graph`, those touching `focus`
/// when given.
pub(crate) fn edges_in_window(
    graph: &Graph,
    index: &ObservedIndex,
    focus: Option<&NodeId>,
    since: Option<i64>,
    until: Option<i64>,
) -> Vec<ObservedEdge> {
    // With a focus, only its own edges can match (`show` asks per node).
    let edges: Vec<&crate::model::Edge> = match focus {
        Some(n) => {
            let (out, inc) = graph.edges_of(n);
            out.into_iter().chain(inc).collect()
        }
        None => graph.edges().map(|e| e.as_ref()).collect(),
    };
    let declared: BTreeSet<(&NodeId, &NodeId)> =
        edges.iter().filter(|e| !e.observed).map(|e| (&e.from, &e.to)).collect();
    index
        .edges
        .iter()
        .filter(|((f, t, _), _)| focus.is_none_or(|n| n == f || n == t))
        .filter_map(|(key, edge)| {
            let fig = edge.series.overlapping(since, until);
            (fig.requests > 0)
                .then(|| ObservedEdge::of(key, edge, fig, declared.contains(&(&key.0, &key.1))))
        })
        .collect()
}

impl Engine {
    /// Observed edges over [since, until) (all data when unbounded), those touching
    /// `node` when given.
    pub fn observed(
        &self,
        node: Option<&str>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<ObservedView> {
        let graph = self.graph(None)?;
        let index = self.observed_index()?;
        let focus = match node {
            Some(n) => Some(index.topology(&graph).lookup(n)?.id.clone()),
            None => None,
        };
        Ok(ObservedView { edges: edges_in_window(&graph, &index, focus.as_ref(), since, until) })
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

    /// Traffic of `node` over [since, until) in `graph`: by default the hour before
    /// `until`, which defaults to `at` or the end of the newest trace data. `None` when no
    /// traces touch the node at all.
    pub(crate) fn traffic(
        &self,
        graph: &Graph,
        node: &NodeId,
        at: Option<i64>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Option<Traffic>> {
        let index = self.observed_index()?;
        let touches = index.own.contains_key(node)
            || index.edges.keys().any(|(f, t, _)| f == node || t == node);
        let Some(newest) = index.newest.filter(|_| touches) else { return Ok(None) };
        let until = until.or(at).unwrap_or(newest);
        let since = since.unwrap_or(until - TRAFFIC_WINDOW);
        let red = index.own.get(node).map(|s| Red::of(&s.overlapping(Some(since), Some(until))));
        let edges = edges_in_window(graph, &index, Some(node), Some(since), Some(until));
        Ok(Some(Traffic {
            since: crate::time::format(since),
            until: crate::time::format(until),
            red,
            edges,
        }))
    }

    /// RED of `node` over [since, until) from its SERVER/CONSUMER spans; `None` when it
    /// reports none.
    pub fn red(
        &self,
        node: &NodeId,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Option<Red>> {
        let index = self.observed_index()?;
        Ok(index.own.get(node).map(|s| Red::of(&s.overlapping(since, until))))
    }
}
