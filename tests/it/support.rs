//! Shared helpers: temp engines, corpus paths, the lore binary.

use std::path::{Path, PathBuf};

use lore::Engine;

/// `../shared` beside the repository.
pub(crate) fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// A path under `../shared/corpora`.
pub(crate) fn corpus(rel: &str) -> PathBuf {
    shared().join("corpora").join(rel)
}

/// A fresh engine in a temp dir (kept alive by the returned guard).
pub(crate) fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

/// The `lore` binary built for these tests.
pub(crate) fn lore_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lore"))
}

/// Runs gen-org into `out` (cached per arguments under the target dir).
pub(crate) fn gen_org(services: usize, seed: u64) -> PathBuf {
    gen_org_with(services, seed, &[])
}

/// [`gen_org`] with more gen-org arguments (`--deploys N`, ...).
pub(crate) fn gen_org_with(services: usize, seed: u64, extra: &[&str]) -> PathBuf {
    let tag = extra.join("").replace('-', "");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "gen-org-{services}-{seed}{}",
        if tag.is_empty() { String::new() } else { format!("-{tag}") }
    ));
    // Tests run in parallel: one generates, the others wait for it.
    static GENERATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = GENERATING.lock().unwrap_or_else(|p| p.into_inner());
    // gen-org writes README.md last: its presence means the organisation is complete.
    if !out.join("README.md").is_file() {
        let _ = std::fs::remove_dir_all(&out);
        let status = std::process::Command::new("python3")
            .arg(shared().join("tools/gen-org"))
            .args(["--services", &services.to_string(), "--seed", &seed.to_string()])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs gen-org");
        assert!(status.success(), "gen-org failed");
    }
    out
}

/// One request to the router: status and JSON body (or the text as a JSON string).
pub(crate) async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (axum::http::StatusCode, serde_json::Value) {
    let req = axum::http::Request::builder().method(method).uri(uri);
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(axum::body::Body::from(b.to_string())),
        None => req.body(axum::body::Body::empty()),
    };
    let res = tower::ServiceExt::oneshot(app.clone(), req.unwrap()).await.unwrap();
    let status = res.status();
    let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}
