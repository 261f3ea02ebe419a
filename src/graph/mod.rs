//! The topology graph: petgraph projection of the resolved records.
//!
//! Built from the store on open (never persisted); `NodeIndex` values never leave this
//! module tree. Lookups by id, name or alias go through [`Graph::lookup`].

mod traverse;

use std::collections::{BTreeMap, BTreeSet};

use lore_schema::NodeId;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};

use crate::error::{Error, Result};
use crate::model::{Edge, Member, Node};
use crate::resolve::{DanglingLink, Resolved, Unresolved};

pub use traverse::{Direction, EdgeFilter, ImpactHit, PathHit};

/// The resolved topology with its petgraph projection.
#[derive(Debug)]
pub struct Graph {
    nodes: Vec<Node>,
    members: Vec<Vec<Member>>,
    edges: Vec<Edge>,
    unresolved: Vec<Unresolved>,
    documents: BTreeMap<NodeId, lore_schema::Document>,
    dangling: Vec<DanglingLink>,
    graph: StableDiGraph<usize, usize>,
    index: Vec<NodeIndex>,
    by_id: BTreeMap<NodeId, usize>,
    by_name: BTreeMap<String, BTreeSet<usize>>,
}

impl Graph {
    /// Projects resolved records into a graph.
    pub fn new(resolved: Resolved) -> Graph {
        let Resolved { nodes, members, edges, unresolved, documents, dangling } = resolved;
        let mut graph = StableDiGraph::with_capacity(nodes.len(), edges.len());
        let index: Vec<NodeIndex> = (0..nodes.len()).map(|i| graph.add_node(i)).collect();
        let by_id: BTreeMap<NodeId, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect();
        let mut by_name: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for name in std::iter::once(&n.name).chain(&n.aliases) {
                by_name.entry(name.to_ascii_lowercase()).or_default().insert(i);
            }
        }
        for (e_idx, e) in edges.iter().enumerate() {
            if let (Some(&f), Some(&t)) = (by_id.get(&e.from), by_id.get(&e.to)) {
                graph.add_edge(index[f], index[t], e_idx);
            }
        }
        Graph {
            nodes,
            members,
            edges,
            unresolved,
            documents,
            dangling,
            graph,
            index,
            by_id,
            by_name,
        }
    }

    /// All nodes, sorted by id.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// All edges.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// References that matched no node.
    pub fn unresolved(&self) -> &[Unresolved] {
        &self.unresolved
    }

    /// Documents by node id.
    pub fn documents(&self) -> &BTreeMap<NodeId, lore_schema::Document> {
        &self.documents
    }

    /// Alerts whose runbook_url matched no runbook.
    pub fn dangling(&self) -> &[DanglingLink] {
        &self.dangling
    }

    /// The node with this id.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.by_id.get(id).map(|&i| &self.nodes[i])
    }

    /// Declarations merged into the node, with the rule that merged each.
    pub fn members(&self, id: &NodeId) -> &[Member] {
        self.by_id.get(id).map_or(&[], |&i| &self.members[i])
    }

    /// Resolves an id, name or alias to one node; an ambiguous name lists candidates.
    pub fn lookup(&self, name: &str) -> Result<&Node> {
        if let Ok(id) = name.parse::<NodeId>()
            && let Some(node) = self.node(&id)
        {
            return Ok(node);
        }
        let found = self.by_name.get(&name.to_ascii_lowercase()).cloned().unwrap_or_default();
        // The canonical name wins over aliases other nodes happen to share.
        let canonical: Vec<usize> = found
            .iter()
            .copied()
            .filter(|&i| self.nodes[i].name.eq_ignore_ascii_case(name))
            .collect();
        let mut pick = if canonical.len() == 1 { canonical } else { found.into_iter().collect() };
        // Names shared across kinds (`frontend` the team and the service): the most
        // deployable kind wins; only candidates of the same kind are ambiguous.
        if let Some(best) = pick.iter().map(|&i| lookup_rank(self.nodes[i].kind)).min() {
            pick.retain(|&i| lookup_rank(self.nodes[i].kind) == best);
        }
        match pick.as_slice() {
            [one] => Ok(&self.nodes[*one]),
            [] => Err(Error::NodeNotFound(name.to_string())),
            many => Err(Error::Ambiguous {
                name: name.to_string(),
                candidates: many.iter().map(|&i| self.nodes[i].id.to_string()).collect(),
            }),
        }
    }

    /// Edges out of and into a node.
    pub fn edges_of(&self, id: &NodeId) -> (Vec<&Edge>, Vec<&Edge>) {
        let Some(&i) = self.by_id.get(id) else { return (Vec::new(), Vec::new()) };
        let out = self
            .graph
            .edges_directed(self.index[i], petgraph::Direction::Outgoing)
            .map(|e| &self.edges[*e.weight()])
            .collect();
        let inc = self
            .graph
            .edges_directed(self.index[i], petgraph::Direction::Incoming)
            .map(|e| &self.edges[*e.weight()])
            .collect();
        (out, inc)
    }
}

/// Preference among nodes of different kinds that share a name: services, then
/// datastores, then APIs, systems, teams and the rest.
fn lookup_rank(kind: lore_schema::NodeKind) -> u8 {
    use lore_schema::NodeKind::*;
    match kind {
        Service => 0,
        Datastore => 1,
        Api => 2,
        System => 3,
        Team => 4,
        _ => 5,
    }
}
