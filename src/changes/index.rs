//! The change index: every current change event, sorted by time, deduplicated by id
//! across sources, and mapped to the node its service names in the current graph. Built
//! once after each ingest (the engine clears the cache), then queries are lookups and
//! binary searches.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use lore_schema::{ChangeEvent, NodeId, NodeKind, Record};

use crate::Engine;
use crate::error::{Error, Result};
use crate::graph::Graph;

/// A change event with the source that owns it.
#[derive(Debug, Clone)]
pub(crate) struct StoredChange {
    pub(crate) event: ChangeEvent,
    pub(crate) source: String,
}

/// Event positions per node, each list sorted by time.
#[derive(Debug, Default)]
struct Resolution {
    by_node: HashMap<NodeId, Vec<usize>>,
    unresolved: Vec<usize>,
}

/// Every current change event, resolved against one graph.
#[derive(Debug)]
pub(crate) struct ChangeIndex {
    graph: Arc<Graph>,
    /// Store generation the index reflects.
    generation: u64,
    /// Sorted by (ts, id).
    events: Vec<StoredChange>,
    resolution: Resolution,
}

/// The engine's cached [`ChangeIndex`].
#[derive(Debug, Default)]
pub(crate) struct ChangeCache(RwLock<Option<Arc<ChangeIndex>>>);

impl ChangeCache {
    /// Drops the index; the next query rebuilds it.
    pub(crate) fn clear(&self) {
        if let Ok(mut guard) = self.0.write() {
            *guard = None;
        }
    }

    /// Adds `events`, just written to `source` by a write that took the store to
    /// `generation`, without reading the store again; when the cached index was not
    /// current right before that write, drops it instead.
    pub(crate) fn extend(&self, events: &[ChangeEvent], source: &str, generation: u64) {
        let Ok(mut guard) = self.0.write() else { return };
        let next = guard
            .as_ref()
            .filter(|index| index.generation + 1 == generation)
            .map(|index| Arc::new(index.merged(events, source, generation)));
        *guard = next;
    }
}

/// The node an event's service names: by id, name or alias; an ambiguous name is taken
/// when exactly one of its candidates is a service or datastore.
pub(crate) fn resolve_service(graph: &Graph, name: &str) -> Option<NodeId> {
    match graph.lookup(name) {
        Ok(node) => Some(node.id.clone()),
        Err(Error::Ambiguous { candidates, .. }) => {
            let mut deployable = candidates
                .iter()
                .filter_map(|c| c.parse::<NodeId>().ok())
                .filter(|id| matches!(id.kind(), NodeKind::Service | NodeKind::Datastore));
            let first = deployable.next();
            if deployable.next().is_some() { None } else { first }
        }
        Err(_) => None,
    }
}

impl Resolution {
    fn of(graph: &Graph, events: &[StoredChange], range: std::ops::Range<usize>) -> Resolution {
        let mut names: HashMap<&str, Option<NodeId>> = HashMap::new();
        let mut res = Resolution::default();
        for i in range {
            let service = events[i].event.service.as_str();
            let id = names.entry(service).or_insert_with(|| resolve_service(graph, service));
            match id {
                Some(id) => res.by_node.entry(id.clone()).or_default().push(i),
                None => res.unresolved.push(i),
            }
        }
        res
    }
}

/// Adds `change` unless an event with its id from a source earlier in name order is
/// there: the same event from two sources (a file and the API) is one event, and the
/// first source speaks for it; a later version from the same source replaces it.
fn insert_by_precedence(by_id: &mut HashMap<String, StoredChange>, change: StoredChange) {
    match by_id.get(&change.event.id) {
        Some(known) if known.source < change.source => {}
        _ => {
            by_id.insert(change.event.id.clone(), change);
        }
    }
}

impl ChangeIndex {
    fn from_events(
        graph: Arc<Graph>,
        by_id: HashMap<String, StoredChange>,
        generation: u64,
    ) -> ChangeIndex {
        let mut events: Vec<StoredChange> = by_id.into_values().collect();
        events.sort_by(|a, b| (a.event.ts, &a.event.id).cmp(&(b.event.ts, &b.event.id)));
        let resolution = Resolution::of(&graph, &events, 0..events.len());
        ChangeIndex { graph, generation, events, resolution }
    }

    fn build(graph: Arc<Graph>, engine: &Engine) -> Result<ChangeIndex> {
        let started = std::time::Instant::now();
        // Read before the scan: a write during the scan leaves the index behind, and the
        // next query rebuilds it.
        let generation = engine.store().generation()?;
        let mut by_id: HashMap<String, StoredChange> = HashMap::new();
        for fact in engine.store().facts() {
            let fact = fact?;
            let Some(version) = fact.version_at(None) else { continue };
            let Record::Change(event) = &version.record else { continue };
            let change = StoredChange { event: event.clone(), source: fact.source.clone() };
            insert_by_precedence(&mut by_id, change);
        }
        let index = ChangeIndex::from_events(graph, by_id, generation);
        tracing::info!(
            events = index.events.len(),
            unresolved = index.resolution.unresolved.len(),
            ms = started.elapsed().as_millis() as u64,
            "change index built"
        );
        Ok(index)
    }

    /// This index with `events` of `source` added, as of store generation `generation`.
    fn merged(&self, events: &[ChangeEvent], source: &str, generation: u64) -> ChangeIndex {
        let mut by_id: HashMap<String, StoredChange> =
            self.events.iter().map(|c| (c.event.id.clone(), c.clone())).collect();
        let mut seen = HashSet::new();
        // Within one request the first event of an id is the one stored.
        for event in events.iter().filter(|e| seen.insert(e.id.as_str())) {
            let change = StoredChange { event: event.clone(), source: source.to_string() };
            insert_by_precedence(&mut by_id, change);
        }
        ChangeIndex::from_events(self.graph.clone(), by_id, generation)
    }

    /// Events with `since <= ts < until`, resolved against `graph`: the prebuilt mapping
    /// when `graph` is the one the index was built on, else a mapping of the window alone.
    pub(crate) fn window<'a>(&'a self, graph: &Arc<Graph>, since: i64, until: i64) -> Window<'a> {
        let lo = self.events.partition_point(|c| c.event.ts < since);
        let hi = self.events.partition_point(|c| c.event.ts < until).max(lo);
        let resolution = if Arc::ptr_eq(graph, &self.graph) {
            Resolved::Shared(&self.resolution)
        } else {
            Resolved::Own(Resolution::of(graph, &self.events, lo..hi))
        };
        Window { events: &self.events, lo, hi, resolution }
    }
}

enum Resolved<'a> {
    Shared(&'a Resolution),
    Own(Resolution),
}

/// The events of one time window.
pub(crate) struct Window<'a> {
    events: &'a [StoredChange],
    lo: usize,
    hi: usize,
    resolution: Resolved<'a>,
}

impl Window<'_> {
    fn resolution(&self) -> &Resolution {
        match &self.resolution {
            Resolved::Shared(r) => r,
            Resolved::Own(r) => r,
        }
    }

    fn clip<'s>(&'s self, positions: &'s [usize]) -> impl Iterator<Item = &'s StoredChange> + 's {
        let start = positions.partition_point(|&i| i < self.lo);
        let end = positions.partition_point(|&i| i < self.hi);
        positions[start..end.max(start)].iter().map(|&i| &self.events[i])
    }

    /// Events in the window on `node`, oldest first.
    pub(crate) fn on<'s>(&'s self, node: &NodeId) -> impl Iterator<Item = &'s StoredChange> + 's {
        let positions = self.resolution().by_node.get(node).map_or(&[][..], Vec::as_slice);
        self.clip(positions)
    }

    /// Events in the window whose service matches no node.
    pub(crate) fn unresolved(&self) -> impl Iterator<Item = &StoredChange> + '_ {
        self.clip(&self.resolution().unresolved)
    }
}

impl Engine {
    /// The change index for the current graph, built when missing or stale.
    pub(crate) fn change_index(&self) -> Result<Arc<ChangeIndex>> {
        let graph = self.graph(None)?;
        if let Ok(guard) = self.changes.0.read()
            && let Some(index) = guard.as_ref()
            && Arc::ptr_eq(&index.graph, &graph)
            && index.generation == self.store().generation()?
        {
            return Ok(index.clone());
        }
        let index = Arc::new(ChangeIndex::build(graph, self)?);
        if let Ok(mut guard) = self.changes.0.write() {
            *guard = Some(index.clone());
        }
        Ok(index)
    }
}
