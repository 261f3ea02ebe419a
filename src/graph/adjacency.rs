//! Compact adjacency for traversals: one CSR row of links per node and direction, and a
//! pool of reusable visit buffers so that a traversal allocates nothing proportional to
//! the graph.
//!
//! Hand-written rather than `petgraph::csr::Csr`, which requires unique (source, target)
//! pairs: the topology has parallel edges of different kinds between the same nodes, and
//! a traversal filters them by kind.

use std::sync::Mutex;

use lore_schema::EdgeKind;

/// One edge as a traversal sees it: the node at the other end, the edge's index, and what
/// the edge filter looks at.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    /// Node index at the other end.
    pub(super) node: u32,
    /// Index into the graph's edges.
    pub(super) edge: u32,
    /// `1 << kind`, matched against a filter's mask.
    pub(super) kind_bit: u64,
    /// Declared only by an opt-in layer.
    pub(super) optional: bool,
}

/// Bits of a filter mask per side: declared kinds in the low half, observed in the high.
pub(super) const OBSERVED_SHIFT: u32 = 32;

/// The bit of an edge kind in a filter mask (kinds are a fieldless enum of under 32),
/// on the declared or the observed side.
pub(super) fn kind_bit(kind: EdgeKind, observed: bool) -> u64 {
    1u64 << (kind as u32 + if observed { OBSERVED_SHIFT } else { 0 })
}

/// Rows of links, one per node, each sorted by (node, edge) so traversals visit
/// neighbours in a stable order.
#[derive(Debug, Default)]
pub(super) struct Adjacency {
    offsets: Vec<u32>,
    links: Vec<Link>,
}

impl Adjacency {
    /// Builds rows for `nodes` nodes from `(row, link)` pairs in any order.
    pub(super) fn build(nodes: usize, pairs: &[(u32, Link)]) -> Adjacency {
        let mut offsets = vec![0u32; nodes + 1];
        for (row, _) in pairs {
            offsets[*row as usize + 1] += 1;
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let placeholder = Link { node: 0, edge: 0, kind_bit: 0, optional: false };
        let mut links = vec![placeholder; pairs.len()];
        for (row, link) in pairs {
            let at = &mut fill[*row as usize];
            links[*at as usize] = *link;
            *at += 1;
        }
        for i in 0..nodes {
            let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
            links[a..b].sort_unstable_by_key(|l| (l.node, l.edge));
        }
        Adjacency { offsets, links }
    }

    /// The links of node `n`.
    pub(super) fn row(&self, n: u32) -> &[Link] {
        let n = n as usize;
        &self.links[self.offsets[n] as usize..self.offsets[n + 1] as usize]
    }
}

/// No parent: the start of a traversal.
pub(super) const ROOT: (u32, u32) = (u32::MAX, u32::MAX);

/// Visit state of one traversal. Stamps mark the nodes this traversal has seen, so
/// starting a new one costs nothing: only the entries it touches are written.
#[derive(Debug)]
pub(super) struct Visit {
    stamp: Vec<u32>,
    epoch: u32,
    depth: Vec<u32>,
    parent: Vec<(u32, u32)>,
    /// Nodes in the order they were reached (the start first): the BFS queue.
    pub(super) order: Vec<u32>,
}

impl Visit {
    fn new(nodes: usize) -> Visit {
        Visit {
            stamp: vec![0; nodes],
            epoch: 0,
            depth: vec![0; nodes],
            parent: vec![ROOT; nodes],
            order: Vec::new(),
        }
    }

    fn begin(&mut self) {
        self.order.clear();
        if self.epoch == u32::MAX {
            self.stamp.fill(0);
            self.epoch = 0;
        }
        self.epoch += 1;
    }

    /// Marks `n` reached at `depth` through `parent` (node, edge); false if already seen.
    pub(super) fn reach(&mut self, n: u32, depth: u32, parent: (u32, u32)) -> bool {
        let i = n as usize;
        if self.stamp[i] == self.epoch {
            return false;
        }
        self.stamp[i] = self.epoch;
        self.depth[i] = depth;
        self.parent[i] = parent;
        self.order.push(n);
        true
    }

    /// Whether `n` was reached.
    pub(super) fn seen(&self, n: u32) -> bool {
        self.stamp[n as usize] == self.epoch
    }

    /// Hops from the start to a reached node.
    pub(super) fn depth(&self, n: u32) -> u32 {
        self.depth[n as usize]
    }

    /// (previous node, edge) of a reached node; [`ROOT`] for the start.
    pub(super) fn parent(&self, n: u32) -> (u32, u32) {
        self.parent[n as usize]
    }
}

/// Visit buffers of one graph, reused across traversals (one per concurrent traversal).
#[derive(Debug, Default)]
pub(super) struct VisitPool {
    nodes: usize,
    free: Mutex<Vec<Visit>>,
}

impl VisitPool {
    pub(super) fn new(nodes: usize) -> VisitPool {
        VisitPool { nodes, free: Mutex::new(Vec::new()) }
    }

    /// Runs `f` with a fresh visit, returning the buffer to the pool afterwards.
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Visit) -> T) -> T {
        let taken = self.free.lock().ok().and_then(|mut v| v.pop());
        let mut visit = taken.unwrap_or_else(|| Visit::new(self.nodes));
        visit.begin();
        let out = f(&mut visit);
        if let Ok(mut free) = self.free.lock() {
            free.push(visit);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(node: u32, edge: u32) -> Link {
        Link { node, edge, kind_bit: 1, optional: false }
    }

    #[test]
    fn rows_hold_their_links_sorted() {
        let adj = Adjacency::build(3, &[(2, link(1, 5)), (0, link(2, 1)), (0, link(1, 0))]);
        let row: Vec<(u32, u32)> = adj.row(0).iter().map(|l| (l.node, l.edge)).collect();
        assert_eq!(row, [(1, 0), (2, 1)]);
        assert!(adj.row(1).is_empty());
        assert_eq!(adj.row(2)[0].edge, 5);
    }

    #[test]
    fn a_new_visit_forgets_the_last_one() {
        let pool = VisitPool::new(4);
        pool.with(|v| {
            assert!(v.reach(1, 0, ROOT));
            assert!(!v.reach(1, 1, (0, 0)));
        });
        pool.with(|v| {
            assert!(!v.seen(1));
            assert!(v.reach(1, 2, (3, 7)));
            assert_eq!((v.depth(1), v.parent(1)), (2, (3, 7)));
        });
    }
}
