//! MCP with a real client nobody here wrote: the official MCP Python SDK (`mcp` from
//! PyPI, in .venv from scripts/setup) drives `lore mcp` over stdio and `lore serve`'s
//! `/mcp` over streamable HTTP on examples/org (tests/mcp_client.py); the example agent
//! (examples/mcp_agent.py) pages on an alert; `/mcp` refuses rebinding `Host`/`Origin`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::lore_bin;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn python() -> PathBuf {
    let venv = root().join(".venv/bin/python");
    assert!(venv.is_file(), "{} missing: run `bash scripts/setup`", venv.display());
    venv
}

pub(crate) fn ingest_example(data: &Path) {
    let parts = ["k8s", "compose", "catalog", "alerts", "runbooks", "postmortems", "deploys"];
    let out = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(data)
        .arg("ingest")
        .args(parts.map(|p| root().join("examples/org").join(p)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn run_python(args: &[&std::ffi::OsStr]) -> String {
    run_python_with(args, &[])
}

fn run_python_with(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(python());
    cmd.args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One raw HTTP/1.1 request; the status code and body.
fn raw(port: u16, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// A `lore serve` child, stopped with SIGINT when dropped.
pub(crate) struct Server(pub(crate) std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
    }
}

#[test]
fn the_official_python_sdk_uses_every_tool_over_stdio_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_example(&data);

    let stdio = run_python(&[
        "tests/mcp_client.py".as_ref(),
        "stdio".as_ref(),
        lore_bin().as_os_str(),
        data.as_os_str(),
    ]);
    eprintln!("{stdio}");
    assert!(stdio.contains("0 failed"), "{stdio}");

    // The example agent, as a user would run it.
    let out = Command::new(python())
        .arg("examples/mcp_agent.py")
        .arg("--data-dir")
        .arg(&data)
        .env("LORE_BIN", lore_bin())
        .current_dir(root())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("# Incident context: checkout"), "{printed}");
    assert!(printed.contains("Top suspect payment"), "{printed}");

    let port = free_port();
    let child = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("LORE_TOKENS", "agent:write:mcp-test-token")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let http = run_python_with(
        &[
            "tests/mcp_client.py".as_ref(),
            "http".as_ref(),
            format!("http://127.0.0.1:{port}/mcp").as_ref(),
        ],
        &[("LORE_TOKEN", "mcp-test-token")],
    );
    eprintln!("{http}");
    assert!(http.contains("0 failed"), "{http}");

    // DNS rebinding: a page on another origin, or a request for another host, is refused
    // (as JSON, like every error of the API).
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let post = |host: &str, origin: Option<&str>| {
        let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {host}\r\n{origin}Content-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{init}",
            init.len()
        )
    };
    let local = format!("127.0.0.1:{port}");
    let (status, body) = raw(port, &post(&local, Some(&format!("http://evil.example:{port}"))));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"forbidden\""), "{body}");
    let (status, body) = raw(port, &post(&format!("evil.example:{port}"), None));
    assert_eq!(status, 403, "{body}");
    let (status, body) = raw(port, &post(&local, Some(&format!("http://localhost:{port}"))));
    assert_eq!(status, 200, "{body}");
}
