//! Document ids do not depend on how a path was typed (issue 13, item 5): the same
//! folder ingested as `x`, `/abs/x` and `./x/../x` is one source with the same facts, so
//! nothing is closed, re-added or updated, and ids are `<root name>/<path below it>`.

use std::path::Path;
use std::process::Command;

use crate::support::lore_bin;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `lore ingest --json` of `path` typed as given, run in `cwd`.
fn ingest(cwd: &Path, path: &str) -> serde_json::Value {
    let out = Command::new(lore_bin())
        .current_dir(cwd)
        .args(["--data-dir", "data", "ingest", "--no-embed", "--json", path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{path}: {}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["sources"][0].clone()
}

fn ids(cwd: &Path) -> Vec<String> {
    let out = Command::new(lore_bin())
        .current_dir(cwd)
        .args(["--data-dir", "data", "search", "checkout", "--mode", "bm25", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    view["results"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().into()).collect()
}

#[test]
fn issue_13_the_same_folder_spelled_differently_keeps_its_ids_and_facts() {
    let dir = tempfile::tempdir().unwrap();
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    // Runbooks (documents with ids) and alert rules (entities with locators) in one root.
    copy_dir(&org.join("runbooks"), &dir.path().join("ops/runbooks"));
    copy_dir(&org.join("alerts"), &dir.path().join("ops/alerts"));
    let first = ingest(dir.path(), "ops");
    let added = first["added"].as_u64().unwrap();
    assert!(added > 0, "{first}");
    let before = ids(dir.path());
    assert!(!before.is_empty());
    assert!(before.iter().any(|id| id.starts_with("runbook:ops/runbooks/")), "{before:?}");

    let abs = std::fs::canonicalize(dir.path().join("ops")).unwrap();
    for spelling in [abs.display().to_string(), "./ops/../ops/".to_string()] {
        let again = ingest(dir.path(), &spelling);
        assert_eq!(again["source"], first["source"], "{spelling}: one source");
        assert_eq!(again["root"], spelling.trim_end_matches('/'), "the report shows the spelling");
        for (field, expected) in [("added", 0), ("updated", 0), ("closed", 0), ("unchanged", added)]
        {
            assert_eq!(again[field].as_u64().unwrap(), expected, "{spelling}: {field}: {again}");
        }
        assert_eq!(ids(dir.path()), before, "{spelling}: ids");
    }
}
