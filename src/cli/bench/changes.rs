//! `lore bench --changes`: ingest of a generated organisation's change events
//! (`deploys.ndjson`, 10 per service) and what-changed latency over the ground truth's
//! `changes` queries.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use lore::changes::ChangesRequest;
use lore::{Engine, time};
use serde_json::Value;

use super::percentile;

/// Events per `add_events` call when timing the HTTP path's validation and upsert.
const API_BATCH: usize = 1000;

/// gen-org's change history ends here.
const HISTORY_END: &str = "2026-11-01T00:00:00Z";

/// Runs each request, returning sorted latencies in milliseconds and the results seen.
fn timed(engine: &Engine, reqs: &[ChangesRequest]) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut times = Vec::new();
    let mut results = 0usize;
    for req in reqs {
        let t = Instant::now();
        let view = engine.changes(req)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        results += view.results.len();
    }
    times.sort_by(f64::total_cmp);
    Ok((times, results))
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

pub(super) fn run(engine: &Engine, org: &Path) -> anyhow::Result<Value> {
    let deploys = org.join("deploys.ndjson");
    let t = Instant::now();
    let report = engine.ingest(std::slice::from_ref(&deploys), time::now())?.remove(0);
    let ingest_s = secs(t);
    anyhow::ensure!(!report.has_errors(), "deploys.ndjson has errors: {:?}", report.diagnostics);
    let t = Instant::now();
    let again = engine.ingest(std::slice::from_ref(&deploys), time::now())?.remove(0);
    let reingest_s = secs(t);

    let text = std::fs::read_to_string(org.join("truth/queries.jsonl"))
        .with_context(|| format!("reading {}", org.join("truth/queries.jsonl").display()))?;
    let mut reqs = Vec::new();
    for line in text.lines() {
        let q: Value = serde_json::from_str(line)?;
        if q["class"] != "changes" {
            continue;
        }
        let at = |k: &str| q[k].as_str().map(time::parse).transpose().map_err(anyhow::Error::msg);
        reqs.push(ChangesRequest {
            node: q["node"].as_str().unwrap_or_default().to_string(),
            depth: q["depth"].as_u64().map(|d| d as usize),
            since: at("since")?,
            until: at("until")?,
            at: None,
        });
    }
    anyhow::ensure!(!reqs.is_empty(), "no changes queries in the truth");
    // The first query builds the graph and the change index; timed on its own.
    let t = Instant::now();
    engine.changes(&reqs[0])?;
    let first_s = secs(t);
    let (times, results) = timed(engine, &reqs)?;
    // The same nodes with a wide question: three hops, the last seven days of the history.
    let end = time::parse(HISTORY_END).map_err(anyhow::Error::msg)?;
    let wide: Vec<ChangesRequest> = reqs
        .iter()
        .map(|r| ChangesRequest {
            depth: Some(3),
            since: Some(end - 7 * 86_400),
            until: Some(end),
            ..r.clone()
        })
        .collect();
    let (wide_times, wide_results) = timed(engine, &wide)?;

    // The same events through the HTTP path's validation and additive upsert.
    let values: Vec<Value> = std::fs::read_to_string(&deploys)?
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let t = Instant::now();
    for batch in values.chunks(API_BATCH) {
        let events = lore::changes::parse_events(&Value::Array(batch.to_vec()))?;
        engine.add_events(events, time::now())?;
    }
    let api_s = secs(t);
    Ok(serde_json::json!({
        "events": report.records,
        "ingest_seconds": ingest_s,
        "events_per_second": report.records as f64 / ingest_s.max(1e-9),
        "reingest_unchanged_seconds": reingest_s,
        "reingest_unchanged": again.unchanged,
        "api_upsert_seconds": api_s,
        "api_batch": API_BATCH,
        "first_query_seconds": first_s,
        "queries": times.len(),
        "p50_ms": percentile(&times, 0.5),
        "p99_ms": percentile(&times, 0.99),
        "max_ms": times.last().copied().unwrap_or(0.0),
        "mean_results": results as f64 / times.len().max(1) as f64,
        "wide_depth3_7d": {
            "p50_ms": percentile(&wide_times, 0.5),
            "p99_ms": percentile(&wide_times, 0.99),
            "mean_results": wide_results as f64 / wide_times.len().max(1) as f64,
        },
    }))
}
