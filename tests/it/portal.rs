//! The portal: pages over the example org through the router (escaping, sanitising,
//! staleness, HTML errors, server time), and the whole journey in headless Chromium
//! (tests/browser/portal.mjs with playwright-core and axe-core, from scripts/setup).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::mcp::{Server, free_port, ingest_example};
use crate::support::lore_bin;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A runbook that tries to run script three ways and names a service nobody declares.
const EVIL: &str = "---\ntype: runbook\ntitle: Zanzibarquux ledger recovery\nservice: ledger-legacy\n---\n\
# Zanzibarquux ledger recovery\n\n## Steps\n\n<script>window.pwned = 1; alert('script')</script>\n\n\
<img src=\"x\" onerror=\"window.pwned = 1; alert('onerror')\">\n\n\
[click](javascript:alert('link'))\n\n```sh\nkubectl rollout restart deploy/ledger\n```\n";

async fn get(app: &axum::Router, uri: &str, accept: &str) -> (StatusCode, String, String) {
    let req = Request::builder().uri(uri).header(header::ACCEPT, accept).body(Body::empty());
    let res = app.clone().oneshot(req.unwrap()).await.unwrap();
    let status = res.status();
    let ct = res.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, ct.unwrap_or_default(), String::from_utf8_lossy(&bytes).into_owned())
}

/// The page of the example org's payment runbook (ids name a file below its ingest
/// root's own name, however the root was typed).
fn payment_runbook_page() -> String {
    format!("/docs/{}", enc("runbook:runbooks/payment-provider-timeouts.md"))
}

fn example_engine() -> (tempfile::TempDir, lore::Engine) {
    let (dir, engine) = crate::support::engine();
    let parts = ["k8s", "catalog", "alerts", "runbooks", "postmortems", "deploys"];
    let paths: Vec<PathBuf> = parts.map(|p| root().join("examples/org").join(p)).into();
    engine.ingest(&paths, 1_000).unwrap();
    (dir, engine)
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_link_escape_and_answer_html_errors() {
    let (_dir, engine) = example_engine();
    let app = lore::server::router(Arc::new(engine));
    let html = "text/html";

    let (status, ct, body) =
        get(&app, "/search?q=the%20card%20processor%20is%20slow&fragment=1", html).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(body.contains("<mark>") && !body.contains("**"), "{body}");
    let first = body.split("class=\"hit-link\"").nth(1).unwrap_or_default();
    assert!(first.contains("Payment authorisations time out"), "{body}");
    let (_, _, body) = get(&app, "/search?q=zzqx%20vvyw%20kkpl", html).await;
    assert!(body.contains("No good match"), "{body}");

    let (status, _, body) = get(&app, &payment_runbook_page(), html).await;
    assert_eq!(status, 200, "{body}");
    for want in ["Diagnosis", "Mitigation", "href=\"/services/payment\"", "<pre><code", "Contents"]
    {
        assert!(body.contains(want), "{want} missing from the document page");
    }
    assert!(!body.contains("Possibly stale"), "the payment runbook names live things");

    let (status, _, body) = get(&app, "/services/payment", html).await;
    assert_eq!(status, 200);
    for want in ["<svg", "team-storefront", "Recent changes", "Blast radius", "chg-0412"] {
        assert!(body.contains(want), "{want} missing from the service page");
    }
    let (status, _, body) = get(&app, "/services/orders-db?depth=1", html).await;
    assert_eq!(status, 200);
    assert!(body.contains("n-datastore n-focus") || body.contains("n-focus n-datastore"), "{body}");
    let (status, _, body) = get(&app, "/services?kind=all", html).await;
    assert_eq!(status, 200);
    assert!(body.contains("href=\"/services/checkout\""), "{body}");
    let incident = "/incident?alert=CheckoutHighErrorRate&service=checkout&at=2026-10-27T13:55:00Z";
    let (status, _, body) = get(&app, incident, html).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Suspects") && body.contains("href=\"/services/payment\""), "{body}");

    // HTML errors for pages, JSON for the API, whatever the browser accepts.
    let (status, ct, body) = get(&app, "/services/nope", html).await;
    assert_eq!((status, ct.starts_with("text/html")), (StatusCode::NOT_FOUND, true), "{body}");
    assert!(body.contains("<h1>404"), "{body}");
    let (status, ct, _) = get(&app, "/nowhere", html).await;
    assert_eq!((status, ct.starts_with("text/html")), (StatusCode::NOT_FOUND, true));
    let (status, ct, _) = get(&app, "/v1/nodes/nope", html).await;
    assert_eq!((status, ct.as_str()), (StatusCode::NOT_FOUND, "application/json"));
    let (status, ct, _) = get(&app, "/favicon.svg", "*/*").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/svg+xml"));
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runbook_naming_a_removed_service_is_flagged_and_its_script_never_served() {
    let (dir, engine) = crate::support::engine();
    let topo = dir.path().join("topo");
    let books = dir.path().join("books");
    std::fs::create_dir_all(&topo).unwrap();
    std::fs::create_dir_all(&books).unwrap();
    let compose = "services:\n  web:\n    image: shop/web:1\n    depends_on: [ledger]\n  \
                   ledger:\n    image: shop/ledger:1\n";
    std::fs::write(topo.join("compose.yaml"), compose).unwrap();
    let runbook = "---\ntype: runbook\ntitle: Ledger is behind\nservice: ledger\n---\n# Ledger is behind\n\n\
                   ## Steps\n\nRestart ledger, then check web.\n";
    std::fs::write(books.join("ledger-behind.md"), runbook).unwrap();
    std::fs::write(books.join("evil.md"), EVIL).unwrap();
    engine.ingest(&[topo.clone(), books.clone()], 1_000).unwrap();
    let engine = Arc::new(engine);
    let app = lore::server::router(engine.clone());
    let html = "text/html";
    let page = |name: &str| format!("/docs/{}", enc(&format!("runbook:books/{name}")));
    let (status, _, body) = get(&app, &page("ledger-behind.md"), html).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("Possibly stale"), "ledger still exists: {body}");

    // The service goes away; the runbook still names it.
    std::fs::write(topo.join("compose.yaml"), "services:\n  web:\n    image: shop/web:1\n")
        .unwrap();
    engine.ingest(std::slice::from_ref(&topo), 2_000).unwrap();
    let (status, _, body) = get(&app, &page("ledger-behind.md"), html).await;
    assert_eq!(status, 200, "{body}");
    let banner =
        body.split("Possibly stale").nth(1).unwrap_or_else(|| panic!("not flagged: {body}"));
    assert!(banner.contains("ledger") && banner.contains("only in history"), "{banner}");

    let (status, _, body) = get(&app, &page("evil.md"), html).await;
    assert_eq!(status, 200, "{body}");
    let article = body.split("<article").nth(1).unwrap().split("</article>").next().unwrap();
    for bad in ["<script", "onerror", "javascript:", "pwned"] {
        assert!(!article.contains(bad), "{bad} served in {article}");
    }
    assert!(article.contains("kubectl rollout restart"), "code blocks are kept: {article}");
    assert!(body.contains("ledger-legacy"), "the unknown service is flagged: {body}");
}

/// Server time per page over the router: p50 and p99 in milliseconds.
async fn time_page(app: &axum::Router, uri: &str, n: usize) -> (f64, f64) {
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let (status, _, _) = get(app, uri, "text/html").await;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{uri}");
    }
    ms.sort_by(f64::total_cmp);
    (ms[n / 2], ms[(n * 99 / 100).min(n - 1)])
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_fast_on_the_example_org() {
    let (_dir, engine) = example_engine();
    let app = lore::server::router(Arc::new(engine));
    let runbook = payment_runbook_page();
    let pages = [
        "/search",
        "/search?q=the%20card%20processor%20is%20slow%20to%20answer",
        runbook.as_str(),
        "/services",
        "/services/payment",
        "/services/checkout?depth=3",
        "/incident?service=checkout&at=2026-10-27T13:55:00Z",
    ];
    // Warm: graph, index, model.
    for p in pages {
        let (status, _, body) = get(&app, p, "text/html").await;
        if status != 200 {
            eprintln!("{p}: {status} {}", &body[..body.len().min(300)]);
        }
    }
    for p in pages {
        let (status, _, _) = get(&app, p, "text/html").await;
        if status != 200 {
            continue;
        }
        let (p50, p99) = time_page(&app, p, 40).await;
        eprintln!("{p}: p50 {p50:.2} ms, p99 {p99:.2} ms");
        // Generous for unoptimised test builds; release figures are in docs/benchmarks.md.
        assert!(p50 < 500.0, "{p}: p50 {p50:.1} ms");
    }
}

#[test]
fn the_portal_works_in_headless_chromium() {
    let node_modules = root().join("tests/browser/node_modules/playwright-core");
    assert!(node_modules.is_dir(), "{} missing: run `bash scripts/setup`", node_modules.display());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_example(&data);
    let books = dir.path().join("books");
    std::fs::create_dir_all(&books).unwrap();
    std::fs::write(books.join("evil.md"), EVIL).unwrap();
    let out = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .arg("ingest")
        .arg(&books)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let port = free_port();
    let child = Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
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
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-browser");
    let _ = std::fs::remove_dir_all(&artifacts);
    eprintln!("screenshots: {}", artifacts.display());
    let run = Command::new("node")
        .arg(root().join("tests/browser/portal.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(&artifacts)
        .arg("zanzibarquux")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
    assert!(report["error"].is_null(), "{}", report["error"]);
    let steps = &report["steps"];

    let search = &steps["search"];
    assert!(
        search["first"].as_str().unwrap().contains("Payment authorisations time out"),
        "{search}"
    );
    assert!(search["marks"].as_u64().unwrap() > 0 && search["literal_stars"] == false, "{search}");
    assert!(search["url"].as_str().unwrap().contains("q=the+card+processor"), "{search}");
    assert!(search["focused"].as_str().unwrap().contains("hit-link"), "{search}");

    let document = &steps["document"];
    let sections: Vec<&str> =
        document["sections"].as_array().unwrap().iter().filter_map(|s| s.as_str()).collect();
    for want in ["Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation"] {
        assert!(sections.contains(&want), "{want} not among {sections:?}");
    }
    assert!(document["code"].as_u64().unwrap() >= 1, "{document}");

    let service = &steps["service"];
    assert!(service["title"].as_str().unwrap().contains("payment"), "{service}");
    let team: Vec<&str> =
        service["team"].as_array().unwrap().iter().filter_map(|s| s.as_str()).collect();
    assert!(team.contains(&"team-storefront"), "{service}");
    assert_eq!(service["svg"], 1, "{service}");
    let nodes: Vec<&str> =
        service["nodes"].as_array().unwrap().iter().filter_map(|s| s.as_str()).collect();
    assert!(nodes.iter().any(|n| n.ends_with("checkout")), "the caller is drawn: {nodes:?}");
    assert!(nodes.len() >= 3, "{nodes:?}");
    let changes = service["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c.as_str().unwrap().contains("chg-0412")), "{service}");

    assert!(
        steps["narrow"]["overflow"].as_i64().unwrap() <= 0,
        "wider than 400 px: {}",
        steps["narrow"]
    );
    assert_eq!(steps["back"]["q"], "the card processor is slow to answer", "{}", steps["back"]);

    let evil = &steps["evil"];
    assert_eq!(evil["pwned"], false, "{evil}");
    assert_eq!(evil["dialogs"].as_array().unwrap().len(), 0, "{evil}");
    assert_eq!((evil["scripts"].as_u64(), evil["handlers"].as_u64()), (Some(0), Some(0)), "{evil}");
    assert!(evil["stale"].as_str().unwrap().contains("ledger-legacy"), "{evil}");

    let console = report["console"].as_array().unwrap();
    assert!(console.is_empty(), "console errors: {console:?}");
    for (page, violations) in report["axe"].as_object().unwrap() {
        let bad: Vec<_> = violations
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "axe on {page}: {bad:?}");
    }
    assert_eq!(report["axe"].as_object().unwrap().len(), 3);
    assert_eq!(report["screenshots"].as_array().unwrap().len(), 5);
}
