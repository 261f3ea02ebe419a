//! The engine: the one façade the CLI, HTTP server and tests use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use lore_schema::EdgeKind;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::graph::{Direction, EdgeFilter, Graph, ImpactHits};
use crate::ingest::{self, SourceReport};
use crate::model::{Edge, Member, Node};
use crate::projections::GraphKey;
use crate::search::vector::{Embed, VectorIndex};
use crate::search::{SearchHit, SearchIndex};
use crate::store::Store;

/// Lore over one data dir.
pub struct Engine {
    store: Store,
    data_dir: PathBuf,
    /// The graph now and with every past fact (`projections.rs`).
    pub(crate) current: RwLock<Option<Arc<Graph>>>,
    pub(crate) history: RwLock<Option<Arc<Graph>>>,
    /// Held while the graphs are opened or changed (`projections.rs`): queries arriving
    /// after a write open them once, and a note never lands on a graph an ingest dropped.
    pub(crate) graph_open: Mutex<()>,
    /// Held by a posted event or note from its store write through the update of the
    /// projections it touches, so each update follows the one before it (the change
    /// index steps one generation at a time) instead of finding it raced and rebuilding.
    pub(crate) api_writes: Mutex<()>,
    index: Mutex<Option<Arc<SearchIndex>>>,
    /// Where the embedding model is, from `lore.toml` (env and `.assets/` otherwise).
    pub(crate) embedding: crate::config::EmbeddingConfig,
    /// Bounds on what ingest reads (`[limits]` in lore.toml).
    pub(crate) limits: crate::config::LimitsConfig,
    /// The embedding model, loaded on first use (`retrieval.rs`).
    pub(crate) embedder: std::sync::OnceLock<std::result::Result<Arc<dyn Embed>, String>>,
    /// Chunk vectors of the current chunk set, by its fingerprint (`retrieval.rs`).
    pub(crate) vectors: crate::retrieval::Cached<u64, VectorIndex>,
    /// The search chunks of the current graph (`search/chunks.rs`).
    pub(crate) chunk_sets: crate::retrieval::Cached<GraphKey, crate::search::ChunkSet>,
    /// Runbooks of each alert, of the current graph (`retrieval.rs`).
    pub(crate) runbooks: crate::retrieval::Cached<GraphKey, crate::retrieval::AlertRunbooks>,
    /// Analysed service descriptions of the current graph (`retrieval.rs`).
    pub(crate) descriptions:
        crate::retrieval::Cached<GraphKey, crate::search::describe::Descriptions>,
    /// Change events by node, for what-changed queries (`changes.rs`).
    pub(crate) changes: crate::changes::ChangeCache,
    /// Recent context bundles, for `more` (`context/mod.rs`).
    pub(crate) bundles: crate::context::BundleCache,
    /// Feedback counts of the current feedback generation (`feedback.rs`).
    pub(crate) feedback_counts: crate::feedback::FeedbackCache,
    /// Trace figures resolved onto nodes, per generation (`traces/index.rs`).
    pub(crate) observed_cache: crate::traces::index::ObservedCache,
}

/// A search question.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The words: an alert name, a symptom, a question.
    pub query: String,
    /// Kinds to keep: runbook, postmortem, alert, note, other (any of; all when empty).
    pub kinds: Vec<String>,
    /// Keep documents about this service or datastore (name, alias or id).
    pub service: Option<String>,
    /// Keep documents about services of this team.
    pub team: Option<String>,
    /// Keep documents about this alert.
    pub alert: Option<String>,
    /// Documents to return.
    pub limit: usize,
    /// Retrieval mode asked for.
    pub mode: String,
}

/// The answer to a search.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SearchView {
    /// The query.
    pub query: String,
    /// The mode that answered.
    pub mode: String,
    /// Documents, best first, each with its best section.
    pub results: Vec<SearchHit>,
    /// Why the answer differs from what was asked (a mode that is not available).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("data_dir", &self.data_dir).finish()
    }
}

/// An impact question.
#[derive(Debug, Clone)]
pub struct ImpactRequest {
    /// Node id, name or alias.
    pub node: String,
    /// Direction.
    pub direction: Direction,
    /// Maximum hops; unbounded when `None`.
    pub depth: Option<usize>,
    /// Edge kinds to follow; request-path kinds when empty.
    pub edge_kinds: Vec<EdgeKind>,
    /// Also follow telemetry, discovery and feature-flag edges.
    pub include_plumbing: bool,
    /// Also follow edges declared only by opt-in layers.
    pub include_optional: bool,
    /// Answer as the graph was at this time (unix seconds).
    pub at: Option<i64>,
    /// Declared edges, observed edges (from traces) or both. Observed edges are part of
    /// the current topology only: with `at`, only declared edges are followed.
    pub sides: crate::graph::Sides,
}

impl ImpactRequest {
    /// The default question about `node` in `direction`: unbounded depth, request-path
    /// edges only, the current graph.
    pub fn new(node: impl Into<String>, direction: Direction) -> ImpactRequest {
        ImpactRequest {
            node: node.into(),
            direction,
            depth: None,
            edge_kinds: Vec::new(),
            include_plumbing: false,
            include_optional: false,
            at: None,
            sides: crate::graph::Sides::Both,
        }
    }
}

/// The answer to an impact question.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ImpactView {
    /// The queried node.
    pub node: Arc<Node>,
    /// Direction.
    pub direction: Direction,
    /// Depth limit, if any.
    pub depth: Option<usize>,
    /// Edge kinds followed.
    pub edge_kinds: Vec<EdgeKind>,
    /// Nodes reached, by depth then id, each with its path (read from the graph when
    /// asked or serialized).
    pub results: ImpactHits,
}

/// The answer to `show`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ShowView {
    /// The node.
    pub node: Node,
    /// Whether the node exists now (false: known from history only).
    pub current: bool,
    /// Declarations merged into it and the identity rule for each.
    pub identity: Vec<Member>,
    /// Edges out (dependencies), with evidence.
    pub edges_out: Vec<Edge>,
    /// Edges in (dependents), with evidence.
    pub edges_in: Vec<Edge>,
    /// Edges that no longer hold, with their validity.
    pub history: Vec<Edge>,
    /// For documents: sections, links and postmortem structure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentView>,
    /// Notes on the node that have not expired (`notes.rs`), newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::notes::NoteView>,
    /// What traces say about it over a window: RED and its observed edges, each marked
    /// declared or not (absent when no traces touch it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<crate::traces::view::Traffic>,
}

/// A document's outline for `show`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DocumentView {
    /// File path as given to ingest.
    pub source: String,
    /// runbook, postmortem or other.
    pub kind: lore_schema::DocumentKind,
    /// Title.
    pub title: String,
    /// Front matter.
    pub front_matter: std::collections::BTreeMap<String, String>,
    /// Sections: heading path and line.
    pub sections: Vec<SectionView>,
    /// Outgoing links.
    pub links: Vec<String>,
    /// Incident structure, where the document states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postmortem: Option<lore_schema::Postmortem>,
}

/// A section in a document outline.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SectionView {
    /// Headings from the top down.
    pub heading_path: Vec<String>,
    /// Line.
    pub line: u32,
}

/// The answer to `path`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PathView {
    /// Start node.
    pub from: Node,
    /// End node.
    pub to: Node,
    /// Whether a path exists.
    pub found: bool,
    /// Hops.
    pub hops: usize,
    /// Edges from `from` to `to`.
    pub path: Vec<Arc<Edge>>,
}

impl Engine {
    /// Opens the data dir, creating it if needed.
    pub fn open(data_dir: &Path) -> Result<Engine> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::Input { path: data_dir.to_path_buf(), reason: e.to_string() })?;
        let store = Store::open(&data_dir.join("store"))?;
        Ok(Engine {
            store,
            data_dir: data_dir.to_path_buf(),
            current: RwLock::default(),
            history: RwLock::default(),
            graph_open: Mutex::default(),
            api_writes: Mutex::default(),
            index: Mutex::default(),
            embedding: crate::config::EmbeddingConfig::default(),
            limits: crate::config::LimitsConfig::default(),
            embedder: std::sync::OnceLock::new(),
            vectors: Mutex::default(),
            chunk_sets: Mutex::default(),
            runbooks: Mutex::default(),
            descriptions: Mutex::default(),
            changes: Default::default(),
            bundles: Default::default(),
            feedback_counts: Default::default(),
            observed_cache: Default::default(),
        })
    }

    /// The bounds it applies (`[limits]` in lore.toml).
    pub fn limits(&self) -> &crate::config::LimitsConfig {
        &self.limits
    }

    /// This engine with ingest and requests bounded as `limits` says.
    pub fn with_limits(mut self, limits: crate::config::LimitsConfig) -> Engine {
        self.limits = limits;
        self
    }

    /// This engine with the embedding model looked up as `config` says (before first use).
    pub fn with_embedding(mut self, config: crate::config::EmbeddingConfig) -> Engine {
        self.embedding = config;
        self
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The store, for inspection and tests.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Ingests each path as its own source at time `now`.
    pub fn ingest(&self, paths: &[PathBuf], now: i64) -> Result<Vec<SourceReport>> {
        let roots: Vec<(PathBuf, String)> =
            paths.iter().map(|p| (p.clone(), p.to_string_lossy().into_owned())).collect();
        self.ingest_as(&roots, now)
    }

    /// [`Engine::ingest`] of `(path, shown)` pairs: each report names its root `shown`
    /// (how the caller typed it); what is stored is the same whatever the spelling.
    pub fn ingest_as(&self, roots: &[(PathBuf, String)], now: i64) -> Result<Vec<SourceReport>> {
        let topology = self.store.topology_generation()?;
        let reports = roots
            .iter()
            .map(|(path, shown)| {
                ingest::ingest_path_as(&self.store, path, shown, &self.limits, now)
            })
            .collect();
        // Also after a failed root: the ones before it were written.
        self.invalidate(topology);
        reports
    }

    /// Drops what a write made stale: the change index, and the graphs when the
    /// topology generation moved past `topology` (a change log or events leave them).
    pub(crate) fn invalidate(&self, topology: u64) {
        let _open = self.graph_open.lock().unwrap_or_else(|p| p.into_inner());
        self.changes.clear();
        if self.store.topology_generation().is_ok_and(|now| now == topology) {
            return;
        }
        if let Ok(mut g) = self.current.write() {
            *g = None;
        }
        if let Ok(mut g) = self.history.write() {
            *g = None;
        }
    }

    /// A node with its identity, edges and history, and its traffic over the last hour
    /// of trace data.
    pub fn show(&self, name: &str, at: Option<i64>) -> Result<ShowView> {
        self.show_in(name, at, None, None)
    }

    /// [`Engine::show`] with the traffic over [since, until) (default: the hour before
    /// `until`, which defaults to `at` or the end of the newest trace data).
    pub fn show_in(
        &self,
        name: &str,
        at: Option<i64>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<ShowView> {
        let mut graph = self.graph(at)?;
        let (node, current) = match graph.lookup(name) {
            Ok(n) => (n.clone(), true),
            Err(Error::NodeNotFound(_)) => match self.history_graph()?.lookup(name) {
                Ok(n) => (n.clone(), false),
                // Seen only in traces.
                Err(Error::NodeNotFound(_)) if at.is_none() => {
                    graph = self.observed_index()?.topology(&graph);
                    (graph.lookup(name)?.clone(), true)
                }
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let traffic = self.traffic(&graph, &node.id, at, since, until)?;
        let (out, inc) = graph.edges_of(&node.id);
        let live: BTreeSet<(String, String, EdgeKind)> = out
            .iter()
            .chain(&inc)
            .map(|e| (e.from.to_string(), e.to.to_string(), e.kind))
            .collect();
        // A node of the current graph with no history of its own needs no history graph.
        let history = if current && at.is_none() && !self.may_have_history(&node.id)? {
            None
        } else {
            Some(self.history_graph()?)
        };
        let mut past: Vec<Edge> = match &history {
            Some(history) => {
                let (h_out, h_in) = history.edges_of(&node.id);
                h_out
                    .into_iter()
                    .chain(h_in)
                    .filter(|e| !live.contains(&(e.from.to_string(), e.to.to_string(), e.kind)))
                    .cloned()
                    .collect()
            }
            None => Vec::new(),
        };
        past.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        let identity = match &history {
            Some(history) if !current => history.members(&node.id).to_vec(),
            _ => graph.members(&node.id).to_vec(),
        };
        let document = graph
            .document(&node.id)
            .or_else(|| history.as_ref()?.document(&node.id))
            .map(|d| DocumentView {
                source: d.path.clone(),
                kind: d.kind,
                title: d.title.clone(),
                front_matter: d.front_matter.clone(),
                sections: d
                    .sections
                    .iter()
                    .map(|s| SectionView { heading_path: s.heading_path.clone(), line: s.line })
                    .collect(),
                links: d.links.clone(),
                postmortem: d.postmortem.clone(),
            });
        let notes = if current {
            self.notes_about(std::slice::from_ref(&node.id), crate::time::now())?
        } else {
            Vec::new()
        };
        Ok(ShowView {
            traffic,
            notes,
            node,
            current,
            identity,
            edges_out: out.into_iter().cloned().collect(),
            edges_in: inc.into_iter().cloned().collect(),
            history: past,
            document,
        })
    }

    /// The search index, brought up to the current chunks when it is behind (after an
    /// ingest or a note, or after a crash between the store write and the index write):
    /// only documents whose chunks changed are rewritten, and a write that changes no
    /// chunk (a change event) changes nothing.
    pub(crate) fn search_index(&self) -> Result<Arc<SearchIndex>> {
        let mut guard =
            self.index.lock().map_err(|_| Error::Internal("search index lock poisoned".into()))?;
        let index = match guard.as_ref() {
            Some(index) => index.clone(),
            None => {
                let index = Arc::new(SearchIndex::open(&self.data_dir.join("index"))?);
                *guard = Some(index.clone());
                index
            }
        };
        let set = self.chunk_set()?;
        if index.stamp().as_deref() != Some(set.stamp().as_str()) {
            let written = index.update(&set)?;
            tracing::info!(chunks = set.chunks.len(), documents = written, "updated search index");
        }
        Ok(index)
    }

    /// Transitive callers (upstream) or dependencies (downstream) of a node.
    pub fn impact(&self, req: &ImpactRequest) -> Result<ImpactView> {
        let max = self.limits.max_depth;
        let depth = req.depth.unwrap_or(0);
        crate::config::LimitsConfig::check("depth", depth, max, "max_depth", "hops")?;
        let mut graph = self.graph(req.at)?;
        if req.at.is_none() && req.sides != crate::graph::Sides::Declared {
            let index = self.observed_index()?;
            if !index.is_empty() {
                graph = index.topology(&graph);
            }
        }
        let node = graph.lookup_shared(&req.node)?.clone();
        let mut filter = edge_filter(&req.edge_kinds, req.include_plumbing, req.include_optional);
        filter.sides = req.sides;
        let results = graph.impact_hits(&node.id, req.direction, req.depth, &filter);
        Ok(ImpactView {
            node,
            direction: req.direction,
            depth: req.depth,
            edge_kinds: filter.kinds.into_iter().collect(),
            results,
        })
    }

    /// Shortest dependency path from one node to another.
    pub fn path(
        &self,
        from: &str,
        to: &str,
        include_plumbing: bool,
        at: Option<i64>,
    ) -> Result<PathView> {
        let graph = self.graph(at)?;
        let from = graph.lookup(from)?.clone();
        let to = graph.lookup(to)?.clone();
        let filter = edge_filter(&[], include_plumbing, true);
        let hit = graph.path(&from.id, &to.id, &filter);
        Ok(PathView {
            found: hit.is_some(),
            hops: hit.as_ref().map_or(0, |h| h.hops),
            path: hit.map(|h| h.path).unwrap_or_default(),
            from,
            to,
        })
    }
}

fn edge_filter(kinds: &[EdgeKind], plumbing: bool, optional: bool) -> EdgeFilter {
    let mut filter = if kinds.is_empty() {
        EdgeFilter::request_path()
    } else {
        EdgeFilter {
            kinds: kinds.iter().copied().collect(),
            include_optional: false,
            sides: Default::default(),
        }
    };
    if plumbing {
        filter = filter.with_plumbing();
    }
    filter.include_optional = optional;
    filter
}
