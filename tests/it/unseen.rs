//! Public systems Lore was never tuned on, kept under `tests/data/<system>/` with the
//! truth written from their files (`EDGES.tsv`, the corpora's format): every impact
//! question (each node of the truth, upstream and downstream) must be answered exactly.
//!
//! A system directory holds its copied files, its `LICENSE`, a `SOURCE.md` naming the
//! repository and commit, and `EDGES.tsv`; everything but those three is ingested.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lore::engine::ImpactRequest;
use lore::graph::Direction;

use crate::support::engine;

/// Truth edge kinds on the request path: the kinds the eval's impact cases follow.
const IMPACT_KINDS: &[&str] = &[
    "datastore",
    "declared-dependency",
    "grpc",
    "http",
    "messaging-consume",
    "messaging-produce",
    "thrift",
];

/// Files of a system directory that are not the system's own.
const NOT_INGESTED: &[&str] = &["EDGES.tsv", "SOURCE.md", "LICENSE"];

/// Questions whose truth needs facts the files do not state, each with the reason. The
/// test fails when one starts passing, so the list stays true.
const KNOWN_GAPS: &[(&str, &str)] = &[
    ("bank-of-anthos ledgerwriter downstream", LEDGERWRITER_DIRECTORY),
    ("bank-of-anthos transactionhistory upstream", LEDGERWRITER_DIRECTORY),
    ("bank-of-anthos contacts upstream", LEDGERWRITER_DIRECTORY),
    ("bank-of-anthos userservice upstream", LEDGERWRITER_DIRECTORY),
    ("bank-of-anthos accounts-db upstream", LEDGERWRITER_DIRECTORY),
];

/// Why Bank of Anthos' ledgerwriter reaches too far.
const LEDGERWRITER_DIRECTORY: &str = "the manifests hand ledgerwriter the whole service-api-config \
     (every service's address); only its source says it reads BALANCES_API_ADDR alone";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// `(caller, callee)` of the truth's request-path edges.
fn truth_edges(system: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(system.join("EDGES.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.len() >= 4 && IMPACT_KINDS.contains(&cols[3]))
                .then(|| (cols[0].to_string(), cols[1].to_string()))
        })
        .collect()
}

/// Every node reachable from `start` over `next`.
fn closure(start: &str, next: &BTreeMap<&str, Vec<&str>>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start];
    while let Some(n) = stack.pop() {
        for &m in next.get(n).into_iter().flatten() {
            if m != start && seen.insert(m.to_string()) {
                stack.push(m);
            }
        }
    }
    seen
}

/// The failures of one system: `(question, message)`.
fn check_system(system: &Path) -> (usize, Vec<(String, String)>) {
    let edges = truth_edges(system);
    let mut down: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut up: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in &edges {
        down.entry(from).or_default().push(to);
        up.entry(to).or_default().push(from);
    }
    let nodes: BTreeSet<&str> = edges.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]).collect();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(system)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !NOT_INGESTED.iter().any(|n| p.file_name().is_some_and(|f| f == *n)))
        .collect();
    paths.sort();
    let (_dir, engine) = engine();
    engine.ingest(&paths, 1_000).unwrap();
    let name = system.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();
    let mut checked = 0;
    for node in nodes {
        for (direction, next) in [("downstream", &down), ("upstream", &up)] {
            checked += 1;
            let question = format!("{name} {node} {direction}");
            let want = closure(node, next);
            let dir: Direction = direction.parse().unwrap();
            let got: BTreeSet<String> = match engine.impact(&ImpactRequest::new(node, dir)) {
                Ok(view) => view.results.iter().map(|r| r.name.clone()).collect(),
                Err(e) => BTreeSet::from([format!("error: {e}")]),
            };
            if got != want {
                let msg = format!(
                    "missing {:?}, extra {:?}",
                    want.difference(&got).collect::<Vec<_>>(),
                    got.difference(&want).collect::<Vec<_>>()
                );
                failures.push((question, msg));
            }
        }
    }
    (checked, failures)
}

#[test]
fn impact_answers_on_unseen_systems_are_exact() {
    let mut systems: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("EDGES.tsv").is_file())
        .collect();
    systems.sort();
    assert!(!systems.is_empty(), "no system with an EDGES.tsv under tests/data");
    let mut report = Vec::new();
    let mut total = 0;
    let mut failed = BTreeSet::new();
    for system in &systems {
        let (checked, failures) = check_system(system);
        total += checked;
        for (question, msg) in failures {
            failed.insert(question.clone());
            if !KNOWN_GAPS.iter().any(|(q, _)| *q == question) {
                report.push(format!("{question}: {msg}"));
            }
        }
    }
    for (question, why) in KNOWN_GAPS {
        if !failed.contains(*question) {
            report.push(format!("{question} passes now; drop it from KNOWN_GAPS ({why})"));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {total} questions wrong:\n{}",
        report.len(),
        report.join("\n")
    );
}
