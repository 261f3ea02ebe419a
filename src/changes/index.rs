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

use super::snapshot;
use crate::graph::stored::Stored;

/// A change event with the source that owns it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredChange<'a> {
    pub(crate) event: &'a ChangeEvent,
    pub(crate) source: &'a str,
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

/// What the index keeps of each event in memory; the event itself may still be on disk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    pub(crate) ts: i64,
    /// Number of its service name and of its source, in the index's tables.
    pub(crate) service: u32,
    pub(crate) source: u32,
}

/// Names by number and numbers by name.
#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    pub(crate) names: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Table {
    pub(crate) fn from_names(names: Vec<String>) -> Table {
        let numbers = names.iter().enumerate().map(|(i, n)| (n.clone(), i as u32)).collect();
        Table { names, numbers }
    }

    fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(name.to_string());
        self.numbers.insert(name.to_string(), n);
        n
    }

    fn name(&self, n: u32) -> &str {
        self.names.get(n as usize).map_or("", String::as_str)
    }
}

/// Every current change event, resolved against one graph.
#[derive(Debug, Clone)]
pub(crate) struct ChangeIndex {
    graph: Arc<Graph>,
    /// Store generation the index reflects.
    generation: u64,
    /// Events by position, in memory or read from the snapshot when first asked for; a
    /// replaced event keeps its slot, unreferenced.
    events: Stored<ChangeEvent>,
    /// Each position's time, service and source.
    keys: Vec<Key>,
    /// Id -> position of the event that speaks for it.
    by_id: HashMap<String, usize>,
    sources: Table,
    services: Table,
    /// Node each service number resolved to in this graph (`None`: no node; absent: not
    /// looked up yet).
    targets: Vec<Option<Option<NodeId>>>,
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
                && !index.resolved_names().any(|k| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
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
            index.add(event.clone(), source, true);
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
            events: Stored::default(),
            keys: Vec::new(),
            by_id: HashMap::default(),
            sources: Table::default(),
            services: Table::default(),
            targets: Vec::new(),
            lists: Lists::default(),
        }
    }

    /// The service names this index resolved against its graph.
    fn resolved_names(&self) -> impl Iterator<Item = &str> {
        let resolved = self.targets.iter().enumerate().filter(|(_, t)| t.is_some());
        resolved.map(|(i, _)| self.services.name(i as u32))
    }

    /// Adds `event` of `source`, in memory.
    fn add(&mut self, event: ChangeEvent, source: &str, sorted: bool) {
        let key = Key {
            ts: event.ts,
            service: self.services.number(&event.service),
            source: self.sources.number(source),
        };
        let id = event.id.clone();
        self.events.push(event);
        self.place(id, key, self.events.len() - 1, sorted);
    }

    /// Puts the event at `pos` (keyed `key`) in the lists, unless an event with its id
    /// from a source earlier in name order is there: the same event from two sources (a
    /// file and the API) is one event, and the first source speaks for it; a later
    /// version from the same source replaces it. `sorted` keeps the lists sorted as it
    /// goes; a bulk load sorts once at the end.
    fn place(&mut self, id: String, key: Key, pos: usize, sorted: bool) {
        if let Some(&known) = self.by_id.get(&id) {
            let old = self.keys[known];
            if self.sources.name(old.source) < self.sources.name(key.source) {
                self.keys.push(key);
                return;
            }
            let target = self.target(old.service);
            let list = self.lists.list(target.as_ref());
            if let Some(i) = list.iter().position(|k| *k == (old.ts, known)) {
                list.remove(i);
            }
        }
        debug_assert_eq!(self.keys.len(), pos);
        self.keys.push(key);
        let target = self.target(key.service);
        let list = self.lists.list(target.as_ref());
        if sorted {
            let at = list.partition_point(|k| *k < (key.ts, pos));
            list.insert(at, (key.ts, pos));
        } else {
            list.push((key.ts, pos));
        }
        self.by_id.insert(id, pos);
    }

    /// The node service number `service` names in this graph, looked up once.
    fn target(&mut self, service: u32) -> Option<NodeId> {
        let i = service as usize;
        if self.targets.len() <= i {
            self.targets.resize(i + 1, None);
        }
        if self.targets[i].is_none() {
            let name = self.services.name(service);
            self.targets[i] = Some(resolve_service(&self.graph, name));
        }
        self.targets[i].clone().flatten()
    }

    /// The event at `pos` with its source (`None` if its snapshot cannot be read: logged).
    fn at(&self, pos: usize) -> Option<StoredChange<'_>> {
        let event = self.events.get_or(pos, "change event", || None)?;
        let source = self.sources.name(self.keys.get(pos)?.source);
        Some(StoredChange { event, source })
    }

    /// The index at the store's generation: from its snapshot when one was saved at that
    /// generation, else from the store's change facts (and then saved for the next
    /// process).
    fn build(graph: Arc<Graph>, engine: &Engine) -> Result<ChangeIndex> {
        let started = std::time::Instant::now();
        // Read before the scan: a write during the scan leaves the index behind, and the
        // next query rebuilds it.
        let generation = engine.store().generation()?;
        let stamp = snapshot::Stamp::new(engine.store().id(), generation);
        let path = snapshot_path(engine);
        let mut index = ChangeIndex::empty(graph, generation);
        let from_snapshot = match snapshot::load(&path, &stamp) {
            Some(saved) => {
                index.sources = saved.sources;
                index.services = saved.services;
                index.events = saved.events;
                for (pos, (id, key)) in saved.keys.into_iter().enumerate() {
                    index.place(id, key, pos, false);
                }
                true
            }
            None => {
                for fact in engine.store().change_facts() {
                    let fact = fact?;
                    let Some(version) = fact.version_at(None) else { continue };
                    let Record::Change(event) = &version.record else { continue };
                    index.add(event.clone(), &fact.source, false);
                }
                false
            }
        };
        index.lists.sort();
        tracing::info!(
            events = index.by_id.len(),
            unresolved = index.lists.unresolved.len(),
            from_snapshot,
            ms = started.elapsed().as_millis() as u64,
            "change index built"
        );
        if !from_snapshot {
            index.save(&stamp, &path);
        }
        Ok(index)
    }

    /// Saves the events that speak for their ids, in index order; failing to is logged,
    /// never an error of the query.
    fn save(&self, stamp: &snapshot::Stamp, path: &std::path::Path) {
        let started = std::time::Instant::now();
        let mut positions: Vec<usize> = self.by_id.values().copied().collect();
        positions.sort_unstable();
        let changes = positions.iter().filter_map(|&p| Some((self.at(p)?, self.keys[p])));
        match snapshot::save(changes, &self.sources, &self.services, stamp, path) {
            Ok(()) => tracing::debug!(
                path = %path.display(),
                ms = started.elapsed().as_millis() as u64,
                "change index snapshot saved"
            ),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "change index snapshot not saved")
            }
        }
    }

    /// The event that speaks for `id`, with its source.
    pub(crate) fn get(&self, id: &str) -> Option<StoredChange<'_>> {
        self.at(*self.by_id.get(id)?)
    }

    /// Events with `since <= ts < until`, resolved against `graph`: the prebuilt lists
    /// when `graph` is the one the index was built on, else lists of the window alone.
    pub(crate) fn window<'a>(&'a self, graph: &Arc<Graph>, since: i64, until: i64) -> Window<'a> {
        let own = (!Arc::ptr_eq(graph, &self.graph)).then(|| {
            let mut names: HashMap<u32, Option<NodeId>> = HashMap::default();
            let mut lists = Lists::default();
            for &pos in self.by_id.values() {
                let key = self.keys[pos];
                if key.ts < since || key.ts >= until {
                    continue;
                }
                let target = names
                    .entry(key.service)
                    .or_insert_with(|| resolve_service(graph, self.services.name(key.service)));
                lists.list(target.as_ref()).push((key.ts, pos));
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

    fn clip<'s>(&'s self, keys: &'s [(i64, usize)]) -> impl Iterator<Item = StoredChange<'s>> + 's {
        let start = keys.partition_point(|k| k.0 < self.since);
        let end = keys.partition_point(|k| k.0 < self.until).max(start);
        keys[start..end].iter().filter_map(|&(_, pos)| self.index.at(pos))
    }

    /// Events in the window on `node`, oldest first.
    pub(crate) fn on<'s>(&'s self, node: &NodeId) -> impl Iterator<Item = StoredChange<'s>> + 's {
        self.clip(self.lists().by_node.get(node).map_or(&[][..], Vec::as_slice))
    }

    /// Events in the window whose service matches no node.
    pub(crate) fn unresolved(&self) -> impl Iterator<Item = StoredChange<'_>> + '_ {
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

/// Where the change index snapshot lives, beside the graph snapshots.
fn snapshot_path(engine: &Engine) -> std::path::PathBuf {
    engine.data_dir().join(crate::projections::DIR).join("changes-current.bin")
}
