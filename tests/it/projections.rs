//! Writes update the projections instead of rebuilding them: a change event leaves the
//! graph and the search index untouched, a note is added to and removed from the graph
//! and the index in place, and the answers equal those of projections built from scratch
//! over the same store.

use std::path::Path;
use std::sync::Arc;

use lore::Engine;
use lore::engine::SearchRequest;
use lore::notes::NoteRequest;

use crate::support::engine;

fn bm25(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.into(),
        mode: "bm25".into(),
        limit: 10,
        ..SearchRequest::default()
    }
}

/// Ids of the hits, best first (scores may differ slightly: an updated index counts
/// deleted documents in its term statistics until segments merge).
fn hits(engine: &Engine, query: &str) -> Vec<String> {
    engine.search(&bm25(query)).unwrap().results.into_iter().map(|h| h.id).collect()
}

/// The index's own commit record: it changes whenever anything is written to it.
fn index_meta(data: &Path) -> String {
    std::fs::read_to_string(data.join("index/meta.json")).unwrap()
}

#[test]
fn writes_update_the_search_index_in_place() {
    let (dir, engine) = engine();
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    engine.ingest(&[org], 1_000).unwrap();
    let before = hits(&engine, "checkout latency");
    assert!(!before.is_empty());
    let meta = index_meta(dir.path());

    // A change event changes no chunk: the index is not written.
    let body = serde_json::json!([{"id": "deploy-1", "ts": "2026-10-27T13:41:09Z",
        "service": "checkout", "kind": "deploy", "description": "bump"}]);
    let graph_before_note = engine.graph(None).unwrap();
    engine.add_events(lore::changes::parse_events(&body).unwrap(), 2_000).unwrap();
    let graph_after_event = engine.graph(None).unwrap();
    assert_eq!(hits(&engine, "checkout latency"), before);
    assert_eq!(index_meta(dir.path()), meta, "a change event rewrote the search index");

    // A note is found as soon as it is added, and gone once removed.
    let note = engine
        .add_note(
            &NoteRequest {
                node: "checkout".into(),
                text: "Zanzibar flag flips cause checkout retries".into(),
                author: Some("sre".into()),
                expires: None,
                tags: Vec::new(),
            },
            3_000,
        )
        .unwrap();
    let found = hits(&engine, "zanzibar");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("note:"), "{found:?}");
    // Same answers as an index built from scratch over the same store.
    let fresh_dir = tempfile::tempdir().unwrap();
    copy_store(dir.path(), fresh_dir.path());
    let fresh = Engine::open(fresh_dir.path()).unwrap();
    for q in ["zanzibar", "checkout latency", "payment errors"] {
        assert_eq!(hits(&engine, q), hits(&fresh, q), "{q}");
    }
    // The graph the note went into in place is the one resolved from the store, and the
    // change index moved onto it answers the same.
    assert!(Arc::ptr_eq(&graph_before_note, &graph_after_event), "an event dropped the graph");
    assert_eq!(topology(&engine), topology(&fresh));
    assert_eq!(changed(&engine), changed(&fresh));
    assert!(changed(&engine).contains("deploy-1"));
    engine.remove_note(&note.id, 4_000).unwrap();
    assert!(hits(&engine, "zanzibar").is_empty());
    assert_eq!(hits(&engine, "checkout latency"), before);
    let fresh_dir = tempfile::tempdir().unwrap();
    copy_store(dir.path(), fresh_dir.path());
    let fresh = Engine::open(fresh_dir.path()).unwrap();
    assert_eq!(topology(&engine), topology(&fresh));
}

/// Every node, edge (with its evidence) and document of the current graph, sorted.
fn topology(engine: &Engine) -> [Vec<String>; 3] {
    let graph = engine.graph(None).unwrap();
    let mut nodes: Vec<String> = graph.nodes().iter().map(json).collect();
    let mut edges: Vec<String> = graph.edges().map(|e| json(&**e)).collect();
    let mut docs: Vec<String> =
        graph.documents().iter().map(|(id, d)| format!("{id} {}", json(d))).collect();
    for members in graph.nodes().iter().map(|n| graph.members(&n.id)) {
        nodes.extend(members.iter().map(json));
    }
    nodes.sort();
    edges.sort();
    docs.sort();
    [nodes, edges, docs]
}

fn changed(engine: &Engine) -> String {
    let req = lore::changes::ChangesRequest {
        node: "checkout".into(),
        depth: Some(2),
        since: Some(0),
        until: Some(1_900_000_000),
        ..Default::default()
    };
    serde_json::to_string(&engine.changes(&req).unwrap().results).unwrap()
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

/// Copies the store (not the index) of `from` into `to`.
fn copy_store(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from.join("store")) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
