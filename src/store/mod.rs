//! The store: sled is the source of truth for every fact Lore knows.
//!
//! Facts are kept per source (an ingest root). Each fact has a history of versions with
//! validity; re-ingesting a source upserts what is there and closes what vanished, in one
//! atomic batch. Nothing else in Lore touches sled.

mod audit;
mod change_sources;
mod codec;
mod feedback;
mod keys;
mod observed;
mod reopen;
mod source;
mod upsert;

pub use source::{FileChunks, SourceWriter};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use lore_schema::Record;

pub use audit::AuditEntry;
pub use codec::{Fact, FactVersion, SourceMeta};
pub use feedback::StoredFeedback;
pub use observed::{KeyValue, ObservedEntry};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed. (Not a `source`: sled's message is the whole story, and a chain
    /// printer would repeat it.)
    #[error("store I/O failed: {}", sled_message(.0))]
    Sled(sled::Error),
    /// Another process holds the store (sled's file lock): a running `lore serve`, or
    /// another CLI command.
    #[error("the store in {} is in use by another lore process", dir.display())]
    Locked {
        /// The store directory.
        dir: std::path::PathBuf,
    },
    /// A stored value does not decode.
    #[error("corrupt store value at `{key}`: {reason}")]
    Corrupt {
        /// Key of the value.
        key: String,
        /// Why it does not decode.
        reason: String,
    },
    /// The store was written by another format version.
    #[error(
        "store format version {found} is not supported (expected {expected}); re-ingest into a new data dir"
    )]
    Version {
        /// Version found.
        found: u32,
        /// Version this build writes.
        expected: u32,
    },
}

/// sled's own text, without the debug format sled prints I/O errors in.
fn sled_message(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Sled(e)
    }
}

/// What applying a source changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyStats {
    /// Facts seen for the first time.
    pub added: usize,
    /// Facts whose content changed (old version closed, new one opened).
    pub updated: usize,
    /// Facts that vanished and were closed.
    pub closed: usize,
    /// Facts unchanged.
    pub unchanged: usize,
    /// Secrets redacted from the records before they were compared and written.
    pub redacted: usize,
}

/// The sled-backed store.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    facts: sled::Tree,
    sources: sled::Tree,
    vectors: sled::Tree,
    feedback: sled::Tree,
    audit: sled::Tree,
    /// Sources holding change events (`change_sources.rs`).
    change_sources: sled::Tree,
    /// [`Store::generation`] and [`Store::observed_generation`] as last written: this
    /// process holds the store alone (sled's lock), so queries read them without sled.
    /// Shared by clones, as the sled handles are.
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    topology_generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    observed_generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// [`Store::id`].
    id: std::sync::Arc<str>,
    /// Records the close when the last clone goes (`reopen.rs`); last, so it drops after
    /// the sled handles.
    _closed: std::sync::Arc<reopen::CloseMark>,
}

/// sled's page cache, MiB, unless `LORE_STORE_CACHE_MB` says otherwise. sled's own
/// default (1 GiB) made a long-running receiver's memory grow with the data it wrote.
pub const DEFAULT_CACHE_MB: u64 = 128;

fn cache_bytes() -> u64 {
    std::env::var("LORE_STORE_CACHE_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_CACHE_MB)
        .max(8)
        << 20
}

/// `record` given for a fact of `source` (`known`, or none yet) at `now`: the fact to
/// write when it changed (a new version, closing the open one), counted in `stats`.
/// What both writers share: a source read file by file and additive upserts.
fn next_version(
    known: Option<Fact>,
    source: &str,
    record: Record,
    now: i64,
    stats: &mut ApplyStats,
) -> Option<Fact> {
    let mut fact =
        known.unwrap_or_else(|| Fact { source: source.to_string(), versions: Vec::new() });
    match fact.versions.last_mut().filter(|v| v.valid_to.is_none()) {
        Some(open) if open.record == record => {
            stats.unchanged += 1;
            return None;
        }
        Some(open) => {
            open.valid_to = Some(now);
            stats.updated += 1;
        }
        None => stats.added += 1,
    }
    fact.versions.push(FactVersion { record, valid_from: now, valid_to: None });
    Some(fact)
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let config = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(cache_bytes());
        let locked = |e: &StoreError| matches!(e, StoreError::Locked { .. });
        let db = reopen::open(dir, locked, || {
            config.open().map_err(|e| match e {
                // sled gives no kind for it, only this message.
                sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock") => {
                    StoreError::Locked { dir: dir.to_path_buf() }
                }
                e => StoreError::Sled(e),
            })
        })?;
        let meta = db.open_tree(keys::META_TREE)?;
        match meta.get(keys::FORMAT_KEY)? {
            Some(v) => {
                let found = codec::decode_version(&v)?;
                if found != keys::FORMAT_VERSION {
                    return Err(StoreError::Version { found, expected: keys::FORMAT_VERSION });
                }
            }
            None => {
                meta.insert(keys::FORMAT_KEY, &keys::FORMAT_VERSION.to_be_bytes())?;
            }
        }
        let facts = db.open_tree(keys::FACTS_TREE)?;
        let sources = db.open_tree(keys::SOURCES_TREE)?;
        let vectors = db.open_tree(keys::VECTORS_TREE)?;
        let feedback = db.open_tree(keys::FEEDBACK_TREE)?;
        let audit = db.open_tree(keys::AUDIT_TREE)?;
        let change_sources = db.open_tree(change_sources::TREE)?;
        let counter = |key| stored_counter(&meta, key).map(|n| std::sync::Arc::new(n.into()));
        let generation = counter(keys::GENERATION_KEY)?;
        let topology_generation = counter(keys::TOPOLOGY_GENERATION_KEY)?;
        let observed_generation = counter(observed::OBSERVED_GENERATION_KEY)?;
        let id = match meta.get(keys::STORE_ID_KEY)? {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => {
                let id = format!("{:032x}", fastrand::u128(..));
                meta.insert(keys::STORE_ID_KEY, id.as_bytes())?;
                id
            }
        };
        let store = Store {
            id: id.into(),
            db,
            meta,
            facts,
            sources,
            vectors,
            feedback,
            audit,
            change_sources,
            generation,
            topology_generation,
            observed_generation,
            _closed: std::sync::Arc::new(reopen::CloseMark::new(dir)),
        };
        store.complete_change_sources()?;
        Ok(store)
    }

    /// Replaces the facts of `source` by `records` (each with the file it came from), at
    /// time `now`: new facts open, changed facts get a new version, vanished facts close.
    /// Unchanged facts are not rewritten, so applying the same input twice writes nothing.
    /// Facts of `failed_files` (files that could not be parsed this time) are kept as they
    /// are: a broken file does not erase what was known from it. Every record's free text
    /// is redacted first (`redact.rs`): no secret reaches sled.
    pub fn apply_source(
        &self,
        source: &str,
        meta: SourceMeta,
        records: Vec<(String, Record)>,
        failed_files: &[String],
        now: i64,
    ) -> Result<ApplyStats, StoreError> {
        let mut by_file: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        for (file, record) in records {
            by_file.entry(file).or_default().push(record);
        }
        let failed: BTreeSet<&str> = failed_files.iter().map(String::as_str).collect();
        let mut writer = self.begin_source(source, now);
        for file in &failed {
            if !by_file.contains_key(*file) {
                writer.keep_file(file)?;
            }
        }
        for (file, records) in by_file {
            let partial = failed.contains(file.as_str());
            writer.apply_file(&file, records, partial)?;
        }
        writer.finish(meta)
    }

    /// How many current facts of `source` each file has (files with none are left out).
    pub fn open_facts_by_file(&self, source: &str) -> Result<BTreeMap<String, usize>, StoreError> {
        let prefix = keys::source_prefix(source);
        let mut out = BTreeMap::new();
        for item in self.facts.scan_prefix(&prefix) {
            let (key, value) = item?;
            let fact = codec::decode_fact(&key, &value)?;
            if fact.versions.last().is_some_and(|v| v.valid_to.is_none()) {
                let rest = &key[prefix.len()..];
                let file = rest.split(|b| *b == 0).next().unwrap_or_default();
                *out.entry(String::from_utf8_lossy(file).into_owned()).or_default() += 1;
            }
        }
        Ok(out)
    }

    /// This store's own id, random and fixed at creation: a projection saved beside it
    /// names the store it was built from, so a store replaced under the same path (with
    /// its generation counting from zero again) is never answered from the old one's.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A counter bumped by every write that changes facts; projections (the search
    /// index) record the generation they were built from and rebuild when behind.
    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self.generation.load(std::sync::atomic::Ordering::Acquire))
    }

    /// A counter bumped by every write that changes a fact other than a change event:
    /// the graphs, which are resolved from those facts only ([`Store::topology_facts`]),
    /// are stamped with it, so posting events or ingesting a change log leaves a saved
    /// graph valid. It moves with [`Store::generation`], never without it.
    pub fn topology_generation(&self) -> Result<u64, StoreError> {
        Ok(self.topology_generation.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Bumps [`Store::generation`], and [`Store::topology_generation`] too when the
    /// write changed (or is about to change) the `topology`.
    pub(crate) fn bump_generation(&self, topology: bool) -> Result<(), StoreError> {
        let bump = |key: &str, counter: &std::sync::atomic::AtomicU64| {
            let next = stored_counter(&self.meta, key)? + 1;
            self.meta.insert(key, &next.to_be_bytes())?;
            counter.store(next, std::sync::atomic::Ordering::Release);
            Ok::<_, StoreError>(())
        };
        if topology {
            bump(keys::TOPOLOGY_GENERATION_KEY, &self.topology_generation)?;
        }
        bump(keys::GENERATION_KEY, &self.generation)
    }

    /// Every fact, in key order.
    pub fn facts(&self) -> impl Iterator<Item = Result<Fact, StoreError>> + '_ {
        self.facts.iter().map(|item| {
            let (key, value) = item?;
            codec::decode_fact(&key, &value)
        })
    }

    /// Every fact but the change events, in key order: what the topology is resolved
    /// from. Events are told by their key (`c/<id>`) and skipped without decoding.
    pub fn topology_facts(&self) -> impl Iterator<Item = Result<Fact, StoreError>> + '_ {
        self.facts.iter().filter_map(|item| decode_if(item, false))
    }

    /// Every source with its metadata.
    pub fn sources(&self) -> Result<Vec<(String, SourceMeta)>, StoreError> {
        self.sources
            .iter()
            .map(|item| {
                let (key, value) = item?;
                let name = String::from_utf8_lossy(&key).into_owned();
                let meta = codec::decode_source(&name, &value)?;
                Ok((name, meta))
            })
            .collect()
    }

    /// The embedding stored under `key` (a content hash), if any.
    pub fn vector(&self, key: &[u8]) -> Result<Option<Vec<f32>>, StoreError> {
        Ok(self.vectors.get(key)?.map(|v| codec::decode_vector(&v)))
    }

    /// Stores embeddings by content hash, in one batch.
    pub fn put_vectors(&self, items: &[([u8; 32], Vec<f32>)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, vector) in items {
            batch.insert(key.as_slice(), codec::encode_vector(vector));
        }
        self.vectors.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// A checksum of every stored fact, to tell whether anything changed.
    pub fn checksum(&self) -> Result<String, StoreError> {
        let mut hasher = blake3::Hasher::new();
        for item in self.facts.iter() {
            let (key, value) = item?;
            hasher.update(&key);
            hasher.update(&value);
        }
        Ok(hasher.finalize().to_hex().to_string())
    }
}

/// A big-endian counter of the meta tree (0 when absent).
/// The fact of a scanned `item` when it is a change event (`changes`) or when it is not,
/// told by its key: the others are skipped without decoding.
fn decode_if(
    item: sled::Result<(sled::IVec, sled::IVec)>,
    changes: bool,
) -> Option<Result<Fact, StoreError>> {
    match item {
        Ok((key, value)) if keys::is_change_key(&key) == changes => {
            Some(codec::decode_fact(&key, &value))
        }
        Ok(_) => None,
        Err(e) => Some(Err(e.into())),
    }
}

fn stored_counter(meta: &sled::Tree, key: &str) -> Result<u64, StoreError> {
    Ok(meta.get(key)?.map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
}

#[cfg(test)]
mod tests {
    use lore_schema::{Entity, EntityClass, NodeKind, Provenance};

    use super::*;

    fn entity(name: &str) -> (String, Record) {
        let prov = Provenance::declared("test", format!("f.yaml:{}", name.len()), "");
        (
            "f.yaml".to_string(),
            Record::Entity(Entity::new(NodeKind::Service, name, EntityClass::Workload, prov)),
        )
    }

    #[test]
    fn reapplying_is_idempotent_and_vanished_facts_close() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let meta = SourceMeta { root: "r".into(), changed_at: 1, files: 1 };
        let stats =
            store.apply_source("s", meta.clone(), vec![entity("a"), entity("bb")], &[], 1).unwrap();
        assert_eq!(stats.added, 2);
        let before = store.checksum().unwrap();
        let stats = store
            .apply_source(
                "s",
                SourceMeta { changed_at: 2, ..meta.clone() },
                vec![entity("a"), entity("bb")],
                &[],
                2,
            )
            .unwrap();
        assert_eq!(stats, ApplyStats { unchanged: 2, ..ApplyStats::default() });
        assert_eq!(store.checksum().unwrap(), before);
        let stats = store.apply_source("s", meta, vec![entity("a")], &[], 3).unwrap();
        assert_eq!(stats.closed, 1);
        let facts: Vec<Fact> = store.facts().collect::<Result<_, _>>().unwrap();
        let closed: Vec<_> = facts.iter().filter(|f| f.versions[0].valid_to == Some(3)).collect();
        assert_eq!(closed.len(), 1);
    }
}
