//! The topology graph: the resolved records with a compact adjacency for traversals.
//!
//! Built from the store on open; node indices never leave this module tree. Lookups by
//! id, name or alias go through [`Graph::lookup`].

mod adjacency;
mod documents;
mod edges;
mod hits;
pub mod snapshot;
pub(crate) mod stored;
mod traverse;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use lore_schema::{EdgeKind, NodeId};

use adjacency::{Adjacency, Link, Rows, Step, VisitPool};
use edges::Edges;
use stored::Stored;

use crate::error::{Error, Result};
use crate::model::{Edge, Member, Node};
use crate::resolve::{DanglingLink, Resolved, Unresolved};

pub use documents::Documents;
pub use hits::{HitIter, HitRef, ImpactHits, PathIter, PathRef};
pub use traverse::{Direction, EdgeFilter, ImpactHit, PathHit, Sides};

/// The resolved topology with its adjacency.
#[derive(Debug)]
pub struct Graph {
    /// Shared with the answers that name one (an impact answer's queried node).
    nodes: Vec<Arc<Node>>,
    /// Per node, read from the snapshot on demand when the graph was opened from one.
    members: Stored<Vec<Member>>,
    /// Shared with traversal results, which carry paths of them; read from the snapshot
    /// on demand when the graph was opened from one.
    edges: Edges,
    unresolved: Vec<Unresolved>,
    documents: Documents,
    dangling: Vec<DanglingLink>,
    /// Links out of each node (dependent to dependency) and into it.
    outgoing: Adjacency,
    incoming: Adjacency,
    /// The rows of the default impact filter (request-path kinds, declared and observed,
    /// no opt-in layers): what most walks follow, without checking each link.
    kept_out: Rows<Step>,
    kept_in: Rows<Step>,
    /// That filter's mask.
    kept_mask: u64,
    visits: VisitPool,
    by_id: BTreeMap<NodeId, usize>,
    by_name: BTreeMap<String, BTreeSet<usize>>,
}

impl Graph {
    /// Projects resolved records into a graph.
    pub fn new(resolved: Resolved) -> Graph {
        let Resolved { nodes, members, edges, unresolved, documents, dangling } = resolved;
        let edges: Vec<Arc<Edge>> = edges.into_iter().map(Arc::new).collect();
        let documents = Documents::new(documents);
        let edges = |by_id: &_| Edges::new(edges, by_id);
        let nodes = nodes.into_iter().map(Arc::new).collect();
        Graph::from_parts(nodes, Stored::new(members), edges, unresolved, documents, dangling)
    }

    /// This graph's nodes and edges with `nodes` (and their members) and `edges` added:
    /// the topology with what traces observed. Documents, unresolved
    /// references and dangling links are left out; it answers traversals and lookups.
    pub fn extended(&self, nodes: Vec<(Node, Vec<Member>)>, edges: Vec<Edge>) -> Graph {
        let mut pairs: Vec<(Arc<Node>, Vec<Member>)> =
            self.nodes.iter().cloned().zip(self.all_members().map(<[Member]>::to_vec)).collect();
        let added = nodes.into_iter().filter(|(n, _)| !self.by_id.contains_key(&n.id));
        pairs.extend(added.map(|(n, m)| (Arc::new(n), m)));
        pairs.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let (nodes, members) = pairs.into_iter().unzip();
        let all = self.edges().cloned().chain(edges.into_iter().map(Arc::new)).collect();
        let all = |by_id: &_| Edges::new(all, by_id);
        Graph::from_parts(
            nodes,
            Stored::new(members),
            all,
            Vec::new(),
            Documents::default(),
            Vec::new(),
        )
    }

    /// This graph with the document nodes of `added` (their members, edges and
    /// documents: [`crate::resolve::link_added_documents`]) put in, replacing any of the
    /// same id, and the nodes `removed` taken out with their edges and documents: a note
    /// written or removed without resolving the store again. Unresolved references and
    /// dangling links stay as they are (a note changes neither).
    pub fn with_documents(&self, added: Resolved, removed: &[NodeId]) -> Graph {
        let Resolved { nodes, members, edges, documents, .. } = added;
        let replaced: BTreeSet<&NodeId> = nodes.iter().map(|n| &n.id).collect();
        let gone = |id: &NodeId| removed.contains(id) || replaced.contains(id);
        let mut pairs: Vec<(Arc<Node>, Vec<Member>)> = self
            .nodes
            .iter()
            .zip(self.all_members())
            .filter(|(n, _)| !gone(&n.id))
            .map(|(n, m)| (n.clone(), m.to_vec()))
            .collect();
        let mut all: Vec<Arc<Edge>> =
            self.edges().filter(|e| !gone(&e.from) && !gone(&e.to)).cloned().collect();
        let mut dropped: Vec<NodeId> = removed.to_vec();
        dropped.extend(replaced.iter().map(|id| (*id).clone()));
        let documents = self.documents.with(documents, &dropped);
        pairs.extend(nodes.into_iter().map(Arc::new).zip(members));
        all.extend(edges.into_iter().map(Arc::new));
        let (nodes, members) = pairs.into_iter().unzip();
        let (unresolved, dangling) = (self.unresolved.clone(), self.dangling.clone());
        let all = |by_id: &_| Edges::new(all, by_id);
        Graph::from_parts(nodes, Stored::new(members), all, unresolved, documents, dangling)
    }

    /// The graph of `nodes`, with the edges `edges` gives for the nodes' indices by id.
    fn from_parts(
        nodes: Vec<Arc<Node>>,
        members: Stored<Vec<Member>>,
        edges: impl FnOnce(&BTreeMap<NodeId, usize>) -> Edges,
        unresolved: Vec<Unresolved>,
        documents: Documents,
        dangling: Vec<DanglingLink>,
    ) -> Graph {
        let by_id: BTreeMap<NodeId, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.id.clone(), i)).collect();
        let mut by_name: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for name in std::iter::once(&n.name).chain(&n.aliases) {
                by_name.entry(name.to_ascii_lowercase()).or_default().insert(i);
            }
        }
        let edges = edges(&by_id);
        let (mut out, mut inc) = (Vec::new(), Vec::new());
        for (e_idx, e) in edges.cores().iter().enumerate() {
            if let Some((f, t)) = e.ends() {
                let link =
                    |node: u32| Link::new(node, e_idx as u32, e.kind(), e.observed(), e.optional());
                out.push((f, link(t)));
                inc.push((t, link(f)));
            }
        }
        let (outgoing, incoming) =
            (Adjacency::build(nodes.len(), &out), Adjacency::build(nodes.len(), &inc));
        let kept_mask = EdgeFilter::request_path().mask();
        Graph {
            kept_out: outgoing.filtered(kept_mask, false),
            kept_in: incoming.filtered(kept_mask, false),
            kept_mask,
            outgoing,
            incoming,
            visits: VisitPool::new(nodes.len()),
            edges,
            nodes,
            members,
            unresolved,
            documents,
            dangling,
            by_id,
            by_name,
        }
    }

    /// All nodes, sorted by id.
    pub fn nodes(&self) -> &[Arc<Node>] {
        &self.nodes
    }

    /// All edges (read from the snapshot, when the graph was opened from one).
    pub fn edges(&self) -> impl Iterator<Item = &Arc<Edge>> {
        (0..self.edges.len()).filter_map(|i| self.edge(i))
    }

    /// Each edge's ends and kind, from what traversals read (no edge is read from the
    /// snapshot); edges with an end that is not a node are left out.
    pub fn edge_ends(&self) -> impl Iterator<Item = (&NodeId, &NodeId, EdgeKind)> {
        self.edges.cores().iter().filter_map(|c| {
            let (from, to) = c.ends()?;
            Some((&self.nodes[from as usize].id, &self.nodes[to as usize].id, c.kind()))
        })
    }

    /// Nodes of this graph (one with every past fact) whose history `current` lacks:
    /// absent from it, or at an end of an edge it does not have. Sorted.
    pub fn differing_from(&self, current: &Graph) -> Vec<NodeId> {
        let live: std::collections::HashSet<_> = current.edge_ends().collect();
        let mut out: BTreeSet<&NodeId> =
            self.nodes.iter().map(|n| &n.id).filter(|id| current.node(id).is_none()).collect();
        for (from, to, _) in self.edge_ends().filter(|e| !live.contains(e)) {
            out.insert(from);
            out.insert(to);
        }
        out.into_iter().cloned().collect()
    }

    /// How many edges there are (without reading any).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Edge `i` (an index from the adjacency).
    fn edge(&self, i: usize) -> Option<&Arc<Edge>> {
        self.edges.get(i, &self.nodes)
    }

    /// References that matched no node.
    pub fn unresolved(&self) -> &[Unresolved] {
        &self.unresolved
    }

    /// Documents by node id.
    pub fn documents(&self) -> &Documents {
        &self.documents
    }

    /// The document node `id` is, if it is one.
    pub fn document(&self, id: &NodeId) -> Option<&lore_schema::Document> {
        self.documents.get(id)
    }

    /// Whether node `id` is a document (without decoding any).
    pub fn has_document(&self, id: &NodeId) -> bool {
        self.documents.contains(id)
    }

    /// Alerts whose runbook_url matched no runbook.
    pub fn dangling(&self) -> &[DanglingLink] {
        &self.dangling
    }

    /// The node with this id.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.by_id.get(id).map(|&i| &*self.nodes[i])
    }

    /// Declarations merged into the node, with the rule that merged each.
    pub fn members(&self, id: &NodeId) -> &[Member] {
        self.by_id.get(id).map_or(&[], |&i| self.members_at(i))
    }

    fn members_at(&self, i: usize) -> &[Member] {
        self.members.get_or(i, "members", || Some(Vec::new())).map_or(&[], Vec::as_slice)
    }

    /// The members of every node, in node order.
    fn all_members(&self) -> impl Iterator<Item = &[Member]> {
        (0..self.nodes.len()).map(|i| self.members_at(i))
    }

    /// Resolves an id, name or alias to one node; an ambiguous name lists candidates.
    pub fn lookup(&self, name: &str) -> Result<&Node> {
        self.lookup_shared(name).map(|n| &**n)
    }

    /// [`Graph::lookup`], the node as the graph shares it (no copy for an answer to hold).
    pub fn lookup_shared(&self, name: &str) -> Result<&Arc<Node>> {
        // An id (`kind:name`), compared as text: no parse, no allocation.
        if let Some(&i) = self.by_id.get(name) {
            return Ok(&self.nodes[i]);
        }
        let lower;
        let key = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = name.to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        let found = self.by_name.get(key);
        let found = || found.into_iter().flatten().copied();
        // The canonical name wins over aliases other nodes happen to share.
        let mut canonical = found().filter(|&i| self.nodes[i].name.eq_ignore_ascii_case(name));
        let mut pick: Vec<usize> = match (canonical.next(), canonical.next()) {
            (Some(one), None) => vec![one],
            _ => found().collect(),
        };
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
        let edges = |adjacency: &Adjacency| {
            let row = adjacency.row(i as u32).iter();
            row.filter_map(|l| self.edge(l.edge as usize)).map(|e| &**e).collect()
        };
        (edges(&self.outgoing), edges(&self.incoming))
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
