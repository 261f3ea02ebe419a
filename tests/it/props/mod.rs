//! Property tests for every parser (issue 13): arbitrary bytes and arbitrary mutations of
//! real corpus files (byte flips, truncation, splices, duplicated lines, deep nesting)
//! never panic, finish within [`DEADLINE`], and every diagnostic names a line and a
//! reason.
//!
//! Each property runs [`cases`] cases: 64 by default, `PROPTEST_CASES` for more (see
//! `docs/robustness.md`). Every case runs on its own thread under a deadline, so a hang
//! fails the case instead of stalling the run.

mod ingest;
mod ingestors;
mod mutate;
mod traces;

use std::sync::mpsc;
use std::time::Duration;

use proptest::test_runner::{Config, TestCaseError};

/// How long one parse may take (debug build, two busy cores: the real figures are
/// milliseconds).
pub(crate) const DEADLINE: Duration = Duration::from_secs(2);

/// Cases per property: `PROPTEST_CASES`, else 64 (a bounded CI run).
pub(crate) fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

/// The runner's configuration: [`cases`], no regression files written into the
/// repository, shrinking bounded in time (a hanging case costs a deadline per step).
pub(crate) fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_time: 30_000,
        ..Config::default()
    }
}

/// Runs `f` on its own thread; fails the case if it panics or outlives `deadline`.
pub(crate) fn within<T: Send + 'static>(
    what: &str,
    deadline: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(format!("prop {what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| TestCaseError::fail(format!("{what}: cannot spawn: {e}")))?;
    match rx.recv_timeout(deadline) {
        Ok(value) => {
            let _ = worker.join();
            Ok(value)
        }
        // The worker is left running: it cannot be stopped, and the case has failed.
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(TestCaseError::fail(format!("{what}: still running after {deadline:?}")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(TestCaseError::fail(format!("{what}: panicked")))
        }
    }
}

/// The line a `path:line` locator names, if it names one of `path` (1-based).
pub(crate) fn locator_line(locator: &str, path: &str) -> Option<usize> {
    let line = locator.strip_prefix(path)?.strip_prefix(':')?;
    line.parse().ok().filter(|n| *n >= 1)
}

/// Lines in `text` as a parser counts them (a last line without a newline counts; an
/// empty text has one empty line).
pub(crate) fn line_count(text: &str) -> usize {
    text.lines().count().max(1) + usize::from(text.ends_with('\n'))
}
