//! Retrieval modes over documents: BM25, vector and hybrid, with what the query says
//! about services and time.
//!
//! Each mode ranks units (a document, or one alert rule); an alert that has a runbook
//! brings it in ahead of itself (`search::rank`). Hybrid fuses the BM25 and vector
//! rankings. A query that names a service (by name, or by what it does through catalog
//! descriptions, `search::describe`) or filters on one has that service's documents among
//! the BM25 candidates, and they rank higher, then those of its direct dependencies and
//! dependents; the documents of a service described go first, ranked by the rest of the
//! query (the symptom); a query that names a window ("in October", "on 2026-10-11",
//! `search::when`) ranks documents dated inside it higher: in `bm25` and `hybrid` alike
//! (`vector` is the cosine ranking alone). The answer has one hit per file; expired notes
//! are left out. Without the embedding model, vector and hybrid answer with BM25 and say
//! so in `notice`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::Serialize;

use crate::Engine;
use crate::config::LimitsConfig;
use crate::engine::{SearchRequest, SearchView};
use crate::error::{Error, Result};
use crate::model::CERTAIN;
use crate::projections::GraphKey;
use crate::search::describe::{Descriptions, Restated};
use crate::search::rank::{Ranking, fuse, one_per_source};
use crate::search::text::{chunk_key, embed_items, embed_texts_by_document, humanize};
use crate::search::vector::{Embed, VectorIndex};
use crate::search::vector_snapshot;
use crate::search::when::Window;
use crate::search::{Chunk, SearchHit, SearchQuery, chunks};

mod adjust;
use adjust::{
    boost, described_first, mark_weak, redirect, reorder_by, services_named_in, take_turns,
    vote_weight, without_names,
};

/// Most texts a query embeds itself (about 7 s); with more pending (ingested with
/// `--no-embed`) vector search answers from what is embedded and says so.
const QUERY_EMBED_MAX: usize = 256;
/// Candidates each ranking contributes to fusion.
const CANDIDATES: usize = 50;
/// Reciprocal rank fusion constant (20 measured better than 10 and 60 on the dev cases
/// outside the held-out slice).
const RRF_K: f32 = 20.0;
/// Share added to the hybrid score of documents about a service the query names (by name
/// or by description); half of it for documents about its direct neighbours.
pub const GRAPH_BOOST_MAX: f32 = 0.5;
/// Share added to the score of documents dated inside the window a query names ("in
/// October", "on 2026-10-11"; `search::when`).
pub const DATE_BOOST: f32 = 1.0;
/// Least weight of a ranking's votes in hybrid fusion (its evidence adds the rest).
const VOTE_FLOOR: f32 = 0.05;
/// Prior of an alert rule against a document: with equal evidence the runbook, which says
/// what to do, ranks first (0.5 to 0.7 measured the same).
const ALERT_PRIOR: f32 = 0.5;

/// The runbooks of each alert: runbooks named after it, declaring it in front matter, or
/// named by its `runbook_url`.
#[derive(Debug, Default)]
pub struct AlertRunbooks {
    /// Alert id → its runbooks, each as its first chunk (for filters and the hit).
    by_alert: BTreeMap<String, Vec<Chunk>>,
    /// Runbook id → the alerts it is a runbook of.
    by_runbook: BTreeMap<String, Vec<String>>,
}

/// What embedding at ingest did.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct EmbedReport {
    /// Chunks embedded now.
    pub embedded: usize,
    /// Chunks whose text was already embedded (content hash), not embedded again.
    pub unchanged: usize,
    /// Wall time spent embedding, in seconds.
    pub seconds: f64,
    /// Texts left without a vector (more than a query embeds by itself).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending: usize,
    /// Why nothing was embedded (no model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn model_missing(reason: &str) -> String {
    format!("vector search is off: {reason}")
}

impl Engine {
    /// The embedding model, loaded once; an error says what to run.
    pub fn embedder(&self) -> std::result::Result<Arc<dyn Embed>, String> {
        self.embedder
            .get_or_init(|| {
                let (model, ort) = crate::search::embed::Embedder::locate_with(&self.embedding)?;
                crate::search::embed::Embedder::load(&model, &ort)
                    .map(|e| Arc::new(e) as Arc<dyn Embed>)
                    .map_err(|e| format!("{e}; run `scripts/setup` to fetch the model"))
            })
            .clone()
    }

    /// Every distinct text vector search embeds for the current documents, in order (what
    /// `embed_pending` embeds when nothing is stored yet; `examples/embed_bench.rs` times
    /// the model on them).
    pub fn embed_texts(&self) -> Result<Vec<String>> {
        let graph = self.graph(None)?;
        let mut seen = BTreeSet::new();
        Ok(embed_items(&chunks(&graph))
            .into_iter()
            .filter(|item| seen.insert(item.text.clone()))
            .map(|item| item.text)
            .collect())
    }

    /// Embeds every current chunk whose text has no stored vector yet.
    pub fn embed_pending(&self) -> Result<EmbedReport> {
        let report = self.embed_pending_up_to(usize::MAX)?;
        if report.embedded > 0 {
            // New vectors are not a new chunk set: drop the index built without them.
            *self.vectors.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        Ok(report)
    }

    /// Embeds the texts that have no stored vector yet if there are at most `max` of
    /// them; otherwise embeds nothing and counts them as `pending`.
    fn embed_pending_up_to(&self, max: usize) -> Result<EmbedReport> {
        let embedder = match self.embedder() {
            Ok(e) => e,
            Err(reason) => {
                return Ok(EmbedReport {
                    notice: Some(model_missing(&reason)),
                    ..EmbedReport::default()
                });
            }
        };
        let set = self.chunk_set()?;
        let all = &set.chunks;
        let mut pending: Vec<([u8; 32], String)> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut report = EmbedReport::default();
        for item in embed_items(all) {
            let text = item.text;
            let key = chunk_key(embedder.model_name(), &text);
            if !seen.insert(key) {
                continue;
            }
            if self.store().vector(&key)?.is_some() {
                report.unchanged += 1;
            } else {
                pending.push((key, text));
            }
        }
        if pending.len() > max {
            report.pending = pending.len();
            return Ok(report);
        }
        let started = std::time::Instant::now();
        let progress = crate::ingest::progress_bar(pending.len() as u64, "embedding");
        for batch in pending.chunks(256) {
            let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
            let vectors = embedder.embed_texts(&texts)?;
            let items: Vec<([u8; 32], Vec<f32>)> =
                batch.iter().map(|(k, _)| *k).zip(vectors).collect();
            self.store().put_vectors(&items)?;
            report.embedded += items.len();
            progress.inc(items.len() as u64);
        }
        progress.finish_and_clear();
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// After a write that changed documents (a note), brings the search index and, when
    /// the model is loaded, the note's vector and the vector index up to date in the
    /// writer's call, so the searches after it find them built instead of building them
    /// (and embedding) while every other search waits. A failure is logged: the next
    /// search tries again.
    pub(crate) fn refresh_search(&self) {
        if let Err(e) = self.search_index() {
            tracing::warn!(error = %e, "search index not updated after a write");
        }
        if let Some(Ok(embedder)) = self.embedder.get() {
            // Embedded here, outside the vector cache, so searches do not wait on the
            // model behind it; the build below then finds nothing left to embed.
            let embedded = self.embed_pending_up_to(QUERY_EMBED_MAX);
            if let Err(e) = embedded.and_then(|_| self.vector_index(embedder.as_ref())) {
                tracing::warn!(error = %e, "vector index not updated after a write");
            }
        }
    }

    /// The in-memory vector index of the current chunks, rebuilt when the store changed
    /// or new texts were embedded.
    fn vector_index(&self, embedder: &dyn Embed) -> Result<Arc<VectorIndex>> {
        let set = self.chunk_set()?;
        cached(&self.vectors, set.fingerprint, "vector index", || {
            let path = self.data_dir().join(crate::projections::DIR).join("vectors-current.bin");
            let stamp = vector_snapshot::Stamp::of(&set, embedder.model_name());
            if let Some(index) = vector_snapshot::load(&path, &stamp, set.clone()) {
                return Ok((index, true));
            }
            let missing = self.embed_pending_up_to(QUERY_EMBED_MAX)?.pending;
            // A document at a time: neither every text nor every `f32` vector is held at
            // once (at 10,000 services they are ~170,000 of each).
            let mut failed = None;
            let items = embed_texts_by_document(&set.chunks).filter_map(|(at, text)| {
                match self.store().vector(&chunk_key(embedder.model_name(), &text)) {
                    Ok(v) => v.map(|v| (at, v)),
                    Err(e) => {
                        failed.get_or_insert(e);
                        None
                    }
                }
            });
            let index = VectorIndex::new(set.clone(), items, missing);
            if let Some(e) = failed {
                return Err(e.into());
            }
            if missing == 0
                && !index.is_empty()
                && let Err(e) = vector_snapshot::save(&path, &stamp, &index)
            {
                tracing::warn!(path = %path.display(), error = %e, "vector index not saved");
            }
            // Kept even with texts missing: only an embedding run adds them, and it drops
            // this cache.
            Ok((index, true))
        })
    }

    /// Search runbooks, postmortems and alert rules in the asked mode.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchView> {
        let l = &self.limits;
        let chars = req.query.chars().count();
        LimitsConfig::check("query", chars, l.max_query_chars, "max_query_chars", "characters")?;
        LimitsConfig::check("limit", req.limit, l.max_results, "max_results", "results")?;
        let mode = match req.mode.as_str() {
            "" | "hybrid" => "hybrid",
            "bm25" => "bm25",
            "vector" => "vector",
            other => {
                return Err(Error::InvalidParam {
                    name: "mode".into(),
                    reason: format!("unknown mode `{other}` (expected bm25, vector or hybrid)"),
                });
            }
        };
        let graph = self.graph(None)?;
        let mut focus: Vec<NodeId> = match &req.service {
            Some(name) => vec![graph.lookup(name)?.id.clone()],
            None => services_named_in(&graph, &req.query),
        };
        let now = crate::time::now();
        let window = Window::named_in(&req.query, now);
        let limit = if req.limit == 0 { 10 } else { req.limit };
        let query = SearchQuery {
            text: req.query.clone(),
            kinds: req.kinds.clone(),
            service_ids: req
                .service
                .as_ref()
                .map(|_| focus.iter().map(|id| id.to_string()).collect())
                .unwrap_or_default(),
            team: req.team.clone(),
            alert: req.alert.clone(),
            limit: CANDIDATES.max(limit),
        };
        // A service named by what it does counts as named (by the words that are not
        // names).
        let restated = if req.service.is_none() {
            self.descriptions()?.restated_by(&without_names(&graph, &req.query))
        } else {
            Restated::default()
        };
        let described = &restated.services;
        tracing::debug!(?focus, ?described, "services the query names or describes");
        focus.extend(described.iter().map(|(id, _)| id.clone()));
        // The documents of the services the query names are BM25 candidates however many
        // others match its other words better.
        let theirs = |ids: &mut dyn Iterator<Item = &NodeId>| {
            let service_ids: Vec<String> = ids.map(NodeId::to_string).collect();
            (req.service.is_none() && !service_ids.is_empty())
                .then(|| SearchQuery { service_ids, ..query.clone() })
        };
        let named = theirs(&mut focus.iter());
        let described_only = theirs(&mut described.iter().map(|(id, _)| id));
        // The described services' documents are told apart by the words their
        // description did not use.
        let rest = described_only
            .clone()
            .map(|q| SearchQuery { text: restated.rest_of(&req.query), ..q })
            .filter(|q| !q.text.trim().is_empty());
        let runbooks = self.alert_runbooks()?;
        let index = self.search_index()?;
        // The query is embedded and the vectors scanned on a second thread while BM25
        // ranks.
        let embedder = (mode != "bm25").then(|| self.embedder());
        let vectors = match &embedder {
            Some(Ok(e)) => Some(self.vector_index(e.as_ref())?),
            _ => None,
        };
        let text = humanize(&req.query);
        // The described services' documents are ranked by the rest of the query alone
        // (the symptom), embedded in the same run.
        let symptom = rest.as_ref().map(|q| humanize(&q.text));
        let (ranked, by_vector) = std::thread::scope(|s| {
            let by_vector = match (&embedder, &vectors) {
                (Some(Ok(e)), Some(vectors)) => Some(s.spawn(|| {
                    let texts: Vec<&str> =
                        std::iter::once(text.as_str()).chain(symptom.as_deref()).collect();
                    let mut embedded = e.embed_texts(&texts)?.into_iter();
                    let qvec = embedded.next().unwrap_or_default();
                    let svec = embedded.next().unwrap_or_else(|| qvec.clone());
                    let theirs = described_only.as_ref().map(|q| vectors.search(&svec, q));
                    Ok::<_, Error>((vectors.search(&qvec, &query), theirs))
                })),
                _ => None,
            };
            let ranked = index.search_with_evidence(&query).and_then(|(mut hits, ev)| {
                if let Some(named) = &named {
                    hits.extend(index.search(named)?);
                    crate::search::rank::sort(&mut hits);
                }
                if let Some(rest) = &rest {
                    reorder_by(&mut hits, &index.search(rest)?);
                }
                Ok((hits, ev))
            });
            let by_vector = by_vector
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
            (ranked, by_vector)
        });
        let (bm25, bm25_ev) = ranked?;
        let bm25 = redirect(bm25, &runbooks, &query);
        let view = |mode: &str, mut hits: Vec<SearchHit>, notice: Option<String>| {
            hits.retain(|h| h.kind != "note" || !crate::notes::expired_hit(&graph, &h.id, now));
            let mut results = one_per_source(hits);
            results.truncate(limit);
            Ok(SearchView { query: req.query.clone(), mode: mode.into(), results, notice })
        };
        let described_ids: Vec<NodeId> = described.iter().map(|(id, _)| id.clone()).collect();
        let lexical = |mut hits: Vec<SearchHit>| {
            boost(&graph, &focus, window.as_ref(), &mut hits);
            described_first(&graph, &described_ids, &mut hits);
            take_turns(&graph, &described_ids, &mut hits);
            mark_weak(hits, bm25_ev.confident)
        };
        if mode == "bm25" {
            return view(mode, lexical(bm25), None);
        }
        let (vectors, (vector, theirs)) = match (embedder, vectors, by_vector) {
            (Some(Err(reason)), ..) => {
                let notice = Some(format!("{}; answered with bm25", model_missing(&reason)));
                return view("bm25", lexical(bm25), notice);
            }
            (_, Some(vectors), Some(searched)) => (vectors, searched?),
            _ => return view(mode, lexical(bm25), None),
        };
        let cosines: Vec<f32> = vector.iter().map(|h| h.score).collect();
        let vector_ev = crate::search::evidence::vector(&cosines);
        let vector = redirect(vector, &runbooks, &query);
        let notice = (vectors.missing() > 0).then(|| {
            format!(
                "vector search is missing {} texts that are not embedded yet: run `lore \
                 ingest` on the same paths without --no-embed",
                vectors.missing()
            )
        });
        if mode == "vector" {
            return view(mode, mark_weak(vector, vector_ev.confident), notice);
        }
        let mut lists = vec![
            Ranking { hits: bm25, weight: vote_weight(bm25_ev.weight) },
            Ranking { hits: vector, weight: vote_weight(vector_ev.weight) },
        ];
        // The described services' own documents, ranked by the query, vote as a third
        // list weighted by how well the query restates their description.
        let share = described.iter().map(|(_, s)| *s).reduce(f32::max);
        if let (Some(q), Some(hits), Some(share)) = (&described_only, theirs, share) {
            lists.push(Ranking { hits: redirect(hits, &runbooks, q), weight: share });
        }
        // An alert with runbooks gives way to them; one without is itself the answer.
        let prior = |h: &SearchHit| {
            if h.kind == "alert" && runbooks.by_alert.contains_key(&h.id) {
                ALERT_PRIOR
            } else {
                1.0
            }
        };
        let mut fused = fuse(&lists, RRF_K, prior, CANDIDATES);
        boost(&graph, &focus, window.as_ref(), &mut fused);
        described_first(&graph, &described_ids, &mut fused);
        let confident = bm25_ev.confident || vector_ev.confident;
        view(mode, mark_weak(fused, confident), notice)
    }

    /// Service descriptions of the current graph, for descriptive queries.
    fn descriptions(&self) -> Result<Arc<Descriptions>> {
        let graph = self.graph(None)?;
        cached(&self.descriptions, GraphKey::of(&graph), "descriptions", || {
            Ok((Descriptions::new(&graph, &self.chunk_set()?.chunks), true))
        })
    }

    /// The runbooks of each alert, of the current graph.
    fn alert_runbooks(&self) -> Result<Arc<AlertRunbooks>> {
        let graph = self.graph(None)?;
        cached(&self.runbooks, GraphKey::of(&graph), "runbook map", || {
            let set = self.chunk_set()?;
            let mut first: BTreeMap<String, Chunk> = BTreeMap::new();
            for c in set.chunks.iter().filter(|c| c.kind == "runbook") {
                first.entry(c.doc_id.clone()).or_insert_with(|| c.clone());
            }
            let mut map = AlertRunbooks::default();
            for alert in graph.nodes().iter().filter(|n| n.kind == NodeKind::Alert) {
                let (_, inc) = graph.edges_of(&alert.id);
                let books: Vec<Chunk> = inc
                    .iter()
                    .filter(|e| e.kind == EdgeKind::Documents && e.confidence >= CERTAIN)
                    .filter_map(|e| first.get(&e.from.to_string()).cloned())
                    .collect();
                for b in &books {
                    let alerts = map.by_runbook.entry(b.doc_id.clone()).or_default();
                    alerts.push(alert.id.to_string());
                }
                if !books.is_empty() {
                    map.by_alert.insert(alert.id.to_string(), books);
                }
            }
            Ok((map, true))
        })
    }
}

/// A value derived from a projection, cached with the key of what it was derived from
/// (the graph, for most: a write that leaves the graph alone, such as a posted event,
/// keeps them).
pub(crate) type Cached<K, T> = Mutex<Option<(K, Arc<T>)>>;

impl Engine {
    /// The search chunks of the current graph.
    pub(crate) fn chunk_set(&self) -> Result<Arc<crate::search::ChunkSet>> {
        let graph = self.graph(None)?;
        cached(&self.chunk_sets, GraphKey::of(&graph), "chunks", || {
            Ok((crate::search::ChunkSet::new(chunks(&graph)), true))
        })
    }
}

/// The cached value of `key`, built when the cache holds another; `build` says whether
/// its value may be kept. The cache is held while building: queries arriving meanwhile
/// wait for this build instead of each doing it again (after a write, fifty clients
/// would otherwise build fifty copies at once). `build` must not use the same cache.
fn cached<K: PartialEq, T>(
    cell: &Cached<K, T>,
    key: K,
    what: &str,
    build: impl FnOnce() -> Result<(T, bool)>,
) -> Result<Arc<T>> {
    // A build that panicked left nothing half-written: the slot is still whole.
    let mut slot = cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((k, value)) = slot.as_ref()
        && *k == key
    {
        return Ok(value.clone());
    }
    let started = std::time::Instant::now();
    let (value, keep) = build()?;
    tracing::debug!(what, ms = started.elapsed().as_millis() as u64, "built");
    let value = Arc::new(value);
    if keep {
        *slot = Some((key, value.clone()));
    }
    Ok(value)
}

impl Embed for crate::search::embed::Embedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed(texts)
    }

    fn model_name(&self) -> &str {
        self.model_id()
    }
}
