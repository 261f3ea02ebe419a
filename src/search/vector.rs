//! Exact vector search over chunk embeddings (what is embedded: [`super::text`]).
//!
//! At this scale (tens of thousands of chunks) a flat scan over normalised f32 vectors is
//! fast enough and exact; filters are the same as BM25's.

use std::collections::BTreeMap;

use super::{Chunk, SearchHit, SearchQuery};
use crate::error::Result;

/// Something that turns texts into L2-normalised vectors: the real model in
/// [`super::embed::Embedder`], behind a trait so the index does not depend on ONNX.
pub trait Embed: Send + Sync {
    /// One vector per text, in order.
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Model identity, part of every cache key.
    fn model_name(&self) -> &str;
}

/// Chunks with their vectors, for flat search.
#[derive(Debug, Default)]
pub struct VectorIndex {
    chunks: Vec<Chunk>,
    /// Texts of current chunks that have no vector yet.
    missing: usize,
    dim: usize,
    data: Vec<f32>,
}

impl VectorIndex {
    /// An index over `items` (all vectors of the same length), `missing` texts short.
    pub fn new(items: Vec<(Chunk, Vec<f32>)>, missing: usize) -> VectorIndex {
        let dim = items.first().map_or(0, |(_, v)| v.len());
        let mut chunks = Vec::with_capacity(items.len());
        let mut data = Vec::with_capacity(items.len() * dim);
        for (c, v) in items {
            if v.len() == dim {
                chunks.push(c);
                data.extend_from_slice(&v);
            }
        }
        VectorIndex { chunks, missing, dim, data }
    }

    /// Chunks indexed.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Texts of current chunks that have no vector yet.
    pub fn missing(&self) -> usize {
        self.missing
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Units (documents, alert rules) ranked by their best chunk's cosine similarity to
    /// `query`.
    pub fn search(&self, query: &[f32], q: &SearchQuery) -> Vec<SearchHit> {
        if query.len() != self.dim || self.dim == 0 {
            return Vec::new();
        }
        let mut best: BTreeMap<&str, (f32, usize)> = BTreeMap::new();
        for (i, c) in self.chunks.iter().enumerate() {
            if !passes(c, q) {
                continue;
            }
            let v = &self.data[i * self.dim..(i + 1) * self.dim];
            let score: f32 = v.iter().zip(query).map(|(a, b)| a * b).sum();
            let e = best.entry(c.doc_id.as_str()).or_insert((f32::MIN, i));
            if score > e.0 {
                *e = (score, i);
            }
        }
        let mut ranked: Vec<(f32, usize)> = best.into_values().collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(q.limit.max(1))
            .map(|(score, i)| {
                let c = &self.chunks[i];
                c.hit(score, c.body.split_whitespace().take(40).collect::<Vec<_>>().join(" "))
            })
            .collect()
    }
}

pub(crate) fn passes(c: &Chunk, q: &SearchQuery) -> bool {
    (q.kinds.is_empty() || q.kinds.contains(&c.kind))
        && (q.service_ids.is_empty() || q.service_ids.iter().any(|s| c.service_ids.contains(s)))
        && q.team.as_ref().is_none_or(|t| c.teams.contains(t))
        && q.alert.as_ref().is_none_or(|a| c.alerts.iter().any(|x| x.eq_ignore_ascii_case(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_search_ranks_by_cosine_and_filters() {
        let mk = |source: &str, kind: &str| Chunk {
            source: source.into(),
            doc_id: source.into(),
            kind: kind.into(),
            ..Chunk::default()
        };
        let index = VectorIndex::new(
            vec![
                (mk("a", "runbook"), vec![1.0, 0.0]),
                (mk("b", "postmortem"), vec![0.8, 0.6]),
                (mk("a", "runbook"), vec![0.0, 1.0]),
            ],
            0,
        );
        let q = SearchQuery { limit: 5, ..SearchQuery::default() };
        let hits = index.search(&[0.0, 1.0], &q);
        assert_eq!(hits.iter().map(|h| h.source.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let q =
            SearchQuery { limit: 5, kinds: vec!["postmortem".into()], ..SearchQuery::default() };
        assert_eq!(index.search(&[0.0, 1.0], &q).len(), 1);
    }
}
