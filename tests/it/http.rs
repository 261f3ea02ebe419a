//! HTTP API through `router(..).oneshot(..)`: the same objects as the CLI's `--json`,
//! JSON errors with the right status.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::{corpus, lore_bin};

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let res = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

fn cli_json(data_dir: &std::path::Path, args: &[&str]) -> Value {
    let out = std::process::Command::new(lore_bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_json_and_http_return_the_same_objects() {
    let src = corpus("topology/online-boutique/kubernetes-manifests");
    if !src.is_dir() {
        eprintln!("skipping: corpus not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(lore_bin())
        .arg("--data-dir")
        .arg(&data)
        .arg("ingest")
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let cli_impact =
        cli_json(&data, &["impact", "cartservice", "--direction", "upstream", "--json"]);
    let cli_path = cli_json(&data, &["path", "frontend", "redis-cart", "--json"]);
    let cli_show = cli_json(&data, &["show", "cartservice", "--json"]);

    let engine = lore::Engine::open(&data).unwrap();
    let app = lore::server::router(Arc::new(engine));
    let (status, http_impact) = get(&app, "/v1/impact?node=cartservice&direction=upstream").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(http_impact, cli_impact);
    let names: Vec<&str> = http_impact["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["checkoutservice", "frontend", "loadgenerator"]);
    assert_eq!(get(&app, "/v1/path?from=frontend&to=redis-cart").await.1, cli_path);
    assert_eq!(get(&app, "/v1/nodes/cartservice").await.1, cli_show);
    assert_eq!(cli_path["hops"], 2);

    let (status, body) = get(&app, "/v1/impact?node=nope&direction=upstream").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = get(&app, "/v1/impact?node=cartservice&direction=sideways").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("sideways"));
    let (status, body) = get(&app, "/v1/impact?direction=upstream").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, body) = get(&app, "/v1/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
    let (status, ready) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ready["nodes"].as_u64().unwrap() > 10);
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("lore_http_requests_total{route=\"/v1/impact\",status=\"200\"} 1")
    );
    let (status, spec) = get(&app, "/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(spec["paths"]["/v1/impact"].is_object());
}
