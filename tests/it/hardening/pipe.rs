//! Broken pipes end quietly (issue 13): `lore … | head` gets exit status 0 and nothing
//! on stderr, for human and JSON output alike.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::lore_bin;

#[test]
fn issue_13_a_reader_that_goes_away_ends_lore_quietly_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    let k8s = org.join("k8s").display().to_string();
    let runbooks = org.join("runbooks").display().to_string();
    let deploys = org.join("deploys").display().to_string();
    let commands: &[&[&str]] = &[
        &["ingest", "--no-embed", &k8s, &runbooks, &deploys],
        &["ingest", "--no-embed", "--json", &k8s],
        &["show", "checkout"],
        &["show", "checkout", "--json"],
        &["impact", "orders-db", "--direction", "upstream"],
        &["impact", "orders-db", "--direction", "upstream", "--json"],
        &["path", "frontend", "orders-db"],
        &["search", "checkout", "--mode", "bm25"],
        &["search", "checkout", "--mode", "bm25", "--json"],
        &["changes", "checkout", "--since", "2026-10-26", "--until", "2026-10-28"],
        &["diff", "--since", "2020-01-01"],
        &["observed"],
        &["drift", "--json"],
        &["dangling"],
        &["audit"],
        &["query"],
        &["query", "blast_radius", "-p", "service=orders-db"],
        &["context", "--service", "checkout", "--at", "2026-10-27T13:55:00Z"],
    ];
    for args in commands {
        let mut child = Command::new(lore_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(*args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before lore writes anything.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {status}; stderr: {stderr}");
        assert_eq!(stderr, "", "{args:?}: no noise on stderr");
    }
}
