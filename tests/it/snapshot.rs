//! The graph snapshot: a fresh process opens the graph saved beside the store and answers
//! exactly as one that resolved every fact; a snapshot of another generation, or one that
//! does not decode, is never used.

use std::path::{Path, PathBuf};

use lore::Engine;

fn org() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org")
}

fn snapshot(data: &Path, view: &str) -> PathBuf {
    data.join("projections").join(format!("graph-{view}.bin"))
}

/// What a reader sees of the graph: a service, a runbook, an impact answer, the
/// unresolved references.
fn answers(engine: &Engine) -> serde_json::Value {
    let graph = engine.graph(None).unwrap();
    let runbook = graph
        .nodes()
        .iter()
        .find(|n| n.kind == lore_schema::NodeKind::Runbook)
        .map(|n| n.id.to_string())
        .unwrap();
    serde_json::json!({
        "checkout": engine.show("checkout", None).unwrap(),
        "runbook": engine.show(&runbook, None).unwrap(),
        "impact": graph.impact(&graph.lookup("orders-db").unwrap().id.clone(),
            lore::graph::Direction::Upstream, Some(5), &lore::graph::EdgeFilter::request_path()),
        "nodes": graph.nodes().len(),
        "edges": graph.edge_count(),
        "every edge": graph.edges().map(|e| serde_json::to_value(&**e).unwrap()).collect::<Vec<_>>(),
        "documents": graph.documents().len(),
        "unresolved": graph.unresolved(),
        "dangling": graph.dangling(),
    })
}

#[test]
fn a_fresh_engine_answers_from_the_snapshot_as_from_the_facts() {
    let dir = tempfile::tempdir().unwrap();
    let built = {
        let engine = Engine::open(dir.path()).unwrap();
        engine.ingest(&[org()], 1_000).unwrap();
        answers(&engine)
    };
    let saved = std::fs::metadata(snapshot(dir.path(), "current")).unwrap().modified().unwrap();
    let opened = answers(&Engine::open(dir.path()).unwrap());
    assert_eq!(opened, built);
    let after = std::fs::metadata(snapshot(dir.path(), "current")).unwrap().modified().unwrap();
    assert_eq!(after, saved, "the fresh engine rebuilt instead of opening the snapshot");
}

#[test]
fn change_events_leave_the_saved_graph_valid() {
    let dir = tempfile::tempdir().unwrap();
    let log = tempfile::tempdir().unwrap();
    let built = {
        let engine = Engine::open(dir.path()).unwrap();
        engine.ingest(&[org()], 1_000).unwrap();
        answers(&engine)
    };
    let saved = std::fs::metadata(snapshot(dir.path(), "current")).unwrap().modified().unwrap();
    let line = |id: &str| {
        format!(
            r#"{{"id": "{id}", "ts": "2026-11-02T10:00:00Z", "service": "checkout", "kind": "deploy", "description": "release {id}"}}"#
        )
    };
    std::fs::write(log.path().join("changes.ndjson"), line("late-1") + "\n").unwrap();
    {
        let engine = Engine::open(dir.path()).unwrap();
        let generation = engine.store().generation().unwrap();
        engine.ingest(&[log.path().to_path_buf()], 2_000).unwrap();
        drop(engine);
        let engine = Engine::open(dir.path()).unwrap();
        let body: serde_json::Value = serde_json::from_str(&line("late-2")).unwrap();
        engine.add_events(lore::changes::parse_events(&body).unwrap(), 2_001).unwrap();
        assert!(engine.store().generation().unwrap() > generation, "the events were written");
    }
    let engine = Engine::open(dir.path()).unwrap();
    assert_eq!(answers(&engine), built);
    let after = std::fs::metadata(snapshot(dir.path(), "current")).unwrap().modified().unwrap();
    assert_eq!(after, saved, "events made a fresh process resolve the topology again");
}

#[test]
fn a_snapshot_of_another_generation_or_torn_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("org");
    copy_dir(&org(), &copy);
    {
        let engine = Engine::open(dir.path()).unwrap();
        engine.ingest(std::slice::from_ref(&copy), 1_000).unwrap();
        assert!(engine.graph(None).unwrap().lookup("ledger").is_err());
    }
    let old = std::fs::read(snapshot(dir.path(), "current")).unwrap();

    // A new service and one gone: the next process sees both, not the saved graph of
    // before.
    std::fs::remove_file(copy.join("k8s/search.yaml")).unwrap();
    std::fs::write(
        copy.join("k8s/ledger.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ledger\nspec:\n  template:\n    spec:\n      containers:\n        - name: ledger\n          image: ledger:1\n",
    )
    .unwrap();
    {
        let engine = Engine::open(dir.path()).unwrap();
        engine.ingest(std::slice::from_ref(&copy), 2_000).unwrap();
    }
    // Put the old snapshot back: its generation is behind the store's.
    std::fs::write(snapshot(dir.path(), "current"), &old).unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    assert!(engine.graph(None).unwrap().lookup("ledger").is_ok());
    // The store now has superseded facts: show reads the history graph, which
    // has a snapshot of its own.
    let shown = serde_json::to_value(engine.show("checkout", None).unwrap()).unwrap();
    drop(engine);
    assert!(snapshot(dir.path(), "history").exists());
    let reopened = Engine::open(dir.path()).unwrap();
    assert_eq!(serde_json::to_value(reopened.show("checkout", None).unwrap()).unwrap(), shown);
    drop(reopened);

    // A torn snapshot (cut in the middle) and garbage: ignored, rebuilt, same answers.
    let whole = std::fs::read(snapshot(dir.path(), "current")).unwrap();
    let reference = answers(&Engine::open(dir.path()).unwrap());
    for bad in [whole[..whole.len() / 2].to_vec(), b"not a snapshot at all".to_vec()] {
        std::fs::write(snapshot(dir.path(), "current"), &bad).unwrap();
        assert_eq!(answers(&Engine::open(dir.path()).unwrap()), reference);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// What changed on checkout over the day of the log below.
fn what_changed(engine: &Engine) -> Vec<String> {
    let req = lore::changes::ChangesRequest {
        node: "checkout".into(),
        since: Some(1_793_577_600),
        until: Some(1_793_664_000),
        ..Default::default()
    };
    let view = engine.changes(&req).unwrap();
    view.results.iter().map(|h| format!("{} {} {}", h.id, h.service, h.hops)).collect()
}

#[test]
fn what_changed_opens_the_saved_change_index_and_never_a_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = tempfile::tempdir().unwrap();
    let line = |id: &str, service: &str| {
        format!(
            r#"{{"id": "{id}", "ts": "2026-11-02T10:00:00Z", "service": "{service}", "kind": "deploy", "description": "release {id}"}}"#
        )
    };
    let lines = [line("c-1", "checkout"), line("c-2", "orders-db"), line("c-3", "nowhere")];
    std::fs::write(log.path().join("changes.ndjson"), lines.join("\n") + "\n").unwrap();
    let saved = dir.path().join("projections/changes-current.bin");
    let built = {
        let engine = Engine::open(dir.path()).unwrap();
        engine.ingest(&[org(), log.path().to_path_buf()], 1_000).unwrap();
        what_changed(&engine)
    };
    assert!(built.iter().any(|c| c.starts_with("c-2 orders-db")), "{built:?}");
    let stamp = std::fs::metadata(&saved).unwrap().modified().unwrap();

    // A fresh process answers the same from the saved index, without saving it again.
    let engine = Engine::open(dir.path()).unwrap();
    assert_eq!(what_changed(&engine), built);
    assert_eq!(std::fs::metadata(&saved).unwrap().modified().unwrap(), stamp);
    // An event posted afterwards moves the store on: the next process reads the store.
    let body: serde_json::Value = serde_json::from_str(&line("c-4", "checkout")).unwrap();
    engine.add_events(lore::changes::parse_events(&body).unwrap(), 2_000).unwrap();
    let with_posted = what_changed(&engine);
    assert_eq!(with_posted.len(), built.len() + 1, "{with_posted:?}");
    drop(engine);
    let old = std::fs::read(&saved).unwrap();
    assert_eq!(what_changed(&Engine::open(dir.path()).unwrap()), with_posted);

    // The old index put back (behind the store), or a torn one, is not used.
    std::fs::write(&saved, &old).unwrap();
    assert_eq!(what_changed(&Engine::open(dir.path()).unwrap()), with_posted);
    let now = std::fs::read(&saved).unwrap();
    std::fs::write(&saved, &now[..now.len() - 20]).unwrap();
    assert_eq!(what_changed(&Engine::open(dir.path()).unwrap()), with_posted);
}

#[test]
fn show_without_the_history_graph_answers_as_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("org");
    copy_dir(&org(), &copy);
    let ingest = |now| {
        let engine = Engine::open(dir.path()).unwrap();
        let roots = [(copy.clone(), copy.display().to_string())];
        lore::server::IngestAnswer::run(&engine, &roots, true, now).unwrap();
    };
    ingest(1_000);
    // A service gone: its callers have past edges, the rest of the graph none.
    std::fs::remove_file(copy.join("k8s/search.yaml")).unwrap();
    ingest(2_000);
    let history = snapshot(dir.path(), "history");
    assert!(history.exists(), "ingest builds the history graph once facts are superseded");
    let names: Vec<String> = {
        let engine = Engine::open(dir.path()).unwrap();
        engine.graph(None).unwrap().nodes().iter().map(|n| n.id.to_string()).collect()
    };
    let shown = |names: &[String]| -> Vec<serde_json::Value> {
        let engine = Engine::open(dir.path()).unwrap();
        names.iter().map(|n| serde_json::to_value(engine.show(n, None).unwrap()).unwrap()).collect()
    };
    let told = shown(&names);
    let with_past = told.iter().filter(|v| !v["history"].as_array().unwrap().is_empty()).count();
    assert!(with_past > 0 && with_past < names.len(), "{with_past} of {}", names.len());
    // Without the saved history (and so without its list of nodes that have one), every
    // node is shown from the whole history graph: the same answers.
    std::fs::remove_file(&history).unwrap();
    assert_eq!(shown(&names), told);
}

fn vector_hits(engine: &Engine, query: &str) -> Vec<(String, String)> {
    let req = lore::engine::SearchRequest {
        query: query.into(),
        mode: "vector".into(),
        limit: 8,
        ..Default::default()
    };
    let view = engine.search(&req).unwrap();
    assert_eq!(view.notice, None, "every text is embedded");
    view.results.iter().map(|h| (h.id.clone(), format!("{:.4}", h.score))).collect()
}

#[test]
fn a_fresh_engine_reads_the_vector_index_saved_at_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let query = "orders are not reaching the payment provider";
    let built = {
        let engine = Engine::open(dir.path()).unwrap();
        let roots = [(org(), org().display().to_string())];
        let answer = lore::server::IngestAnswer::run(&engine, &roots, false, 1_000).unwrap();
        assert!(answer.embeddings.notice.is_none(), "model missing (run scripts/setup)");
        vector_hits(&engine, query)
    };
    assert!(!built.is_empty());
    let saved = dir.path().join("projections/vectors-current.bin");
    let modified = || std::fs::metadata(&saved).unwrap().modified().unwrap();
    let at_ingest = modified();
    assert_eq!(vector_hits(&Engine::open(dir.path()).unwrap(), query), built);
    assert_eq!(modified(), at_ingest, "the fresh engine built the index instead of reading it");
    // A torn file is not trusted: the index is built from the store again, and saved.
    let bytes = std::fs::read(&saved).unwrap();
    std::fs::write(&saved, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(vector_hits(&Engine::open(dir.path()).unwrap(), query), built);
    assert_eq!(std::fs::read(&saved).unwrap(), bytes);
}
