//! One store, many clients (issue 13, item 5): while `lore serve` holds a data dir, the
//! CLI forwards its commands to the server (the endpoint file `serve.json`, mode 0600)
//! and prints what it would have printed itself; a stale endpoint file or a locked store
//! without a server gives one clear line, never sled's debug text.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::lore_bin;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn lore(data: &Path, args: &[&str]) -> Output {
    Command::new(lore_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("LORE_TOKENS")
        .env_remove("LORE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The example organisation as `lore demo` ingests it, without embedding.
fn ingest_org(data: &Path) {
    let mut args = vec!["ingest".to_string(), "--no-embed".to_string()];
    for part in ["k8s", "compose", "catalog", "alerts", "runbooks", "postmortems", "deploys"] {
        args.push(repo("examples/org").join(part).display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lore(data, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A `lore serve` on `data` on a free loopback port, up when its endpoint file is there.
struct Server(Child);

impl Server {
    fn start(data: &Path) -> Server {
        let child = Command::new(lore_bin())
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("LORE_TOKENS")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while lore::server::local::LocalEndpoint::read(data).is_none() {
            assert!(started.elapsed() < Duration::from_secs(60), "lore serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server(child)
    }

    /// SIGTERM, the clean stop.
    fn stop(mut self) {
        let pid = self.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.0.wait().unwrap();
        assert!(status.success(), "lore serve ended with {status}");
    }

    /// SIGKILL: no cleanup.
    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The commands `lore demo` prints, and more of the query commands, human and JSON.
const COMMANDS: &[&[&str]] = &[
    &["show", "checkout"],
    &["show", "checkout", "--json"],
    &["show", "service:orders-db", "--json"],
    &["impact", "orders-db", "--direction", "upstream"],
    &["impact", "orders-db", "--direction", "upstream", "--json"],
    &["impact", "checkout", "--direction", "downstream", "--depth", "1", "--json"],
    &["path", "frontend", "orders-db"],
    &["path", "frontend", "orders-db", "--json"],
    &["changes", "checkout", "--since", "2026-10-26", "--until", "2026-10-27T14:30:00Z"],
    &["changes", "checkout", "--since", "2026-10-26", "--until", "2026-10-27T14:30:00Z", "--json"],
    &["search", "payment timeouts", "--kind", "runbook", "--mode", "bm25"],
    &["search", "payment timeouts", "--kind", "runbook", "--mode", "bm25", "--json"],
    &["search", "card processor slow", "--mode", "bm25", "--service", "payment", "--json"],
    &["diff", "--since", "2020-01-01", "--json"],
    &["observed", "--json"],
    &["drift", "--json"],
    &[
        "context",
        "--alert",
        "CheckoutHighErrorRate",
        "--label",
        "service=checkout",
        "--at",
        "2026-10-27T13:55:00Z",
    ],
    &["context", "--service", "checkout", "--at", "2026-10-27T13:55:00Z", "--json"],
    &["query", "blast_radius", "-p", "service=orders-db", "--json"],
    &["query", "blast_radius", "-p", "service=orders-db"],
    &["show", "no-such-node"],
    &["impact", "no-such-node", "--direction", "upstream", "--json"],
];

fn same_answer(args: &[&str], alone: &Output, served: &Output) {
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(served.status.code(), alone.status.code(), "{args:?}: exit code");
    if args.contains(&"--json") && alone.status.success() {
        let a: serde_json::Value = serde_json::from_slice(&alone.stdout).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&served.stdout).unwrap();
        assert_eq!(a, b, "{args:?}: JSON");
    }
    assert_eq!(text(served), text(alone), "{args:?}: stdout");
    assert_eq!(
        String::from_utf8_lossy(&served.stderr),
        String::from_utf8_lossy(&alone.stderr),
        "{args:?}: stderr"
    );
}

#[test]
fn issue_13_the_cli_answers_the_same_while_lore_serve_holds_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_org(&data);
    let deploys = repo("examples/org/deploys").display().to_string();
    let reingest: &[&str] = &["ingest", "--no-embed", "--json", &deploys];
    let alone: Vec<Output> = COMMANDS.iter().map(|args| lore(&data, args)).collect();
    assert!(alone[0].status.success(), "{}", String::from_utf8_lossy(&alone[0].stderr));
    let alone_ingest = lore(&data, reingest);
    assert!(alone_ingest.status.success());

    let server = Server::start(&data);
    let file = lore::server::local::path(&data);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the endpoint file is readable by its user only");
    }
    for (args, alone) in COMMANDS.iter().zip(&alone) {
        same_answer(args, alone, &lore(&data, args));
    }
    // Ingest goes through the server too (an unchanged re-ingest: the same report).
    let served_ingest = lore(&data, reingest);
    same_answer(reingest, &alone_ingest, &served_ingest);
    // Commands the server does not serve say so in one line.
    let audit = lore(&data, &["audit", "--json"]);
    assert_eq!(audit.status.code(), Some(2));
    let err = String::from_utf8_lossy(&audit.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("lore serve") && err.contains("`lore audit`"), "{err}");
    server.stop();
    assert!(!file.is_file(), "a clean stop removes the endpoint file");

    // The forwarded ingest was a write of the local token, in the audit log.
    let audit = lore(&data, &["audit", "--json"]);
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stderr));
    let log = String::from_utf8_lossy(&audit.stdout);
    assert!(log.contains("local-cli") && log.contains("POST /v1/ingest"), "{log}");
}

fn one_clear_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for noise in ["Os {", "Custom {", "kind:", "WouldBlock"] {
        assert!(!err.contains(noise), "no debug format: {err}");
    }
    assert!(err.starts_with("lore: data dir "), "{err}");
    err
}

#[test]
fn issue_13_a_stale_endpoint_file_or_a_locked_store_without_a_server_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_org(&data);
    let file = lore::server::local::path(&data);

    // Killed with SIGKILL: the file stays, the store is free; the CLI opens it.
    let server = Server::start(&data);
    server.kill();
    assert!(file.is_file(), "SIGKILL leaves the endpoint file");
    let out = lore(&data, &["show", "checkout"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("service:checkout"));
    assert!(!file.is_file(), "the CLI removes the file of a server that is gone");

    // A server holds the store but its file names a port nobody answers on.
    let server = Server::start(&data);
    let mut endpoint = lore::server::local::LocalEndpoint::read(&data).unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    endpoint.addr = free.local_addr().unwrap();
    drop(free);
    endpoint.write(&data).unwrap();
    let err = one_clear_line(&lore(&data, &["show", "checkout"]));
    assert!(err.contains("does not answer"), "{err}");

    // Locked, and no endpoint file at all.
    std::fs::remove_file(&file).unwrap();
    let err = one_clear_line(&lore(&data, &["impact", "checkout", "--direction", "upstream"]));
    assert!(err.contains("in use by another lore process"), "{err}");
    server.kill();
}

#[test]
fn issue_13_the_cli_commands_lore_demo_prints_work_while_it_serves() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut demo = Command::new(lore_bin())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--data-dir")
        .arg(&data)
        .args(["demo", "--bind", "127.0.0.1:0"])
        .env_remove("LORE_TOKENS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    for line in std::io::BufReader::new(demo.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("Press Ctrl-C") {
            break;
        }
        if let Some(command) = line.strip_prefix("  LORE_DATA_DIR=") {
            printed.push(format!("LORE_DATA_DIR={command}"));
        }
    }
    assert!(printed.len() >= 5, "{printed:?}");
    let started = Instant::now();
    while lore::server::local::LocalEndpoint::read(&data).is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "lore demo did not serve");
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = |line: &str| Command::new("sh").args(["-c", line]).output().unwrap();
    let served: Vec<Output> = printed.iter().map(|line| run(line)).collect();
    Command::new("kill").args(["-TERM", &demo.id().to_string()]).status().unwrap();
    assert!(demo.wait().unwrap().success());
    for (line, served) in printed.iter().zip(&served) {
        assert!(served.status.success(), "{line}: {}", String::from_utf8_lossy(&served.stderr));
        let alone = run(line);
        let args: Vec<&str> = line.split_whitespace().collect();
        same_answer(&args, &alone, served);
    }
}
