//! Observed-edge figures from traces, in their own tree: per source, segments of buckets
//! keyed by a level and a sequence number (`traces/segment.rs` encodes and compacts
//! them). Keys are `source \0 level seq`; stores written before segments hold one bucket
//! per key (`source \0 {edge json} \0 width start`), which are still read. A source's
//! figures are replaced whole when its files are ingested again.

use std::sync::Mutex;

use super::{Store, StoreError};

/// Tree of observed figures.
const OBSERVED_TREE: &str = "observed";

/// Replacements of segments, one at a time (a compaction must not lose a concurrent write).
static OBSERVED_LOCK: Mutex<()> = Mutex::new(());

/// Meta key of the counter bumped by every observed write.
pub(super) const OBSERVED_GENERATION_KEY: &str = "observed_generation";

/// A stored key (without its source) and value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// One stored entry: its source, key (without the source) and value.
pub type ObservedEntry = (String, Vec<u8>, Vec<u8>);

fn key(source: &str, rest: &[u8]) -> Vec<u8> {
    let mut k = source.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(rest);
    k
}

impl Store {
    fn observed_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(OBSERVED_TREE)?)
    }

    /// A counter bumped by every write of observed figures (for caches derived from them).
    pub fn observed_generation(&self) -> Result<u64, StoreError> {
        Ok(self.observed_generation.load(std::sync::atomic::Ordering::Acquire))
    }

    fn bump_observed_generation(&self) -> Result<(), StoreError> {
        let next = super::stored_counter(&self.meta, OBSERVED_GENERATION_KEY)? + 1;
        self.meta.insert(OBSERVED_GENERATION_KEY, &next.to_be_bytes())?;
        self.observed_generation.store(next, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Stores `values` (level, value) as segments of `source`, and removes the segments
    /// `remove` (keys without the source, as [`Store::observed`] gives them), in one
    /// atomic batch. Returns the keys of the new segments, or `None` (and changes
    /// nothing) when one of `remove` is gone: another compaction took it.
    pub fn replace_observed(
        &self,
        source: &str,
        remove: &[Vec<u8>],
        values: Vec<(u8, Vec<u8>)>,
    ) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        let _guard = OBSERVED_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let tree = self.observed_tree()?;
        let mut batch = sled::Batch::default();
        for k in remove {
            let k = key(source, k);
            if !tree.contains_key(&k)? {
                return Ok(None);
            }
            batch.remove(k);
        }
        let mut added = Vec::with_capacity(values.len());
        for (level, value) in values {
            let mut rest = vec![level];
            rest.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
            batch.insert(key(source, &rest), value);
            added.push(rest);
        }
        tree.apply_batch(batch)?;
        self.bump_observed_generation()?;
        Ok(Some(added))
    }

    /// The segments of `source` at `level`: (key without the source, value).
    pub fn observed_level(&self, source: &str, level: u8) -> Result<Vec<KeyValue>, StoreError> {
        let prefix = key(source, &[level]);
        let mut out = Vec::new();
        for item in self.observed_tree()?.scan_prefix(&prefix) {
            let (k, v) = item?;
            if k.len() == prefix.len() + 8 {
                out.push((k[source.len() + 1..].to_vec(), v.to_vec()));
            }
        }
        Ok(out)
    }

    /// Makes observed writes so far durable. Writes are otherwise made durable by sled
    /// within its flush interval (500 ms): the receiver does not wait for a disk sync
    /// per request, as a Collector's own buffers do not.
    pub fn flush_observed(&self) -> Result<(), StoreError> {
        self.observed_tree()?.flush()?;
        Ok(())
    }

    /// Removes everything stored for `source`.
    pub fn clear_observed(&self, source: &str) -> Result<usize, StoreError> {
        let _guard = OBSERVED_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let tree = self.observed_tree()?;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in tree.scan_prefix(key(source, &[])) {
            batch.remove(item?.0);
            n += 1;
        }
        tree.apply_batch(batch)?;
        self.bump_observed_generation()?;
        Ok(n)
    }

    /// Every stored entry of `source` (all sources when `None`), read as iterated.
    pub fn observed(
        &self,
        source: Option<&str>,
    ) -> Result<impl Iterator<Item = Result<ObservedEntry, StoreError>>, StoreError> {
        let tree = self.observed_tree()?;
        let iter = match source {
            Some(s) => tree.scan_prefix(key(s, &[])),
            None => tree.iter(),
        };
        Ok(iter.filter_map(|item| match item {
            Err(e) => Some(Err(e.into())),
            Ok((k, v)) => {
                let split = k.iter().position(|b| *b == 0)?;
                let source = String::from_utf8_lossy(&k[..split]).into_owned();
                Some(Ok((source, k[split + 1..].to_vec(), v.to_vec())))
            }
        }))
    }

    /// Stores one raw entry (tests of data written by earlier versions).
    #[cfg(test)]
    pub(crate) fn insert_observed_raw(
        &self,
        source: &str,
        rest: &[u8],
        value: &[u8],
    ) -> Result<(), StoreError> {
        self.observed_tree()?.insert(key(source, rest), value)?;
        Ok(())
    }
}
