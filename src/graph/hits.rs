//! The answer of an impact walk, held compactly: one 16-byte entry per node reached (its
//! index, depth, and the hit and edge it was reached through), with ids, names and paths
//! read from the graph when asked or serialized. An answer of 10,000 nodes is 10,000
//! entries, not 10,000 owned ids and paths; it serializes exactly as a list of
//! [`ImpactHit`]s.

use std::fmt;
use std::sync::Arc;

use lore_schema::{NodeId, NodeKind};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::adjacency::ROOT;
use super::{Direction, Graph, ImpactHit};
use crate::model::Edge;

/// One node reached by a walk, as the walk's answer keeps it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reached {
    /// Node index.
    pub(super) node: u32,
    /// Hops from the start.
    pub(super) depth: u32,
    /// Position of the hit it was reached from; [`ROOT`] when from the start.
    pub(super) parent: u32,
    /// Index of the edge it was reached through.
    pub(super) edge: u32,
}

/// The nodes an impact query reached, by depth then id, each with its path.
#[derive(Clone)]
pub struct ImpactHits(Repr);

#[derive(Clone)]
enum Repr {
    /// Straight from a walk over `graph`.
    Walked { graph: Arc<Graph>, direction: Direction, reached: Vec<Reached> },
    /// Owned hits (deserialized, or built by hand).
    Owned(Vec<ImpactHit>),
}

impl ImpactHits {
    pub(super) fn walked(graph: Arc<Graph>, direction: Direction, reached: Vec<Reached>) -> Self {
        ImpactHits(Repr::Walked { graph, direction, reached })
    }

    /// How many nodes were reached.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Walked { reached, .. } => reached.len(),
            Repr::Owned(hits) => hits.len(),
        }
    }

    /// Whether no node was reached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th hit.
    pub fn get(&self, i: usize) -> Option<HitRef<'_>> {
        match &self.0 {
            Repr::Walked { graph, direction, reached } => {
                (i < reached.len()).then(|| hit_ref(graph, *direction, reached, i))
            }
            Repr::Owned(hits) => hits.get(i).map(HitRef::of),
        }
    }

    /// The hits in order, borrowed.
    pub fn iter(&self) -> HitIter<'_> {
        HitIter { hits: self, next: 0, end: self.len() }
    }

    /// The hits as owned values.
    pub fn to_vec(&self) -> Vec<ImpactHit> {
        self.iter().map(|h| h.to_hit()).collect()
    }
}

impl From<Vec<ImpactHit>> for ImpactHits {
    fn from(hits: Vec<ImpactHit>) -> ImpactHits {
        ImpactHits(Repr::Owned(hits))
    }
}

/// The hit at `i` of a walk's answer.
pub(super) fn hit_ref<'a>(
    graph: &'a Graph,
    direction: Direction,
    reached: &'a [Reached],
    i: usize,
) -> HitRef<'a> {
    let r = &reached[i];
    let node = &graph.nodes[r.node as usize];
    let path = PathRef(PathRepr::Walked {
        graph,
        reached,
        hit: i as u32,
        len: r.depth as usize,
        reversed: direction == Direction::Downstream,
    });
    HitRef { id: &node.id, kind: node.kind, name: &node.name, depth: r.depth as usize, path }
}

/// One hit, borrowed from its answer: the fields of [`ImpactHit`].
#[derive(Clone, Copy)]
pub struct HitRef<'a> {
    /// Node id.
    pub id: &'a NodeId,
    /// Node kind.
    pub kind: NodeKind,
    /// Node name.
    pub name: &'a String,
    /// Hops from the queried node.
    pub depth: usize,
    /// Edges from the hit to the queried node (upstream) or from the queried node to the
    /// hit (downstream), in call direction, each with its evidence.
    pub path: PathRef<'a>,
}

impl<'a> HitRef<'a> {
    fn of(hit: &'a ImpactHit) -> HitRef<'a> {
        HitRef {
            id: &hit.id,
            kind: hit.kind,
            name: &hit.name,
            depth: hit.depth,
            path: PathRef(PathRepr::Edges(&hit.path)),
        }
    }

    /// The hit as an owned value.
    pub fn to_hit(&self) -> ImpactHit {
        ImpactHit {
            id: self.id.clone(),
            kind: self.kind,
            name: self.name.clone(),
            depth: self.depth,
            path: self.path.to_vec(),
        }
    }
}

/// The path of one hit, borrowed from its answer.
#[derive(Clone, Copy)]
pub struct PathRef<'a>(PathRepr<'a>);

#[derive(Clone, Copy)]
enum PathRepr<'a> {
    Edges(&'a [Arc<Edge>]),
    /// Parent links from hit `hit` back to the start, `len` of them; `reversed` when the
    /// path runs from the start to the hit.
    Walked {
        graph: &'a Graph,
        reached: &'a [Reached],
        hit: u32,
        len: usize,
        reversed: bool,
    },
}

impl<'a> PathRef<'a> {
    /// Hops.
    pub fn len(&self) -> usize {
        match self.0 {
            PathRepr::Edges(edges) => edges.len(),
            PathRepr::Walked { len, .. } => len,
        }
    }

    /// Whether the path has no edge.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th edge.
    pub fn get(&self, k: usize) -> Option<&'a Arc<Edge>> {
        match self.0 {
            PathRepr::Edges(edges) => edges.get(k),
            PathRepr::Walked { graph, reached, hit, len, reversed } => {
                if k >= len {
                    return None;
                }
                let mut at = hit;
                for _ in 0..if reversed { len - 1 - k } else { k } {
                    at = reached[at as usize].parent;
                }
                graph.edge(reached[at as usize].edge as usize)
            }
        }
    }

    /// The first edge.
    pub fn first(&self) -> Option<&'a Arc<Edge>> {
        self.get(0)
    }

    /// The last edge.
    pub fn last(&self) -> Option<&'a Arc<Edge>> {
        self.len().checked_sub(1).and_then(|k| self.get(k))
    }

    /// The edges in order.
    pub fn iter(&self) -> PathIter<'a> {
        PathIter { path: *self, front: 0, back: self.len() }
    }

    /// The edges as an owned path (sharing the graph's edges).
    pub fn to_vec(&self) -> Vec<Arc<Edge>> {
        match self.0 {
            PathRepr::Edges(edges) => edges.to_vec(),
            PathRepr::Walked { graph, reached, hit, len, reversed } => {
                let mut out = Vec::with_capacity(len);
                let mut at = hit;
                while at != ROOT {
                    let r = &reached[at as usize];
                    out.extend(graph.edge(r.edge as usize).cloned());
                    at = r.parent;
                }
                if reversed {
                    out.reverse();
                }
                out
            }
        }
    }
}

impl std::ops::Index<usize> for PathRef<'_> {
    type Output = Arc<Edge>;

    fn index(&self, k: usize) -> &Arc<Edge> {
        match self.get(k) {
            Some(edge) => edge,
            None => panic!("path index {k} out of range for a path of {} hops", self.len()),
        }
    }
}

/// The edges of a path in order.
pub struct PathIter<'a> {
    path: PathRef<'a>,
    front: usize,
    back: usize,
}

impl<'a> Iterator for PathIter<'a> {
    type Item = &'a Arc<Edge>;

    fn next(&mut self) -> Option<&'a Arc<Edge>> {
        if self.front >= self.back {
            return None;
        }
        self.front += 1;
        self.path.get(self.front - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl ExactSizeIterator for PathIter<'_> {}

impl DoubleEndedIterator for PathIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.path.get(self.back)
    }
}

impl<'a> IntoIterator for PathRef<'a> {
    type Item = &'a Arc<Edge>;
    type IntoIter = PathIter<'a>;

    fn into_iter(self) -> PathIter<'a> {
        self.iter()
    }
}

/// The hits of an answer in order.
pub struct HitIter<'a> {
    hits: &'a ImpactHits,
    next: usize,
    end: usize,
}

impl<'a> Iterator for HitIter<'a> {
    type Item = HitRef<'a>;

    fn next(&mut self) -> Option<HitRef<'a>> {
        if self.next >= self.end {
            return None;
        }
        self.next += 1;
        self.hits.get(self.next - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for HitIter<'_> {}

impl<'a> DoubleEndedIterator for HitIter<'a> {
    fn next_back(&mut self) -> Option<HitRef<'a>> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        self.hits.get(self.end)
    }
}

impl<'a> IntoIterator for &'a ImpactHits {
    type Item = HitRef<'a>;
    type IntoIter = HitIter<'a>;

    fn into_iter(self) -> HitIter<'a> {
        self.iter()
    }
}

impl IntoIterator for ImpactHits {
    type Item = ImpactHit;
    type IntoIter = std::vec::IntoIter<ImpactHit>;

    fn into_iter(self) -> Self::IntoIter {
        match self.0 {
            Repr::Owned(hits) => hits.into_iter(),
            Repr::Walked { .. } => self.to_vec().into_iter(),
        }
    }
}

impl Serialize for ImpactHits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ImpactHits {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ImpactHits, D::Error> {
        Vec::<ImpactHit>::deserialize(d).map(ImpactHits::from)
    }
}

/// Serialized as [`ImpactHit`] is.
impl Serialize for HitRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ImpactHit", 5)?;
        st.serialize_field("id", self.id)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("depth", &self.depth)?;
        st.serialize_field("path", &self.path)?;
        st.end()
    }
}

impl Serialize for PathRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl fmt::Debug for ImpactHits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Debug for HitRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImpactHit")
            .field("id", self.id)
            .field("kind", &self.kind)
            .field("name", self.name)
            .field("depth", &self.depth)
            .field("path", &self.path)
            .finish()
    }
}

impl fmt::Debug for PathRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
