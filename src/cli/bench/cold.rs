//! Cold open: one query (`lore show NODE --json`, `lore changes …`) end to end in a fresh
//! process over a built store, with the child's wall time and peak RSS.

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

/// GNU time: it waits for the child itself, so the child's peak RSS is its own.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `lore --data-dir DATA ARGS…` (a query) in a child process.
///
/// The peak RSS is read through GNU time when it is installed: Linux carries a process's
/// high-water RSS across `exec`, so a child spawned straight from this (large) bench
/// process would report the bench's own RSS at the spawn. Without GNU time the figure is
/// `getrusage` of the children, an upper bound.
pub(super) fn open(data: &Path, args: &[&str]) -> anyhow::Result<Cold> {
    let exe = std::env::current_exe()?;
    let timed = Path::new(GNU_TIME).exists();
    let report = std::env::temp_dir().join(format!("lore-cold-{}.rss", std::process::id()));
    let mut command = if timed {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M", "-o"]).arg(&report).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let t = Instant::now();
    let status = command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .with_context(|| format!("running lore {}", args.join(" ")))?;
    let seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "lore {} failed: {status}", args.join(" "));
    let kib = if timed {
        let text = std::fs::read_to_string(&report)?;
        let _ = std::fs::remove_file(&report);
        text.trim().parse::<u64>().with_context(|| format!("GNU time reported {text:?}"))?
    } else {
        // ru_maxrss is in KiB on Linux.
        getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss() as u64
    };
    Ok(Cold { seconds, rss_mib: kib / 1024 })
}
