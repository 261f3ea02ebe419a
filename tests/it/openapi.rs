//! `/v1/openapi.json` against the server: the route table (`lore::server::ROUTES`, which
//! builds the router) and the document list the same paths and methods; the enums agree
//! with the Rust types; `openapi-spec-validator` accepts the document; and a request of
//! each route and method, plus the errors that are cheap to provoke (400, 404, 405, 413,
//! 414, 415, 422), answers with a status the document lists for it and a body that
//! validates against that response's schema (`tests/openapi_check.py`, in `.venv`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use lore::server::{MAX_BODY_BYTES, MAX_URI_BYTES, MOUNTED, ROUTES};
use serde_json::{Value, json};
use tower::ServiceExt;

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A request body: none, JSON, or bytes with their content type.
enum Payload {
    Empty,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

/// The captured responses, as `tests/openapi_check.py` reads them.
struct Capture {
    app: axum::Router,
    cases: Vec<Value>,
}

impl Capture {
    /// Sends `method uri` (the route `path`, `None` for no route), checks the status is
    /// `expect`, records the response and returns its body.
    async fn hit(
        &mut self,
        path: Option<&str>,
        method: &str,
        uri: &str,
        body: Payload,
        expect: u16,
    ) -> Value {
        self.hit_with(path, method, uri, body, expect, &[]).await
    }

    /// [`Capture::hit`] with more request headers.
    async fn hit_with(
        &mut self,
        path: Option<&str>,
        method: &str,
        uri: &str,
        body: Payload,
        expect: u16,
        headers: &[(&str, &str)],
    ) -> Value {
        let mut req = Request::builder().method(method.to_uppercase().as_str()).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Payload::Empty => req.body(Body::empty()),
            Payload::Json(v) => {
                req.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string()))
            }
            Payload::Raw(ct, bytes) => req.header(header::CONTENT_TYPE, ct).body(Body::from(bytes)),
        };
        let res = self.app.clone().oneshot(req.unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let content_type =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if content_type.starts_with("application/json") {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {uri}: {e}: {text}"))
        } else {
            Value::String(text)
        };
        let shown: String = body.to_string().chars().take(400).collect();
        assert_eq!(status, expect, "{method} {} answered {shown}", &uri[..uri.len().min(120)]);
        if status == 405 {
            assert!(headers.contains_key(header::ALLOW), "{method} {uri}: 405 without Allow");
        }
        let case = json!({"path": path, "method": method, "status": status,
                          "content_type": content_type, "body": body});
        self.cases.push(case);
        body
    }

    async fn get(&mut self, path: &str, uri: &str, expect: u16) -> Value {
        self.hit(Some(path), "get", uri, Payload::Empty, expect).await
    }
}

fn served() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .chain(MOUNTED)
        .flat_map(|r| r.methods.iter().map(|m| (r.path.to_string(), m.to_string())))
        .collect()
}

fn spec() -> Value {
    serde_json::from_str(include_str!("../../src/server/openapi.json")).unwrap()
}

#[test]
fn the_route_table_and_the_document_list_the_same_routes() {
    let spec = spec();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                documented.insert((path.clone(), method.clone()));
                for status in ["405", "414"] {
                    assert!(op["responses"][status].is_object(), "{method} {path}: no {status}");
                }
            }
        }
    }
    let responses = &spec["components"]["responses"];
    let too_large = responses["PayloadTooLarge"]["description"].as_str().unwrap();
    assert!(too_large.contains(&format!("{} MiB", MAX_BODY_BYTES >> 20)), "{too_large}");
    let too_long = responses["UriTooLong"]["description"].as_str().unwrap();
    assert!(too_long.contains(&format!("{} KiB", MAX_URI_BYTES >> 10)), "{too_long}");
    let served = served();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "served but not in openapi.json: {undocumented:?}");
    assert!(unserved.is_empty(), "in openapi.json but not served: {unserved:?}");
}

#[test]
fn the_document_enums_are_the_rust_enums() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let listed = |v: &Value| -> Vec<String> {
        v["enum"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    };
    let names = |all: Vec<&str>| -> Vec<String> { all.into_iter().map(String::from).collect() };
    let node = &schemas["Node"]["properties"];
    use lore_schema::{DatastoreType, EdgeKind, NodeKind, Role};
    assert_eq!(listed(&node["kind"]), names(NodeKind::ALL.iter().map(|k| k.as_str()).collect()));
    assert_eq!(
        listed(&schemas["Edge"]["properties"]["kind"]),
        names(EdgeKind::ALL.iter().map(|k| k.as_str()).collect())
    );
    assert_eq!(
        listed(&node["datastore"]),
        names(DatastoreType::ALL.iter().map(|k| k.as_str()).collect())
    );
    assert_eq!(listed(&node["role"]), names(Role::ALL.iter().map(|k| k.as_str()).collect()));
}

/// Runs the checker on `cases`: the spec validator's error, and one verdict per case.
fn check(spec: &Value, cases: &[Value]) -> (Option<String>, Vec<Option<String>>) {
    let python = repo(".venv/bin/python");
    assert!(python.is_file(), "{} is missing: run `bash scripts/setup`", python.display());
    let dir = tempfile::tempdir().unwrap();
    let (spec_file, cases_file) = (dir.path().join("openapi.json"), dir.path().join("cases.json"));
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    std::fs::write(&cases_file, Value::from(cases.to_vec()).to_string()).unwrap();
    let out = std::process::Command::new(python)
        .arg(repo("tests/openapi_check.py"))
        .arg(&spec_file)
        .arg(&cases_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "openapi_check.py: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = |v: &Value| v.as_str().map(String::from);
    (text(&report["spec"]), report["results"].as_array().unwrap().iter().map(text).collect())
}

/// `path` with each `{param}` replaced by `x`.
fn concrete(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "x" } else { s }).collect::<Vec<_>>().join("/")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_as_the_document_says() {
    let (_dir, engine) = crate::support::engine();
    let parts = ["k8s", "catalog", "alerts", "runbooks", "postmortems", "deploys"];
    let paths: Vec<PathBuf> = parts.map(|p| repo("examples/org").join(p)).into();
    engine.ingest(&paths, 1_000).unwrap();
    let engine = Arc::new(engine);
    let mut c = Capture { app: lore::server::router(engine.clone()), cases: Vec::new() };

    let spec = c.get("/v1/openapi.json", "/v1/openapi.json", 200).await;
    assert_eq!(spec, self::spec(), "the served document is openapi.json");
    c.get("/", "/", 200).await;
    c.get("/healthz", "/healthz", 200).await;
    c.get("/readyz", "/readyz", 200).await;

    // Nodes, impact, path.
    let postmortems = c.get("/v1/nodes", "/v1/nodes?kind=postmortem", 200).await;
    let postmortem = postmortems["nodes"][0]["id"].as_str().unwrap().replace('/', "%2F");
    let runbooks = c.get("/v1/nodes", "/v1/nodes?kind=runbook&q=check", 200).await;
    let runbook = runbooks["nodes"][0]["id"].as_str().unwrap().replace('/', "%2F");
    c.get("/v1/nodes", "/v1/nodes?q=a&q=b", 400).await;
    let show = "/v1/nodes/{node}";
    let pm = c.get(show, &format!("/v1/nodes/{postmortem}"), 200).await;
    assert!(pm["document"]["postmortem"].is_object(), "{pm}");
    c.get(show, &format!("/v1/nodes/{runbook}"), 200).await;
    c.get(show, "/v1/nodes/nope", 404).await;
    c.get(show, "/v1/nodes/checkout?at=someday", 400).await;
    c.get(show, "/v1/nodes/%FF", 400).await;

    // Portal pages (HTML), their assets, and their HTML errors.
    c.get("/", "/?q=payment%20timeouts", 200).await;
    c.get("/search", "/search?q=card%20processor%20slow&kind=runbook&team=team-storefront", 200)
        .await;
    c.get("/search", "/search?q=timeouts&fragment=1", 200).await;
    c.get("/search", "/search?q=a&q=b", 400).await;
    c.get("/docs/{id}", &format!("/docs/{runbook}"), 200).await;
    c.get("/docs/{id}", &format!("/docs/{postmortem}"), 200).await;
    c.get("/docs/{id}", "/docs/runbook%3Anope", 404).await;
    c.get("/docs/{id}", "/docs/%FF", 400).await;
    c.get("/services", "/services?kind=all&q=check", 200).await;
    c.get("/services", "/services?kind=a&kind=b", 400).await;
    c.get("/services/{name}", "/services/payment", 200).await;
    c.get("/services/{name}", "/services/orders-db?depth=3", 200).await;
    c.get("/services/{name}", "/services/payment?depth=deep", 400).await;
    c.get("/services/{name}", "/services/nope", 404).await;
    let incident = "/incident?service=checkout&at=2026-10-27T13:55:00Z";
    c.get("/incident", incident, 200).await;
    c.get("/incident", "/incident?service=checkout&at=someday", 400).await;
    c.get("/incident", "/incident?service=nope", 404).await;
    c.get("/portal/style.css", "/portal/style.css", 200).await;
    c.get("/portal/app.js", "/portal/app.js", 200).await;
    c.get("/favicon.svg", "/favicon.svg", 200).await;
    c.hit_with(None, "get", "/nowhere", Payload::Empty, 404, &[("accept", "text/html")]).await;
    let impact = "/v1/impact";
    c.get(impact, "/v1/impact?node=checkout&direction=upstream", 200).await;
    c.get(impact, "/v1/impact?node=checkout&direction=downstream&include_plumbing=true", 200).await;
    c.get(impact, "/v1/impact?node=checkout&direction=sideways", 400).await;
    c.get(impact, "/v1/impact?node=checkout&direction=upstream&depth=deep", 400).await;
    c.get(impact, "/v1/impact?node=nope&direction=upstream", 404).await;
    c.get("/v1/path", "/v1/path?from=frontend&to=orders-db", 200).await;
    c.get("/v1/path", "/v1/path?from=orders-db&to=frontend", 200).await;
    c.get("/v1/path", "/v1/path?from=frontend", 400).await;

    // Changes, diff, events.
    let window = "since=2026-10-27T12:00:00Z&until=2026-10-27T14:30:00Z";
    c.get("/v1/changes", &format!("/v1/changes?node=checkout&{window}"), 200).await;
    c.get("/v1/changes", "/v1/changes?node=nope", 404).await;
    c.get("/v1/diff", "/v1/diff?since=2026-01-01", 200).await;
    c.get("/v1/diff", "/v1/diff", 400).await;
    let event = json!({"id": "chg-9001", "ts": "2026-11-01T10:00:00Z", "service": "cart",
                       "kind": "config", "description": "raise the cart cache TTL"});
    let events = Some("/v1/events");
    c.hit(events, "post", "/v1/events", Payload::Json(json!([event])), 200).await;
    c.hit(events, "post", "/v1/events", Payload::Json(json!({"id": "x"})), 400).await;
    c.hit(events, "post", "/v1/events", Payload::Raw("application/json", b"{".to_vec()), 400).await;
    c.hit(events, "post", "/v1/events", Payload::Raw("text/plain", b"{}".to_vec()), 415).await;
    let changed = json!({"id": "chg-9001", "ts": "2026-11-01T10:00:00Z", "service": "cart",
                         "kind": "config", "description": "lower the cart cache TTL"});
    c.hit(events, "post", "/v1/events", Payload::Json(changed), 409).await;
    let mut huge = br#"[{"id": ""#.to_vec();
    huge.resize(MAX_BODY_BYTES + 1, b'x');
    c.hit(events, "post", "/v1/events", Payload::Raw("application/json", huge), 413).await;

    // Ingest: an absolute path already ingested (nothing changes), a relative one.
    let ingest = Some("/v1/ingest");
    let deploys = repo("examples/org/deploys").display().to_string();
    let body = json!({"paths": [deploys], "no_embed": true});
    let answer = c.hit(ingest, "post", "/v1/ingest", Payload::Json(body.clone()), 200).await;
    assert_eq!(answer["sources"][0]["added"], 0, "{answer}");
    let relative = json!({"paths": ["examples/org/deploys"]});
    c.hit(ingest, "post", "/v1/ingest", Payload::Json(relative), 400).await;

    // Search.
    let search = "/v1/search";
    c.get(search, "/v1/search?q=payment%20provider%20timeouts&mode=bm25", 200).await;
    c.get(search, "/v1/search?q=%20", 400).await;
    c.get(search, "/v1/search?q=timeouts&mode=bm25&service=nope", 404).await;

    // Context bundles and more.
    let context = Some("/v1/context");
    let ask = json!({"service": "checkout", "alert": "CheckoutHighErrorRate",
                     "at": "2026-10-28T12:00:00Z", "window": "14d", "budget_tokens": 1000});
    let bundle = c.hit(context, "post", "/v1/context", Payload::Json(ask.clone()), 200).await;
    let md = c.hit(context, "post", "/v1/context?format=markdown", Payload::Json(ask), 200).await;
    assert!(md.is_string(), "{md}");
    let unknown = json!({"alerts": [{"status": "firing", "startsAt": "2026-10-27T13:55:00Z",
        "labels": {"alertname": "DiskFull", "instance": "10.1.2.3:9100"}}]});
    c.hit(context, "post", "/v1/context", Payload::Json(unknown), 422).await;
    c.hit(context, "post", "/v1/context", Payload::Json(json!({"service": 5})), 400).await;
    c.hit(context, "post", "/v1/context", Payload::Json(json!({"service": "nope"})), 404).await;
    c.hit(context, "post", "/v1/context", Payload::Raw("text/plain", b"{}".to_vec()), 415).await;
    let bundle_id = bundle["bundle_id"].as_str().unwrap().to_string();
    let more = bundle["more"].as_object().unwrap();
    assert!(more.len() >= 2, "a small budget leaves more in several sections: {more:?}");
    let route = "/v1/context/{bundle_id}/more";
    for (section, m) in more {
        let cursor = m["cursor"].as_str().unwrap();
        let uri = format!("/v1/context/{bundle_id}/more?section={section}&cursor={cursor}");
        c.get(route, &uri, 200).await;
    }
    c.get(route, &format!("/v1/context/{bundle_id}/more?section=nonsense"), 400).await;
    c.get(route, "/v1/context/service:x@1~00/more?section=changes", 404).await;

    // Notes and feedback.
    let notes = Some("/v1/notes");
    let note = json!({"node": "checkout", "text": "PSP timeouts: check the payment pool first",
                      "author": "ana", "tags": ["payments"]});
    let note = c.hit(notes, "post", "/v1/notes", Payload::Json(note), 201).await;
    c.hit(notes, "post", "/v1/notes", Payload::Json(json!({"node": "checkout"})), 422).await;
    c.hit(notes, "post", "/v1/notes", Payload::Json(json!({"node": "nope", "text": "x"})), 404)
        .await;
    c.get("/v1/notes", "/v1/notes?all=true", 200).await;
    c.get("/v1/notes", "/v1/notes?node=nope", 404).await;
    let shown = c.get(show, "/v1/nodes/checkout", 200).await;
    assert!(shown["notes"].is_array(), "{shown}");
    let fb = Some("/v1/feedback");
    let verdict = json!({"bundle_id": bundle_id, "item": "chg-0412", "verdict": "useful"});
    let feedback = c.hit(fb, "post", "/v1/feedback", Payload::Json(verdict), 201).await;
    let wrong = json!({"focus": "checkout", "item": "chg-0412", "verdict": "meh"});
    c.hit(fb, "post", "/v1/feedback", Payload::Json(wrong), 400).await;
    c.hit(fb, "post", "/v1/feedback", Payload::Json(json!({"verdict": 1})), 422).await;
    c.get("/v1/feedback", "/v1/feedback", 200).await;
    let (note_id, fb_id) = (note["id"].as_str().unwrap(), feedback["id"].as_str().unwrap());
    let (fb_route, note_route) = (Some("/v1/feedback/{id}"), Some("/v1/notes/{id}"));
    c.hit(fb_route, "delete", &format!("/v1/feedback/{fb_id}"), Payload::Empty, 200).await;
    c.hit(fb_route, "delete", "/v1/feedback/fb-0", Payload::Empty, 404).await;
    c.hit(note_route, "delete", &format!("/v1/notes/{note_id}"), Payload::Empty, 200).await;
    c.hit(note_route, "delete", "/v1/notes/note-0", Payload::Empty, 404).await;

    // Named queries.
    let list = c.get("/v1/queries", "/v1/queries", 200).await;
    assert!(list["queries"].as_array().is_some_and(|q| q.len() >= 10), "{list}");
    let run = Some("/v1/queries/{name}");
    let params = json!({"service": "orders-db", "limit": 3});
    c.hit(run, "post", "/v1/queries/blast_radius", Payload::Json(params), 200).await;
    c.hit(run, "post", "/v1/queries/owners", Payload::Json(json!({"service": "nope"})), 404).await;
    c.hit(run, "post", "/v1/queries/nope", Payload::Json(json!({})), 404).await;
    c.hit(run, "post", "/v1/queries/owners", Payload::Json(json!({"colour": "red"})), 400).await;
    c.hit(run, "post", "/v1/queries/owners", Payload::Json(json!([1])), 400).await;
    c.hit(run, "post", "/v1/queries/owners", Payload::Raw("text/plain", b"{}".to_vec()), 415).await;

    // Traces: the OTLP/HTTP receiver, observed edges, drift.
    let traces = Some("/v1/traces");
    let otlp = json!({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"spans": [{"traceId": "0102030405060708090a0b0c0d0e0f10",
            "spanId": "0102030405060708", "name": "GET", "kind": 3,
            "startTimeUnixNano": "1793109300000000000", "endTimeUnixNano": "1793109300050000000",
            "attributes": [{"key": "db.system.name", "value": {"stringValue": "postgresql"}},
                           {"key": "server.address", "value": {"stringValue": "orders-db"}}]}]}]}]});
    c.hit(traces, "post", "/v1/traces", Payload::Json(otlp), 200).await;
    c.hit(traces, "post", "/v1/traces", Payload::Json(json!({"resourceSpans": 5})), 400).await;
    c.hit(traces, "post", "/v1/traces", Payload::Raw("text/plain", b"{}".to_vec()), 415).await;
    let seen = c.get("/v1/observed", "/v1/observed?node=checkout", 200).await;
    assert_eq!(seen["edges"][0]["to"], "datastore:orders-db", "{seen}");
    c.get("/v1/observed", "/v1/observed?node=nope", 404).await;
    c.get("/v1/observed", "/v1/observed?since=someday", 400).await;
    c.get("/v1/drift", "/v1/drift?since=2026-01-01", 200).await;
    c.get("/v1/drift", "/v1/drift?since=someday", 400).await;

    // MCP: a JSON-RPC initialize; a page from another origin is refused.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "openapi-test", "version": "1"}}});
    let mcp = Some("/mcp");
    let accept = ("accept", "application/json, text/event-stream");
    let host = ("host", "127.0.0.1:7474");
    let answer =
        c.hit_with(mcp, "post", "/mcp", Payload::Json(init.clone()), 200, &[accept, host]).await;
    assert_eq!(answer["result"]["serverInfo"]["name"], "lore", "{answer}");
    let evil = ("origin", "http://evil.example:7474");
    c.hit_with(mcp, "post", "/mcp", Payload::Json(init.clone()), 403, &[accept, host, evil]).await;
    c.hit_with(mcp, "post", "/mcp", Payload::Json(init), 403, &[accept, ("host", "evil.example")])
        .await;

    // With tokens configured: no token (401), a token without the scope (403), a Host
    // that is not allowed (403).
    let tokens = vec![lore::auth::Token::new("agent", &[lore::auth::Scope::Read], "read-token")];
    let policy = lore::auth::Policy::new(tokens, &[], None);
    let registry = Arc::new(lore::queries::Registry::builtin());
    let open = std::mem::replace(
        &mut c.app,
        lore::server::router_with_policy(engine.clone(), registry, policy),
    );
    let read = ("authorization", "Bearer read-token");
    let event = Payload::Json(json!([event]));
    c.hit(events, "post", "/v1/events", event, 401).await;
    let event =
        Payload::Json(json!({"id": "chg-9002", "ts": "2026-11-01T10:00:00Z", "service": "cart"}));
    c.hit_with(events, "post", "/v1/events", event, 403, &[read]).await;
    c.hit(ingest, "post", "/v1/ingest", Payload::Json(body.clone()), 401).await;
    c.hit_with(ingest, "post", "/v1/ingest", Payload::Json(body), 403, &[read]).await;
    let note = Payload::Json(json!({"node": "checkout", "text": "x"}));
    c.hit_with(notes, "post", "/v1/notes", note, 403, &[read]).await;
    c.hit(note_route, "delete", "/v1/notes/note-0", Payload::Empty, 401).await;
    let verdict = Payload::Json(json!({"focus": "checkout", "item": "x", "verdict": "useful"}));
    c.hit_with(fb, "post", "/v1/feedback", verdict, 403, &[read]).await;
    c.hit_with(fb_route, "delete", "/v1/feedback/fb-0", Payload::Empty, 403, &[read]).await;
    c.get("/v1/nodes", "/v1/nodes", 401).await;
    c.hit_with(
        Some("/v1/nodes"),
        "get",
        "/v1/nodes",
        Payload::Empty,
        403,
        &[read, ("host", "evil.example")],
    )
    .await;
    c.hit_with(Some("/healthz"), "get", "/healthz", Payload::Empty, 200, &[]).await;
    c.app = open;

    // Every route: an unserved method (405) and a long URI (414); then no route at all.
    let pad = "a".repeat(MAX_URI_BYTES);
    for route in ROUTES {
        let uri = concrete(route.path);
        c.hit(Some(route.path), "put", &uri, Payload::Empty, 405).await;
        c.hit(Some(route.path), route.methods[0], &format!("{uri}?q={pad}"), Payload::Empty, 414)
            .await;
    }
    c.hit(None, "get", "/v1/nowhere", Payload::Empty, 404).await;
    c.get("/metrics", "/metrics", 200).await;

    // Each route and method answered with success at least once.
    let succeeded: BTreeSet<(String, String)> = c
        .cases
        .iter()
        .filter(|case| case["status"].as_u64().is_some_and(|s| (200..300).contains(&s)))
        .map(|case| {
            (case["path"].as_str().unwrap().into(), case["method"].as_str().unwrap().into())
        })
        .collect();
    let missed: Vec<_> = served().difference(&succeeded).cloned().collect();
    assert!(missed.is_empty(), "no successful request of {missed:?}");

    // Answers the checker must reject, so it is known to be able to fail.
    let wrong = [
        json!({"path": "/v1/impact", "method": "get", "status": 200,
               "content_type": "application/json", "body": {"node": "service:x"}}),
        json!({"path": "/v1/nodes/{node}", "method": "get", "status": 404,
               "content_type": "application/json",
               "body": {"error": {"code": "bad_request", "message": "x"}}}),
        json!({"path": "/healthz", "method": "get", "status": 418,
               "content_type": "application/json", "body": {"status": "ok"}}),
        json!({"path": "/metrics", "method": "get", "status": 200,
               "content_type": "application/json", "body": "x"}),
        json!({"path": "/v1/undocumented", "method": "get", "status": 200,
               "content_type": "application/json", "body": {}}),
    ];
    let n = c.cases.len();
    c.cases.extend(wrong);
    let (spec_error, verdicts) = check(&spec, &c.cases);
    assert_eq!(spec_error, None, "openapi-spec-validator rejects the document");
    let failures: Vec<String> = c.cases[..n]
        .iter()
        .zip(&verdicts)
        .filter_map(|(case, v)| {
            v.as_ref()
                .map(|why| format!("{} {} {}: {why}", case["method"], case["path"], case["status"]))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} answers do not match the document:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for (case, verdict) in c.cases[n..].iter().zip(&verdicts[n..]) {
        assert!(verdict.is_some(), "the checker accepted a wrong answer: {case}");
    }
    // And a document the spec validator must reject.
    let mut broken = spec.clone();
    broken["paths"]["/healthz"]["get"]["responses"]["200"]["description"].take();
    assert!(check(&broken, &[]).0.is_some(), "openapi-spec-validator accepted a broken document");
}
