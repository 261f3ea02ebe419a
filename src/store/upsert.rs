//! Additive writes: [`Store::upsert_records`] adds or updates facts of a source without
//! closing the ones it does not mention. Events and notes pushed over HTTP use it, where
//! each request carries a few new records rather than the whole source;
//! [`Store::close_fact`] closes one of them (a removed note), keeping its history.

use std::collections::BTreeMap;
use std::sync::Mutex;

use lore_schema::Record;

use super::{ApplyStats, SourceMeta, Store, StoreError, codec, keys};

/// Upserts read, compare and write; two at once on the same source would lose one.
static UPSERT_LOCK: Mutex<()> = Mutex::new(());

impl Store {
    /// Adds `records` (each with the file it came from) to `source` at time `now`: a new
    /// key opens a fact, a key whose current version is equal is left alone (so the same
    /// records twice write nothing), a key whose content differs gets a new version (the
    /// old one closes). Facts not in `records` are never closed. One atomic batch. Free
    /// text is redacted first, as in [`Store::apply_source`].
    pub fn upsert_records(
        &self,
        source: &str,
        mut records: Vec<(String, Record)>,
        now: i64,
    ) -> Result<ApplyStats, StoreError> {
        let redacted = crate::redact::records(records.iter_mut().map(|(_, r)| r));
        let _guard = UPSERT_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut incoming: BTreeMap<Vec<u8>, Record> = BTreeMap::new();
        for (file, record) in records {
            incoming.entry(keys::fact_key(source, &file, &record.key())).or_insert(record);
        }
        let mut stats = ApplyStats { redacted, ..ApplyStats::default() };
        let mut batch = sled::Batch::default();
        let (mut topology, mut changes) = (false, false);
        for (key, record) in incoming {
            let known = match self.facts.get(&key)? {
                Some(value) => Some(codec::decode_fact(&key, &value)?),
                None => None,
            };
            if let Some(fact) = super::next_version(known, source, record, now, &mut stats) {
                topology |= !keys::is_change_key(&key);
                changes |= keys::is_change_key(&key);
                batch.insert(key, codec::encode_fact(&fact));
            }
        }
        if stats.added + stats.updated == 0 {
            return Ok(stats);
        }
        let files = self
            .sources
            .get(source.as_bytes())?
            .map(|v| codec::decode_source(source, &v))
            .transpose()?
            .map_or(0, |m| m.files);
        let meta = SourceMeta { root: source.to_string(), changed_at: now, files };
        if changes {
            self.note_change_source(source)?;
        }
        self.facts.apply_batch(batch)?;
        self.sources.insert(source.as_bytes(), codec::encode_source(&meta))?;
        self.bump_generation(topology)?;
        self.db.flush()?;
        Ok(stats)
    }
}

impl Store {
    /// Closes the current version of the fact `record_key` of `file` in `source` at `now`
    /// (sets its `valid_to`; every version stays as history). Returns whether there was an
    /// open version to close. One atomic write.
    pub fn close_fact(
        &self,
        source: &str,
        file: &str,
        record_key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _guard = UPSERT_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = keys::fact_key(source, file, record_key);
        let Some(value) = self.facts.get(&key)? else { return Ok(false) };
        let mut fact = codec::decode_fact(&key, &value)?;
        let Some(open) = fact.versions.last_mut().filter(|v| v.valid_to.is_none()) else {
            return Ok(false);
        };
        open.valid_to = Some(now.max(open.valid_from));
        self.facts.insert(&key, codec::encode_fact(&fact))?;
        self.bump_generation(!keys::is_change_key(&key))?;
        self.db.flush()?;
        Ok(true)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use lore_schema::{ChangeEvent, ChangeKind, Provenance};

    use super::*;
    use crate::store::Fact;

    /// A deploy of `cart` with this id, as `POST /v1/events` gives it.
    pub(in crate::store) fn event(id: &str, description: &str) -> (String, Record) {
        let event = ChangeEvent {
            id: id.to_string(),
            ts: 100,
            service: "cart".to_string(),
            kind: ChangeKind::Deploy,
            version: None,
            commit: None,
            author: None,
            description: description.to_string(),
            url: None,
            provenance: Provenance::declared("api", "POST /v1/events".to_string(), ""),
        };
        ("events".to_string(), Record::Change(event))
    }

    /// A catalog entry for service `name`.
    pub(in crate::store) fn service(name: &str) -> (String, Record) {
        let entity = lore_schema::Entity::new(
            lore_schema::NodeKind::Service,
            name,
            lore_schema::EntityClass::Catalog,
            Provenance::declared("catalog", "catalog.yaml:1".to_string(), ""),
        );
        ("catalog.yaml".to_string(), Record::Entity(entity))
    }

    #[test]
    fn upserts_are_additive_idempotent_and_keep_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stats = store.upsert_records("api:events", vec![event("a", "x"), event("b", "y")], 1);
        assert_eq!(stats.unwrap(), ApplyStats { added: 2, ..ApplyStats::default() });
        let before = store.checksum().unwrap();
        let generation = store.generation().unwrap();
        let stats = store.upsert_records("api:events", vec![event("a", "x")], 2).unwrap();
        assert_eq!(stats, ApplyStats { unchanged: 1, ..ApplyStats::default() });
        assert_eq!(store.checksum().unwrap(), before, "the same event twice is stored once");
        assert_eq!(store.generation().unwrap(), generation);
        let stats = store.upsert_records("api:events", vec![event("b", "z")], 3).unwrap();
        assert_eq!(stats, ApplyStats { updated: 1, ..ApplyStats::default() });
        let facts: Vec<Fact> = store.facts().collect::<Result<_, _>>().unwrap();
        assert_eq!(facts.len(), 2);
        assert!(facts.iter().all(|f| f.versions.last().unwrap().valid_to.is_none()));
        assert_eq!(facts[1].versions.len(), 2, "the corrected event keeps its first version");
        assert_eq!(facts[1].versions[0].valid_to, Some(3));
        let sources = store.sources().unwrap();
        assert_eq!(sources[0].0, "api:events");
        assert_eq!(sources[0].1.changed_at, 3);
    }

    #[test]
    fn change_events_leave_the_topology_generation_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.upsert_records("api:events", vec![event("a", "x")], 1).unwrap();
        assert!(store.close_fact("api:events", "events", "c/a", 2).unwrap());
        assert_eq!(store.generation().unwrap(), 2);
        assert_eq!(store.topology_generation().unwrap(), 0, "events are not topology");
        let writes = vec![service("cart"), event("b", "y")];
        store.upsert_records("api:mixed", writes, 3).unwrap();
        assert_eq!((store.generation().unwrap(), store.topology_generation().unwrap()), (3, 1));
        let keys = |facts: Vec<Fact>| {
            facts.into_iter().map(|f| f.versions[0].record.key()).collect::<Vec<_>>()
        };
        let changes = keys(store.change_facts().collect::<Result<_, _>>().unwrap());
        let topology = keys(store.topology_facts().collect::<Result<_, _>>().unwrap());
        assert_eq!((changes.len(), topology.len()), (2, 1), "{changes:?} {topology:?}");
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.topology_generation().unwrap(), 1, "kept across opens");
    }

    #[test]
    fn closing_a_fact_keeps_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.upsert_records("api:events", vec![event("a", "x")], 1).unwrap();
        let generation = store.generation().unwrap();
        assert!(store.close_fact("api:events", "events", "c/a", 5).unwrap());
        assert!(store.generation().unwrap() > generation);
        assert!(!store.close_fact("api:events", "events", "c/a", 6).unwrap(), "closed once");
        assert!(!store.close_fact("api:events", "events", "c/nope", 6).unwrap());
        let facts: Vec<Fact> = store.facts().collect::<Result<_, _>>().unwrap();
        assert_eq!(facts[0].versions.len(), 1);
        assert_eq!(facts[0].versions[0].valid_to, Some(5));
    }
}
