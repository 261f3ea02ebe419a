//! Crash test (issue 13): `lore ingest` (the real binary, a child process) of a gen-org
//! organisation (300 services, seed 11) is killed with SIGKILL at a random point; then
//! the store opens, its projections match it (the answers of a fresh process equal those
//! after the search index is thrown away and rebuilt from the store), and a re-ingest
//! converges to a clean ingest's answers.
//!
//! `cargo test` runs [`CI_TRIALS`]; `scripts/crash-test N` runs N (`LORE_CRASH_TRIALS`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{gen_org, lore_bin};

const CI_TRIALS: usize = 5;

/// The questions asked of every store: a service, an impact and two searches.
const QUERIES: &[&[&str]] = &[
    &["show", "auctions-processor", "--json"],
    &["impact", "auctions-store", "--direction", "upstream", "--json"],
    &["search", "--mode", "bm25", "--limit", "30", "--json", "connection pool exhausted"],
    &["search", "--mode", "bm25", "--limit", "30", "--json", "payment provider timeouts"],
];

fn lore(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(lore_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LORE_NO_EMBED", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Drops what differs between two ingests of the same files (when facts opened), and
/// makes search answers independent of the order of equal scores: each hit as `id score`,
/// sorted, without the lowest score (a tie there may fall either side of the limit).
fn normalise(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.retain(|k, _| !matches!(k.as_str(), "valid_from" | "valid_to"));
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    if let Some(results) =
        v.get("results").and_then(Value::as_array).filter(|_| v.get("mode").is_some())
    {
        let score = |r: &Value| (r["score"].as_f64().unwrap_or(0.0) * 100.0).round() as i64;
        let lowest = results.iter().map(score).min().unwrap_or(0);
        let mut hits: Vec<String> = results
            .iter()
            .filter(|r| score(r) > lowest)
            .map(|r| format!("{} {}", r["id"].as_str().unwrap_or(""), score(r)))
            .collect();
        hits.sort();
        return Value::from(hits);
    }
    v
}

/// Every query's exit status and normalised answer (or its stderr), one line each.
fn answers(data: &Path) -> Vec<String> {
    QUERIES
        .iter()
        .map(|args| {
            let out = lore(data, args);
            let body = match serde_json::from_slice::<Value>(&out.stdout) {
                Ok(v) => normalise(v).to_string(),
                Err(_) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
            };
            format!("{} {:?}: {body}", args[0], out.status.code())
        })
        .collect()
}

/// A small deterministic generator (xorshift), so a run is repeatable from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) trials: usize,
    pub(crate) killed: usize,
    pub(crate) failed_to_open: Vec<String>,
    pub(crate) diverged: Vec<String>,
}

fn run(trials: usize, seed: u64) -> Summary {
    let org = gen_org(300, 11);
    let org = org.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let clean_dir = work.path().join("clean");
    let started = Instant::now();
    assert!(lore(&clean_dir, &["ingest", "--no-embed", org]).status.success());
    let clean_ms = started.elapsed().as_millis() as u64;
    let clean = answers(&clean_dir);
    assert!(clean.iter().all(|a| a.contains("Some(0)")), "{clean:#?}");
    let mut rng = Rng(seed | 1);
    let mut summary = Summary { trials, ..Summary::default() };
    for trial in 0..trials {
        let data = work.path().join(format!("trial-{trial}"));
        // A point anywhere in the ingest, sometimes just after it.
        let delay = Duration::from_millis(rng.below(clean_ms * 6 / 5));
        let mut child = Command::new(lore_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(["ingest", "--no-embed", org])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            summary.killed += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let label = format!("trial {trial} (killed after {delay:?})");
        // The store opens (a search over an empty store is an empty answer, not an error).
        let opened = lore(&data, QUERIES[2]);
        if !opened.status.success() {
            let err = String::from_utf8_lossy(&opened.stderr).trim().to_string();
            summary.failed_to_open.push(format!("{label}: {err}"));
            continue;
        }
        // Projections match the store: as left by the crash, and rebuilt from the store.
        let after_crash = answers(&data);
        let _ = std::fs::remove_dir_all(data.join("index"));
        let rebuilt = answers(&data);
        if after_crash != rebuilt {
            summary.diverged.push(format!("{label}: projections {after_crash:?} != {rebuilt:?}"));
            continue;
        }
        // A re-ingest converges to a clean ingest.
        let again = lore(&data, &["ingest", "--no-embed", org]);
        let converged = answers(&data);
        if !again.status.success() || converged != clean {
            let err = String::from_utf8_lossy(&again.stderr).trim().to_string();
            summary.diverged.push(format!("{label}: re-ingest ({err}) {converged:?} != {clean:?}"));
        }
        let _ = std::fs::remove_dir_all(&data);
    }
    summary
}

#[test]
fn sigkill_during_ingest_leaves_a_store_that_opens_and_converges() {
    let trials = std::env::var("LORE_CRASH_TRIALS").ok().and_then(|v| v.parse().ok());
    let seed = std::env::var("LORE_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(11);
    let summary = run(trials.unwrap_or(CI_TRIALS), seed);
    eprintln!(
        "crash test: {} trials ({} killed mid-ingest), {} stores failed to open, {} diverged",
        summary.trials,
        summary.killed,
        summary.failed_to_open.len(),
        summary.diverged.len()
    );
    assert!(summary.failed_to_open.is_empty(), "{:#?}", summary.failed_to_open);
    assert!(summary.diverged.is_empty(), "{:#?}", summary.diverged);
}
