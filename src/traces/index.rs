//! The observed projection: stored buckets resolved onto graph nodes once per store and
//! observed generation, kept as time-sorted series per edge and per node, so that
//! `observed`, `drift`, RED in `show` and ranking, and impact over observed edges read
//! windows of it instead of scanning the store.
//!
//! Built from the current graph (names resolve through its identity index) and every
//! trace source; rebuilt when either generation moves. The graph with observed edges and
//! observed-only nodes added ([`ObservedIndex::topology`]) is built on first use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use lore_schema::{EdgeKind, NodeId, NodeKind};

use super::aggregate::{EdgeKey, HOUR};
use super::figures::Figures;
use super::identity::Resolver;
use crate::Engine;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::projections::GraphKey;

/// Time-ordered buckets: (start, seconds, figures).
#[derive(Debug, Default)]
pub struct Series(pub(crate) Vec<(i64, i64, Figures)>);

impl Series {
    fn add(&mut self, start: i64, width: i64, fig: &Figures) {
        self.0.push((start, width, fig.clone()));
    }

    fn sort(&mut self) {
        self.0.sort_by_key(|(start, width, _)| (*start, *width));
        // Buckets split over several stored segments become one.
        let mut merged: Vec<(i64, i64, Figures)> = Vec::with_capacity(self.0.len());
        for (start, width, fig) in self.0.drain(..) {
            match merged.last_mut() {
                Some((s, w, f)) if *s == start && *w == width => f.merge(&fig),
                _ => merged.push((start, width, fig)),
            }
        }
        self.0 = merged;
    }

    fn first_at(&self, from: i64) -> usize {
        self.0.partition_point(|(start, _, _)| *start < from - HOUR)
    }

    /// Figures of the buckets wholly inside [from, to).
    pub fn within(&self, from: i64, to: i64) -> Figures {
        let mut out = Figures::default();
        for (start, width, fig) in &self.0[self.first_at(from)..] {
            if *start >= to {
                break;
            }
            if *start >= from && start + width <= to {
                out.merge(fig);
            }
        }
        out
    }

    /// Figures of the buckets overlapping [since, until) (unbounded sides when `None`).
    pub fn overlapping(&self, since: Option<i64>, until: Option<i64>) -> Figures {
        let mut out = Figures::default();
        let first = since.map_or(0, |s| self.first_at(s));
        for (start, width, fig) in &self.0[first..] {
            if until.is_some_and(|u| *start >= u) {
                break;
            }
            if since.is_none_or(|s| start + width > s) {
                out.merge(fig);
            }
        }
        out
    }
}

/// One observed edge over all time.
#[derive(Debug, Default)]
pub struct EdgeSeries {
    /// Its buckets.
    pub series: Series,
    /// Trace sources it was seen in.
    pub sources: BTreeSet<String>,
    /// Its nodes no declared source knows.
    pub observed_only: Vec<NodeId>,
}

/// Observed figures resolved onto nodes.
#[derive(Debug, Default)]
pub struct ObservedIndex {
    /// Per edge (caller, callee, kind).
    pub edges: BTreeMap<(NodeId, NodeId, EdgeKind), EdgeSeries>,
    /// Per service: its own SERVER/CONSUMER figures.
    pub(crate) own: HashMap<NodeId, Series>,
    /// Per node: what its callers' spans to it say (for nodes that send none).
    pub(crate) inbound: HashMap<NodeId, Series>,
    /// End of the newest bucket, unix seconds.
    pub newest: Option<i64>,
    topology: OnceLock<Arc<Graph>>,
}

/// The cache of [`ObservedIndex`] per (store generation, observed generation).
pub(crate) type ObservedCache = Mutex<Option<((GraphKey, u64), Arc<ObservedIndex>)>>;

/// What a stored edge resolves to: (caller, target, kind, observed-only nodes); RED
/// buckets have no target.
type Landing = (NodeId, Option<(NodeId, EdgeKind)>, Vec<NodeId>);

fn land(resolver: &mut Resolver, edge: &EdgeKey) -> Landing {
    let from = resolver.service(&edge.from);
    let mut only = Vec::new();
    if from.observed_only {
        only.push(from.id.clone());
    }
    if edge.kind == 'r' {
        return (from.id, None, only);
    }
    let to = match edge.kind {
        's' => resolver.service(&edge.to),
        'd' => resolver.store(&edge.to),
        _ => resolver.address(&edge.to),
    };
    if to.observed_only && !only.contains(&to.id) {
        only.push(to.id.clone());
    }
    let kind =
        if to.id.kind() == NodeKind::Service { EdgeKind::Calls } else { EdgeKind::DependsOn };
    (from.id, Some((to.id, kind)), only)
}

impl ObservedIndex {
    fn build(engine: &Engine, graph: &Graph) -> Result<ObservedIndex> {
        let mut resolver = Resolver::new(graph);
        let mut landings: HashMap<EdgeKey, Landing> = HashMap::new();
        let mut index = ObservedIndex::default();
        super::segment::for_each(engine.store(), None, |source, edge, start, width, fig| {
            if !landings.contains_key(edge) {
                landings.insert(edge.clone(), land(&mut resolver, edge));
            }
            let Some((from, to, only)) = landings.get(edge) else { return };
            index.newest = Some(index.newest.unwrap_or(i64::MIN).max(start + width));
            match to {
                None => index.own.entry(from.clone()).or_default().add(start, width, fig),
                Some((to, kind)) => {
                    index.inbound.entry(to.clone()).or_default().add(start, width, fig);
                    let e = index.edges.entry((from.clone(), to.clone(), *kind)).or_default();
                    e.series.add(start, width, fig);
                    if !e.sources.contains(source) {
                        e.sources.insert(source.to_string());
                    }
                    for n in only {
                        if !e.observed_only.contains(n) {
                            e.observed_only.push(n.clone());
                        }
                    }
                }
            }
        })?;
        let series = index.own.values_mut().chain(index.inbound.values_mut());
        series.chain(index.edges.values_mut().map(|e| &mut e.series)).for_each(Series::sort);
        Ok(index)
    }

    /// Whether there are no figures at all.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty() && self.edges.is_empty()
    }

    /// A series for RED of `node`: its own figures, else its callers'.
    pub(crate) fn node_series(&self, node: &NodeId) -> Option<&Series> {
        self.own.get(node).or_else(|| self.inbound.get(node))
    }

    /// `graph` with every observed edge added (marked observed, with its trace evidence)
    /// and every node seen only in traces (source `traces`).
    pub fn topology(&self, graph: &Graph) -> Arc<Graph> {
        self.topology.get_or_init(|| Arc::new(super::topology::with_observed(graph, self))).clone()
    }
}

impl Engine {
    /// The observed projection of the current graph and traces, cached per generation.
    pub(crate) fn observed_index(&self) -> Result<Arc<ObservedIndex>> {
        let graph = self.graph(None)?;
        let key = (GraphKey::of(&graph), self.store().observed_generation()?);
        let lock = || {
            self.observed_cache
                .lock()
                .map_err(|_| Error::Internal("observed index lock poisoned".into()))
        };
        if let Some((k, index)) = lock()?.as_ref()
            && *k == key
        {
            return Ok(index.clone());
        }
        let index = Arc::new(ObservedIndex::build(self, &graph)?);
        *lock()? = Some((key, index.clone()));
        Ok(index)
    }
}
