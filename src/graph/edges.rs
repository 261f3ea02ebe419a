//! A graph's edges: what traversals look at (the [`Core`] of each edge: its ends, kind
//! and flags) always in memory, and the rest (evidence) in memory when the graph was
//! resolved in this process, or read from the graph's snapshot for the edges a query
//! returns (`stored.rs`).

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;

use lore_schema::{EdgeKind, NodeId};
use serde::{Deserialize, Serialize};

use super::documents::Place;
use super::stored::Stored;
use crate::model::{Edge, Node};

/// The index of "no node of this graph" in a [`Core`].
const NO_NODE: u32 = u32::MAX;

/// What traversals and filters see of an edge: its ends as node indices, its kind and
/// its flags. Kept in memory for every edge; the rest of the edge is read on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Core {
    pub(super) from: u32,
    pub(super) to: u32,
    /// The kind's discriminant, which is its position in [`EdgeKind::ALL`].
    kind: u8,
    /// `observed`, `optional` and `start_order`, one bit each.
    flags: u8,
    confidence: u16,
}

const OBSERVED: u8 = 1;
const OPTIONAL: u8 = 2;
const START_ORDER: u8 = 4;

impl Core {
    fn of(edge: &Edge, by_id: &BTreeMap<NodeId, usize>) -> Core {
        let index = |id: &NodeId| by_id.get(id).map_or(NO_NODE, |&i| i as u32);
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        Core {
            from: index(&edge.from),
            to: index(&edge.to),
            kind: edge.kind as u8,
            flags: flag(edge.observed, OBSERVED)
                | flag(edge.optional, OPTIONAL)
                | flag(edge.start_order, START_ORDER),
            confidence: edge.confidence,
        }
    }

    /// The node indices at both ends, when both are nodes of the graph.
    pub(super) fn ends(&self) -> Option<(u32, u32)> {
        (self.from != NO_NODE && self.to != NO_NODE).then_some((self.from, self.to))
    }

    /// Whether both ends are below `nodes` or "no node".
    pub(super) fn within(&self, nodes: usize) -> bool {
        let fits = |i: u32| i == NO_NODE || (i as usize) < nodes;
        fits(self.from) && fits(self.to)
    }

    pub(super) fn kind(&self) -> EdgeKind {
        EdgeKind::ALL.get(usize::from(self.kind)).copied().unwrap_or(EdgeKind::Calls)
    }

    pub(super) fn observed(&self) -> bool {
        self.flags & OBSERVED != 0
    }

    pub(super) fn optional(&self) -> bool {
        self.flags & OPTIONAL != 0
    }

    /// The edge without its evidence: what is known of an edge whose stored form can no
    /// longer be read.
    fn bare(&self, nodes: &[Arc<Node>]) -> Option<Edge> {
        let (from, to) = self.ends()?;
        Some(Edge {
            from: nodes.get(from as usize)?.id.clone(),
            to: nodes.get(to as usize)?.id.clone(),
            kind: self.kind(),
            optional: self.optional(),
            start_order: self.flags & START_ORDER != 0,
            observed: self.observed(),
            confidence: self.confidence,
            evidence: Vec::new(),
        })
    }
}

/// The edges of one graph, by index.
#[derive(Debug)]
pub(super) struct Edges {
    cores: Vec<Core>,
    bodies: Stored<Arc<Edge>>,
}

impl Edges {
    /// Edges already in memory, between the nodes of `by_id`.
    pub(super) fn new(edges: Vec<Arc<Edge>>, by_id: &BTreeMap<NodeId, usize>) -> Edges {
        let cores = edges.iter().map(|e| Core::of(e, by_id)).collect();
        Edges { cores, bodies: Stored::new(edges) }
    }

    /// Edges read from `file` at `places` when first asked for; `cores` are what
    /// traversals need of them, in the same order.
    pub(super) fn lazy(cores: Vec<Core>, places: Vec<Place>, file: Arc<File>) -> Edges {
        Edges { cores, bodies: Stored::lazy(places, file) }
    }

    pub(super) fn len(&self) -> usize {
        self.cores.len()
    }

    pub(super) fn cores(&self) -> &[Core] {
        &self.cores
    }

    /// Edge `i`. `nodes` are the graph's nodes: an edge whose stored form cannot be read
    /// is given without its evidence.
    pub(super) fn get(&self, i: usize, nodes: &[Arc<Node>]) -> Option<&Arc<Edge>> {
        let core = self.cores.get(i)?;
        self.bodies.get_or(i, "edge", || core.bare(nodes).map(Arc::new))
    }
}
