//! `lore bench --traces DIR`: spans per second through file ingest and through the
//! OTLP/HTTP receiver, and the receiver's memory while spans stream in.
//!
//! The spans are a gen-org organisation's OTLP/JSON trace files (`DIR/traces`, from
//! `gen-org --traces N`). File ingest is `lore ingest` of those files in a child process.
//! For the receiver, a child `lore serve` on loopback is sent the same spans as OTLP
//! protobuf in batches of `--batch` spans, replayed until `--spans` have been sent: each
//! replay gets fresh trace ids and is shifted by an hour, so it adds new traces and new
//! buckets rather than repeating the first. `--clients` threads send at once; a 429 is
//! retried after its pause. The server's RSS is sampled every second.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use lore::traces::decode::{Format, detect};
use nix::sys::resource::{UsageWho, getrusage};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use serde_json::{Value, json};

/// What to run.
pub(super) struct TraceRun<'a> {
    pub(super) org: &'a Path,
    pub(super) work: PathBuf,
    pub(super) spans: u64,
    pub(super) batch: usize,
    pub(super) clients: usize,
    /// A running server to send to (its token in `LORE_TOKEN`) instead of starting one.
    pub(super) server: Option<String>,
}

const TOKEN: &str = "bench-write-token";
/// How far each replay is shifted, nanoseconds.
const REPLAY_SHIFT_NS: u64 = 3_600_000_000_000;

fn trace_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".json") {
            let bytes = std::fs::read(&path)?;
            if detect(name, &bytes) == Some(Format::OtlpJson) {
                out.push(path);
            }
        }
    }
    out.sort();
    anyhow::ensure!(!out.is_empty(), "no OTLP/JSON trace files in {}", dir.display());
    Ok(out)
}

/// The files' spans regrouped into requests of at most `batch` spans, in file order.
fn batches(
    files: &[PathBuf],
    batch: usize,
) -> anyhow::Result<(Vec<ExportTraceServiceRequest>, u64)> {
    let mut out = Vec::new();
    let mut current = ExportTraceServiceRequest::default();
    let (mut in_current, mut total) = (0usize, 0u64);
    for file in files {
        let req: ExportTraceServiceRequest = serde_json::from_slice(&std::fs::read(file)?)
            .with_context(|| format!("{}: not OTLP/JSON", file.display()))?;
        for rs in req.resource_spans {
            for ss in rs.scope_spans {
                for chunk in ss.spans.chunks(batch) {
                    if in_current + chunk.len() > batch {
                        out.push(std::mem::take(&mut current));
                        in_current = 0;
                    }
                    current.resource_spans.push(ResourceSpans {
                        resource: rs.resource.clone(),
                        scope_spans: vec![ScopeSpans {
                            scope: ss.scope.clone(),
                            spans: chunk.to_vec(),
                            schema_url: ss.schema_url.clone(),
                        }],
                        schema_url: rs.schema_url.clone(),
                    });
                    in_current += chunk.len();
                    total += chunk.len() as u64;
                }
            }
        }
    }
    if in_current > 0 {
        out.push(current);
    }
    Ok((out, total))
}

/// `base` as replay `r`: trace ids changed, times shifted, protobuf-encoded.
fn replay(base: &ExportTraceServiceRequest, r: u64) -> (Vec<u8>, u64) {
    let mut req = base.clone();
    let mut n = 0;
    for rs in &mut req.resource_spans {
        for ss in &mut rs.scope_spans {
            for s in &mut ss.spans {
                if let Some(first) = s.trace_id.get_mut(..8) {
                    let id = u64::from_be_bytes(first.try_into().unwrap_or_default()) ^ r;
                    first.copy_from_slice(&id.to_be_bytes());
                }
                s.start_time_unix_nano += r * REPLAY_SHIFT_NS;
                s.end_time_unix_nano += r * REPLAY_SHIFT_NS;
                n += 1;
            }
        }
    }
    (prost::Message::encode_to_vec(&req), n)
}

pub(super) fn rss_mib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |kib| kib / 1024)
}

/// A child `lore serve` on a free loopback port with `LORE_TOKENS` set to `tokens`,
/// once it accepts connections.
pub(super) fn start_server(data: &Path, tokens: &str) -> anyhow::Result<(Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("LORE_TOKENS", tokens)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting lore serve")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "lore serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, port))
}

/// The figures, as JSON rows.
pub(super) fn run(opts: &TraceRun) -> anyhow::Result<Vec<Value>> {
    let dir =
        if opts.org.join("traces").is_dir() { opts.org.join("traces") } else { opts.org.into() };
    let files = trace_files(&dir)?;
    let (base, per_replay) = batches(&files, opts.batch)?;
    let mut rows = Vec::new();

    // File ingest in a child process (the first child, so its rusage is its own).
    let data = opts.work.join("file-ingest");
    let _ = std::fs::remove_dir_all(&data);
    let t = Instant::now();
    let status = Command::new(std::env::current_exe()?)
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "--no-embed"])
        .arg(&dir)
        .stdout(Stdio::null())
        .status()
        .context("running lore ingest")?;
    let seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "lore ingest {} failed: {status}", dir.display());
    let peak = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss() as u64 / 1024;
    rows.push(json!({
        "bench": "traces", "path": "file ingest (OTLP/JSON)", "files": files.len(),
        "spans": per_replay, "seconds": seconds,
        "spans_per_s": (per_replay as f64 / seconds).round(), "peak_rss_mib": peak,
    }));

    // The receiver.
    let data = opts.work.join("receiver");
    let _ = std::fs::remove_dir_all(&data);
    let (mut child, base_url) = match &opts.server {
        Some(addr) => (None, format!("http://{addr}")),
        None => {
            let (child, port) = start_server(&data, &format!("bench:write:{TOKEN}"))?;
            (Some(child), format!("http://127.0.0.1:{port}"))
        }
    };
    let token = match &opts.server {
        Some(_) => std::env::var("LORE_TOKEN").context("--server needs LORE_TOKEN")?,
        None => TOKEN.to_string(),
    };
    let url = format!("{base_url}/v1/traces");
    let next = AtomicUsize::new(0);
    let sent = AtomicU64::new(0);
    let retries = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let pid = child.as_ref().map_or(0, Child::id);
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let t = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..opts.clients.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let agent: ureq::Agent =
                        ureq::Agent::config_builder().http_status_as_error(false).build().into();
                    while sent.load(Ordering::Relaxed) < opts.spans {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let (body, n) = replay(&base[i % base.len()], (i / base.len()) as u64);
                        loop {
                            let res = agent
                                .post(&url)
                                .header("Content-Type", "application/x-protobuf")
                                .header("Authorization", &format!("Bearer {token}"))
                                .send(&body[..]);
                            match res.map(|r| r.status().as_u16()) {
                                Ok(200) => break,
                                Ok(429 | 503) => {
                                    retries.fetch_add(1, Ordering::Relaxed);
                                    std::thread::sleep(Duration::from_millis(5));
                                }
                                _ => {
                                    failures.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                            }
                        }
                        sent.fetch_add(n, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        while !workers.iter().all(|w| w.is_finished()) {
            std::thread::sleep(Duration::from_millis(250));
            samples.push((sent.load(Ordering::Relaxed), rss_mib(pid, "VmRSS:")));
        }
    });
    let seconds = t.elapsed().as_secs_f64();
    let total = sent.load(Ordering::Relaxed);
    let hwm = rss_mib(pid, "VmHWM:");
    let t = Instant::now();
    let observed: Value = ureq::get(&format!("{base_url}/v1/observed"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().with_config().limit(1 << 30).read_to_vec().ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let read_s = t.elapsed().as_secs_f64();
    if let Some(child) = child.as_mut() {
        let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
        let _ = child.wait();
    }
    // RSS at each tenth of the spans sent.
    let rss_by_tenth: Vec<u64> = (1..=10)
        .filter_map(|k| samples.iter().find(|(s, _)| *s >= total * k / 10).map(|(_, rss)| *rss))
        .collect();
    rows.push(json!({
        "bench": "traces", "path": "POST /v1/traces (protobuf)", "batch": opts.batch,
        "clients": opts.clients, "spans": total, "seconds": seconds,
        "spans_per_s": (total as f64 / seconds).round(),
        "retries_429": retries.load(Ordering::Relaxed),
        "failed_requests": failures.load(Ordering::Relaxed),
        "server_rss_mib_per_tenth": rss_by_tenth, "server_peak_rss_mib": hwm,
        "observed_edges": observed["edges"].as_array().map_or(0, Vec::len),
        "observed_read_seconds": read_s,
    }));
    Ok(rows)
}
