//! Every `impact` case of `../shared/eval/dev.jsonl` on the real corpora, each corpus
//! ingested into its own data dir, answered through the engine.

use std::collections::BTreeSet;
use std::path::PathBuf;

use lore::engine::ImpactRequest;
use serde_json::Value;

use crate::support::{corpus, engine, shared};

/// What each corpus ingests: the plan `lore eval` uses, resolved under ../shared/corpora.
fn corpus_paths(name: &str) -> Vec<PathBuf> {
    let plan = lore::eval::corpus_plan(name);
    assert!(!plan.is_empty(), "no ingest plan for {name}");
    plan.into_iter().map(corpus).collect()
}

/// Cases whose expected answer depends on facts no deployment file states. Each is
/// listed with the reason; the test fails if one of them starts passing, so the list
/// stays true.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "dev-034",
    "sock-shop's edge-router routes to front-end by configuration baked into its image; no file states it",
)];

#[test]
fn dev_impact_cases_match_expected_sets() {
    let Ok(text) = std::fs::read_to_string(shared().join("eval/dev.jsonl")) else {
        eprintln!("skipping: ../shared/eval/dev.jsonl not found");
        return;
    };
    let cases: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut engines = std::collections::BTreeMap::new();
    for case in cases.iter().filter(|c| c["type"] == "impact") {
        if case["requires_source_derived_edges"] == true {
            continue;
        }
        let id = case["id"].as_str().unwrap();
        let corpus_name = case["corpus"].as_str().unwrap().to_string();
        let (_, engine) = engines.entry(corpus_name.clone()).or_insert_with(|| {
            let (dir, engine) = engine();
            engine.ingest(&corpus_paths(&corpus_name), 1_000).unwrap();
            (dir, engine)
        });
        let req = ImpactRequest::new(
            case["node"].as_str().unwrap(),
            case["direction"].as_str().unwrap().parse().unwrap(),
        );
        let got: BTreeSet<String> = match engine.impact(&req) {
            Ok(view) => view.results.iter().map(|r| r.name.clone()).collect(),
            Err(e) => BTreeSet::from([format!("error: {e}")]),
        };
        let want: BTreeSet<String> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        checked += 1;
        let gap = KNOWN_GAPS.iter().find(|(g, _)| *g == id);
        match (got == want, gap) {
            (true, None) | (false, Some(_)) => {}
            (true, Some((_, why))) => {
                failures.push(format!("{id} passes now; drop it from KNOWN_GAPS ({why})"))
            }
            (false, None) => failures.push(format!(
                "{id} {} {}: missing {:?}, extra {:?}",
                case["node"],
                case["direction"],
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            )),
        }
    }
    assert!(checked >= 8, "expected the dev impact cases, checked {checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
