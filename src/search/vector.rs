//! Exact vector search over chunk embeddings (what is embedded: [`super::text`]).
//!
//! At this scale (up to a few hundred thousand texts) a flat scan is fast enough and
//! exact; filters are the same as BM25's. Vectors are held quantised to one byte per
//! dimension with a scale per vector (a quarter of the memory of `f32`; cosines move by
//! about 0.002, below the gaps that order results), and each row names its chunk in the
//! shared [`ChunkSet`] instead of holding a copy of it.

mod signs;

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::chunks::ChunkSet;
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
#[derive(Debug)]
pub struct VectorIndex {
    set: Arc<ChunkSet>,
    /// Chunk of each vector, by its place in `set`.
    rows: Vec<u32>,
    /// Texts of current chunks that have no vector yet.
    missing: usize,
    dim: usize,
    /// Each vector's components over its scale, rounded: `dim` per row.
    data: Vec<i8>,
    /// Each vector's largest component over 127.
    scales: Vec<f32>,
    /// Each vector's signs ([`signs`]), for the first pass over many rows.
    signs: Vec<u64>,
    /// Rows of each unit, ascending: `unit_rows[unit_starts[u]..unit_starts[u + 1]]`.
    unit_starts: Vec<u32>,
    unit_rows: Vec<u32>,
    /// Units of each service id, for queries about a few services.
    by_service: HashMap<String, Vec<u32>>,
    /// Unit (document or alert rule) of each row, by number, and how many units.
    units: Vec<u32>,
    unit_count: usize,
}

/// A [`VectorIndex`]'s columns, borrowed.
pub(super) struct Parts<'a> {
    pub(super) dim: usize,
    pub(super) rows: &'a [u32],
    pub(super) data: &'a [i8],
    pub(super) scales: &'a [f32],
    pub(super) units: &'a [u32],
    pub(super) unit_count: usize,
}

impl VectorIndex {
    /// An index over the chunks of `set` at the given places with their vectors (all of
    /// the length of the first; others are left out), `missing` texts short. Each vector
    /// is quantised as it comes, so the `f32` vectors are never all in memory at once.
    pub fn new(
        set: Arc<ChunkSet>,
        items: impl IntoIterator<Item = (usize, Vec<f32>)>,
        missing: usize,
    ) -> VectorIndex {
        let mut index = VectorIndex {
            set,
            rows: Vec::new(),
            missing,
            dim: 0,
            data: Vec::new(),
            scales: Vec::new(),
            signs: Vec::new(),
            unit_starts: Vec::new(),
            unit_rows: Vec::new(),
            by_service: HashMap::default(),
            units: Vec::new(),
            unit_count: 0,
        };
        let mut numbers: HashMap<&str, u32> = HashMap::default();
        let set = index.set.clone();
        for (at, v) in items {
            if index.dim == 0 {
                index.dim = v.len();
            }
            let Ok(row) = u32::try_from(at) else { continue };
            if v.len() != index.dim || at >= set.chunks.len() {
                continue;
            }
            let top = v.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = if top > 0.0 { top / 127.0 } else { 1.0 };
            index.data.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8));
            index.scales.push(scale);
            index.rows.push(row);
            let next = numbers.len() as u32;
            index.units.push(*numbers.entry(set.chunks[at].doc_id.as_str()).or_insert(next));
        }
        index.unit_count = numbers.len();
        index.derived()
    }

    /// An index read back from its columns (`vector_snapshot`), none missing.
    pub(super) fn from_parts(
        set: Arc<ChunkSet>,
        dim: usize,
        rows: Vec<u32>,
        data: Vec<i8>,
        scales: Vec<f32>,
        units: Vec<u32>,
        unit_count: usize,
    ) -> VectorIndex {
        let index = VectorIndex {
            set,
            rows,
            missing: 0,
            dim,
            data,
            scales,
            signs: Vec::new(),
            unit_starts: Vec::new(),
            unit_rows: Vec::new(),
            by_service: HashMap::default(),
            units,
            unit_count,
        };
        index.derived()
    }

    /// The index with what it derives from its columns: signs, rows by unit, units by
    /// service.
    fn derived(mut self) -> VectorIndex {
        self.signs = signs::of_rows(&self.data, self.dim);
        let mut starts = vec![0u32; self.unit_count + 1];
        for &u in &self.units {
            starts[u as usize + 1] += 1;
        }
        for u in 0..self.unit_count {
            starts[u + 1] += starts[u];
        }
        let mut next = starts.clone();
        let mut rows = vec![0u32; self.units.len()];
        for (row, &u) in self.units.iter().enumerate() {
            rows[next[u as usize] as usize] = row as u32;
            next[u as usize] += 1;
        }
        (self.unit_starts, self.unit_rows) = (starts, rows);
        let mut by_service: HashMap<String, Vec<u32>> = HashMap::default();
        for u in 0..self.unit_count {
            if let Some(&row) = self.rows_of(u).first() {
                for id in &self.chunk(row as usize).service_ids {
                    by_service.entry(id.clone()).or_default().push(u as u32);
                }
            }
        }
        self.by_service = by_service;
        self
    }

    /// Rows of unit `u`, ascending.
    fn rows_of(&self, u: usize) -> &[u32] {
        &self.unit_rows[self.unit_starts[u] as usize..self.unit_starts[u + 1] as usize]
    }

    /// The index's columns, to save them.
    pub(super) fn parts(&self) -> Parts<'_> {
        Parts {
            dim: self.dim,
            rows: &self.rows,
            data: &self.data,
            scales: &self.scales,
            units: &self.units,
            unit_count: self.unit_count,
        }
    }

    /// Chunks indexed.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Texts of current chunks that have no vector yet.
    pub fn missing(&self) -> usize {
        self.missing
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Which of its chunk's texts (`text::chunk_texts`) `row` is: rows of one chunk's
    /// windows are consecutive. (A document lead follows other chunks' rows and counts as
    /// its chunk's first window; an alert lead right after a chunk's windows counts past
    /// them, so it shows the section's start too.)
    fn window_of(&self, row: usize) -> usize {
        let chunk = self.rows[row];
        self.rows[..row].iter().rev().take_while(|&&r| r == chunk).count()
    }

    fn chunk(&self, row: usize) -> &Chunk {
        &self.set.chunks[self.rows[row] as usize]
    }

    /// Units (documents, alert rules) ranked by their best chunk's cosine similarity to
    /// `query`. Over many rows, only the rows whose signs agree best with the query's
    /// are scored ([`signs`]): exact below [`SIGNS_ROWS`] rows, nearly so above.
    pub fn search(&self, query: &[f32], q: &SearchQuery) -> Vec<SearchHit> {
        let first_pass = self.rows.len() >= SIGNS_ROWS;
        self.search_with(query, q, first_pass.then(|| rescored(self.rows.len())))
    }

    /// [`VectorIndex::search`], scoring every row the filters let through, or only the
    /// `rescore` (or more, at a tie) whose signs agree best with the query's.
    fn search_with(
        &self,
        query: &[f32],
        q: &SearchQuery,
        rescore: Option<usize>,
    ) -> Vec<SearchHit> {
        if query.len() != self.dim || self.dim == 0 {
            return Vec::new();
        }
        let (q16, q16_scale) = quantise_query(query);
        let allowed = self.allowed(q);
        let score = |row: usize| {
            let v = &self.data[row * self.dim..(row + 1) * self.dim];
            dot(v, &q16) as f32 * q16_scale * self.scales[row]
        };
        // Best row of each unit; rows of a unit that is filtered out are not scored.
        let mut best = vec![(f32::MIN, usize::MAX); self.unit_count];
        let mut consider = |row: usize| {
            let u = self.units[row] as usize;
            let s = score(row);
            // The first row wins a tie, as rows are offered in order.
            if s > best[u].0 {
                best[u] = (s, row);
            }
        };
        let allowed_rows: usize =
            (0..self.unit_count).filter(|&u| allowed[u]).map(|u| self.rows_of(u).len()).sum();
        match rescore {
            Some(want) if allowed_rows > want => {
                let words = signs::words(self.dim);
                let qs = signs::of_query(query);
                let distances: Vec<u16> = (self.signs.chunks_exact(words).zip(&self.units))
                    .map(|(row, &u)| {
                        if allowed[u as usize] {
                            signs::distance(row, &qs) as u16
                        } else {
                            u16::MAX
                        }
                    })
                    .collect();
                let limit = signs::threshold(&distances, self.dim, want);
                (distances.iter().enumerate())
                    .filter(|&(_, &d)| d <= limit)
                    .for_each(|(row, _)| consider(row));
            }
            _ => (0..self.unit_count)
                .filter(|&u| allowed[u])
                .flat_map(|u| self.rows_of(u))
                .for_each(|&row| consider(row as usize)),
        }
        let mut ranked: Vec<(f32, usize)> =
            best.into_iter().filter(|&(_, row)| row != usize::MAX).collect();
        let by_score = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let keep = q.limit.max(1);
        if ranked.len() > keep {
            ranked.select_nth_unstable_by(keep - 1, by_score);
            ranked.truncate(keep);
        }
        ranked.sort_by(by_score);
        ranked
            .into_iter()
            .map(|(score, row)| {
                let c = self.chunk(row);
                let from = &c.body[super::text::window_start(c, self.window_of(row))..];
                c.hit(score, from.split_whitespace().take(40).collect::<Vec<_>>().join(" "))
            })
            .collect()
    }

    /// Whether each unit passes the query's filters. Filters hold per unit (a
    /// document's chunks share kind, services, teams and alerts): each unit is asked
    /// once, from its first row, and only when the query filters; with services named,
    /// only their units are asked.
    fn allowed(&self, q: &SearchQuery) -> Vec<bool> {
        let filtered = !(q.kinds.is_empty()
            && q.service_ids.is_empty()
            && q.team.is_none()
            && q.alert.is_none());
        let mut allowed = vec![!filtered; self.unit_count];
        let ask =
            |u: usize| self.rows_of(u).first().is_some_and(|&r| passes(self.chunk(r as usize), q));
        if !q.service_ids.is_empty() {
            let theirs = q.service_ids.iter().filter_map(|id| self.by_service.get(id));
            for &u in theirs.flatten() {
                allowed[u as usize] = ask(u as usize);
            }
        } else if filtered {
            for (u, a) in allowed.iter_mut().enumerate() {
                *a = ask(u);
            }
        }
        allowed
    }
}

/// Rows from which a scan first ranks rows by their signs.
const SIGNS_ROWS: usize = 20_000;

/// Rows scored exactly after the first pass over `rows`: a thirty-second, and at least
/// 4,096. At 170,000 rows (gen-org 10,000 services) about 5,300 rows are scored instead
/// of every one, with the same recall@5 (docs/benchmarks.md, "Vectors ranked by their
/// signs first").
fn rescored(rows: usize) -> usize {
    (rows / 32).max(4_096)
}

/// The query as 16-bit integers with its scale (a component moves by at most 1/65,534
/// of the largest): rows are then scanned with integer multiplies, twice as fast as
/// converting each byte to a float (the scan reads every vector for every query).
fn quantise_query(query: &[f32]) -> (Vec<i16>, f32) {
    let top = query.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if top > 0.0 { top / f32::from(i16::MAX) } else { 1.0 };
    (query.iter().map(|x| (x / scale).round() as i16).collect(), scale)
}

/// Dot product of a quantised row with the quantised query, in sixteen lanes so that it
/// runs as vector instructions. A lane sums a sixteenth of the products (127 × 32,767 ×
/// 8,000 dimensions / 16 < 2^31), the lanes are added in 64 bits.
fn dot(row: &[i8], query: &[i16]) -> i64 {
    let (rows, queries) = (row.chunks_exact(16), query.chunks_exact(16));
    let rest: i64 = (rows.remainder().iter().zip(queries.remainder()))
        .map(|(&r, &q)| i64::from(r) * i64::from(q))
        .sum();
    let mut lanes = [0i32; 16];
    for (r, q) in rows.zip(queries) {
        for i in 0..16 {
            lanes[i] += i32::from(r[i]) * i32::from(q[i]);
        }
    }
    lanes.iter().map(|&l| i64::from(l)).sum::<i64>() + rest
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
        let b = Chunk { service_ids: vec!["service:pay".into()], ..mk("b", "postmortem") };
        let set = Arc::new(ChunkSet::new(vec![mk("a", "runbook"), b]));
        let index = VectorIndex::new(
            set,
            vec![
                (0, vec![1.0, 0.0]),
                (1, vec![0.8, 0.6]),
                (0, vec![0.0, 1.0]),
                (7, vec![1.0, 0.0]),
            ],
            0,
        );
        // A row naming no chunk is left out.
        assert_eq!(index.len(), 3);
        let q = SearchQuery { limit: 5, ..SearchQuery::default() };
        let hits = index.search(&[0.0, 1.0], &q);
        assert_eq!(hits.iter().map(|h| h.source.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        // Quantised, cosines stay within a hundredth.
        assert!((hits[0].score - 1.0).abs() < 0.01 && (hits[1].score - 0.6).abs() < 0.01);
        let q =
            SearchQuery { limit: 5, kinds: vec!["postmortem".into()], ..SearchQuery::default() };
        assert_eq!(index.search(&[0.0, 1.0], &q).len(), 1);
        // Services named: only their documents, read through the units by service.
        let about = |id: &str| SearchQuery {
            limit: 5,
            service_ids: vec![id.into()],
            ..SearchQuery::default()
        };
        let hits = index.search(&[0.0, 1.0], &about("service:pay"));
        assert_eq!(hits.iter().map(|h| h.source.as_str()).collect::<Vec<_>>(), ["b"]);
        assert!(index.search(&[0.0, 1.0], &about("service:none")).is_empty());
    }

    #[test]
    fn a_hit_on_a_later_window_shows_that_part_of_the_section() {
        let words: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
        let c = Chunk {
            source: "a".into(),
            doc_id: "a".into(),
            body: words.join(" "),
            ..Chunk::default()
        };
        let windows = crate::search::text::chunk_texts(&c).len();
        assert!(windows > 2);
        let set = Arc::new(ChunkSet::new(vec![c.clone()]));
        let far = crate::search::text::window_start(&c, 2);
        let items = (0..windows).map(|k| (0, if k == 2 { vec![0.0, 1.0] } else { vec![1.0, 0.0] }));
        let index = VectorIndex::new(set, items, 0);
        let q = SearchQuery { limit: 5, ..SearchQuery::default() };
        let hits = index.search(&[0.0, 1.0], &q);
        assert!(far > 0 && hits[0].snippet.starts_with(c.body[far..].split(' ').next().unwrap()));
        assert!(index.search(&[1.0, 0.0], &q)[0].snippet.starts_with("w0 "));
    }

    #[test]
    fn a_first_pass_by_signs_finds_what_scoring_every_row_finds() {
        let (n, dim) = (6_000, 48);
        let mk = |i: usize| Chunk {
            source: format!("d{}", i % 997),
            doc_id: format!("d{}", i % 997),
            kind: if i % 997 % 2 == 0 { "runbook" } else { "postmortem" }.into(),
            ..Chunk::default()
        };
        let set = Arc::new(ChunkSet::new((0..n).map(mk).collect()));
        // Deterministic pseudo-random unit vectors.
        let vector = |seed: usize| {
            let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let v: Vec<f32> = (0..dim)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 2_001) as f32 / 1_000.0 - 1.0
                })
                .collect();
            let norm = v.iter().map(|c| c * c).sum::<f32>().sqrt();
            v.into_iter().map(|c| c / norm).collect::<Vec<f32>>()
        };
        let index = VectorIndex::new(set, (0..n).map(|i| (i, vector(i))), 0);
        let ids = |hits: Vec<SearchHit>| hits.into_iter().map(|h| h.source).collect::<Vec<_>>();
        for kinds in [vec![], vec!["postmortem".to_string()]] {
            let q = SearchQuery { limit: 10, kinds, ..SearchQuery::default() };
            for seed in [n + 1, n + 2, n + 3] {
                let query = vector(seed);
                let exact = ids(index.search_with(&query, &q, None));
                assert_eq!(exact.len(), 10);
                // Asked for every row, the first pass changes nothing.
                assert_eq!(ids(index.search_with(&query, &q, Some(n))), exact);
                // Asked for a sixth of them, the best documents are still found.
                let approx = ids(index.search_with(&query, &q, Some(n / 6)));
                assert_eq!(approx[..3], exact[..3], "seed {seed}");
                let found = approx.iter().filter(|d| exact.contains(d)).count();
                assert!(found >= 8, "seed {seed}: {found} of 10");
            }
        }
    }

    #[test]
    fn lanes_sum_as_the_plain_dot_product() {
        for dim in [3, 16, 384, 390] {
            let row: Vec<i8> = (0..dim).map(|i| (i * 37 % 255 - 127) as i8).collect();
            let query: Vec<f32> = (0..dim).map(|i| ((i * 13 % 17) as f32 - 8.0) / 10.0).collect();
            let plain: f32 = row.iter().zip(&query).map(|(&r, q)| f32::from(r) * q).sum();
            let (q16, scale) = super::quantise_query(&query);
            let got = dot(&row, &q16) as f32 * scale;
            assert!((got - plain).abs() < 1e-3 * plain.abs().max(1.0), "{dim}: {got} {plain}");
        }
    }
}
