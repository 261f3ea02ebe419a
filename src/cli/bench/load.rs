//! `lore bench --load DIR`: many concurrent clients against a child `lore serve` over
//! loopback, first reading only, then with a share of writes, each phase for
//! `--seconds`; latency per route and phase, errors, and the server's memory.
//!
//! DIR is ingested into a fresh data dir by a child `lore ingest` (with embeddings when
//! the model is there), then served with a read token and a write token. Reads are the
//! routes an agent and the portal use (search in the server's default mode, show, impact,
//! path, what-changed, context, notes, the portal's search page), spread over the
//! services the server lists; writes are change events (fresh ids, so none conflicts)
//! and tribal notes, which add a document and so touch the graph and the search index.
//! Any answer that is not 2xx, and any transport error, is an error; the run exits 1 when
//! there is one. The server's RSS is sampled every 250 ms.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

/// What to run.
pub(super) struct LoadRun<'a> {
    /// The folder ingested and served.
    pub(super) input: &'a Path,
    /// Work directory (the data dir goes below it).
    pub(super) work: PathBuf,
    pub(super) clients: usize,
    /// Length of each phase.
    pub(super) seconds: f64,
    /// Share of requests that write in the mixed phase.
    pub(super) write_share: f64,
}

const READ_TOKEN: &str = "load-read-token";
const WRITE_TOKEN: &str = "load-write-token";

/// Latencies (ms) and errors of one route in one phase.
#[derive(Default)]
struct RouteStats {
    millis: Vec<f64>,
    errors: u64,
    /// The first few errors, for the report.
    samples: Vec<String>,
}

type Stats = BTreeMap<&'static str, RouteStats>;

/// What the clients ask about, read from the server before the run.
struct Targets {
    services: Vec<String>,
    queries: Vec<String>,
}

/// A child `lore serve` with a read and a write token, once `/readyz` answers (the
/// graph is loaded).
fn start_server(data: &Path) -> anyhow::Result<(Child, String)> {
    let tokens = format!("reader:read:{READ_TOKEN} writer:write:{WRITE_TOKEN}");
    let (child, port) = super::traces::start_server(data, &tokens)?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    let agent = agent();
    loop {
        let ready = agent.get(&format!("{base}/readyz")).call().is_ok_and(|r| r.status() == 200);
        if ready {
            return Ok((child, base));
        }
        anyhow::ensure!(Instant::now() < deadline, "lore serve did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn targets(base: &str) -> anyhow::Result<Targets> {
    let mut res = agent()
        .get(&format!("{base}/v1/nodes?kind=service"))
        .header("Authorization", &format!("Bearer {READ_TOKEN}"))
        .call()?;
    let body: Value = serde_json::from_slice(&res.body_mut().read_to_vec()?)?;
    let services: Vec<String> = body["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["name"].as_str().map(str::to_string))
        .collect();
    anyhow::ensure!(!services.is_empty(), "the server lists no services");
    // Symptom-style questions about each service, and a few about none.
    let symptoms = ["is slow to answer", "returns errors", "pods keep restarting", "is down"];
    let mut queries: Vec<String> = services
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{s} {}", symptoms[i % symptoms.len()]))
        .collect();
    queries.extend(
        ["disk is full", "certificate expired", "high latency after deploy"].map(String::from),
    );
    Ok(Targets { services, queries })
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// One request of a client: its route label, and the outcome.
fn one(
    agent: &ureq::Agent,
    base: &str,
    t: &Targets,
    rng: &mut fastrand::Rng,
    write: bool,
    seq: &str,
) -> (&'static str, Result<(), String>) {
    let service = &t.services[rng.usize(..t.services.len())];
    let other = &t.services[rng.usize(..t.services.len())];
    let read = |route: &'static str, path: String| {
        let res = agent
            .get(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {READ_TOKEN}"))
            .call();
        (route, outcome(res))
    };
    let post = |route: &'static str, path: &str, token: &str, body: Value| {
        let res = agent
            .post(&format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes());
        (route, outcome(res))
    };
    if write {
        return if rng.f64() < 0.7 {
            let event = json!({
                "id": format!("load-{seq}"), "ts": lore::time::format(lore::time::now()),
                "service": service, "kind": "deploy", "version": seq,
                "description": format!("load test release {seq}"),
            });
            post("POST /v1/events", "/v1/events", WRITE_TOKEN, event)
        } else {
            let note = json!({
                "node": service, "text": format!("Load test note {seq}: restart the workers first."),
                "author": "load", "expires": "1h",
            });
            post("POST /v1/notes", "/v1/notes", WRITE_TOKEN, note)
        };
    }
    let q = &t.queries[rng.usize(..t.queries.len())];
    match rng.u32(..100) {
        0..40 => read("GET /v1/search", format!("/v1/search?q={}&limit=10", encode(q))),
        40..55 => read("GET /v1/nodes/{node}", format!("/v1/nodes/{}", encode(service))),
        55..70 => {
            let direction = if rng.bool() { "upstream" } else { "downstream" };
            read(
                "GET /v1/impact",
                format!("/v1/impact?node={}&direction={direction}", encode(service)),
            )
        }
        70..75 => {
            read("GET /v1/path", format!("/v1/path?from={}&to={}", encode(service), encode(other)))
        }
        75..85 => read("GET /v1/changes", format!("/v1/changes?node={}&depth=1", encode(service))),
        85..90 => {
            post("POST /v1/context", "/v1/context", READ_TOKEN, json!({ "service": service }))
        }
        90..95 => read("GET /v1/notes", format!("/v1/notes?node={}", encode(service))),
        _ => read("GET /search (portal)", format!("/search?q={}", encode(q))),
    }
}

/// 2xx is success; a 404 of `path` between two services that are not connected is an
/// answer too, so only the body says whether it is an error of the server.
fn outcome(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<(), String> {
    match res {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let body = r.body_mut().read_to_string().unwrap_or_default();
            match status {
                200..=299 => Ok(()),
                404 if body.contains("no path") => Ok(()),
                _ => Err(format!("{status}: {}", body.chars().take(200).collect::<String>())),
            }
        }
        Err(e) => Err(format!("transport: {e}")),
    }
}

/// Runs `clients` threads for `seconds`, each looping over requests.
fn phase(base: &str, t: &Targets, opts: &LoadRun, write_share: f64, name: &str) -> Stats {
    let stats = Mutex::new(Stats::new());
    let deadline = Instant::now() + Duration::from_secs_f64(opts.seconds);
    std::thread::scope(|scope| {
        for c in 0..opts.clients.max(1) {
            let stats = &stats;
            scope.spawn(move || {
                let agent = agent();
                let mut rng = fastrand::Rng::with_seed(c as u64 * 7919 + name.len() as u64);
                let mut mine = Stats::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    n += 1;
                    let seq = format!("{name}-{c}-{n}");
                    let write = rng.f64() < write_share;
                    let t0 = Instant::now();
                    let (route, result) = one(&agent, base, t, &mut rng, write, &seq);
                    let entry = mine.entry(route).or_default();
                    entry.millis.push(t0.elapsed().as_secs_f64() * 1000.0);
                    if let Err(e) = result {
                        entry.errors += 1;
                        if entry.samples.len() < 3 {
                            entry.samples.push(e);
                        }
                    }
                }
                let mut all = stats.lock().unwrap_or_else(|e| e.into_inner());
                for (route, s) in mine {
                    let entry = all.entry(route).or_default();
                    entry.millis.extend(s.millis);
                    entry.errors += s.errors;
                    entry
                        .samples
                        .extend(s.samples.into_iter().take(3 - entry.samples.len().min(3)));
                }
            });
        }
    });
    stats.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn rows(phase: &str, stats: &mut Stats, seconds: f64, clients: usize) -> Vec<Value> {
    stats
        .iter_mut()
        .map(|(route, s)| {
            s.millis.sort_by(f64::total_cmp);
            json!({
                "bench": "load", "phase": phase, "route": route, "clients": clients,
                "requests": s.millis.len(), "errors": s.errors, "error_samples": s.samples,
                "per_s": (s.millis.len() as f64 / seconds).round(),
                "p50_ms": super::org::nearest_rank(&s.millis, 50.0),
                "p99_ms": super::org::nearest_rank(&s.millis, 99.0),
            })
        })
        .collect()
}

/// The figures, as JSON rows: one per phase and route, then a summary.
pub(super) fn run(opts: &LoadRun) -> anyhow::Result<Vec<Value>> {
    let data = opts.work.join("load-data");
    let _ = std::fs::remove_dir_all(&data);
    let status = Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(&data)
        .arg("ingest")
        .arg(opts.input)
        .stdout(Stdio::null())
        .status()
        .context("running lore ingest")?;
    anyhow::ensure!(status.code().is_some_and(|c| c <= 1), "lore ingest failed: {status}");
    let (mut child, base) = start_server(&data)?;
    let pid = child.id();
    let result = (|| {
        let t = targets(&base)?;
        let rss_start = super::traces::rss_mib(pid, "VmRSS:");
        let done = AtomicBool::new(false);
        let peak = std::sync::atomic::AtomicU64::new(rss_start);
        let (mut read_only, mut mixed) = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(super::traces::rss_mib(pid, "VmRSS:"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(250));
                }
            });
            let read_only = phase(&base, &t, opts, 0.0, "read");
            let mixed = phase(&base, &t, opts, opts.write_share, "mixed");
            done.store(true, Ordering::Relaxed);
            (read_only, mixed)
        });
        let mut out = rows("read-only", &mut read_only, opts.seconds, opts.clients);
        out.extend(rows("mixed", &mut mixed, opts.seconds, opts.clients));
        let p99 =
            |s: &Stats| s.get("GET /v1/search").map(|r| super::org::nearest_rank(&r.millis, 99.0));
        let errors: u64 = read_only.values().chain(mixed.values()).map(|s| s.errors).sum();
        let requests: usize =
            read_only.values().chain(mixed.values()).map(|s| s.millis.len()).sum();
        let (ro, mx) = (p99(&read_only), p99(&mixed));
        out.push(json!({
            "bench": "load", "phase": "summary", "clients": opts.clients,
            "seconds_per_phase": opts.seconds, "write_share": opts.write_share,
            "services": t.services.len(), "requests": requests, "errors": errors,
            "search_p99_read_only_ms": ro, "search_p99_mixed_ms": mx,
            "search_p99_ratio": ro.zip(mx).map(|(r, m)| m / r.max(1e-9)),
            "server_rss_mib": {
                "start": rss_start, "peak_sampled": peak.load(Ordering::Relaxed),
                "end": super::traces::rss_mib(pid, "VmRSS:"),
                "hwm": super::traces::rss_mib(pid, "VmHWM:"),
            },
        }));
        Ok(out)
    })();
    let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
    let _ = child.wait();
    result
}
