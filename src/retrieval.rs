//! Retrieval modes over documents: BM25, vector and hybrid, with a graph-proximity boost.
//!
//! Hybrid fuses the BM25 and vector rankings by reciprocal rank fusion (k = 60); when the
//! query names a service (or filters on one), documents linked to that service, and then
//! to its direct dependencies and dependents, rank higher. Without the embedding model,
//! vector and hybrid answer with BM25 and say so in `notice`.

use std::collections::BTreeSet;
use std::sync::Arc;

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::Serialize;

use crate::Engine;
use crate::engine::{SearchRequest, SearchView};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::search::vector::{Embed, VectorIndex, chunk_key, chunk_text, fuse};
use crate::search::{SearchHit, SearchQuery, chunks};

/// Candidates each ranking contributes to fusion.
const CANDIDATES: usize = 50;
/// Reciprocal rank fusion constant.
const RRF_K: f32 = 60.0;

/// What embedding at ingest did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EmbedReport {
    /// Chunks embedded now.
    pub embedded: usize,
    /// Chunks whose text was already embedded (content hash), not embedded again.
    pub unchanged: usize,
    /// Why nothing was embedded (no model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

fn model_missing(reason: &str) -> String {
    format!("vector search is off: {reason}")
}

impl Engine {
    /// The embedding model, loaded once; an error says what to run.
    pub fn embedder(&self) -> std::result::Result<Arc<dyn Embed>, String> {
        self.embedder
            .get_or_init(|| {
                let (model, ort) = crate::search::embed::Embedder::locate()?;
                crate::search::embed::Embedder::load(&model, &ort)
                    .map(|e| Arc::new(e) as Arc<dyn Embed>)
                    .map_err(|e| format!("{e}; run `scripts/setup` to fetch the model"))
            })
            .clone()
    }

    /// Embeds every current chunk whose text has no stored vector yet.
    pub fn embed_pending(&self) -> Result<EmbedReport> {
        let embedder = match self.embedder() {
            Ok(e) => e,
            Err(reason) => {
                return Ok(EmbedReport {
                    notice: Some(model_missing(&reason)),
                    ..EmbedReport::default()
                });
            }
        };
        let graph = self.graph(None)?;
        let all = chunks(&graph);
        let mut pending: Vec<([u8; 32], String)> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut report = EmbedReport::default();
        for c in &all {
            let text = chunk_text(c);
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
        Ok(report)
    }

    /// The in-memory vector index of the current chunks, rebuilt when the store changed.
    fn vector_index(&self, embedder: &dyn Embed) -> Result<Arc<VectorIndex>> {
        let generation = self.store().generation()?;
        let lock = || {
            self.vectors.lock().map_err(|_| Error::Internal("vector index lock poisoned".into()))
        };
        if let Some((g, index)) = lock()?.as_ref()
            && *g == generation
        {
            return Ok(index.clone());
        }
        self.embed_pending()?;
        let graph = self.graph(None)?;
        let mut items = Vec::new();
        for c in chunks(&graph) {
            let key = chunk_key(embedder.model_name(), &chunk_text(&c));
            if let Some(v) = self.store().vector(&key)? {
                items.push((c, v));
            }
        }
        let index = Arc::new(VectorIndex::new(items));
        *lock()? = Some((generation, index.clone()));
        Ok(index)
    }

    /// Search runbooks, postmortems and alert rules in the asked mode.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchView> {
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
        let focus: Vec<NodeId> = match &req.service {
            Some(name) => vec![graph.lookup(name)?.id.clone()],
            None => services_named_in(&graph, &req.query),
        };
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
            limit: if mode == "bm25" { limit } else { CANDIDATES.max(limit) },
        };
        let bm25 = self.search_index()?.search(&query)?;
        if mode == "bm25" {
            return Ok(SearchView {
                query: req.query.clone(),
                mode: mode.into(),
                results: bm25,
                notice: None,
            });
        }
        let embedder = match self.embedder() {
            Ok(e) => e,
            Err(reason) => {
                let mut results = bm25;
                results.truncate(limit);
                let notice = Some(format!("{}; answered with bm25", model_missing(&reason)));
                return Ok(SearchView {
                    query: req.query.clone(),
                    mode: "bm25".into(),
                    results,
                    notice,
                });
            }
        };
        let qvec =
            embedder.embed_texts(&[req.query.as_str()])?.into_iter().next().unwrap_or_default();
        let vector = self.vector_index(embedder.as_ref())?.search(&qvec, &query);
        let mut results = if mode == "vector" {
            vector
        } else {
            let mut fused = fuse(&[(1.0, bm25), (1.0, vector)], RRF_K, CANDIDATES);
            boost_by_graph(&graph, &focus, &mut fused);
            fused
        };
        results.truncate(limit);
        Ok(SearchView { query: req.query.clone(), mode: mode.into(), results, notice: None })
    }
}

/// Service and datastore nodes whose name (4+ characters) is a word of the query.
fn services_named_in(graph: &Graph, query: &str) -> Vec<NodeId> {
    let mut out = Vec::new();
    for word in query.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')) {
        if word.len() < 4 {
            continue;
        }
        if let Ok(node) = graph.lookup(word)
            && matches!(node.kind, NodeKind::Service | NodeKind::Datastore)
        {
            out.push(node.id.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Adds to each fused hit a bonus for documents about the focus services (one rank-1
/// vote) or about their direct neighbours (half a vote).
fn boost_by_graph(graph: &Graph, focus: &[NodeId], hits: &mut [SearchHit]) {
    if focus.is_empty() {
        return;
    }
    let mut near: BTreeSet<NodeId> = BTreeSet::new();
    for id in focus {
        let (out, inc) = graph.edges_of(id);
        for e in out.iter().chain(&inc).filter(|e| e.kind.is_request_path()) {
            near.insert(if &e.from == id { e.to.clone() } else { e.from.clone() });
        }
    }
    let vote = 1.0 / (RRF_K + 1.0);
    for hit in hits.iter_mut() {
        let Ok(doc) = hit.id.parse::<NodeId>() else { continue };
        let (links, _) = graph.edges_of(&doc);
        let about = |set: &dyn Fn(&NodeId) -> bool| {
            links.iter().any(|e| {
                matches!(e.kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions)
                    && set(&e.to)
            })
        };
        if about(&|id| focus.contains(id)) {
            hit.score += vote;
        } else if about(&|id| near.contains(id)) {
            hit.score += vote / 2.0;
        }
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.source.cmp(&b.source)));
}

impl Embed for crate::search::embed::Embedder {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed(texts)
    }

    fn model_name(&self) -> &str {
        self.model_id()
    }
}
