//! Reopening a store this process has just closed. sled releases its file lock from a
//! background (flusher) thread after the last handle is dropped, not in the drop itself
//! (spacejam/sled#1234, #1289), so an open right after a close in the same process can
//! find the store still locked, more often on a loaded machine. A lock held by another
//! process (a running `lore serve`) is answered at once, as before: only a store this
//! process closed within the last moments is waited for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after a close the lock is waited for.
const GRACE: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(20);

/// Per store dir this process opened: how many stores it holds open there, and when it
/// last closed one.
static STORES: Mutex<BTreeMap<PathBuf, (usize, Option<Instant>)>> = Mutex::new(BTreeMap::new());

fn stores() -> std::sync::MutexGuard<'static, BTreeMap<PathBuf, (usize, Option<Instant>)>> {
    STORES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Held by every clone of a store (last in its fields, so it drops after the sled
/// handles): the last one to go records the close.
#[derive(Debug)]
pub(super) struct CloseMark(PathBuf);

impl CloseMark {
    /// Marks the store in `dir` open in this process.
    pub(super) fn new(dir: &Path) -> CloseMark {
        let dir = key(dir);
        stores().entry(dir.clone()).or_default().0 += 1;
        CloseMark(dir)
    }
}

impl Drop for CloseMark {
    fn drop(&mut self) {
        let mut stores = stores();
        stores.retain(|_, (open, at)| *open > 0 || at.is_some_and(|at| at.elapsed() < GRACE));
        let entry = stores.entry(self.0.clone()).or_default();
        entry.0 = entry.0.saturating_sub(1);
        entry.1 = Some(Instant::now());
    }
}

fn key(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Whether the lock on `dir` may be one this process let go of: it holds no store there
/// and closed one less than [`GRACE`] ago.
fn releasing(dir: &Path) -> bool {
    let stores = stores();
    stores
        .get(&key(dir))
        .is_some_and(|(open, at)| *open == 0 && at.is_some_and(|at| at.elapsed() < GRACE))
}

/// `open()` again while it fails with `locked` and the lock may be one this process is
/// still letting go of ([`releasing`]); any other outcome at once.
pub(super) fn open<T, E>(
    dir: &Path,
    locked: impl Fn(&E) -> bool,
    open: impl Fn() -> Result<T, E>,
) -> Result<T, E> {
    loop {
        match open() {
            Err(e) if locked(&e) && releasing(dir) => std::thread::sleep(POLL),
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, StoreError};

    #[test]
    fn a_store_closed_here_reopens_and_one_held_here_is_reported_locked() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..20 {
            drop(Store::open(dir.path()).unwrap());
        }
        let held = Store::open(dir.path()).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(Store::open(dir.path()), Err(StoreError::Locked { .. })));
        assert!(started.elapsed() < super::GRACE, "a held store is not waited for");
        drop(held);
    }
}
