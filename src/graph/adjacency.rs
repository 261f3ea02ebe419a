//! Compact adjacency for traversals: one CSR row of links per node and direction, rows
//! pre-filtered for the default impact filter, and a pool of reusable visit buffers so
//! that a traversal allocates nothing proportional to the graph.
//!
//! Hand-written rather than `petgraph::csr::Csr`, which requires unique (source, target)
//! pairs: the topology has parallel edges of different kinds between the same nodes, and
//! a traversal filters them by kind.

use std::sync::Mutex;

use lore_schema::EdgeKind;

/// One edge as a traversal sees it: the node at the other end, the edge's index, and what
/// the edge filter looks at. Twelve bytes, so a row of links stays in few cache lines.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    /// Node index at the other end.
    pub(super) node: u32,
    /// Index into the graph's edges.
    pub(super) edge: u32,
    /// The position of the edge's bit in a filter mask ([`kind_bit`]).
    pub(super) bit: u8,
    /// Declared only by an opt-in layer.
    pub(super) optional: bool,
}

impl Link {
    pub(super) fn new(
        node: u32,
        edge: u32,
        kind: EdgeKind,
        observed: bool,
        optional: bool,
    ) -> Link {
        Link { node, edge, bit: kind_shift(kind, observed) as u8, optional }
    }

    /// Whether a walk with this kind `mask` (and opt-in layers or not) follows the link.
    pub(super) fn follows(&self, mask: u64, optional: bool) -> bool {
        (mask >> self.bit) & 1 != 0 && (optional || !self.optional)
    }
}

/// A link a pre-filtered row keeps: the node at the other end and the edge's index.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    /// Node index at the other end.
    pub(super) node: u32,
    /// Index into the graph's edges.
    pub(super) edge: u32,
}

/// Bits of a filter mask per side: declared kinds in the low half, observed in the high.
pub(super) const OBSERVED_SHIFT: u32 = 32;

fn kind_shift(kind: EdgeKind, observed: bool) -> u32 {
    kind as u32 + if observed { OBSERVED_SHIFT } else { 0 }
}

/// The bit of an edge kind in a filter mask (kinds are a fieldless enum of under 32),
/// on the declared or the observed side.
pub(super) fn kind_bit(kind: EdgeKind, observed: bool) -> u64 {
    1u64 << kind_shift(kind, observed)
}

/// Rows of items, one per node, in compressed sparse row form.
#[derive(Debug, Default)]
pub(super) struct Rows<T> {
    offsets: Vec<u32>,
    items: Vec<T>,
}

impl<T> Rows<T> {
    /// The items of node `n`.
    pub(super) fn row(&self, n: u32) -> &[T] {
        let n = n as usize;
        &self.items[self.offsets[n] as usize..self.offsets[n + 1] as usize]
    }
}

/// Links out of (or into) every node.
pub(super) type Adjacency = Rows<Link>;

impl Rows<Link> {
    /// Builds rows for `nodes` nodes from `(row, link)` pairs in any order, each row
    /// sorted by (node, edge) so traversals visit neighbours in a stable order.
    pub(super) fn build(nodes: usize, pairs: &[(u32, Link)]) -> Adjacency {
        let mut offsets = vec![0u32; nodes + 1];
        for (row, _) in pairs {
            offsets[*row as usize + 1] += 1;
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let placeholder = Link { node: 0, edge: 0, bit: 0, optional: false };
        let mut items = vec![placeholder; pairs.len()];
        for (row, link) in pairs {
            let at = &mut fill[*row as usize];
            items[*at as usize] = *link;
            *at += 1;
        }
        for i in 0..nodes {
            let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
            items[a..b].sort_unstable_by_key(|l| (l.node, l.edge));
        }
        Rows { offsets, items }
    }

    /// The rows with only the links a walk with `mask` and `optional` follows.
    pub(super) fn filtered(&self, mask: u64, optional: bool) -> Rows<Step> {
        let mut offsets = Vec::with_capacity(self.offsets.len());
        let mut items = Vec::new();
        offsets.push(0);
        for n in 0..self.offsets.len().saturating_sub(1) {
            let kept = self.row(n as u32).iter().filter(|l| l.follows(mask, optional));
            items.extend(kept.map(|l| Step { node: l.node, edge: l.edge }));
            offsets.push(items.len() as u32);
        }
        Rows { offsets, items }
    }
}

/// No parent: the start of a traversal.
pub(super) const ROOT: u32 = u32::MAX;

/// What a traversal knows of one node: whether this traversal reached it (`stamp`), the
/// node and edge it came through, and its position in the answer.
#[derive(Debug, Clone, Copy)]
struct Seen {
    stamp: u32,
    parent: u32,
    edge: u32,
    pos: u32,
}

/// Visit state of one traversal. Stamps mark the nodes this traversal has seen, so
/// starting a new one costs nothing: only the entries it touches are written.
#[derive(Debug)]
pub(super) struct Visit {
    seen: Vec<Seen>,
    epoch: u32,
    /// Nodes in the order they were reached (the start first): the BFS queue.
    pub(super) order: Vec<u32>,
    /// Where each depth begins in `order` (depth 0, the start, at 0), and where the
    /// last one ends.
    pub(super) levels: Vec<u32>,
    /// One bit per node, all clear between uses: sorts a large level in linear time.
    bits: Vec<u64>,
}

/// Levels at most this long are sorted by comparison; longer ones through the bit set.
const SORT_BY_COMPARISON: usize = 64;

impl Visit {
    fn new(nodes: usize) -> Visit {
        let fresh = Seen { stamp: 0, parent: ROOT, edge: ROOT, pos: ROOT };
        Visit {
            seen: vec![fresh; nodes],
            epoch: 0,
            order: Vec::new(),
            levels: Vec::new(),
            bits: vec![0; nodes.div_ceil(64)],
        }
    }

    fn begin(&mut self) {
        self.order.clear();
        self.levels.clear();
        if self.epoch == u32::MAX {
            self.seen.iter_mut().for_each(|s| s.stamp = 0);
            self.epoch = 0;
        }
        self.epoch += 1;
    }

    /// Marks `n` reached through `parent` and `edge` (both [`ROOT`] for the start);
    /// false if already seen.
    pub(super) fn reach(&mut self, n: u32, parent: u32, edge: u32) -> bool {
        let s = &mut self.seen[n as usize];
        if s.stamp == self.epoch {
            return false;
        }
        *s = Seen { stamp: self.epoch, parent, edge, pos: ROOT };
        self.order.push(n);
        true
    }

    /// Whether `n` was reached.
    pub(super) fn seen(&self, n: u32) -> bool {
        self.seen[n as usize].stamp == self.epoch
    }

    /// (previous node, edge) of a reached node; ([`ROOT`], [`ROOT`]) for the start.
    pub(super) fn parent(&self, n: u32) -> (u32, u32) {
        let s = &self.seen[n as usize];
        (s.parent, s.edge)
    }

    /// Records the position of a reached node in the answer.
    pub(super) fn set_pos(&mut self, n: u32, pos: u32) {
        self.seen[n as usize].pos = pos;
    }

    /// The position recorded for a reached node, [`ROOT`] if none.
    pub(super) fn pos(&self, n: u32) -> u32 {
        self.seen[n as usize].pos
    }

    /// Sorts `order[a..b]` ascending: by comparison when short, else by setting one bit
    /// per node and reading the words back in order, linear in the level and the span
    /// of node indices it covers.
    pub(super) fn sort_range(&mut self, a: usize, b: usize) {
        let level = &mut self.order[a..b];
        if level.len() <= SORT_BY_COMPARISON {
            level.sort_unstable();
            return;
        }
        let (mut lo, mut hi) = (u32::MAX, 0);
        for &n in level.iter() {
            self.bits[(n / 64) as usize] |= 1 << (n % 64);
            lo = lo.min(n);
            hi = hi.max(n);
        }
        let mut out = 0;
        for w in (lo / 64) as usize..=(hi / 64) as usize {
            let mut word = std::mem::take(&mut self.bits[w]);
            while word != 0 {
                level[out] = w as u32 * 64 + word.trailing_zeros();
                out += 1;
                word &= word - 1;
            }
        }
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
        Link::new(node, edge, EdgeKind::Calls, false, false)
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
    fn filtered_rows_keep_the_links_the_mask_follows() {
        let optional = Link::new(2, 2, EdgeKind::Calls, false, true);
        let observed = Link::new(1, 3, EdgeKind::Calls, true, false);
        let adj = Adjacency::build(3, &[(0, link(1, 0)), (0, optional), (0, observed)]);
        let declared = kind_bit(EdgeKind::Calls, false);
        let steps = |rows: Rows<Step>| rows.row(0).iter().map(|s| s.edge).collect::<Vec<_>>();
        assert_eq!(steps(adj.filtered(declared, false)), [0]);
        assert_eq!(steps(adj.filtered(declared, true)), [0, 2]);
        assert_eq!(steps(adj.filtered(declared << OBSERVED_SHIFT, false)), [3]);
        assert!(adj.filtered(declared, false).row(2).is_empty());
    }

    #[test]
    fn a_new_visit_forgets_the_last_one() {
        let pool = VisitPool::new(4);
        pool.with(|v| {
            assert!(v.reach(1, ROOT, ROOT));
            assert!(!v.reach(1, 0, 0));
        });
        pool.with(|v| {
            assert!(!v.seen(1));
            assert!(v.reach(1, 3, 7));
            assert_eq!(v.parent(1), (3, 7));
            assert_eq!(v.pos(1), ROOT);
        });
    }

    #[test]
    fn levels_sort_both_ways() {
        let pool = VisitPool::new(300);
        pool.with(|v| {
            let nodes: Vec<u32> = (0..200).map(|i| (i * 37) % 300).collect();
            v.order.extend([5, 3, 9]);
            v.order.extend(&nodes);
            v.sort_range(0, 3);
            v.sort_range(3, v.order.len());
            let mut want = nodes.clone();
            want.sort_unstable();
            assert_eq!(&v.order[..3], [3, 5, 9]);
            assert_eq!(&v.order[3..], want);
            assert!(v.bits.iter().all(|&w| w == 0), "the bit set is left clear");
        });
    }
}
