//! The change index: every current change event, deduplicated by id across sources and
//! mapped to the node its service names in the current graph, with per-node lists sorted
//! by time. Built from the store once after each ingest (the engine drops it with the
//! graph); events posted over HTTP are added in place, so a webhook costs its own events,
//! not a new scan of the store.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use lore_schema::{ChangeEvent, NodeId, NodeKind, Record};
use rustc_hash::FxHashMap as HashMap;

use crate::Engine;
use crate::error::{Error, Result};
use crate::graph::Graph;

/// A change event with the source that owns it.
#[derive(Debug, Clone)]
pub(crate) struct StoredChange {
    pub(crate) event: ChangeEvent,
    pub(crate) source: String,
}

/// `(ts, position)` keys per node and for unknown services, each list sorted.
#[derive(Debug, Default, Clone)]
struct Lists {
    by_node: HashMap<NodeId, Vec<(i64, usize)>>,
    unresolved: Vec<(i64, usize)>,
}

impl Lists {
    fn list(&mut self, target: Option<&NodeId>) -> &mut Vec<(i64, usize)> {
        match target {
            Some(id) => self.by_node.entry(id.clone()).or_default(),
            None => &mut self.unresolved,
        }
    }

    fn sort(&mut self) {
        self.by_node.values_mut().for_each(|l| l.sort_unstable());
        self.unresolved.sort_unstable();
    }
}

/// Every current change event, resolved against one graph.
#[derive(Debug, Clone)]
pub(crate) struct ChangeIndex {
    graph: Arc<Graph>,
    /// Store generation the index reflects.
    generation: u64,
    /// Events by position; a replaced event keeps its slot, unreferenced.
    events: Vec<StoredChange>,
    /// Node each position's service resolved to.
    targets: Vec<Option<NodeId>>,
    /// Id -> position of the event that speaks for it.
    by_id: HashMap<String, usize>,
    /// Service name -> node, for this graph.
    names: HashMap<String, Option<NodeId>>,
    lists: Lists,
}

/// The engine's cached [`ChangeIndex`].
#[derive(Debug, Default)]
pub(crate) struct ChangeCache {
    index: RwLock<Option<Arc<ChangeIndex>>>,
    /// Held while an index is built: queries arriving meanwhile take the one it makes.
    building: std::sync::Mutex<()>,
}

impl ChangeCache {
    /// Drops the index; the next query rebuilds it.
    pub(crate) fn clear(&self) {
        if let Ok(mut guard) = self.index.write() {
            *guard = None;
        }
    }

    /// Moves the index built on `old` onto `new` (the same topology with a document
    /// added or removed) at store generation `generation`, one past the index's; it is
    /// dropped instead if it is on another graph or generation, or resolved one of
    /// `names` (whose lookups may have changed).
    pub(crate) fn rebase(
        &self,
        old: &Arc<Graph>,
        new: Arc<Graph>,
        generation: u64,
        names: &[String],
    ) {
        let Ok(mut guard) = self.index.write() else { return };
        let Some(index) = guard.take().filter(|index| {
            Arc::ptr_eq(&index.graph, old)
                && index.generation + 1 == generation
                && !index.names.keys().any(|k| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
        }) else {
            return;
        };
        let mut index = Arc::unwrap_or_clone(index);
        index.graph = new;
        index.generation = generation;
        *guard = Some(Arc::new(index));
    }

    /// Adds `events`, just written to `source` by a write that took the store to
    /// `generation`, without reading the store again; when the cached index was not
    /// current right before that write, drops it instead.
    pub(crate) fn extend(&self, events: &[ChangeEvent], source: &str, generation: u64) {
        let Ok(mut guard) = self.index.write() else { return };
        let Some(index) = guard.take().filter(|index| index.generation + 1 == generation) else {
            return;
        };
        // In place unless a query still holds the index, then on a copy.
        let mut index = Arc::unwrap_or_clone(index);
        let mut seen = HashSet::new();
        // Within one request the first event of an id is the one stored.
        for event in events.iter().filter(|e| seen.insert(e.id.as_str())) {
            index.add(StoredChange { event: event.clone(), source: source.to_string() }, true);
        }
        index.generation = generation;
        *guard = Some(Arc::new(index));
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

impl ChangeIndex {
    fn empty(graph: Arc<Graph>, generation: u64) -> ChangeIndex {
        ChangeIndex {
            graph,
            generation,
            events: Vec::new(),
            targets: Vec::new(),
            by_id: HashMap::default(),
            names: HashMap::default(),
            lists: Lists::default(),
        }
    }

    /// Adds `change` unless an event with its id from a source earlier in name order is
    /// there: the same event from two sources (a file and the API) is one event, and the
    /// first source speaks for it; a later version from the same source replaces it.
    /// `sorted` keeps the lists sorted as it goes; a bulk load sorts once at the end.
    fn add(&mut self, change: StoredChange, sorted: bool) {
        if let Some(&pos) = self.by_id.get(&change.event.id) {
            let known = &self.events[pos];
            if known.source < change.source {
                return;
            }
            let key = (known.event.ts, pos);
            let target = self.targets[pos].clone();
            let list = self.lists.list(target.as_ref());
            if let Some(i) = list.iter().position(|k| *k == key) {
                list.remove(i);
            }
        }
        let graph = &self.graph;
        let target = self
            .names
            .entry(change.event.service.clone())
            .or_insert_with(|| resolve_service(graph, &change.event.service))
            .clone();
        let pos = self.events.len();
        let key = (change.event.ts, pos);
        let list = self.lists.list(target.as_ref());
        if sorted {
            let at = list.partition_point(|k| *k < key);
            list.insert(at, key);
        } else {
            list.push(key);
        }
        self.by_id.insert(change.event.id.clone(), pos);
        self.targets.push(target);
        self.events.push(change);
    }

    fn build(graph: Arc<Graph>, engine: &Engine) -> Result<ChangeIndex> {
        let started = std::time::Instant::now();
        // Read before the scan: a write during the scan leaves the index behind, and the
        // next query rebuilds it.
        let generation = engine.store().generation()?;
        let mut index = ChangeIndex::empty(graph, generation);
        for fact in engine.store().change_facts() {
            let fact = fact?;
            let Some(version) = fact.version_at(None) else { continue };
            let Record::Change(event) = &version.record else { continue };
            index.add(StoredChange { event: event.clone(), source: fact.source.clone() }, false);
        }
        index.lists.sort();
        tracing::info!(
            events = index.by_id.len(),
            unresolved = index.lists.unresolved.len(),
            ms = started.elapsed().as_millis() as u64,
            "change index built"
        );
        Ok(index)
    }

    /// The event that speaks for `id`, with its source.
    pub(crate) fn get(&self, id: &str) -> Option<&StoredChange> {
        self.by_id.get(id).map(|&pos| &self.events[pos])
    }

    /// Events with `since <= ts < until`, resolved against `graph`: the prebuilt lists
    /// when `graph` is the one the index was built on, else lists of the window alone.
    pub(crate) fn window<'a>(&'a self, graph: &Arc<Graph>, since: i64, until: i64) -> Window<'a> {
        let own = (!Arc::ptr_eq(graph, &self.graph)).then(|| {
            let mut names: HashMap<&str, Option<NodeId>> = HashMap::default();
            let mut lists = Lists::default();
            for &pos in self.by_id.values() {
                let event = &self.events[pos].event;
                if event.ts < since || event.ts >= until {
                    continue;
                }
                let service = event.service.as_str();
                let target =
                    names.entry(service).or_insert_with(|| resolve_service(graph, service));
                lists.list(target.as_ref()).push((event.ts, pos));
            }
            lists.sort();
            lists
        });
        Window { index: self, since, until, own }
    }
}

/// The events of one time window.
pub(crate) struct Window<'a> {
    index: &'a ChangeIndex,
    since: i64,
    until: i64,
    /// Lists resolved against another graph than the index's.
    own: Option<Lists>,
}

impl Window<'_> {
    fn lists(&self) -> &Lists {
        self.own.as_ref().unwrap_or(&self.index.lists)
    }

    fn clip<'s>(&'s self, keys: &'s [(i64, usize)]) -> impl Iterator<Item = &'s StoredChange> + 's {
        let start = keys.partition_point(|k| k.0 < self.since);
        let end = keys.partition_point(|k| k.0 < self.until).max(start);
        keys[start..end].iter().map(|&(_, pos)| &self.index.events[pos])
    }

    /// Events in the window on `node`, oldest first.
    pub(crate) fn on<'s>(&'s self, node: &NodeId) -> impl Iterator<Item = &'s StoredChange> + 's {
        self.clip(self.lists().by_node.get(node).map_or(&[][..], Vec::as_slice))
    }

    /// Events in the window whose service matches no node.
    pub(crate) fn unresolved(&self) -> impl Iterator<Item = &StoredChange> + '_ {
        self.clip(&self.lists().unresolved)
    }
}

impl Engine {
    /// The change index for the current graph, built when missing or stale.
    pub(crate) fn change_index(&self) -> Result<Arc<ChangeIndex>> {
        let graph = self.graph(None)?;
        let fresh = || -> Result<Option<Arc<ChangeIndex>>> {
            let generation = self.store().generation()?;
            Ok(self.changes.index.read().ok().and_then(|guard| {
                guard
                    .as_ref()
                    .filter(|i| Arc::ptr_eq(&i.graph, &graph) && i.generation == generation)
                    .cloned()
            }))
        };
        if let Some(index) = fresh()? {
            return Ok(index);
        }
        let _building = self.changes.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = fresh()? {
            return Ok(index);
        }
        let index = Arc::new(ChangeIndex::build(graph, self)?);
        if let Ok(mut guard) = self.changes.index.write() {
            *guard = Some(index.clone());
        }
        Ok(index)
    }
}
