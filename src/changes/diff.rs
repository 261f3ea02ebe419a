//! `lore diff`: nodes and edges added and removed in a time window, by comparing the
//! graph as it was just before `since` with the graph just before `until` (or now).
//!
//! Facts carry validity in whole seconds, so "just before t" is the graph at `t - 1`: a
//! fact first valid at `since` counts as added in the window, one first valid at `until`
//! does not. The answer is the net difference: an edge added and removed again inside the
//! window is in neither list.

use std::collections::BTreeMap;

use lore_schema::{EdgeKind, NodeId};
use serde::Serialize;

use crate::Engine;
use crate::error::{Error, Result};
use crate::model::{Edge, Node};

/// The answer to `diff`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DiffView {
    /// Window start (RFC 3339, inclusive).
    pub since: String,
    /// Window end (RFC 3339, exclusive), or `now`.
    pub until: String,
    /// Nodes that exist at the end and did not at the start.
    pub nodes_added: Vec<Node>,
    /// Nodes that existed at the start and do not at the end.
    pub nodes_removed: Vec<Node>,
    /// Edges that hold at the end and did not at the start, with their evidence then.
    pub edges_added: Vec<Edge>,
    /// Edges that held at the start and do not at the end, with their evidence then.
    pub edges_removed: Vec<Edge>,
}

type EdgeKey = (NodeId, NodeId, EdgeKind);

fn edges_by_key<'a>(
    edges: impl Iterator<Item = &'a std::sync::Arc<Edge>>,
) -> BTreeMap<EdgeKey, &'a Edge> {
    edges.map(|e| ((e.from.clone(), e.to.clone(), e.kind), &**e)).collect()
}

impl Engine {
    /// Nodes and edges added and removed between `since` and `until` (now when `None`).
    pub fn diff(&self, since: i64, until: Option<i64>) -> Result<DiffView> {
        if let Some(until) = until
            && since >= until
        {
            return Err(Error::InvalidParam {
                name: "since".into(),
                reason: format!(
                    "{} is not before until {}",
                    crate::time::format(since),
                    crate::time::format(until)
                ),
            });
        }
        let before = self.graph(Some(since.saturating_sub(1)))?;
        let after = self.graph(until.map(|u| u.saturating_sub(1)))?;
        let node_ids = |g: &crate::graph::Graph| -> BTreeMap<NodeId, Node> {
            g.nodes().iter().map(|n| (n.id.clone(), (**n).clone())).collect()
        };
        let (nodes_then, nodes_now) = (node_ids(&before), node_ids(&after));
        let (edges_then, edges_now) = (edges_by_key(before.edges()), edges_by_key(after.edges()));
        Ok(DiffView {
            since: crate::time::format(since),
            until: until.map_or_else(|| "now".to_string(), crate::time::format),
            nodes_added: nodes_now
                .iter()
                .filter(|(id, _)| !nodes_then.contains_key(*id))
                .map(|(_, n)| n.clone())
                .collect(),
            nodes_removed: nodes_then
                .iter()
                .filter(|(id, _)| !nodes_now.contains_key(*id))
                .map(|(_, n)| n.clone())
                .collect(),
            edges_added: edges_now
                .iter()
                .filter(|(k, _)| !edges_then.contains_key(*k))
                .map(|(_, e)| (*e).clone())
                .collect(),
            edges_removed: edges_then
                .iter()
                .filter(|(k, _)| !edges_now.contains_key(*k))
                .map(|(_, e)| (*e).clone())
                .collect(),
        })
    }
}
