//! The load test, bounded for CI: 50 concurrent clients against a real `lore serve` over
//! loopback, reading only and then with 10% writes (events and notes), through
//! `lore bench --load`. Every request must succeed, every route must be exercised, and
//! the server's memory must stay bounded. The 60-second run with its figures is
//! `lore bench --load examples/org` (docs/robustness.md).

use std::process::Command;

use serde_json::Value;

#[test]
fn fifty_clients_reading_and_writing_get_no_errors() {
    let work = tempfile::tempdir().unwrap();
    let org = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    let out = Command::new(crate::support::lore_bin())
        .args(["bench", "--load"])
        .arg(&org)
        .args(["--clients", "50", "--seconds", "6", "--write-share", "0.1", "--work-dir"])
        .arg(work.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let summary = rows.iter().find(|r| r["phase"] == "summary").expect("a summary row");
    assert_eq!(summary["errors"], 0, "{stdout}");
    let routes = |phase: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["phase"] == phase && r["requests"].as_u64() > Some(0))
            .filter_map(|r| r["route"].as_str().map(str::to_string))
            .collect()
    };
    for route in ["GET /v1/search", "GET /v1/impact", "GET /v1/nodes/{node}", "POST /v1/context"] {
        assert!(routes("read-only").iter().any(|r| r == route), "{route} not asked: {stdout}");
    }
    let mixed = routes("mixed");
    assert!(mixed.iter().any(|r| r == "POST /v1/events"), "no event posted: {stdout}");
    assert!(mixed.iter().all(|r| !r.is_empty()));
    let rss = summary["server_rss_mib"]["hwm"].as_u64().unwrap();
    assert!(rss > 0 && rss < 2048, "server peak RSS {rss} MiB");
}
