//! `lore bench --org DIR`: an organisation's own truth queries (`truth/queries.jsonl`:
//! impact, changes, search) run in-process the way `../shared/bench/peers` runs its
//! peers — every query twice, the second pass timed per query, nearest-rank p50/p99,
//! scored against the truth — printed as the peer harness's JSON lines, plus a
//! `footprint` row: ingest, cold `show` and what-changed in a fresh process, peak RSS and store size.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use lore::changes::ChangesRequest;
use lore::engine::{ImpactRequest, SearchRequest};
use lore::{Engine, time};
use serde_json::{Value, json};

/// Results fetched per search; recall@5 and MRR@10 are scored on them (as the peers do).
const TOP_K: usize = 10;

/// Wrong impact answers listed in the row, to say what differs.
const MISSES_SHOWN: usize = 5;

/// Options of the org run.
pub(super) struct OrgRun<'a> {
    pub(super) org: &'a Path,
    pub(super) data: PathBuf,
    /// Embed the documents and time hybrid search too (slow: the model runs over every
    /// section at ingest).
    pub(super) embed: bool,
    /// Reuse a data dir already ingested from this org.
    pub(super) reuse: bool,
    /// Search queries missed (a relevant document not in the top 5) listed per search
    /// row, with what came first instead.
    pub(super) misses: usize,
}

/// Nearest-rank percentile of an ascending list, as the peer harness computes it.
pub(super) fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Runs every query twice and times the second pass, per query, in milliseconds.
fn warm<Q, R>(queries: &[Q], mut f: impl FnMut(&Q) -> R) -> (Vec<R>, Vec<f64>) {
    let mut out = (Vec::new(), Vec::new());
    for _ in 0..2 {
        out = (Vec::new(), Vec::new());
        for q in queries {
            let t = Instant::now();
            let r = f(q);
            out.1.push(t.elapsed().as_secs_f64() * 1000.0);
            out.0.push(r);
        }
    }
    out
}

fn row(class: &str, peer: &str, lat: &mut [f64], load_s: f64, correct: f64) -> Value {
    lat.sort_by(f64::total_cmp);
    json!({
        "peer": peer, "class": class, "n": lat.len(),
        "p50_ms": round3(nearest_rank(lat, 50.0)), "p99_ms": round3(nearest_rank(lat, 99.0)),
        "load_s": round3(load_s), "correct": round4(correct),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round4(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}

fn str_set(v: &Value) -> BTreeSet<String> {
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
}

fn share(ok: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { ok as f64 / of as f64 }
}

/// The truth queries of the org, by class (`impact`, `changes`, `search`).
fn queries(org: &Path) -> anyhow::Result<BTreeMap<String, Vec<Value>>> {
    let path = org.join("truth/queries.jsonl");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let q: Value =
            serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        let class = q["class"].as_str().unwrap_or_default().to_string();
        out.entry(class).or_default().push(q);
    }
    Ok(out)
}

fn ts(q: &Value, key: &str) -> anyhow::Result<Option<i64>> {
    q[key].as_str().map(time::parse).transpose().map_err(anyhow::Error::msg)
}

fn impact_rows(engine: &Engine, qs: &[Value], load_s: f64) -> anyhow::Result<Value> {
    let reqs = qs
        .iter()
        .map(|q| {
            let direction = q["direction"].as_str().unwrap_or_default();
            Ok(ImpactRequest {
                depth: q["depth"].as_u64().map(|d| d as usize),
                ..ImpactRequest::new(
                    q["node"].as_str().unwrap_or_default(),
                    direction.parse().map_err(anyhow::Error::msg)?,
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (answers, mut lat) = warm(&reqs, |r| engine.impact(r));
    let (mut exact, mut evidenced, mut misses) = (0, 0, Vec::new());
    for (q, a) in qs.iter().zip(&answers) {
        let Ok(view) = a else {
            misses.push(json!({"id": q["id"], "error": a.as_ref().err().map(|e| e.to_string())}));
            continue;
        };
        let got: BTreeSet<String> = view.results.iter().map(|h| h.id.to_string()).collect();
        let want = str_set(&q["expected"]);
        if got == want {
            exact += 1;
        } else if misses.len() < MISSES_SHOWN {
            let extra: Vec<&String> = got.difference(&want).take(3).collect();
            let missing: Vec<&String> = want.difference(&got).take(3).collect();
            misses.push(json!({"id": q["id"], "extra": extra, "missing": missing}));
        }
        evidenced += usize::from(
            view.results
                .iter()
                .all(|h| h.path.len() == h.depth && h.path.iter().all(|e| !e.evidence.is_empty())),
        );
    }
    let mut r = row("impact", "lore", &mut lat, load_s, share(exact, qs.len()));
    r["paths_with_evidence"] = json!(round4(share(evidenced, qs.len())));
    if !misses.is_empty() {
        r["misses"] = json!(misses);
    }
    Ok(r)
}

fn changes_row(engine: &Engine, qs: &[Value], load_s: f64) -> anyhow::Result<Value> {
    let reqs = qs
        .iter()
        .map(|q| {
            Ok(ChangesRequest {
                node: q["node"].as_str().unwrap_or_default().to_string(),
                depth: q["depth"].as_u64().map(|d| d as usize),
                since: ts(q, "since")?,
                until: ts(q, "until")?,
                at: None,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (answers, mut lat) = warm(&reqs, |r| engine.changes(r));
    let exact = qs
        .iter()
        .zip(&answers)
        .filter(|(q, a)| {
            a.as_ref().is_ok_and(|v| {
                v.results.iter().map(|h| h.id.clone()).collect::<BTreeSet<_>>()
                    == str_set(&q["expected"])
            })
        })
        .count();
    Ok(row("changes", "lore", &mut lat, load_s, share(exact, qs.len())))
}

/// Truth document id of each ingested path (relative to the org), from `truth/docs.tsv`.
fn doc_ids(org: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(org.join("truth/docs.tsv")).context("reading docs.tsv")?;
    Ok(text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, id)| (p.to_string(), id.to_string()))
        .collect())
}

fn search_row(
    engine: &Engine,
    opts: &OrgRun,
    qs: &[Value],
    mode: &str,
    load_s: f64,
) -> anyhow::Result<Value> {
    let org = opts.org;
    let ids = doc_ids(org)?;
    let prefix = format!("{}/", org.display());
    let reqs: Vec<SearchRequest> = qs
        .iter()
        .map(|q| SearchRequest {
            query: q["q"].as_str().unwrap_or_default().to_string(),
            kinds: q["kind"].as_str().map(|k| vec![k.to_string()]).unwrap_or_default(),
            service: q["service"].as_str().map(str::to_string),
            limit: TOP_K,
            mode: mode.to_string(),
            ..SearchRequest::default()
        })
        .collect();
    let (answers, mut lat) = warm(&reqs, |r| engine.search(r));
    let mut by_difficulty: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let (mut recall, mut mrr, mut n, mut misses) = (0.0, 0.0, 0, Vec::new());
    for (q, a) in qs.iter().zip(&answers) {
        let relevant = str_set(&q["relevant"]);
        if relevant.is_empty() {
            continue;
        }
        let ranked: Vec<&str> = a
            .as_ref()
            .map(|v| {
                v.results
                    .iter()
                    .filter_map(|h| ids.get(h.source.strip_prefix(&prefix).unwrap_or(&h.source)))
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default();
        let hit5 = ranked.iter().take(5).filter(|d| relevant.contains(**d)).count();
        let r = hit5 as f64 / relevant.len() as f64;
        if hit5 < relevant.len() && misses.len() < opts.misses {
            let first: Vec<&str> = ranked.iter().take(3).copied().collect();
            misses.push(json!({"id": q["id"], "difficulty": q["difficulty"], "first": first}));
        }
        recall += r;
        mrr += ranked
            .iter()
            .take(TOP_K)
            .position(|d| relevant.contains(*d))
            .map_or(0.0, |i| 1.0 / (i + 1) as f64);
        n += 1;
        let d = by_difficulty.entry(q["difficulty"].as_str().unwrap_or("all").into()).or_default();
        d.0 += r;
        d.1 += 1;
    }
    let mut r = row("search", &format!("lore-{mode}"), &mut lat, load_s, recall / n.max(1) as f64);
    r["mrr"] = json!(round4(mrr / n.max(1) as f64));
    for (d, (sum, k)) in by_difficulty {
        r[format!("recall_{d}")] = json!(round4(sum / k.max(1) as f64));
    }
    if !misses.is_empty() {
        r["misses"] = json!(misses);
    }
    Ok(r)
}

fn dir_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Ingests the org (unless reused) and returns the rows.
pub(super) fn run(opts: &OrgRun<'_>) -> anyhow::Result<Vec<Value>> {
    let org = opts.org;
    let mut ingest_s = None;
    if !opts.reuse || !opts.data.exists() {
        let _ = std::fs::remove_dir_all(&opts.data);
        let t = Instant::now();
        let engine = Engine::open(&opts.data)?;
        let names = ["k8s", "catalog", "runbooks", "postmortems", "deploys.ndjson"];
        let roots: Vec<(PathBuf, String)> = names
            .iter()
            .map(|p| org.join(p))
            .filter(|p| p.exists())
            .map(|p| (p.clone(), p.display().to_string()))
            .collect();
        // What `lore ingest` does: write, embed unless told not to, build and save the graph.
        lore::server::IngestAnswer::run(&engine, &roots, !opts.embed, time::now())?;
        ingest_s = Some(t.elapsed().as_secs_f64());
    } else {
        let engine = Engine::open(&opts.data)?;
        if opts.embed {
            // A reused data dir may have been ingested without embeddings: hybrid search
            // would then answer from the few texts a query embeds itself.
            engine.embed_pending()?;
            // What ingest does after embedding: the vector index built and saved.
            engine.search(&SearchRequest {
                query: "warm up".into(),
                limit: 1,
                ..Default::default()
            })?;
        }
        // A built store: its graph saved by this build (a reused one may hold another's).
        engine.graph(None)?;
    }
    let truth = queries(org)?;
    let class = |c: &str| truth.get(c).map_or(&[][..], Vec::as_slice);
    let (impact, changes, search) = (class("impact"), class("changes"), class("search"));
    let node = impact.first().and_then(|q| q["node"].as_str()).context("no impact query")?;
    let cold = super::cold::open(&opts.data, &["show", node, "--json"])?;
    // What-changed in a fresh process: it opens the change index saved at ingest.
    let cold_changes = match changes.first() {
        Some(q) => {
            let f = |k: &str| q[k].as_str().unwrap_or_default();
            let args =
                ["changes", f("node"), "--since", f("since"), "--until", f("until"), "--json"];
            Some(super::cold::open(&opts.data, &args)?)
        }
        None => None,
    };
    // A one-shot hybrid search in a fresh process: model, chunks and the saved vectors.
    let cold_search = match search.first().and_then(|q| q["q"].as_str()) {
        Some(q) if opts.embed => Some(super::cold::open(&opts.data, &["search", q, "--json"])?),
        _ => None,
    };
    let t = Instant::now();
    let engine = Engine::open(&opts.data)?;
    engine.graph(None)?;
    let graph_s = t.elapsed().as_secs_f64();
    let mut rows = vec![impact_rows(&engine, impact, graph_s)?];
    if let Some(q) = changes.first() {
        let t = Instant::now();
        let req = ChangesRequest {
            node: q["node"].as_str().unwrap_or_default().to_string(),
            depth: Some(0),
            since: ts(q, "since")?,
            until: ts(q, "until")?,
            at: None,
        };
        engine.changes(&req)?;
        rows.push(changes_row(&engine, changes, graph_s + t.elapsed().as_secs_f64())?);
    }
    let t = Instant::now();
    engine.search(&SearchRequest {
        query: "warm up".into(),
        limit: 1,
        mode: "bm25".into(),
        ..Default::default()
    })?;
    let index_s = t.elapsed().as_secs_f64();
    rows.push(search_row(&engine, opts, search, "bm25", index_s)?);
    if opts.embed {
        let t = Instant::now();
        engine.search(&SearchRequest {
            query: "warm up".into(),
            limit: 1,
            ..Default::default()
        })?;
        let vectors_s = t.elapsed().as_secs_f64();
        rows.push(search_row(&engine, opts, search, "hybrid", index_s + vectors_s)?);
    }
    rows.push(json!({
        "peer": "lore", "class": "footprint",
        "ingest_s": ingest_s.map(round3),
        "cold_show_s": round3(cold.seconds), "cold_show_rss_mib": cold.rss_mib,
        "cold_changes_s": cold_changes.as_ref().map(|c| round3(c.seconds)),
        "cold_changes_rss_mib": cold_changes.as_ref().map(|c| c.rss_mib),
        "cold_search_s": cold_search.as_ref().map(|c| round3(c.seconds)),
        "cold_search_rss_mib": cold_search.as_ref().map(|c| c.rss_mib),
        "bench_peak_rss_mib": super::peak_rss_kib() / 1024,
        "store_mib": dir_bytes(&opts.data) / (1 << 20),
    }));
    Ok(rows)
}
