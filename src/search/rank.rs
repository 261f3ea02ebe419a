//! Turning ranked units (document sections, alert rules) into the ranking a user sees:
//! alerts bring their runbooks in ahead of them, rankings are fused, one hit per file.

use std::collections::{BTreeMap, BTreeSet};

use super::SearchHit;

/// Puts the runbooks of every alert hit that has some at the alert's rank, before the
/// alert itself (a runbook already ranked higher keeps its place; each unit appears once).
/// An alert rule says what fired; its runbook says what to do, and carries the rule's
/// match. `runbooks` maps a unit to what goes in its place (itself included or not).
pub fn alerts_to_runbooks(
    hits: Vec<SearchHit>,
    runbooks: &BTreeMap<String, Vec<SearchHit>>,
) -> Vec<SearchHit> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(hits.len());
    for hit in hits {
        match runbooks.get(&hit.id) {
            Some(targets) if !targets.is_empty() => {
                for t in targets {
                    if seen.insert(t.id.clone()) {
                        out.push(SearchHit { score: hit.score, ..t.clone() });
                    }
                }
                if seen.insert(hit.id.clone()) {
                    out.push(hit);
                }
            }
            _ => {
                if seen.insert(hit.id.clone()) {
                    out.push(hit);
                }
            }
        }
    }
    out
}

/// The first hit of each file, in order: a rule file with many matching alerts is one
/// result, shown with its best alert.
pub fn one_per_source(hits: Vec<SearchHit>) -> Vec<SearchHit> {
    let mut seen = BTreeSet::new();
    hits.into_iter().filter(|h| seen.insert(h.source.clone())).collect()
}

/// One ranked list with its weight in fusion.
#[derive(Debug)]
pub struct Ranking {
    /// Units best first.
    pub hits: Vec<SearchHit>,
    /// Weight of this list.
    pub weight: f32,
}

/// Reciprocal rank fusion by unit id: a unit's score is the sum of `weight / (k + rank)`
/// over the lists it appears in, times its `prior` (by kind, say), scaled so that rank 1
/// in every list at weight 1 scores 1. The hit shown is the
/// one from the first list that has it (BM25 first, for its highlighted snippet).
pub fn fuse(
    lists: &[Ranking],
    k: f32,
    prior: impl Fn(&SearchHit) -> f32,
    limit: usize,
) -> Vec<SearchHit> {
    let mut fused: BTreeMap<String, (f32, SearchHit)> = BTreeMap::new();
    // Ranked first by every list at full weight scores 1.
    let scale = (k + 1.0) / lists.len().max(1) as f32;
    for list in lists {
        for (rank, hit) in list.hits.iter().enumerate() {
            let add = list.weight / (k + rank as f32 + 1.0);
            fused.entry(hit.id.clone()).and_modify(|e| e.0 += add).or_insert((add, hit.clone()));
        }
    }
    let mut out: Vec<SearchHit> = fused
        .into_values()
        .map(|(score, mut hit)| {
            hit.score = score * prior(&hit) * scale;
            hit
        })
        .collect();
    sort(&mut out);
    out.truncate(limit);
    out
}

/// Best score first; ties by file, then unit.
pub fn sort(hits: &mut [SearchHit]) {
    hits.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| a.source.cmp(&b.source)).then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, source: &str, score: f32) -> SearchHit {
        SearchHit {
            id: id.into(),
            kind: if id.starts_with("alert:") { "alert" } else { "runbook" }.into(),
            title: id.into(),
            source: source.into(),
            section: String::new(),
            line: 1,
            score,
            snippet: String::new(),
            weak: false,
            date: None,
        }
    }

    fn ids(hits: &[SearchHit]) -> Vec<&str> {
        hits.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn rrf_rewards_agreement() {
        let bm25 = vec![hit("a", "a", 3.0), hit("b", "b", 2.0), hit("c", "c", 1.0)];
        let vector = vec![hit("c", "c", 0.9), hit("b", "b", 0.8), hit("d", "d", 0.7)];
        let lists = [Ranking { hits: bm25, weight: 1.0 }, Ranking { hits: vector, weight: 1.0 }];
        let fused = fuse(&lists, 60.0, |_| 1.0, 3);
        assert_eq!(ids(&fused), ["c", "b", "a"]);
        let fused = fuse(&lists, 60.0, |h| if h.id == "c" { 0.5 } else { 1.0 }, 3);
        assert_eq!(ids(&fused), ["b", "a", "c"]);
    }

    #[test]
    fn alerts_bring_their_runbooks_ahead_once() {
        let runbooks = BTreeMap::from([(
            "alert:X".to_string(),
            vec![hit("runbook:x", "x.md", 0.0), hit("runbook:y", "y.md", 0.0)],
        )]);
        let hits = vec![
            hit("runbook:y", "y.md", 5.0),
            hit("alert:X", "rules.yaml", 4.0),
            hit("alert:Z", "rules.yaml", 3.0),
            hit("runbook:x", "x.md", 1.0),
        ];
        let out = alerts_to_runbooks(hits, &runbooks);
        assert_eq!(ids(&out), ["runbook:y", "runbook:x", "alert:X", "alert:Z"]);
        assert_eq!(out[1].score, 4.0);
    }

    #[test]
    fn one_hit_per_file() {
        let hits =
            vec![hit("alert:A", "r.yml", 3.0), hit("d", "d.md", 2.0), hit("alert:B", "r.yml", 1.0)];
        assert_eq!(ids(&one_per_source(hits)), ["alert:A", "d"]);
    }
}
