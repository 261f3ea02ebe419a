//! Documents on the real corpora: BM25 search, the eval harness, alert → runbook links,
//! bad input.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use lore::Engine;
use lore::engine::SearchRequest;

use crate::support::{corpus, shared};

/// A BM25 request: these tests check lexical behaviour without the embedding model.
fn bm25() -> SearchRequest {
    SearchRequest { mode: "bm25".into(), ..SearchRequest::default() }
}

/// One engine over `../shared/corpora/{runbooks,postmortems}`, shared by these tests.
fn docs_engine() -> Option<&'static Engine> {
    static ENGINE: OnceLock<Option<(tempfile::TempDir, Engine)>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            if !corpus("runbooks").is_dir() {
                eprintln!("skipping: ../shared/corpora not found");
                return None;
            }
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(dir.path()).unwrap();
            engine.ingest(&[corpus("runbooks"), corpus("postmortems")], 1_000).unwrap();
            Some((dir, engine))
        })
        .as_ref()
        .map(|(_, e)| e)
}

#[test]
fn lexical_dev_cases_reach_recall_at_5_with_bm25() {
    let Some(engine) = docs_engine() else { return };
    let cases: Vec<lore::eval::Case> = lore::eval::read_cases(&shared().join("eval/dev.jsonl"))
        .unwrap()
        .into_iter()
        .filter(|c| c.kind.ends_with("_search"))
        .collect();
    assert!(cases.len() >= 20);
    let report =
        lore::eval::run(engine, &cases, &shared().join("corpora"), &["bm25".to_string()]).unwrap();
    for (group, scores) in &report.groups {
        eprintln!(
            "{group}: R@5 {:.3} MRR {:.3} ({} cases)",
            scores.recall_at_5, scores.mrr, scores.cases
        );
    }
    for kind in ["runbook_search", "postmortem_search"] {
        let lexical = &report.groups[&format!("bm25 / {kind} / lexical")];
        assert!(lexical.cases > 0);
        assert_eq!(lexical.recall_at_5, 1.0, "{kind}: {:?}", report.misses);
    }
}

#[test]
fn search_results_carry_the_contract_fields() {
    let Some(engine) = docs_engine() else { return };
    let req = SearchRequest { query: "etcdNoLeader".into(), limit: 5, ..bm25() };
    let view = serde_json::to_value(engine.search(&req).unwrap()).unwrap();
    assert_eq!(view["mode"], "bm25");
    let first = &view["results"][0];
    for field in ["id", "kind", "title", "source", "section", "score", "snippet"] {
        assert!(!first[field].is_null(), "missing {field}: {first}");
    }
    // Below the ingest root's own name, however the root was typed.
    assert!(first["source"].as_str().unwrap().starts_with("runbooks/"), "{first}");
    assert!(first["source"].as_str().unwrap().ends_with("etcdNoLeader.md"), "{first}");
    // Kind filters hold.
    let req = SearchRequest {
        query: "etcd".into(),
        kinds: vec!["postmortem".into()],
        limit: 5,
        ..bm25()
    };
    assert!(engine.search(&req).unwrap().results.iter().all(|h| h.kind == "postmortem"));
}

#[test]
fn runbook_urls_link_to_runbooks_or_are_listed_as_dangling() {
    let Some(engine) = docs_engine() else { return };
    // Ground truth from the files: every (alert, runbook_url) of the kube-prometheus rules,
    // and whether prometheus-operator has a page at <group>/<Alert>.md.
    let rules = corpus("runbooks/alert-rules-kube-prometheus/manifests");
    let pages = corpus("runbooks/prometheus-operator/content/runbooks");
    let mut expected: BTreeMap<String, bool> = BTreeMap::new();
    for entry in std::fs::read_dir(&rules).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut alert = String::new();
        for line in text.lines() {
            if let Some(name) = line.trim().strip_prefix("- alert: ") {
                alert = name.trim().to_string();
            }
            if let Some(url) = line.trim().strip_prefix("runbook_url: ") {
                let path = url
                    .trim()
                    .trim_start_matches("https://runbooks.prometheus-operator.dev/runbooks/");
                let (group, slug) = path.split_once('/').unwrap();
                let found = std::fs::read_dir(pages.join(group)).into_iter().flatten().any(|f| {
                    f.unwrap().file_name().to_string_lossy().to_lowercase() == format!("{slug}.md")
                });
                expected.insert(alert.clone(), found);
            }
        }
    }
    assert!(expected.len() > 100);
    let graph = engine.graph(None).unwrap();
    let dangling: BTreeSet<String> =
        graph.dangling().iter().map(|d| d.alert.name().to_ascii_lowercase()).collect();
    for (alert, has_page) in &expected {
        let node = graph.lookup(alert).unwrap();
        let (_, incoming) = graph.edges_of(&node.id);
        let linked = incoming.iter().any(|e| {
            e.kind == lore_schema::EdgeKind::Documents
                && e.from.as_str().contains("prometheus-operator/content/runbooks")
                && e.evidence.iter().any(|v| v.note.contains("runbook_url"))
        });
        assert_eq!(linked, *has_page, "{alert}: linked {linked}, page exists {has_page}");
        assert_eq!(dangling.contains(&alert.to_ascii_lowercase()), !has_page, "{alert} dangling");
    }
}

#[test]
fn bad_front_matter_and_non_utf8_files_are_reported_not_lost() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.md"), "---\ntitle: Disk full on ledger\nservice: ledger\n---\n# Disk full\n\nRun `df -h` on the ledger hosts.\n").unwrap();
    std::fs::write(
        dir.join("bad-front.md"),
        "---\ntitle: [unclosed\n---\n# Queue backlog\n\nDrain the payouts queue.\n",
    )
    .unwrap();
    std::fs::write(dir.join("latin1.md"), b"# Caf\xe9 outage\n\nbytes that are not UTF-8\n")
        .unwrap();
    let (_guard, engine) = crate::support::engine();
    let report = engine.ingest(std::slice::from_ref(&dir), 10).unwrap().remove(0);
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.locator.contains("bad-front.md") && d.severity == "warning"),
        "{:?}",
        report.diagnostics
    );
    assert!(
        report.skipped.iter().any(|s| s.path.ends_with("latin1.md") && s.reason.contains("UTF-8"))
    );
    let hits = engine
        .search(&SearchRequest { query: "payouts queue backlog".into(), limit: 3, ..bm25() })
        .unwrap();
    assert!(
        hits.results[0].source.ends_with("bad-front.md"),
        "a document with broken front matter is still ingested"
    );
    let hits = engine.search(&SearchRequest { query: "df".into(), limit: 3, ..bm25() }).unwrap();
    assert!(hits.results[0].source.ends_with("good.md"));
}
