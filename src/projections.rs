//! The graph projections of the store: the topology now and with every past fact,
//! cached in memory per store generation and on disk beside the store
//! (`graph/snapshot.rs`), so a fresh process opens them instead of resolving every fact.
//!
//! Catch-up rule: a write that changes the topology (an ingest, a note) drops the
//! in-memory graphs (`Engine::invalidate`); the next query opens the snapshot if its
//! stamp (store id, topology generation, build) matches, or reads the facts once,
//! resolves, and saves the snapshot for the next process. A posted event or an ingested
//! change log leaves them, in memory and on disk: events are not in the topology, and
//! they leave `Store::topology_generation` alone. What is derived from the graph (chunks, descriptions, the alert
//! runbook map, the observed topology) is cached under a [`GraphKey`], so it follows the
//! graph and not the store generation; the search index, vectors and change index keep
//! their own stamps in `retrieval.rs`, `search/` and `changes/`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::Engine;
use crate::error::Result;
use crate::graph::Graph;
use crate::graph::snapshot::{self, Meta, Stamp};
use crate::resolve::{self, SourcedRecord};
use crate::store::{Fact, FactVersion};
use lore_schema::NodeId;

/// The graph a cached value was derived from, as its cache key: equal only to the same
/// graph (the `Arc` is held, so its address is not reused while the key lives). Caches
/// keyed by it survive writes that leave the graph alone (posted events, feedback) and
/// are rebuilt after one that changes it (an ingest, a note).
#[derive(Clone)]
pub(crate) struct GraphKey(Arc<Graph>);

impl GraphKey {
    pub(crate) fn of(graph: &Arc<Graph>) -> GraphKey {
        GraphKey(graph.clone())
    }
}

impl PartialEq for GraphKey {
    fn eq(&self, other: &GraphKey) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Where the snapshots live, under the data dir.
pub(crate) const DIR: &str = "projections";

impl Engine {
    /// The graph now (cached) or as it was at `at`.
    pub fn graph(&self, at: Option<i64>) -> Result<Arc<Graph>> {
        if at.is_some() {
            let records = self.records(|f| f.version_at(at).into_iter().cloned().collect())?;
            return Ok(Arc::new(resolved(records)));
        }
        if let Some(g) = self.current.read().ok().and_then(|g| g.clone()) {
            return Ok(g);
        }
        let _open = self.graph_open.lock().unwrap_or_else(|p| p.into_inner());
        // Opened by another query while this one waited.
        if let Some(g) = self.current.read().ok().and_then(|g| g.clone()) {
            return Ok(g);
        }
        Ok(self.open_graphs()?.0)
    }

    /// Every fact that ever held, current or not: the graph `show` reads history from.
    pub(crate) fn history_graph(&self) -> Result<Arc<Graph>> {
        if let Some(g) = self.history.read().ok().and_then(|g| g.clone()) {
            return Ok(g);
        }
        let _open = self.graph_open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(g) = self.history.read().ok().and_then(|g| g.clone()) {
            return Ok(g);
        }
        // Opening the current graph sets the history too when they are the same.
        let opened = self.current.read().ok().is_some_and(|g| g.is_some());
        if !opened && let Some(g) = self.open_graphs()?.1 {
            return Ok(g);
        }
        let stamp = self.stamp()?;
        let path = self.snapshot_path("history");
        let graph = match snapshot::load(&path, &stamp) {
            Some((graph, _)) => Arc::new(graph),
            None => {
                let graph = Arc::new(resolved(self.records(|f| f.versions.clone())?));
                // Compared with the current graph of the same stamp (the one in memory may
                // be of a generation a write just left, until it is invalidated).
                let current = snapshot::load(&self.snapshot_path("current"), &stamp);
                let differing = current.map(|(current, _)| graph.differing_from(&current));
                self.save(&graph, &stamp, Meta { differing, ..Meta::default() }, &path);
                graph
            }
        };
        if let Ok(mut h) = self.history.write() {
            *h = Some(graph.clone());
        }
        Ok(graph)
    }

    /// Makes sure the history graph is saved for this generation (after an ingest): built
    /// and saved when missing, left on disk (not opened) when its snapshot is current.
    pub(crate) fn save_history(&self) -> Result<()> {
        // Opening the current graph opens the history too when they are the same.
        self.graph(None)?;
        let open = self.history.read().ok().is_some_and(|g| g.is_some());
        if !open && snapshot::meta(&self.snapshot_path("history"), &self.stamp()?).is_none() {
            self.history_graph()?;
        }
        Ok(())
    }

    /// Whether `show` of `id` needs the history graph: the history is open already, or
    /// the node may have history the current graph lacks. Told by the history snapshot's
    /// header when the history graph is not open, so showing a node without history
    /// opens one graph, not two.
    pub(crate) fn may_have_history(&self, id: &NodeId) -> Result<bool> {
        // Opening the current graph opens the history too when they are the same.
        self.graph(None)?;
        if self.history.read().ok().is_some_and(|g| g.is_some()) {
            return Ok(true);
        }
        let meta = snapshot::meta(&self.snapshot_path("history"), &self.stamp()?);
        Ok(match meta.and_then(|m| m.differing) {
            Some(differing) => differing.binary_search(id).is_ok(),
            None => true,
        })
    }

    /// Puts the documents of `added` (a note written) into the cached graphs and takes
    /// the nodes `removed` (a note removed) out, instead of dropping the graphs for the
    /// next query to resolve the whole store again; the change index moves onto the new
    /// graph. `generation` is the store's after the write. Queries keep the graph they
    /// hold until the new one is swapped in. With no graph cached nothing is done: the
    /// next query opens one from the store, with the write.
    pub(crate) fn update_documents(
        &self,
        added: &[SourcedRecord],
        removed: &[NodeId],
        generation: u64,
    ) {
        let _open = self.graph_open.lock().unwrap_or_else(|p| p.into_inner());
        let Some(old) = self.current.read().ok().and_then(|g| g.clone()) else { return };
        let linked = resolve::link_added_documents(&old, added);
        // The names whose lookups may answer differently now.
        let names: Vec<String> = linked
            .nodes
            .iter()
            .chain(removed.iter().filter_map(|id| old.node(id)))
            .flat_map(|n| std::iter::once(n.name.clone()).chain(n.aliases.iter().cloned()))
            .collect();
        let new = Arc::new(old.with_documents(linked, removed));
        let history = self.history.read().ok().and_then(|g| g.clone());
        let history = match history {
            // The history keeps a removed note (closed): built again when asked for.
            _ if !removed.is_empty() => None,
            Some(h) if Arc::ptr_eq(&h, &old) => Some(new.clone()),
            Some(h) => {
                Some(Arc::new(h.with_documents(resolve::link_added_documents(&h, added), &[])))
            }
            None => None,
        };
        if let Ok(mut g) = self.current.write() {
            *g = Some(new.clone());
        }
        if let Ok(mut h) = self.history.write() {
            *h = history;
        }
        self.changes.rebase(&old, new, generation, &names);
    }

    /// The current graph, and the history graph when it is the same one (no fact has a
    /// superseded version).
    fn open_graphs(&self) -> Result<(Arc<Graph>, Option<Arc<Graph>>)> {
        // Stamped before reading: a write landing meanwhile bumps the generation first,
        // so a graph that saw part of it is saved under a generation already gone.
        let stamp = self.stamp()?;
        let path = self.snapshot_path("current");
        let (current, history) = match snapshot::load(&path, &stamp) {
            Some((graph, meta)) => {
                let graph = Arc::new(graph);
                (graph.clone(), meta.history_is_current.then_some(graph))
            }
            None => {
                let started = std::time::Instant::now();
                let (now, superseded) = self.current_records()?;
                let read = started.elapsed();
                let graph = Arc::new(resolved(now));
                tracing::info!(
                    nodes = graph.nodes().len(),
                    edges = graph.edge_count(),
                    read_ms = read.as_millis() as u64,
                    total_ms = started.elapsed().as_millis() as u64,
                    "graph built"
                );
                let meta = Meta { history_is_current: !superseded, differing: None };
                self.save(&graph, &stamp, meta, &path);
                // A history of its own is built when first asked for (`history_graph`).
                let history = (!superseded).then(|| graph.clone());
                (graph, history)
            }
        };
        if let Ok(mut g) = self.current.write() {
            *g = Some(current.clone());
        }
        if let Some(h) = &history
            && let Ok(mut slot) = self.history.write()
        {
            *slot = Some(h.clone());
        }
        Ok((current, history))
    }

    fn stamp(&self) -> Result<Stamp> {
        Ok(Stamp::new(self.store().id(), self.store().topology_generation()?))
    }

    fn snapshot_path(&self, view: &str) -> PathBuf {
        self.data_dir().join(DIR).join(format!("graph-{view}.bin"))
    }

    /// Saves a snapshot; failing to is logged, never an error of the query.
    fn save(&self, graph: &Graph, stamp: &Stamp, meta: Meta, path: &std::path::Path) {
        let started = std::time::Instant::now();
        match snapshot::save(graph, stamp, meta, path) {
            Ok(()) => tracing::debug!(
                path = %path.display(),
                ms = started.elapsed().as_millis() as u64,
                "graph snapshot saved"
            ),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "graph snapshot not saved")
            }
        }
    }

    /// The records of every fact version `pick` chooses (change events are on the
    /// timeline, not in the topology: `changes.rs`).
    fn records(
        &self,
        mut pick: impl FnMut(&Fact) -> Vec<FactVersion>,
    ) -> Result<Vec<SourcedRecord>> {
        let mut records = Vec::new();
        for fact in self.store().topology_facts() {
            let fact = fact?;
            records.extend(pick(&fact).into_iter().filter_map(|v| sourced(&fact.source, v)));
        }
        Ok(records)
    }

    /// The current records, and whether any fact has a superseded version (else the
    /// history graph is the current one).
    fn current_records(&self) -> Result<(Vec<SourcedRecord>, bool)> {
        let mut superseded = false;
        let records = self.records(|f| {
            superseded |= f.versions.iter().any(|v| v.valid_to.is_some());
            f.version_at(None).into_iter().cloned().collect()
        })?;
        Ok((records, superseded))
    }
}

fn sourced(source: &str, v: FactVersion) -> Option<SourcedRecord> {
    if matches!(v.record, lore_schema::Record::Change(_)) {
        return None;
    }
    Some(SourcedRecord {
        source: source.to_string(),
        record: v.record,
        valid_from: v.valid_from,
        valid_to: v.valid_to,
    })
}

fn resolved(records: Vec<SourcedRecord>) -> Graph {
    Graph::new(resolve::resolve(&records))
}
