//! `lore bench --context`: incident-context bundles over a generated organisation's
//! incidents (`truth/postmortems.jsonl`): latency of `Engine::context` (what
//! `POST /v1/context` runs on the server; at most about 200 incidents, evenly spread), each
//! bundle asked twice and the second timed,
//! and how often the culprit change, the culprit service and the alert's runbook are in
//! the first three of their sections.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use lore::context::{ContextRequest, Format};
use lore::{Engine, time};
use serde_json::Value;

use super::percentile;

fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn top3(list: &Value, field: &str, want: &str) -> bool {
    list.as_array().is_some_and(|l| {
        l.iter().take(3).any(|i| i[field].as_str().is_some_and(|v| v.ends_with(want)))
    })
}

/// Ingests runbooks, postmortems (without embeddings) and, unless already there, the
/// change events, then times one bundle per incident.
pub(super) fn run(engine: &Engine, org: &Path, deploys_ingested: bool) -> anyhow::Result<Value> {
    let mut paths = vec![org.join("runbooks"), org.join("postmortems")];
    if !deploys_ingested {
        paths.push(org.join("deploys.ndjson"));
    }
    let t = Instant::now();
    engine.ingest(&paths, time::now())?;
    let ingest_s = t.elapsed().as_secs_f64();
    let docs: BTreeMap<String, String> = std::fs::read_to_string(org.join("truth/docs.tsv"))
        .context("reading truth/docs.tsv")?
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, id)| (id.to_string(), p.to_string()))
        .collect();
    let text = std::fs::read_to_string(org.join("truth/postmortems.jsonl"))
        .context("reading truth/postmortems.jsonl")?;
    let lines: Vec<&str> = text.lines().collect();
    // At most about 200 incidents, spread over the history.
    let step = (lines.len() / 200).max(1);
    let (mut times, mut tokens) = (Vec::new(), Vec::new());
    let (mut first, mut change3, mut suspect3, mut books, mut with_book) = (0, 0, 0, 0, 0);
    let mut n = 0;
    for line in lines.iter().step_by(step) {
        let t: Value = serde_json::from_str(line)?;
        let affected = t["affected"].as_str().unwrap_or_default().trim_start_matches("service:");
        let alert = t["alert"].as_str().unwrap_or_default();
        let req = ContextRequest {
            alert: Some(alert.to_string()),
            labels: BTreeMap::from([("service".to_string(), affected.to_string())]),
            at: Some(
                time::parse(t["started"].as_str().unwrap_or_default())
                    .map_err(anyhow::Error::msg)?,
            ),
            format: Format::Json,
            ..ContextRequest::default()
        };
        engine.context(&req)?;
        let started = Instant::now();
        let (bundle, _) = engine.context(&req)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        tokens.push(bundle.tokens as f64);
        let b = serde_json::to_value(&bundle)?;
        n += 1;
        let change = t["change"].as_str().unwrap_or_default();
        first += usize::from(b["changes"][0]["id"] == change);
        change3 += usize::from(top3(&b["changes"], "id", change));
        suspect3 +=
            usize::from(top3(&b["suspects"], "id", t["culprit"].as_str().unwrap_or_default()));
        if let Some(path) = docs.get(&format!("runbook:{affected}/{}", kebab(alert))) {
            with_book += 1;
            books += usize::from(top3(&b["runbooks"], "source", path));
        }
    }
    times.sort_by(f64::total_cmp);
    tokens.sort_by(f64::total_cmp);
    let share = |k: usize, of: usize| if of == 0 { 0.0 } else { k as f64 / of as f64 };
    Ok(serde_json::json!({
        "docs_ingest_seconds": ingest_s,
        "incidents": n,
        "p50_ms": percentile(&times, 0.5),
        "p99_ms": percentile(&times, 0.99),
        "tokens_p50": percentile(&tokens, 0.5),
        "culprit_change_first": share(first, n),
        "culprit_change_top3": share(change3, n),
        "culprit_suspect_top3": share(suspect3, n),
        "runbook_top3": share(books, with_book),
        "incidents_with_runbook": with_book,
    }))
}
