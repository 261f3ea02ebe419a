//! `lore bench`: impact-query latency, graph load time and memory on a generated
//! organisation (`../shared/tools/gen-org`); what-changed (`--changes`) and
//! incident-context bundles (`--context`). `--org DIR` runs an existing org's truth
//! queries side by side with the peer harness (`org.rs`).

mod changes;
mod cold;
mod context;
mod load;
mod org;
mod traces;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use lore::engine::ImpactRequest;
use lore::graph::Direction;
use lore::{Engine, time};

/// Options of `lore bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Services in the generated organisation.
    #[arg(long, default_value_t = 10_000)]
    services: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 3)]
    seed: u64,
    /// Path to the gen-org tool.
    #[arg(long, default_value = "../shared/tools/gen-org")]
    gen_org: PathBuf,
    /// Work directory (generated org and data dir); a temporary one by default.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also ingest the organisation's deploys.ndjson (10 events per service) and time
    /// what-changed queries (the ground truth's `changes` queries).
    #[arg(long)]
    changes: bool,
    /// Also ingest runbooks, postmortems (without embeddings) and change events, and time
    /// one incident-context bundle per incident of `truth/postmortems.jsonl`.
    #[arg(long)]
    context: bool,
    /// Run this gen-org organisation's own truth queries (impact, changes, search) the
    /// way ../shared/bench/peers runs its peers, and print the peer harness's JSON lines
    /// (plus a `footprint` row). The data dir is `--work-dir`/data (a temporary one by
    /// default).
    #[arg(long, value_name = "DIR")]
    org: Option<PathBuf>,
    /// With `--org`: also embed the documents and time hybrid search.
    #[arg(long)]
    embed: bool,
    /// With `--org`: list this many missed search queries per search row (id, difficulty,
    /// the first three documents found instead).
    #[arg(long, default_value_t = 0)]
    misses: usize,
    /// With `--org`: reuse the data dir if it exists instead of ingesting again.
    #[arg(long)]
    reuse: bool,
    /// Measure spans per second through file ingest and through `POST /v1/traces`
    /// (a child `lore serve`) with this org's OTLP/JSON traces (`gen-org --traces N`).
    #[arg(long, value_name = "DIR")]
    traces: Option<PathBuf>,
    /// With `--traces`: spans to send to the receiver (the files' spans replayed).
    #[arg(long, default_value_t = 10_000_000)]
    spans: u64,
    /// With `--traces`: spans per request.
    #[arg(long, default_value_t = 512)]
    batch: usize,
    /// Requests in flight at once: with `--traces` (default 2), with `--load` (default 50).
    #[arg(long)]
    clients: Option<usize>,
    /// With `--traces`: send to this running server (ADDR, its write token in
    /// `LORE_TOKEN`) instead of starting one; server memory is then not sampled.
    #[arg(long, value_name = "ADDR")]
    server: Option<String>,
    /// Load test: ingest DIR, serve it from a child `lore serve`, and run `--clients`
    /// clients for `--seconds` reading only, then as long with `--write-share` writes;
    /// latency per route, errors (exit 1 if any) and the server's RSS.
    #[arg(long, value_name = "DIR")]
    load: Option<PathBuf>,
    /// With `--load`: seconds per phase.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// With `--load`: share of requests that write in the mixed phase.
    #[arg(long, default_value_t = 0.1)]
    write_share: f64,
}

/// Peak resident set of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(org) = &args.org {
        return run_org(args, org);
    }
    if let Some(input) = &args.load {
        return run_load(args, input);
    }
    if let Some(org) = &args.traces {
        let work = work_dir(args)?;
        let opts = traces::TraceRun {
            org,
            work: work.clone(),
            spans: args.spans,
            batch: args.batch.max(1),
            clients: args.clients.unwrap_or(2),
            server: args.server.clone(),
        };
        for row in traces::run(&opts)? {
            println!("{}", serde_json::to_string(&row)?);
        }
        if args.work_dir.is_none() {
            let _ = std::fs::remove_dir_all(&work);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let tmp;
    let work = match &args.work_dir {
        Some(w) => w.clone(),
        None => {
            tmp = tempfile_dir()?;
            tmp.clone()
        }
    };
    let org = work.join("org");
    if !org.join("truth").is_dir() {
        let status = std::process::Command::new("python3")
            .arg(&args.gen_org)
            .args([
                "--services",
                &args.services.to_string(),
                "--seed",
                &args.seed.to_string(),
                "--out",
            ])
            .arg(&org)
            .stdout(std::process::Stdio::null())
            .status()
            .with_context(|| format!("running {}", args.gen_org.display()))?;
        anyhow::ensure!(status.success(), "gen-org failed");
    }
    let data = work.join("data");
    let _ = std::fs::remove_dir_all(&data);
    let t = Instant::now();
    {
        let engine = Engine::open(&data)?;
        engine.ingest(&[org.join("k8s"), org.join("catalog")], time::now())?;
    }
    let ingest_s = t.elapsed().as_secs_f64();
    let rss_before = rss_kib();
    let t = Instant::now();
    let engine = Engine::open(&data)?;
    let graph = engine.graph(None)?;
    let load_s = t.elapsed().as_secs_f64();
    let rss_after = rss_kib();
    let ids: Vec<String> = graph
        .nodes()
        .iter()
        .filter(|n| n.kind == lore_schema::NodeKind::Service)
        .map(|n| n.id.to_string())
        .collect();
    anyhow::ensure!(!ids.is_empty(), "no services ingested");
    let mut report = serde_json::json!({
        "services": args.services,
        "nodes": graph.nodes().len(),
        "edges": graph.edge_count(),
        "ingest_seconds": ingest_s,
        "graph_load_seconds": load_s,
        "graph_rss_mib": (rss_after.saturating_sub(rss_before)) as f64 / 1024.0,
        "process_rss_mib": rss_after as f64 / 1024.0,
    });
    for direction in [Direction::Upstream, Direction::Downstream] {
        let mut times = Vec::new();
        let mut results = 0usize;
        for (i, id) in ids.iter().enumerate().step_by((ids.len() / 500).max(1)) {
            let req = ImpactRequest {
                depth: if i % 2 == 0 { None } else { Some(3) },
                ..ImpactRequest::new(id.clone(), direction)
            };
            let t = Instant::now();
            let view = engine.impact(&req)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            results += view.results.len();
        }
        times.sort_by(f64::total_cmp);
        let key = format!("{direction:?}").to_lowercase();
        report[key] = serde_json::json!({
            "queries": times.len(),
            "p50_ms": percentile(&times, 0.5),
            "p99_ms": percentile(&times, 0.99),
            "mean_results": results as f64 / times.len().max(1) as f64,
        });
    }
    if args.changes {
        report["changes"] = changes::run(&engine, &org)?;
    }
    if args.context {
        report["context"] = context::run(&engine, &org, args.changes)?;
    }
    if args.json {
        writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(std::io::stdout().lock(), "{report:#}")?;
    }
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_org(args: &BenchArgs, org: &std::path::Path) -> anyhow::Result<ExitCode> {
    let work = work_dir(args)?;
    let opts = org::OrgRun {
        org,
        data: work.join("data"),
        embed: args.embed,
        reuse: args.reuse,
        misses: args.misses,
    };
    let rows = org::run(&opts)?;
    let label = format!("{} services", org.display());
    for mut row in rows {
        row["dataset"] = serde_json::json!(label);
        writeln!(std::io::stdout().lock(), "{}", serde_json::to_string(&row)?)?;
    }
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_load(args: &BenchArgs, input: &std::path::Path) -> anyhow::Result<ExitCode> {
    let work = work_dir(args)?;
    let opts = load::LoadRun {
        input,
        work: work.clone(),
        clients: args.clients.unwrap_or(50),
        seconds: args.seconds,
        write_share: args.write_share.clamp(0.0, 1.0),
    };
    let rows = load::run(&opts);
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    let rows = rows?;
    let mut out = std::io::stdout().lock();
    for row in &rows {
        writeln!(out, "{}", serde_json::to_string(row)?)?;
    }
    let errors = rows.last().and_then(|r| r["errors"].as_u64()).unwrap_or(1);
    Ok(if errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `--work-dir`, else a fresh temporary folder (removed by the caller when done).
fn work_dir(args: &BenchArgs) -> anyhow::Result<PathBuf> {
    match &args.work_dir {
        Some(w) => Ok(w.clone()),
        None => tempfile_dir(),
    }
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("lore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
