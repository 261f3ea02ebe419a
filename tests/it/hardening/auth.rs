//! Tokens and scopes: every write route answers 401 JSON without a token and 403 with a
//! read token; reads need `read` once a read token is configured; a `Host` that is not
//! allowed is refused whatever the token; every write that passed is in the audit log,
//! which `lore audit` lists; `lore serve` takes its tokens from `LORE_TOKENS`.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use lore::Engine;
use lore::auth::{Policy, Scope, Token};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::lore_bin;

fn policy() -> Policy {
    let tokens = vec![
        Token::new("agent", &[Scope::Read], "read-token"),
        Token::new("ci", &[Scope::Write], "write-token"),
    ];
    Policy::new(tokens, &[], "127.0.0.1:7474".parse().ok())
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = match body {
        Some(b) => {
            req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string()))
        }
        None => req.body(Body::empty()),
    };
    let res = app.clone().oneshot(req.unwrap()).await.unwrap();
    let status = res.status();
    let challenge = res
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), challenge)
}

fn org(part: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org").join(part)
}

/// The write routes with a body that would succeed.
fn writes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    let event =
        json!({"id": "auth-1", "ts": "2026-11-01T10:00:00Z", "service": "cart", "kind": "config"});
    let add_note = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                          "params": {"name": "add_note", "arguments": {"node": "cart", "text": "x"}}});
    vec![
        ("POST", "/v1/events", Some(event)),
        ("POST", "/v1/notes", Some(json!({"node": "cart", "text": "cache TTL is 5m"}))),
        ("DELETE", "/v1/notes/note-000000000000", None),
        ("POST", "/v1/feedback", Some(json!({"focus": "cart", "item": "x", "verdict": "useful"}))),
        ("DELETE", "/v1/feedback/fb-0", None),
        ("POST", "/mcp", Some(add_note)),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_need_the_write_scope_reads_the_read_scope_and_writes_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(dir.path()).unwrap());
    engine.ingest(&[org("k8s")], 1_000).unwrap();
    let registry = Arc::new(lore::queries::Registry::builtin());
    let app = lore::server::router_with_policy(engine.clone(), registry.clone(), policy());
    let read = ("authorization", "Bearer read-token");
    let write = ("authorization", "Bearer write-token");
    let mcp_accept = ("accept", "application/json, text/event-stream");

    for (method, uri, body) in writes() {
        let (status, err, challenge) = send(&app, method, uri, body.clone(), &[mcp_accept]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: {err}");
        assert_eq!(err["error"]["code"], "unauthorized", "{method} {uri}: {err}");
        assert_eq!(challenge.as_deref(), Some("Bearer"));
        let (status, err, _) = send(&app, method, uri, body.clone(), &[read, mcp_accept]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {err}");
        assert_eq!(err["error"]["code"], "forbidden");
        assert!(err["error"]["message"].as_str().unwrap().contains("agent"), "{err}");
        let bad = ("authorization", "Bearer wrong");
        let (status, _, _) = send(&app, method, uri, body, &[bad, mcp_accept]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}: an unknown token");
    }
    assert!(engine.store().audit().unwrap().is_empty(), "refused writes did nothing");

    // With the write token, writes pass and are audited with the token's name.
    let event = writes()[0].2.clone();
    let (status, body, _) = send(&app, "POST", "/v1/events", event.clone(), &[write]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed =
        json!({"id": "auth-1", "ts": "2026-11-01T10:00:00Z", "service": "cart", "kind": "deploy"});
    let (status, body, _) = send(&app, "POST", "/v1/events", Some(changed), &[write]).await;
    assert_eq!(status, StatusCode::CONFLICT, "re-posting an id with other content: {body}");
    assert_eq!(body["error"]["code"], "conflict");
    let note = writes()[1].2.clone();
    let (status, body, _) = send(&app, "POST", "/v1/notes", note, &[write]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Reads need a token once a read token is configured; probes do not.
    let (status, err, _) = send(&app, "GET", "/v1/nodes", None, &[]).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    for token in [read, write] {
        assert_eq!(send(&app, "GET", "/v1/nodes", None, &[token]).await.0, StatusCode::OK);
    }
    let ctx = json!({"service": "cart"});
    assert_eq!(send(&app, "POST", "/v1/context", Some(ctx), &[read]).await.0, StatusCode::OK);
    for open in ["/healthz", "/readyz", "/v1/openapi.json"] {
        assert_eq!(send(&app, "GET", open, None, &[]).await.0, StatusCode::OK, "{open}");
    }
    // A Host that is not allowed (DNS rebinding) is refused, token or not.
    let evil = ("host", "evil.example:7474");
    let (status, err, _) = send(&app, "GET", "/v1/nodes", None, &[read, evil]).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let local = ("host", "localhost:7474");
    assert_eq!(send(&app, "GET", "/v1/nodes", None, &[read, local]).await.0, StatusCode::OK);
    // A page of another site cannot drive it either, even with a token (a write from a
    // cross-site page is not audited: it never reaches the guard's scope check).
    let page = ("origin", "https://evil.example");
    let ev = json!([{"id": "x-origin", "ts": "2026-10-27T13:41:09Z", "service": "cart"}]);
    let (status, err, _) = send(&app, "POST", "/v1/events", Some(ev), &[write, page]).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let portal = ("origin", "http://127.0.0.1:7474");
    assert_eq!(send(&app, "GET", "/v1/nodes", None, &[read, portal]).await.0, StatusCode::OK);

    let audit = engine.store().audit().unwrap();
    let seen: Vec<(&str, &str, u16)> =
        audit.iter().map(|e| (e.who.as_str(), e.what.as_str(), e.status)).collect();
    assert_eq!(
        seen,
        [
            ("ci", "POST /v1/events", 200),
            ("ci", "POST /v1/events", 409),
            ("ci", "POST /v1/notes", 201)
        ]
    );
    assert!(audit.iter().all(|e| e.from == "in-process" && e.ts > 0), "{audit:?}");

    // A write token alone leaves reads open on loopback.
    let writers = Policy::new(vec![Token::new("ci", &[Scope::Write], "w")], &[], None);
    let app = lore::server::router_with_policy(engine.clone(), registry, writers);
    assert_eq!(send(&app, "GET", "/v1/nodes", None, &[]).await.0, StatusCode::OK);
    assert_eq!(send(&app, "POST", "/v1/events", event, &[]).await.0, StatusCode::UNAUTHORIZED);
}

fn raw(port: u16, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn post_event(port: u16, token: Option<&str>) -> (u16, String) {
    let body = r#"{"id": "served-1", "ts": "2026-11-01T10:00:00Z", "service": "cart"}"#;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    raw(
        port,
        &format!(
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn lore_serve_takes_tokens_from_the_environment_and_lore_audit_lists_the_writes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lore = |args: &[&str]| {
        std::process::Command::new(lore_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(lore(&["ingest", "--no-embed", org("k8s").to_str().unwrap()]).status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("LORE_TOKENS", "reader:read:r-1 deployer:write:w-1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let none = post_event(port, None);
    let reader = post_event(port, Some("r-1"));
    let writer = post_event(port, Some("w-1"));
    let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let _ = child.wait();
    assert_eq!(none.0, 401, "{}", none.1);
    assert!(none.1.contains("\"unauthorized\""), "{}", none.1);
    assert_eq!(reader.0, 403, "{}", reader.1);
    assert_eq!(writer.0, 200, "{}", writer.1);

    let out = lore(&["audit", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries[0]["what"].as_str().unwrap().starts_with("ingest "), "{audit}");
    let served = &entries[1];
    assert_eq!(
        (served["who"].as_str(), served["what"].as_str()),
        (Some("deployer"), Some("POST /v1/events"))
    );
    assert!(served["from"].as_str().unwrap().starts_with("127.0.0.1:"), "{served}");
    assert_eq!(entries.len(), 2, "{audit}");
    let text = String::from_utf8_lossy(&lore(&["audit"]).stdout).into_owned();
    assert!(text.contains("deployer POST /v1/events from 127.0.0.1:"), "{text}");
}
