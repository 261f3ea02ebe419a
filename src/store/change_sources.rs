//! Which sources hold change events (tree `change_sources`: source name → empty), so the
//! change index reads those sources' facts only, instead of every fact of the store
//! (at 10,000 services the documents and the topology are most of its bytes).
//!
//! A source is recorded before its first change event is written, and never removed:
//! the set is a superset, so a crash can leave a source listed without events, never
//! events of an unlisted source. A store written before the set existed has it filled
//! by one scan of the keys when this build first opens it (meta
//! `change_sources_complete`), before anything reads it.

use super::{Fact, Store, StoreError, decode_if, keys};

pub(super) const TREE: &str = "change_sources";
const COMPLETE_KEY: &str = "change_sources_complete";

impl Store {
    /// Records that `source` holds (or is about to hold) change events.
    pub(super) fn note_change_source(&self, source: &str) -> Result<(), StoreError> {
        if !self.change_sources.contains_key(source.as_bytes())? {
            self.change_sources.insert(source.as_bytes(), &[])?;
        }
        Ok(())
    }

    /// Fills the set of a store written before it existed (one scan of the keys), then
    /// marks it complete; a new store is complete from the start.
    pub(super) fn complete_change_sources(&self) -> Result<(), StoreError> {
        if self.meta.contains_key(COMPLETE_KEY)? {
            return Ok(());
        }
        let mut last: Option<Vec<u8>> = None;
        for item in self.facts.iter().keys() {
            let key = item?;
            if !keys::is_change_key(&key) {
                continue;
            }
            let source = key.split(|b| *b == 0).next().unwrap_or_default();
            if last.as_deref() != Some(source) {
                self.change_sources.insert(source, &[])?;
                last = Some(source.to_vec());
            }
        }
        self.meta.insert(COMPLETE_KEY, &[1])?;
        Ok(())
    }

    /// The change events' facts: what the change index is built from. Only the sources
    /// that hold change events are read, and their other facts are told by their key
    /// and skipped without decoding.
    pub fn change_facts(&self) -> impl Iterator<Item = Result<Fact, StoreError>> + '_ {
        let sources: Vec<Result<sled::IVec, StoreError>> =
            self.change_sources.iter().keys().map(|k| k.map_err(StoreError::from)).collect();
        sources.into_iter().flat_map(move |source| {
            let scan: Box<dyn Iterator<Item = Result<Fact, StoreError>>> = match source {
                Ok(source) => {
                    let mut prefix = source.to_vec();
                    prefix.push(0);
                    Box::new(self.facts.scan_prefix(prefix).filter_map(|i| decode_if(i, true)))
                }
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            scan
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::upsert::tests::{event, service};
    use super::*;

    fn ids(store: &Store) -> Vec<String> {
        let facts: Vec<Fact> = store.change_facts().collect::<Result<_, _>>().unwrap();
        // In key order: by source, then file and record key.
        facts.iter().map(|f| f.versions[0].record.key()).collect()
    }

    #[test]
    fn change_events_are_found_by_their_sources_and_an_older_store_is_filled_once() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.upsert_records("api:events", vec![event("a", "")], 1).unwrap();
            store.upsert_records("/org/catalog", vec![service("cart")], 1).unwrap();
            store.upsert_records("/org/deploys", vec![event("b", "")], 1).unwrap();
            assert_eq!(ids(&store), ["c/b", "c/a"]);
            let listed: Vec<_> = store.change_sources.iter().keys().map(|k| k.unwrap()).collect();
            assert_eq!(listed, [&b"/org/deploys"[..], b"api:events"], "not the catalog");
            // As a store written before the set existed.
            store.change_sources.clear().unwrap();
            store.meta.remove(COMPLETE_KEY).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(ids(&store), ["c/b", "c/a"]);
    }
}
