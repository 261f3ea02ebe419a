//! Observed topology from traces: gen-org's exact truth (counts, quantiles within the
//! sketch's accuracy, declared flags, drift, catalog names), the real train-ticket Zipkin
//! traces against pairs computed here from the files, the Jaeger and OTLP examples, the
//! OTLP/HTTP receiver giving the same figures as file ingest, and the OpenTelemetry
//! Python SDK sending spans to a running `lore serve`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lore::Engine;
use lore::engine::ImpactRequest;
use lore::graph::{Direction, Sides};
use serde_json::Value;

use crate::support::{corpus, engine, gen_org_with, lore_bin};

fn gen_org_traces() -> PathBuf {
    gen_org_with(300, 11, &["--traces", "1500"])
}

/// Truth rows of observed_edges.tsv by (caller, callee).
fn truth(org: &Path) -> BTreeMap<(String, String), Vec<String>> {
    std::fs::read_to_string(org.join("truth/observed_edges.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<_>>())
        .map(|c| ((c[0].clone(), c[1].clone()), c))
        .collect()
}

fn observed(engine: &Engine) -> BTreeMap<(String, String), Value> {
    let view = engine.observed(None, None, None).unwrap();
    serde_json::to_value(&view).unwrap()["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            ((e["from"].as_str().unwrap().into(), e["to"].as_str().unwrap().into()), e.clone())
        })
        .collect()
}

fn within(got: &Value, want: &str) -> bool {
    let (g, w) = (got.as_f64().unwrap_or(f64::NAN), want.parse::<f64>().unwrap());
    (g - w).abs() <= 0.02 * w + 1e-3
}

#[test]
fn gen_org_traces_give_exactly_the_true_observed_edges() {
    let org = gen_org_traces();
    let (_dir, engine) = engine();
    let reports =
        engine.ingest(&[org.join("k8s"), org.join("catalog"), org.join("traces")], 1_000).unwrap();
    let summary = reports[2].traces.clone().expect("trace summary");
    eprintln!("traces: {summary:?}");
    assert_eq!(summary.unjoined.servers + summary.unjoined.clients, 0, "{summary:?}");
    let truth = truth(&org);
    let got = observed(&engine);
    let missing: Vec<_> = truth.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !truth.contains_key(*k)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
    let mut wrong = Vec::new();
    for (k, t) in &truth {
        let g = &got[k];
        let ok = g["kind"] == t[2].as_str()
            && g["declared"] == (t[3] == "yes")
            && g["requests"] == t[4].parse::<u64>().unwrap()
            && g["errors"] == t[5].parse::<u64>().unwrap()
            && within(&g["p50_ms"], &t[6])
            && within(&g["p99_ms"], &t[7])
            && g["first_seen"] == t[8].as_str()
            && g["last_seen"] == t[9].as_str();
        if !ok {
            wrong.push(format!("{k:?}: got {g} want {t:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} edges differ:\n{}",
        wrong.len(),
        truth.len(),
        wrong.join("\n")
    );

    // Drift: exactly the truth's undeclared edges are observed only.
    let drift = serde_json::to_value(engine.drift(None).unwrap()).unwrap();
    let only: BTreeSet<(String, String)> = drift["observed_only"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].as_str().unwrap().into(), e["to"].as_str().unwrap().into()))
        .collect();
    let undeclared: BTreeSet<(String, String)> =
        truth.iter().filter(|(_, t)| t[3] == "no").map(|(k, _)| k.clone()).collect();
    assert_eq!(only, undeclared);
    // The named query `drift` (an MCP tool too) answers the same.
    let registry = lore::queries::Registry::builtin();
    let answer = registry.run(&engine, "drift", &serde_json::Map::new()).unwrap();
    assert_eq!(answer.result, drift);
    assert!(answer.text.contains("3 observed edges no source declares"), "{}", answer.text);

    // Services reporting their catalog name land on the declared node.
    let ids: BTreeSet<&str> = got.keys().flat_map(|(f, t)| [f.as_str(), t.as_str()]).collect();
    let names = std::fs::read_to_string(org.join("truth/service_names.tsv")).unwrap();
    for line in names.lines().skip(1) {
        let (reported, canonical) = line.split_once('\t').unwrap();
        assert!(
            !ids.contains(format!("service:{reported}").as_str()),
            "{reported} made its own node"
        );
        let _ = canonical;
    }

    // Every edge, declared or not, is followed by impact with its side; and `show` gives
    // each observed edge of a node with its figures and side.
    let hop = |to: &str, sides: Sides| -> BTreeSet<String> {
        let req =
            ImpactRequest { depth: Some(1), sides, ..ImpactRequest::new(to, Direction::Upstream) };
        engine.impact(&req).unwrap().results.into_iter().map(|h| h.id.to_string()).collect()
    };
    for (from, to) in
        undeclared.iter().chain(truth.keys().filter(|k| truth[*k][3] == "yes").take(5))
    {
        let declared = truth[&(from.clone(), to.clone())][3] == "yes";
        assert!(hop(to, Sides::Observed).contains(from), "{from} -> {to} not followed as observed");
        assert!(hop(to, Sides::Both).contains(from), "{from} -> {to} not followed by default");
        assert_eq!(
            hop(to, Sides::Declared).contains(from),
            declared,
            "{from} -> {to} declared side"
        );
        let show = engine.show_in(from, None, Some(0), None).unwrap();
        let traffic =
            serde_json::to_value(show.traffic.expect("traffic of a traced service")).unwrap();
        let edge = traffic["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from.as_str() && e["to"] == to.as_str())
            .unwrap_or_else(|| panic!("{from} -> {to} missing from show: {traffic}"));
        let t = &truth[&(from.clone(), to.clone())];
        assert_eq!(edge["declared"], declared);
        assert_eq!(edge["requests"], t[4].parse::<u64>().unwrap());
    }
}

#[test]
fn a_service_seen_only_in_traces_is_a_node_impact_follows() {
    let (dir, engine) = engine();
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    engine.ingest(&[org.join("k8s"), org.join("catalog")], 1_000).unwrap();
    // A batch job nobody declared calls checkout (client span, then the server span).
    let t0: u64 = 1_780_000_000_000_000_000;
    let span = |id: &str, parent: &str, kind: u8, name: &str| {
        serde_json::json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": id,
            "parentSpanId": parent, "name": name, "kind": kind,
            "startTimeUnixNano": t0.to_string(), "endTimeUnixNano": (t0 + 5_000_000).to_string()})
    };
    let resource = |service: &str, spans: Vec<Value>| {
        serde_json::json!({"resource": {"attributes": [{"key": "service.name",
            "value": {"stringValue": service}}]}, "scopeSpans": [{"spans": spans}]})
    };
    let body = serde_json::json!({"resourceSpans": [
        resource("nightly-reconciler", vec![span("eee19b7ec3c1b174", "", 3, "POST /checkout")]),
        resource("checkout", vec![span("eee19b7ec3c1b175", "eee19b7ec3c1b174", 2, "POST /checkout")]),
    ]});
    let traces = dir.path().join("traces");
    std::fs::create_dir_all(&traces).unwrap();
    std::fs::write(traces.join("batch.json"), body.to_string()).unwrap();
    engine.ingest(&[traces], 2_000).unwrap();

    let show = engine.show("nightly-reconciler", None).unwrap();
    assert_eq!(show.node.id.to_string(), "service:nightly-reconciler");
    assert_eq!(show.node.attrs.get("observed_only").map(String::as_str), Some("true"));
    assert_eq!(show.identity[0].source, "traces", "{:?}", show.identity);
    assert!(show.edges_out.iter().any(|e| e.observed && e.to.to_string() == "service:checkout"));
    let up = |sides| {
        let req = ImpactRequest { sides, ..ImpactRequest::new("checkout", Direction::Upstream) };
        engine
            .impact(&req)
            .unwrap()
            .results
            .into_iter()
            .map(|h| h.id.to_string())
            .collect::<Vec<_>>()
    };
    assert!(up(Sides::Both).contains(&"service:nightly-reconciler".to_string()));
    assert!(up(Sides::Observed).contains(&"service:nightly-reconciler".to_string()));
    assert!(!up(Sides::Declared).contains(&"service:nightly-reconciler".to_string()));
    let hit = engine
        .impact(&ImpactRequest::new("checkout", Direction::Upstream))
        .unwrap()
        .results
        .into_iter()
        .find(|h| h.id.to_string() == "service:nightly-reconciler")
        .unwrap();
    assert_eq!(hit.path[0].evidence[0].locator, "trace 5b8efff798038103d269b633813fc60c");
    // Checkout's own page shows the caller as observed only.
    let checkout = serde_json::to_value(engine.show("checkout", None).unwrap()).unwrap();
    let edges = checkout["traffic"]["edges"].as_array().unwrap();
    assert!(
        edges.iter().any(|e| e["from"] == "service:nightly-reconciler" && e["declared"] == false)
    );
    assert_eq!(checkout["traffic"]["red"]["requests"], 1);
}

fn post(app: &axum::Router, body: Vec<u8>, content_type: &str, gzip: bool) -> (u16, Vec<u8>) {
    use std::io::Write;
    let body = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&body).unwrap();
        enc.finish().unwrap()
    } else {
        body
    };
    let mut req = axum::http::Request::post("/v1/traces").header("content-type", content_type);
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let res = tower::ServiceExt::oneshot(
            app.clone(),
            req.body(axum::body::Body::from(body)).unwrap(),
        )
        .await
        .unwrap();
        let status = res.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        (status, bytes.to_vec())
    })
}

#[test]
fn the_otlp_receiver_gives_the_same_figures_as_the_files() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    let org = gen_org_traces();
    let (_a, files) = engine();
    let reports =
        files.ingest(&[org.join("k8s"), org.join("catalog"), org.join("traces")], 1_000).unwrap();
    let file_summary = reports[2].traces.clone().expect("trace summary");
    let (_b, received) = engine();
    received.ingest(&[org.join("k8s"), org.join("catalog")], 1_000).unwrap();
    let received = Arc::new(received);
    let app = lore::server::router(received.clone());
    let mut batches: Vec<PathBuf> =
        std::fs::read_dir(org.join("traces")).unwrap().map(|e| e.unwrap().path()).collect();
    batches.sort();
    for (i, batch) in batches.iter().enumerate() {
        let json = std::fs::read(batch).unwrap();
        let (status, body) = if i % 2 == 0 {
            let req: ExportTraceServiceRequest = serde_json::from_slice(&json).unwrap();
            post(&app, prost::Message::encode_to_vec(&req), "application/x-protobuf", i % 4 == 0)
        } else {
            post(&app, json, "application/json", i % 3 == 0)
        };
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    let strip = |mut m: BTreeMap<(String, String), Value>| {
        for e in m.values_mut() {
            e.as_object_mut().unwrap().remove("evidence");
        }
        m
    };
    let (got, want) = (strip(observed(&received)), strip(observed(&files)));
    let differ: Vec<String> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k:?}: received {:?}, files {v}", got.get(k)))
        .chain(
            got.keys().filter(|k| !want.contains_key(*k)).map(|k| format!("{k:?}: only received")),
        )
        .collect();
    assert!(
        differ.is_empty(),
        "{} of {} edges differ:\n{}",
        differ.len(),
        want.len(),
        differ[..differ.len().min(5)].join("\n")
    );

    // Bad payloads: 400, 415, and JSON errors.
    let (status, body) =
        post(&app, b"not protobuf at all".to_vec(), "application/x-protobuf", false);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, _) = post(&app, b"{}".to_vec(), "text/plain", false);
    assert_eq!(status, 415);
    // A span without a valid id is rejected and said so.
    let bad = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"x"}}]},"scopeSpans":[{"spans":[{"traceId":"0102","spanId":"01","name":"n"}]}]}]}"#;
    let (status, body) = post(&app, bad.to_vec(), "application/json", false);
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], 1, "{answer}");

    // /metrics counts what the receiver read and what it could not join.
    let metrics = metrics(&app);
    let value = |name: &str| -> u64 {
        let line =
            metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("lore_otlp_spans_total "), file_summary.spans, "{metrics}");
    assert_eq!(value("lore_otlp_spans_rejected_total "), 1);
    assert_eq!(
        value("lore_otlp_spans_unjoined_total{side=\"server\"} "),
        file_summary.unjoined.servers
    );
}

fn metrics(app: &axum::Router) -> String {
    use tower::ServiceExt;
    let req = axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let res = app.clone().oneshot(req).await.unwrap();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    })
}

/// Caller → callee service pairs of Zipkin v1 spans, read here from the files: a span
/// whose client annotations (cs/cr) and server annotations (sr/ss) name two services.
fn zipkin_pairs(dir: &Path) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for entry in walkdir::WalkDir::new(dir).into_iter().filter_map(Result::ok) {
        if entry.path().extension().is_none_or(|e| e != "json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        let spans: Vec<&Value> = v
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| match s.as_array() {
                Some(trace) => trace.iter().collect(),
                None => vec![s],
            })
            .collect();
        for s in spans {
            let side = |vals: [&str; 2]| {
                s["annotations"].as_array().into_iter().flatten().find_map(|a| {
                    vals.contains(&a["value"].as_str()?)
                        .then(|| a["endpoint"]["serviceName"].as_str())?
                })
            };
            if let (Some(c), Some(srv)) = (side(["cs", "cr"]), side(["sr", "ss"]))
                && c != srv
            {
                pairs.insert((format!("service:{c}"), format!("service:{srv}")));
            }
        }
    }
    pairs
}

#[test]
fn train_ticket_zipkin_traces_yield_exactly_their_call_pairs() {
    let dir = corpus("traces/train-ticket-zipkin");
    let topology = corpus("topology/train-ticket");
    let (_d, engine) = engine();
    let reports = engine.ingest(&[topology.clone(), dir.clone()], 1_000).unwrap();
    let summary = reports[1].traces.clone().unwrap();
    let want = zipkin_pairs(&dir);
    let got: BTreeSet<(String, String)> = observed(&engine).into_keys().collect();
    assert_eq!(got, want);
    let declared: BTreeSet<(String, String)> = std::fs::read_to_string(topology.join("EDGES.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some((format!("service:{}", c.first()?), format!("service:{}", c.get(1)?)))
        })
        .collect();
    let in_truth = got.intersection(&declared).count();
    let flagged = observed(&engine).values().filter(|e| e["declared"] == true).count();
    eprintln!(
        "train-ticket zipkin: {} spans, {} call pairs; {in_truth} of them in EDGES.tsv, {flagged} declared by the ingested topology",
        summary.spans,
        got.len()
    );
    for pair in got.difference(&declared) {
        eprintln!("  observed, not in EDGES.tsv: {} -> {}", pair.0, pair.1);
    }
}

#[test]
fn jaeger_and_otlp_examples_ingest_with_their_counts() {
    let (_d, engine) = engine();
    let reports = engine
        .ingest(&[corpus("traces/jaeger-fixtures"), corpus("traces/otlp-proto-examples")], 1_000)
        .unwrap();
    let jaeger = reports[0].traces.clone().unwrap();
    let otlp = reports[1].traces.clone().unwrap();
    // example_trace.json (OTLP, 5 spans, 3 services), otlp2jaeger-in.json (OTLP, 2 spans)
    // and otlp2jaeger-out.json (Jaeger, the same 2 spans) of one service `telemetrygen`.
    assert_eq!((jaeger.files, jaeger.spans, jaeger.services), (3, 9, 4), "{jaeger:?}");
    assert_eq!((otlp.files, otlp.spans, otlp.services), (1, 1, 1), "{otlp:?}");
    // No span's parent is in another service: no edges, and what waited is counted.
    assert!(observed(&engine).is_empty());
    assert_eq!(jaeger.unjoined.clients + jaeger.unjoined.servers, 2, "{jaeger:?}");
}

#[test]
fn the_opentelemetry_python_sdk_sends_spans_to_lore_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    let out = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "--no-embed"])
        .args(["k8s", "catalog"].map(|p| org.join(p)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("LORE_TOKENS", "otel:write:otel-test-token")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = Command::new(crate::mcp::python())
        .arg("tests/otel_client.py")
        .arg(format!("http://127.0.0.1:{port}/v1/traces"))
        .arg("25")
        .env("LORE_TOKEN", "otel-test-token")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let _ = child.wait();
    assert!(
        sent.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&sent.stdout),
        String::from_utf8_lossy(&sent.stderr)
    );
    let out = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["observed", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    let edge = |from: &str, to: &str| {
        view["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .cloned()
    };
    let call = edge("service:checkout", "service:payment").unwrap_or_else(|| panic!("{view}"));
    assert_eq!((call["requests"].as_u64(), call["errors"].as_u64()), (Some(25), Some(5)), "{call}");
    assert_eq!(call["declared"], true, "{call}");
    let db = edge("service:checkout", "datastore:orders-db").unwrap_or_else(|| panic!("{view}"));
    assert_eq!(db["requests"], 25, "{db}");
}
