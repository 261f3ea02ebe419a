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
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gen-org-{services}-{seed}"));
    if !out.join("truth/queries.jsonl").is_file() {
        let _ = std::fs::remove_dir_all(&out);
        let status = std::process::Command::new("python3")
            .arg(shared().join("tools/gen-org"))
            .args(["--services", &services.to_string(), "--seed", &seed.to_string(), "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs gen-org");
        assert!(status.success(), "gen-org failed");
    }
    out
}
