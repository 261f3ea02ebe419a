//! Writing one source file by file, so an ingest holds one file's records at a time:
//! [`Store::begin_source`], then [`SourceWriter::apply_file`] or
//! [`SourceWriter::keep_file`] per file, then [`SourceWriter::finish`], which closes the
//! facts of files that are gone and records the source. A change log, which may be
//! any size, is written a chunk at a time instead: [`SourceWriter::begin_file`],
//! [`SourceWriter::apply_chunk`], [`SourceWriter::end_file`].
//!
//! Each file is diffed against its own stored facts (a prefix scan of
//! `source \0 file \0`) and written as one atomic sled batch. A crash between two files
//! leaves every file either as it was or as it is now, never half of one; the generation
//! is bumped before the first changed file is written and again by `finish`, so no
//! projection built meanwhile is taken for the finished state, and the next ingest
//! converges.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use lore_schema::Record;

use super::{ApplyStats, Fact, SourceMeta, Store, StoreError, codec, keys};

/// A file being written a chunk at a time ([`SourceWriter::begin_file`]).
#[must_use = "call end_file, or the file's vanished facts stay open"]
pub struct FileChunks {
    /// `source \0 file \0`.
    prefix: Vec<u8>,
    /// The keys of every record applied so far.
    seen: HashSet<Vec<u8>>,
}

/// An ingest of one source in progress.
#[must_use = "call finish, or vanished files keep their facts"]
pub struct SourceWriter<'s> {
    store: &'s Store,
    source: String,
    now: i64,
    stats: ApplyStats,
    /// The key prefix (`source \0 file \0`) of every file applied or kept.
    files: BTreeSet<Vec<u8>>,
    changed: bool,
    /// Whether a fact other than a change event changed.
    topology_changed: bool,
}

/// One atomic batch of fact writes, with whether any is a topology fact and whether any
/// is a change event.
#[derive(Default)]
struct Pending {
    batch: sled::Batch,
    writes: usize,
    topology: bool,
    changes: bool,
}

impl Pending {
    fn put(&mut self, key: &[u8], fact: &Fact) {
        let change = keys::is_change_key(key);
        self.topology |= !change;
        self.changes |= change;
        self.batch.insert(key, codec::encode_fact(fact));
        self.writes += 1;
    }
}

impl Store {
    /// Starts writing `source` at time `now`, file by file.
    pub fn begin_source(&self, source: &str, now: i64) -> SourceWriter<'_> {
        SourceWriter {
            store: self,
            source: source.to_string(),
            now,
            stats: ApplyStats::default(),
            files: BTreeSet::new(),
            changed: false,
            topology_changed: false,
        }
    }
}

impl SourceWriter<'_> {
    /// Applies what one file gives: new facts open, changed ones get a new version, and
    /// facts of the file that are not in `records` close, unless `partial` (the file
    /// failed to read or parse in part: what it did not give this time is kept). Free
    /// text is redacted first.
    pub fn apply_file(
        &mut self,
        file: &str,
        mut records: Vec<Record>,
        partial: bool,
    ) -> Result<(), StoreError> {
        self.stats.redacted += crate::redact::records(records.iter_mut());
        let prefix = keys::fact_key(&self.source, file, "");
        let mut incoming: BTreeMap<Vec<u8>, Record> = BTreeMap::new();
        for record in records {
            incoming.entry(keys::fact_key(&self.source, file, &record.key())).or_insert(record);
        }
        let mut batch = Pending::default();
        for item in self.store.facts.scan_prefix(&prefix) {
            let (key, value) = item?;
            let fact = codec::decode_fact(&key, &value)?;
            let written = match incoming.remove(key.as_ref()) {
                Some(record) => self.upsert(Some(fact), record),
                None => self.absent(fact, partial),
            };
            if let Some(fact) = written {
                batch.put(&key, &fact);
            }
        }
        for (key, record) in incoming {
            if let Some(fact) = self.upsert(None, record) {
                batch.put(&key, &fact);
            }
        }
        self.files.insert(prefix);
        self.write(batch)
    }

    /// Starts a file written a chunk of records at a time (a change log read a few
    /// thousand lines at a time, so memory holds one chunk, not the file):
    /// [`SourceWriter::apply_chunk`] per chunk, then [`SourceWriter::end_file`]. Each
    /// chunk is one atomic batch; a crash mid-file leaves earlier chunks written and
    /// nothing of the file closed, and the next ingest converges.
    pub fn begin_file(&self, file: &str) -> FileChunks {
        FileChunks { prefix: keys::fact_key(&self.source, file, ""), seen: HashSet::new() }
    }

    /// Applies one chunk of a file begun with [`SourceWriter::begin_file`]: new facts
    /// open, changed ones get a new version; a record whose key an earlier chunk gave
    /// is left out. Nothing closes until [`SourceWriter::end_file`].
    pub fn apply_chunk(
        &mut self,
        file: &mut FileChunks,
        mut records: Vec<Record>,
    ) -> Result<(), StoreError> {
        self.stats.redacted += crate::redact::records(records.iter_mut());
        let mut batch = Pending::default();
        for record in records {
            let mut key = file.prefix.clone();
            key.extend_from_slice(record.key().as_bytes());
            if !file.seen.insert(key.clone()) {
                continue;
            }
            let known = match self.store.facts.get(&key)? {
                Some(value) => Some(codec::decode_fact(&key, &value)?),
                None => None,
            };
            if let Some(fact) = self.upsert(known, record) {
                batch.put(&key, &fact);
            }
        }
        self.write(batch)
    }

    /// Ends a file begun with [`SourceWriter::begin_file`]: its facts that no chunk gave
    /// close, unless `partial` (a line failed to read or parse: they are kept).
    pub fn end_file(&mut self, file: FileChunks, partial: bool) -> Result<(), StoreError> {
        let mut batch = Pending::default();
        for item in self.store.facts.scan_prefix(&file.prefix) {
            let (key, value) = item?;
            if file.seen.contains(key.as_ref()) {
                continue;
            }
            if let Some(fact) = self.absent(codec::decode_fact(&key, &value)?, partial) {
                batch.put(&key, &fact);
            }
        }
        self.files.insert(file.prefix);
        self.write(batch)
    }

    /// `record` given for a fact (`known`, or none yet): the fact to write, if it
    /// changed.
    fn upsert(&mut self, known: Option<Fact>, record: Record) -> Option<Fact> {
        super::next_version(known, &self.source, record, self.now, &mut self.stats)
    }

    /// A fact of a file read again that did not give it: closed (the fact to write),
    /// or kept when the read was `partial`.
    fn absent(&mut self, mut fact: Fact, partial: bool) -> Option<Fact> {
        let open = fact.versions.last_mut().filter(|v| v.valid_to.is_none())?;
        if partial {
            self.stats.unchanged += 1;
            return None;
        }
        open.valid_to = Some(self.now);
        self.stats.closed += 1;
        Some(fact)
    }

    fn write(&mut self, pending: Pending) -> Result<(), StoreError> {
        if pending.writes > 0 {
            self.mark_changed(pending.topology)?;
            if pending.changes {
                self.store.note_change_source(&self.source)?;
            }
            self.store.facts.apply_batch(pending.batch)?;
        }
        Ok(())
    }

    /// Keeps the facts of a file that could not be read at all, as they are.
    pub fn keep_file(&mut self, file: &str) -> Result<(), StoreError> {
        let prefix = keys::fact_key(&self.source, file, "");
        for item in self.store.facts.scan_prefix(&prefix) {
            let (key, value) = item?;
            let fact = codec::decode_fact(&key, &value)?;
            if fact.versions.last().is_some_and(|v| v.valid_to.is_none()) {
                self.stats.unchanged += 1;
            }
        }
        self.files.insert(prefix);
        Ok(())
    }

    /// Bumps the generations before the first write (and the topology's before the first
    /// write to it), so no projection built meanwhile is taken for the finished state.
    fn mark_changed(&mut self, topology: bool) -> Result<(), StoreError> {
        let topology = topology && !self.topology_changed;
        if !self.changed || topology {
            self.changed = true;
            self.topology_changed |= topology;
            self.store.bump_generation(topology)?;
        }
        Ok(())
    }

    /// Closes the facts of every file of the source that was neither applied nor kept
    /// (it is gone, or no longer gives anything), records `meta`, and makes it durable.
    pub fn finish(mut self, meta: SourceMeta) -> Result<ApplyStats, StoreError> {
        let mut batch = Pending::default();
        let source_len = keys::source_prefix(&self.source).len();
        for item in self.store.facts.scan_prefix(keys::source_prefix(&self.source)) {
            let (key, value) = item?;
            let file_end =
                key[source_len..].iter().position(|b| *b == 0).map(|i| source_len + i + 1);
            if file_end.is_some_and(|end| self.files.contains(&key[..end])) {
                continue;
            }
            let mut fact = codec::decode_fact(&key, &value)?;
            if let Some(last) = fact.versions.last_mut().filter(|v| v.valid_to.is_none()) {
                last.valid_to = Some(self.now);
                self.stats.closed += 1;
                batch.put(&key, &fact);
            }
        }
        self.write(batch)?;
        let sources = &self.store.sources;
        let known = sources
            .get(self.source.as_bytes())?
            .map(|v| codec::decode_source(&self.source, &v))
            .transpose()?;
        if self.changed || known.as_ref() != Some(&meta) {
            let mut meta = meta;
            if !self.changed
                && let Some(known) = known
            {
                meta.changed_at = known.changed_at;
            }
            sources.insert(self.source.as_bytes(), codec::encode_source(&meta))?;
        }
        if self.changed {
            // The finished state is a generation of its own, after any built meanwhile.
            self.store.bump_generation(self.topology_changed)?;
        }
        self.store.db.flush()?;
        Ok(self.stats)
    }
}
