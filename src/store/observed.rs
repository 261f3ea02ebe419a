//! Observed-edge figures from traces, in their own tree: per source, edge and time bucket
//! (`traces/aggregate.rs`). Writes merge into what is stored; a source's figures are
//! replaced whole when its files are ingested again.

use std::sync::Mutex;

use super::{Store, StoreError};

/// Tree of observed figures.
const OBSERVED_TREE: &str = "observed";

/// Merges read, add and write; two at once on one key would lose one.
static OBSERVED_LOCK: Mutex<()> = Mutex::new(());

/// Meta key of the counter bumped by every observed write.
const OBSERVED_GENERATION_KEY: &str = "observed_generation";

/// One stored bucket: its source, key (the caller's encoding) and value.
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
        Ok(self
            .meta
            .get(OBSERVED_GENERATION_KEY)?
            .map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
    }

    fn bump_observed_generation(&self) -> Result<(), StoreError> {
        let next = self.observed_generation()? + 1;
        self.meta.insert(OBSERVED_GENERATION_KEY, &next.to_be_bytes())?;
        Ok(())
    }

    /// Merges `items` (key, value) of `source` into the stored buckets with `merge(old,
    /// new) -> value`; returns how many keys were new.
    pub fn merge_observed(
        &self,
        source: &str,
        items: Vec<(Vec<u8>, Vec<u8>)>,
        merge: impl Fn(&[u8], &[u8]) -> Result<Vec<u8>, String>,
    ) -> Result<usize, StoreError> {
        let _guard = OBSERVED_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let tree = self.observed_tree()?;
        let mut batch = sled::Batch::default();
        let mut added = 0;
        for (rest, value) in items {
            let k = key(source, &rest);
            let merged = match tree.get(&k)? {
                Some(old) => merge(&old, &value).map_err(|reason| StoreError::Corrupt {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    reason,
                })?,
                None => {
                    added += 1;
                    value
                }
            };
            batch.insert(k, merged);
        }
        tree.apply_batch(batch)?;
        self.bump_observed_generation()?;
        tree.flush()?;
        Ok(added)
    }

    /// Removes every bucket of `source`, or of those keys of it `pick` selects.
    pub fn remove_observed(
        &self,
        source: &str,
        pick: impl Fn(&[u8]) -> bool,
    ) -> Result<usize, StoreError> {
        let _guard = OBSERVED_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let tree = self.observed_tree()?;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in tree.scan_prefix(key(source, &[])) {
            let (k, _) = item?;
            if pick(&k[source.len() + 1..]) {
                batch.remove(k);
                n += 1;
            }
        }
        tree.apply_batch(batch)?;
        self.bump_observed_generation()?;
        Ok(n)
    }

    /// Every stored bucket of `source` (all sources when `None`).
    pub fn observed(&self, source: Option<&str>) -> Result<Vec<ObservedEntry>, StoreError> {
        let tree = self.observed_tree()?;
        let iter = match source {
            Some(s) => tree.scan_prefix(key(s, &[])),
            None => tree.iter(),
        };
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item?;
            let Some(split) = k.iter().position(|b| *b == 0) else { continue };
            let source = String::from_utf8_lossy(&k[..split]).into_owned();
            out.push((source, k[split + 1..].to_vec(), v.to_vec()));
        }
        Ok(out)
    }
}
