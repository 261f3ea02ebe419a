//! What retrieval does to a ranker's list before it is answered or fused: alerts give
//! way to their runbooks, the described services' documents are put in the order of the
//! query's other words and ahead of the rest, documents about the services a query names
//! and dated inside the window it names rank higher, and a list without evidence is
//! marked weak.

use std::collections::{BTreeMap, BTreeSet};

use lore_schema::{EdgeKind, NodeId, NodeKind};

use super::{AlertRunbooks, DATE_BOOST, GRAPH_BOOST_MAX, VOTE_FLOOR};
use crate::graph::Graph;
use crate::search::rank::alerts_to_runbooks;
use crate::search::vector::passes;
use crate::search::when::Window;
use crate::search::{SearchHit, SearchQuery};

/// `hits` with the runbooks (passing the query's filters) of each alert put ahead of it,
/// and each runbook followed by the other runbooks of the alerts it documents.
pub(super) fn redirect(
    hits: Vec<SearchHit>,
    runbooks: &AlertRunbooks,
    q: &SearchQuery,
) -> Vec<SearchHit> {
    let mut targets: BTreeMap<String, Vec<SearchHit>> = BTreeMap::new();
    for h in &hits {
        if h.kind == "alert" {
            let Some(books) = runbooks.by_alert.get(&h.id) else { continue };
            let snippet = format!("alert {}: {}", h.title, h.snippet);
            let books = books.iter().filter(|c| passes(c, q)).map(|c| c.hit(0.0, snippet.clone()));
            targets.insert(h.id.clone(), books.collect());
        } else if let Some(alerts) = runbooks.by_runbook.get(&h.id) {
            let mut out = vec![h.clone()];
            for a in alerts {
                let name = a.strip_prefix("alert:").unwrap_or(a);
                let snippet = format!("also a runbook of alert {name}");
                let books = runbooks.by_alert.get(a).into_iter().flatten();
                out.extend(books.filter(|c| passes(c, q)).map(|c| c.hit(0.0, snippet.clone())));
            }
            targets.insert(h.id.clone(), out);
        }
    }
    alerts_to_runbooks(hits, &targets)
}

/// The hits of `hits` that `by` ranks too trade places among themselves (and scores, so
/// `hits` stays sorted) into `by`'s order; the others keep theirs.
pub(super) fn reorder_by(hits: &mut [SearchHit], by: &[SearchHit]) {
    let mut rank: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, h) in by.iter().enumerate() {
        rank.entry(h.id.as_str()).or_insert(i);
    }
    let places: Vec<usize> =
        (0..hits.len()).filter(|&i| rank.contains_key(hits[i].id.as_str())).collect();
    let mut moved: Vec<SearchHit> = places.iter().map(|&i| hits[i].clone()).collect();
    moved.sort_by_key(|h| rank[h.id.as_str()]);
    for (&i, mut h) in places.iter().zip(moved) {
        h.score = hits[i].score;
        hits[i] = h;
    }
}

/// Weight of a ranking's votes in hybrid fusion from its evidence for this query (in
/// [0, 1]): a ranking without evidence keeps a small say, so ties still break.
pub(super) fn vote_weight(evidence: f32) -> f32 {
    VOTE_FLOOR + (1.0 - VOTE_FLOOR) * evidence
}

/// `hits`, all marked weak unless the ranking cleared its relevance floor.
pub(super) fn mark_weak(mut hits: Vec<SearchHit>, confident: bool) -> Vec<SearchHit> {
    for h in &mut hits {
        h.weak = !confident;
    }
    hits
}

/// Service and datastore nodes whose name (4+ characters) is a word of the query.
pub(super) fn services_named_in(graph: &Graph, query: &str) -> Vec<NodeId> {
    let mut out: Vec<NodeId> = named_words(graph, query).map(|(_, id)| id).collect();
    out.sort();
    out.dedup();
    out
}

/// `query` without the words that name a service or datastore as an identifier (with a
/// `-` or `_`: "wishlist-reservation"): a name says which service, not what one does, so
/// its parts are not description words ("reservation").
pub(super) fn without_names(graph: &Graph, query: &str) -> String {
    let names: BTreeSet<&str> =
        named_words(graph, query).map(|(w, _)| w).filter(|w| w.contains(['-', '_'])).collect();
    if names.is_empty() {
        return query.to_string();
    }
    query
        .split_whitespace()
        .filter(|w| !names.contains(w.trim_matches(|c: char| !is_name_char(c))))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// The words of `query` (4+ characters) that are the name of a service or datastore.
fn named_words<'q>(graph: &'q Graph, query: &'q str) -> impl Iterator<Item = (&'q str, NodeId)> {
    query.split(|c: char| !is_name_char(c)).filter(|w| w.len() >= 4).filter_map(|word| {
        let node = graph.lookup(word).ok()?;
        matches!(node.kind, NodeKind::Service | NodeKind::Datastore)
            .then(|| (word, node.id.clone()))
    })
}

/// Multiplies the score of each hit about the focus services by 1 + [`GRAPH_BOOST_MAX`],
/// or about their direct neighbours by half that, and of each hit dated inside the
/// query's window by 1 + [`DATE_BOOST`]: a document with no evidence of its own gains
/// nothing. Sorts the hits again.
pub(super) fn boost(
    graph: &Graph,
    focus: &[NodeId],
    window: Option<&Window>,
    hits: &mut [SearchHit],
) {
    if let Some(window) = window {
        for hit in hits.iter_mut() {
            if hit.date.as_deref().is_some_and(|d| window.contains(d)) {
                hit.score *= 1.0 + DATE_BOOST;
            }
        }
    }
    if !focus.is_empty() {
        boost_by_graph(graph, focus, hits);
    }
    crate::search::rank::sort(hits);
}

/// The direct neighbours of `focus` on request paths (callers and dependencies).
pub(super) fn neighbours(graph: &Graph, focus: &[NodeId]) -> BTreeSet<NodeId> {
    let mut near: BTreeSet<NodeId> = BTreeSet::new();
    for id in focus {
        let (out, inc) = graph.edges_of(id);
        for e in out.iter().chain(&inc).filter(|e| e.kind.is_request_path()) {
            near.insert(if &e.from == id { e.to.clone() } else { e.from.clone() });
        }
    }
    near
}

fn boost_by_graph(graph: &Graph, focus: &[NodeId], hits: &mut [SearchHit]) {
    let near = neighbours(graph, focus);
    let vote = GRAPH_BOOST_MAX;
    for hit in hits.iter_mut() {
        let Ok(doc) = hit.id.parse::<NodeId>() else { continue };
        let (links, _) = graph.edges_of(&doc);
        let about =
            |set: &dyn Fn(&NodeId) -> bool| links.iter().any(|e| is_about(e.kind) && set(&e.to));
        if about(&|id| focus.contains(id)) {
            hit.score *= 1.0 + vote;
        } else if about(&|id| near.contains(id)) {
            hit.score *= 1.0 + vote / 2.0;
        }
    }
}

/// Whether an edge of this kind from a document says what the document is about.
fn is_about(kind: EdgeKind) -> bool {
    matches!(kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions | EdgeKind::Annotates)
}

/// The hits that document one of the services the query describes (a runbook of it, a
/// postmortem about it; not one that only mentions it) go first, in their order: the
/// query said which service it means, and its documents say what to do about it. Scores
/// stay with the places, so `hits` stays sorted.
pub(super) fn described_first(graph: &Graph, described: &[NodeId], hits: &mut [SearchHit]) {
    if described.is_empty() {
        return;
    }
    let theirs = |h: &SearchHit| {
        let Ok(doc) = h.id.parse::<NodeId>() else { return false };
        let (links, _) = graph.edges_of(&doc);
        links.iter().any(|e| {
            matches!(e.kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::Annotates)
                && described.contains(&e.to)
        })
    };
    let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
    // A stable sort: theirs first, each side in its order.
    hits.sort_by_key(|h| !theirs(h));
    for (h, score) in hits.iter_mut().zip(scores) {
        h.score = score;
    }
}

/// The hits about the services a query describes alike take turns, in their order: each
/// service's best hit before any service's second. For BM25, whose match on the rest of
/// the query (the symptom) often cannot tell one service's documents from another's, so
/// each service's best is the surer bet; hybrid ranks them by the embedded symptom, on
/// one scale across services, and keeps that order. Scores stay with the places, so
/// `hits` stays sorted; hits about none of them keep theirs.
pub(super) fn take_turns(graph: &Graph, described: &[NodeId], hits: &mut [SearchHit]) {
    if described.len() < 2 {
        return;
    }
    let service_of = |h: &SearchHit| {
        let doc = h.id.parse::<NodeId>().ok()?;
        let (links, _) = graph.edges_of(&doc);
        links
            .iter()
            .filter(|e| is_about(e.kind))
            .find_map(|e| described.iter().position(|d| *d == e.to))
    };
    let mut turns = vec![0usize; described.len()];
    let mut places = Vec::new();
    let mut order = Vec::new();
    for (i, h) in hits.iter().enumerate() {
        if let Some(s) = service_of(h) {
            places.push(i);
            order.push((turns[s], i));
            turns[s] += 1;
        }
    }
    order.sort_unstable();
    let moved: Vec<SearchHit> = order.iter().map(|&(_, i)| hits[i].clone()).collect();
    for (&i, mut h) in places.iter().zip(moved) {
        h.score = hits[i].score;
        hits[i] = h;
    }
}
