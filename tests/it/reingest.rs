//! Re-ingesting: unchanged input changes nothing; a deleted manifest closes exactly its
//! facts, which `show` still reports as history; `--at` answers as the graph was.

use std::path::Path;

use lore::engine::ImpactRequest;
use lore::graph::Direction;

use crate::support::{corpus, engine};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn request(node: &str) -> ImpactRequest {
    ImpactRequest { depth: Some(1), ..ImpactRequest::new(node, Direction::Upstream) }
}

fn upstream(engine: &lore::Engine, node: &str, at: Option<i64>) -> Vec<String> {
    let req = ImpactRequest { at, ..request(node) };
    engine.impact(&req).unwrap().results.into_iter().map(|r| r.name).collect()
}

#[test]
fn reingest_is_idempotent_and_deletions_become_history() {
    let src = corpus("topology/online-boutique/kubernetes-manifests");
    if !src.is_dir() {
        eprintln!("skipping: corpus not found");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("manifests");
    copy_dir(&src, &tree);
    let (_dir, engine) = engine();
    engine.ingest(std::slice::from_ref(&tree), 100).unwrap();
    let before = engine.store().checksum().unwrap();
    let report = engine.ingest(std::slice::from_ref(&tree), 200).unwrap();
    assert_eq!((report[0].added, report[0].updated, report[0].closed), (0, 0, 0));
    assert_eq!(
        engine.store().checksum().unwrap(),
        before,
        "re-ingesting an unchanged tree changed the store"
    );
    assert!(upstream(&engine, "cartservice", None).contains(&"checkoutservice".to_string()));

    // checkoutservice.yaml declares the Deployment, the Service and six call edges.
    std::fs::remove_file(tree.join("checkoutservice.yaml")).unwrap();
    let report = engine.ingest(std::slice::from_ref(&tree), 300).unwrap();
    let closed_facts: usize = engine
        .store()
        .facts()
        .map(|f| f.unwrap())
        .filter(|f| f.versions.last().unwrap().valid_to == Some(300))
        .count();
    assert_eq!(report[0].closed, closed_facts);
    let facts: Vec<_> = engine.store().facts().map(|f| f.unwrap()).collect();
    for fact in &facts {
        let closed = fact.versions.last().unwrap().valid_to.is_some();
        let from_deleted =
            fact.versions[0].record.provenance().locator.contains("checkoutservice.yaml");
        assert_eq!(closed, from_deleted, "{:?}", fact.versions[0].record.key());
    }
    assert!(!upstream(&engine, "cartservice", None).contains(&"checkoutservice".to_string()));
    // As of before the deletion, checkout still called cart.
    assert!(upstream(&engine, "cartservice", Some(250)).contains(&"checkoutservice".to_string()));
    let before_any = ImpactRequest { at: Some(50), ..request("cartservice") };
    assert!(matches!(engine.impact(&before_any), Err(lore::Error::NodeNotFound(_))));

    let show = engine.show("cartservice", None).unwrap();
    assert!(show.current);
    let past: Vec<_> =
        show.history.iter().map(|e| (e.from.to_string(), e.evidence[0].valid_to)).collect();
    assert!(past.contains(&("service:checkoutservice".to_string(), Some(300))), "{past:?}");
    let gone = engine.show("checkoutservice", None).unwrap();
    assert!(!gone.current, "a deleted service is shown from history");
}

#[test]
fn malformed_yaml_is_reported_and_the_rest_ingested() {
    let work = tempfile::tempdir().unwrap();
    let good = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1\n        env:\n        - name: API_ADDR\n          value: api:8080\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n        image: api:1\n";
    std::fs::write(work.path().join("good.yaml"), good).unwrap();
    std::fs::write(
        work.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n",
    )
    .unwrap();
    std::fs::write(work.path().join("notes.bin"), [0xff, 0xfe, 0x00]).unwrap();
    let (_dir, engine) = engine();
    let report = engine.ingest(&[work.path().to_path_buf()], 10).unwrap().remove(0);
    assert!(report.has_errors());
    let err = report.diagnostics.iter().find(|d| d.severity == "error").unwrap();
    assert!(err.locator.ends_with("bad.yaml:4") || err.locator.ends_with("bad.yaml:5"), "{err:?}");
    assert!(
        report.skipped.iter().any(|s| s.path.ends_with("notes.bin") && s.reason.contains("UTF-8"))
    );
    assert_eq!(upstream(&engine, "api", None), ["web"]);

    // The broken file's earlier facts survive a re-ingest that still cannot parse it.
    std::fs::write(
        work.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api2\n",
    )
    .unwrap();
    engine.ingest(&[work.path().to_path_buf()], 20).unwrap();
    assert!(engine.show("api2", None).unwrap().current);
    std::fs::write(
        work.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n",
    )
    .unwrap();
    let report = engine.ingest(&[work.path().to_path_buf()], 30).unwrap().remove(0);
    assert_eq!(report.closed, 0);
    assert!(
        engine.show("api2", None).unwrap().current,
        "facts of a file that now fails to parse are kept"
    );
}
