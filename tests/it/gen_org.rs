//! Every `impact` query of a generated organisation's ground truth
//! (`gen-org --services 1000 --seed 3`, k8s and catalog ingested together).

use std::collections::BTreeSet;

use lore::engine::ImpactRequest;
use serde_json::Value;

use crate::support::{engine, gen_org};

#[test]
fn gen_org_impact_queries_match_truth() {
    let org = gen_org(1000, 3);
    let (_dir, engine) = engine();
    let reports = engine.ingest(&[org.join("k8s"), org.join("catalog")], 1_000).unwrap();
    assert!(
        reports.iter().all(|r| !r.has_errors()),
        "{:?}",
        reports.iter().map(|r| &r.diagnostics).collect::<Vec<_>>()
    );
    let text = std::fs::read_to_string(org.join("truth/queries.jsonl")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for q in text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|q| q["class"] == "impact")
    {
        let req = ImpactRequest {
            depth: q["depth"].as_u64().map(|d| d as usize),
            ..ImpactRequest::new(
                q["node"].as_str().unwrap(),
                q["direction"].as_str().unwrap().parse().unwrap(),
            )
        };
        let got: BTreeSet<String> = match engine.impact(&req) {
            Ok(view) => view.results.iter().map(|r| r.id.to_string()).collect(),
            Err(e) => BTreeSet::from([format!("error: {e}")]),
        };
        let want: BTreeSet<String> = q["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        checked += 1;
        if got != want {
            failures.push(format!(
                "{} {} {} depth {:?}: missing {:?}, extra {:?}",
                q["id"],
                q["node"],
                q["direction"],
                req.depth,
                want.difference(&got).take(8).collect::<Vec<_>>(),
                got.difference(&want).take(8).collect::<Vec<_>>()
            ));
        }
    }
    assert!(checked >= 100, "checked {checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}
