//! Cold open: `lore show NODE --json` end to end in a fresh process over a built store,
//! with the child's wall time and peak RSS (`getrusage` of waited-for children).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use nix::sys::resource::{UsageWho, getrusage};

/// One fresh-process answer.
pub(super) struct Cold {
    pub(super) seconds: f64,
    pub(super) rss_mib: u64,
}

/// Runs `lore show NODE --json` over the store in `data` in a child process.
pub(super) fn open(data: &Path, node: &str) -> anyhow::Result<Cold> {
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let status = Command::new(exe)
        .arg("--data-dir")
        .arg(data)
        .args(["show", node, "--json"])
        .stdout(Stdio::null())
        .status()
        .context("running lore show")?;
    let seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "lore show {node} failed: {status}");
    // ru_maxrss is in KiB on Linux: the largest child waited for so far, which is this one
    // (the bench starts no other child before it).
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN)?;
    Ok(Cold { seconds, rss_mib: (usage.max_rss() as u64) / 1024 })
}
