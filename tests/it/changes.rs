//! Change events and time: every `changes` and `impact` query of a generated
//! organisation's ground truth; events stored once; a malformed NDJSON line reported with
//! its line; `POST /v1/events` validated whole; CLI/HTTP parity on the example org; git
//! history from a repository built from the OpenTelemetry demo's log; `--at` and `diff`
//! across a re-ingest that removed an edge.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lore::changes::ChangesRequest;
use lore::engine::ImpactRequest;
use lore_schema::Record;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::{corpus, engine, gen_org, lore_bin};

fn t(text: &str) -> i64 {
    lore::time::parse(text).unwrap()
}

fn ids(engine: &lore::Engine, req: &ChangesRequest) -> BTreeSet<String> {
    match engine.changes(req) {
        Ok(view) => view.results.iter().map(|r| r.id.clone()).collect(),
        Err(e) => BTreeSet::from([format!("error: {e}")]),
    }
}

fn expected(q: &Value) -> BTreeSet<String> {
    q["expected"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn change_facts(engine: &lore::Engine) -> usize {
    engine
        .store()
        .facts()
        .map(|f| f.unwrap())
        .filter(|f| matches!(f.versions[0].record, Record::Change(_)))
        .count()
}

#[test]
fn gen_org_changes_and_impact_queries_match_truth() {
    let org = gen_org(300, 11);
    let (_dir, engine) = engine();
    let reports = engine
        .ingest(&[org.join("k8s"), org.join("catalog"), org.join("deploys.ndjson")], 1_000)
        .unwrap();
    assert!(reports.iter().all(|r| !r.has_errors()));
    assert_eq!(reports[2].records, 3000);
    let text = std::fs::read_to_string(org.join("truth/queries.jsonl")).unwrap();
    let queries: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut failures = Vec::new();
    let (mut n_changes, mut n_impact, mut n_nonempty) = (0, 0, 0);
    for q in &queries {
        let node = q["node"].as_str().unwrap_or_default().to_string();
        let (got, want) = match q["class"].as_str() {
            Some("changes") => {
                n_changes += 1;
                let req = ChangesRequest {
                    node,
                    depth: Some(q["depth"].as_u64().unwrap() as usize),
                    since: Some(t(q["since"].as_str().unwrap())),
                    until: Some(t(q["until"].as_str().unwrap())),
                    at: None,
                };
                (ids(&engine, &req), expected(q))
            }
            Some("impact") => {
                n_impact += 1;
                let req = ImpactRequest {
                    depth: q["depth"].as_u64().map(|d| d as usize),
                    ..ImpactRequest::new(node, q["direction"].as_str().unwrap().parse().unwrap())
                };
                let got = match engine.impact(&req) {
                    Ok(view) => view.results.iter().map(|r| r.id.to_string()).collect(),
                    Err(e) => BTreeSet::from([format!("error: {e}")]),
                };
                (got, expected(q))
            }
            _ => continue,
        };
        n_nonempty += usize::from(!want.is_empty());
        if got != want {
            failures.push(format!(
                "{}: missing {:?}, extra {:?}",
                q["id"],
                want.difference(&got).take(8).collect::<Vec<_>>(),
                got.difference(&want).take(8).collect::<Vec<_>>()
            ));
        }
    }
    assert_eq!((n_changes, n_impact), (200, 200));
    assert!(n_nonempty > 300, "{n_nonempty}");
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));

    // Every event names a known service; the answer is ranked and explained.
    let view = engine
        .changes(&ChangesRequest {
            node: "auth-service".into(),
            depth: Some(3),
            since: Some(t("2026-01-01")),
            until: Some(t("2027-01-01")),
            at: None,
        })
        .unwrap();
    assert_eq!(view.unresolved.count, 0);
    assert!(view.results.windows(2).all(|w| w[0].score >= w[1].score));
    let hit = &view.results[0];
    assert_eq!(hit.hops, hit.path.len());
    assert!(hit.evidence.locator.contains("deploys.ndjson:"), "{:?}", hit.evidence);
}

#[test]
fn events_are_stored_once_and_bad_lines_are_reported_with_their_line() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("deploys.ndjson");
    let good = |id: &str, svc: &str| {
        format!(
            r#"{{"id": "{id}", "ts": "2026-10-27T13:41:09Z", "service": "{svc}", "kind": "deploy"}}"#
        )
    };
    let text = [
        good("c1", "payment"),
        good("c2", "cart"),
        r#"{"id": "c3", "ts": "#.to_string(),
        good("c4", "cart"),
    ]
    .join("\n");
    std::fs::write(&file, text).unwrap();
    let (_dir, engine) = engine();
    let report = engine.ingest(std::slice::from_ref(&file), 10).unwrap().remove(0);
    assert!(report.has_errors());
    let errors: Vec<_> = report.diagnostics.iter().filter(|d| d.severity == "error").collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].locator.ends_with("deploys.ndjson:3"), "{:?}", errors[0]);
    assert_eq!((report.records, report.added), (3, 3));
    assert_eq!(change_facts(&engine), 3);

    let before = engine.store().checksum().unwrap();
    let report = engine.ingest(std::slice::from_ref(&file), 20).unwrap().remove(0);
    assert_eq!((report.added, report.updated, report.closed, report.unchanged), (0, 0, 0, 3));
    assert_eq!(engine.store().checksum().unwrap(), before, "the same events twice are stored once");

    // The same events over the API are stored once there, and answered once.
    let body: Value =
        serde_json::from_str(&format!("[{}, {}]", good("c1", "payment"), good("c9", "cart")))
            .unwrap();
    let events = lore::changes::parse_events(&body).unwrap();
    let first = engine.add_events(events.clone(), 30).unwrap();
    assert_eq!((first.added, first.unchanged), (2, 0));
    let after_api = engine.store().checksum().unwrap();
    let again = engine.add_events(events, 40).unwrap();
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(engine.store().checksum().unwrap(), after_api);
    // A file that no longer lists the API's events does not close them.
    engine.ingest(std::slice::from_ref(&file), 50).unwrap();
    assert_eq!(change_facts(&engine), 5);
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn post(body: &str) -> Request<Body> {
    Request::post("/v1/events")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn cli_json(data: &Path, args: &[&str]) -> Value {
    let out =
        std::process::Command::new(lore_bin()).arg("--data-dir").arg(data).args(args).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_events_are_validated_whole_and_cli_and_http_agree() {
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let (k8s, deploys) = (org.join("k8s"), org.join("deploys"));
    cli_json(&data, &["ingest", "--json", k8s.to_str().unwrap(), deploys.to_str().unwrap()]);
    let window = ["--since", "2026-10-27T12:00:00Z", "--until", "2026-10-27T14:30:00Z"];
    let cli_changes = cli_json(
        &data,
        &[&["changes", "checkout", "--depth", "1", "--json"][..], &window].concat(),
    );
    let cli_diff = cli_json(&data, &["diff", "--since", "2026-01-01", "--json"]);

    let engine = Arc::new(lore::Engine::open(&data).unwrap());
    let app = lore::server::router(engine.clone());
    let uri =
        "/v1/changes?node=checkout&depth=1&since=2026-10-27T12:00:00Z&until=2026-10-27T14:30:00Z";
    let (status, http_changes) = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(http_changes, cli_changes);
    // The bad payment release, one hop from checkout, ranks first with its path.
    let top = &http_changes["results"][0];
    assert_eq!(
        (top["id"].as_str(), top["kind"].as_str(), top["hops"].as_u64()),
        (Some("chg-0412"), Some("deploy"), Some(1))
    );
    assert_eq!(top["path"][0]["to"], "service:payment");
    assert!(top["evidence"]["locator"].as_str().unwrap().ends_with("deploys.ndjson:25"));
    let diff_uri = "/v1/diff?since=2026-01-01";
    assert_eq!(send(&app, Request::get(diff_uri).body(Body::empty()).unwrap()).await.1, cli_diff);
    assert!(cli_diff["nodes_added"].as_array().unwrap().len() > 10);

    let before = engine.store().checksum().unwrap();
    let (status, body) = send(&app, post("{\"id\": \"x\", ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, body) = send(
        &app,
        post(r#"[{"id": "e1", "ts": "2026-10-27T14:00:00Z", "service": "payment"}, {"id": "e2", "ts": "noon", "service": "cart"}]"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("events[1].ts") && message.contains("noon"), "{message}");
    let (status, body) = send(
        &app,
        post(r#"{"id": "e3", "ts": "2026-10-27T14:00:00Z", "service": "cart", "kind": 7}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("event.kind"));
    let no_type = Request::post("/v1/events").body(Body::from("{}")).unwrap();
    assert_eq!(send(&app, no_type).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(engine.store().checksum().unwrap(), before, "a rejected request stores nothing");

    let flag = r#"{"id": "ff-1", "ts": "2026-10-27T14:10:00Z", "service": "payment", "kind": "feature_flag", "description": "payment-secondary-acquirer on", "url": "https://flags.example/ff-1"}"#;
    let (status, body) = send(&app, post(flag)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["added"].as_u64(), body["source"].as_str()), (Some(1), Some("api:events")));
    let stored = engine.store().checksum().unwrap();
    assert_eq!(send(&app, post(flag)).await.1["unchanged"], 1);
    assert_eq!(engine.store().checksum().unwrap(), stored, "the same event twice is stored once");
    let (_, view) = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
    let hit = view["results"].as_array().unwrap().iter().find(|r| r["id"] == "ff-1").unwrap();
    assert_eq!(hit["evidence"]["source"], "api:events");
    assert_eq!(hit["url"], "https://flags.example/ff-1");
    // An id the deploy file already has is a conflict (409): the API never replaces
    // another source's event; the answer still comes from the file.
    let dup = r#"{"id": "chg-0412", "ts": "2026-10-27T13:41:09Z", "service": "payment", "description": "resent by CI"}"#;
    let (status, body) = send(&app, post(dup)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("deploys"), "{body}");
    let (_, view) = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
    let hits: Vec<&Value> =
        view["results"].as_array().unwrap().iter().filter(|r| r["id"] == "chg-0412").collect();
    assert_eq!(hits.len(), 1);
    assert!(hits[0]["evidence"]["source"].as_str().unwrap().ends_with("deploys"), "{}", hits[0]);
    // Re-posting an id with other content is a conflict too; the first version stays.
    let fixed = flag.replace("payment-secondary-acquirer on", "secondary acquirer on for EU cards");
    let stored = engine.store().checksum().unwrap();
    assert_eq!(send(&app, post(&fixed)).await.0, StatusCode::CONFLICT);
    assert_eq!(engine.store().checksum().unwrap(), stored, "a conflict stores nothing");
    let (_, view) = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
    let hits: Vec<&Value> =
        view["results"].as_array().unwrap().iter().filter(|r| r["id"] == "ff-1").collect();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["description"], "payment-secondary-acquirer on");
    let (status, spec) =
        send(&app, Request::get("/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/v1/changes", "/v1/diff", "/v1/events"] {
        assert!(spec["paths"][path].is_object(), "{path} missing from openapi.json");
    }
}

fn k8s(calls_api: bool) -> String {
    let env = if calls_api { "\n        env: [{name: API_ADDR, value: 'api:8080'}]" } else { "" };
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1{env}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  template:\n    spec:\n      containers: [{{name: api, image: api:1}}]\n"
    )
}

#[test]
fn at_and_diff_answer_as_the_graph_was_around_a_removed_edge() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("k8s");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("apps.yaml"), k8s(true)).unwrap();
    let events = work.path().join("deploys.ndjson");
    std::fs::write(
        &events,
        "{\"id\": \"w1\", \"ts\": 150, \"service\": \"web\"}\n{\"id\": \"a1\", \"ts\": 160, \"service\": \"api\", \"kind\": \"config\"}\n{\"id\": \"x1\", \"ts\": 170, \"service\": \"ghost\"}\n",
    )
    .unwrap();
    let (_dir, engine) = engine();
    engine.ingest(&[tree.clone(), events], 100).unwrap();
    std::fs::write(tree.join("apps.yaml"), k8s(false)).unwrap();
    let report = engine.ingest(std::slice::from_ref(&tree), 300).unwrap().remove(0);
    assert_eq!(report.closed, 1, "the web -> api edge closed");

    let req = |at| ChangesRequest {
        node: "web".into(),
        depth: Some(1),
        since: Some(0),
        until: Some(1000),
        at,
    };
    assert_eq!(ids(&engine, &req(None)), BTreeSet::from(["w1".to_string()]));
    assert_eq!(ids(&engine, &req(Some(200))), BTreeSet::from(["w1".to_string(), "a1".to_string()]));
    let view = engine.changes(&req(Some(200))).unwrap();
    assert_eq!(view.unresolved.count, 1);
    assert_eq!(view.unresolved.services, ["ghost"]);
    let a1 = view.results.iter().find(|r| r.id == "a1").unwrap();
    assert_eq!((a1.hops, a1.path[0].to.to_string().as_str()), (1, "service:api"));
    assert!(view.results[0].id == "w1", "the change on the node itself ranks first");

    let diff = engine.diff(200, None).unwrap();
    let removed: Vec<String> =
        diff.edges_removed.iter().map(|e| format!("{} {} {}", e.from, e.kind, e.to)).collect();
    assert_eq!(removed, ["service:web calls service:api"]);
    assert!(
        diff.edges_added.is_empty() && diff.nodes_added.is_empty() && diff.nodes_removed.is_empty()
    );
    let diff = engine.diff(50, Some(150)).unwrap();
    let added: Vec<String> = diff.nodes_added.iter().map(|n| n.id.to_string()).collect();
    assert_eq!(added, ["service:api", "service:web"]);
    assert_eq!(diff.edges_added.len(), 1);
    let diff = engine.diff(101, Some(300)).unwrap();
    assert!(diff.edges_removed.is_empty(), "the edge closed at 300, outside [101, 300)");
    assert!(engine.diff(300, Some(300)).is_err());
}

fn git(repo: &Path, args: &[&str], date: Option<&str>) {
    let mut cmd = std::process::Command::new("git");
    cmd.arg("-C").arg(repo).args([
        "-c",
        "user.name=Ana Lopez",
        "-c",
        "user.email=ana@example.com",
        "-c",
        "commit.gpgsign=false",
    ]);
    cmd.args(args).env("GIT_CONFIG_GLOBAL", "/dev/null").env("GIT_CONFIG_NOSYSTEM", "1");
    if let Some(date) = date {
        cmd.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn git_history_of_the_opentelemetry_demo_matches_its_log() {
    let tsv = corpus("topology/opentelemetry-demo/changes/git-log.tsv");
    let manifests = corpus("topology/opentelemetry-demo/kubernetes");
    if !tsv.is_file() || !manifests.is_dir() {
        eprintln!("skipping: corpus not found");
        return;
    }
    let text = std::fs::read_to_string(&tsv).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("demo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"], None);
    for (i, row) in rows.iter().rev().enumerate() {
        let (date, subject, components) = (row[1], row[2], row[3]);
        let dirs: Vec<String> =
            components.split(',').filter(|c| !c.is_empty()).map(|c| format!("src/{c}")).collect();
        for dir in if dirs.is_empty() { vec!["docs".to_string()] } else { dirs } {
            std::fs::create_dir_all(repo.join(&dir)).unwrap();
            std::fs::write(repo.join(&dir).join("CHANGES"), format!("{i}\n")).unwrap();
        }
        git(&repo, &["add", "-A"], None);
        git(&repo, &["commit", "-q", "-m", subject], Some(date));
    }
    let (_dir, engine) = engine();
    engine.ingest(&[manifests], 100).unwrap();
    let report = engine.ingest_git(&repo, &Default::default(), 200).unwrap();
    assert_eq!(report.commits, rows.len());
    assert_eq!(report.skipped_commits, rows.iter().filter(|r| r[3].is_empty()).count());
    assert!(report.source.starts_with("git:/"));
    let again = engine.ingest_git(&repo, &Default::default(), 300).unwrap();
    assert_eq!((again.added, again.closed, again.unchanged), (0, 0, report.added));

    for service in ["checkout", "payment", "cart"] {
        let mut want: Vec<(i64, String)> = rows
            .iter()
            .filter(|r| r[3].split(',').any(|c| c == service))
            .map(|r| (t(r[1]), r[2].trim().to_string()))
            .collect();
        let req = ChangesRequest {
            node: service.into(),
            depth: Some(0),
            since: Some(0),
            until: Some(t("2100-01-01")),
            at: None,
        };
        let view = engine.changes(&req).unwrap();
        let mut got: Vec<(i64, String)> =
            view.results.iter().map(|r| (t(&r.ts), r.description.clone())).collect();
        want.sort();
        got.sort();
        assert!(!want.is_empty());
        assert_eq!(got, want, "{service}");
        for r in &view.results {
            assert_eq!(r.kind, "commit");
            let commit = r.commit.as_deref().unwrap();
            assert!(r.id == commit || r.id == format!("{commit}:{service}"), "{}", r.id);
            assert_eq!(r.evidence.locator, commit);
        }
    }
    // compose is not a service in the manifests: its commits are counted, not answered.
    let view = engine
        .changes(&ChangesRequest {
            node: "checkout".into(),
            depth: Some(1),
            since: Some(0),
            until: Some(t("2100-01-01")),
            at: None,
        })
        .unwrap();
    assert!(view.unresolved.services.contains(&"compose".to_string()), "{:?}", view.unresolved);
    assert!(view.results.iter().any(|r| r.service == "payment" && r.hops == 1));
}
