//! Observed figures as stored: segments of buckets, compacted by size.
//!
//! A write (one OTLP request, or a flush of file ingest) stores its buckets as one
//! segment, or several of at most [`SEGMENT_BUCKETS`], each with its own table of edges:
//! one store write per segment instead of one per bucket. A segment's level follows its
//! size; when a level holds [`FAN_IN`] segments they are merged (buckets of the same edge
//! and time added up) into bigger ones, so a source holds few segments per level and
//! every bucket is rewritten about once per level. Segments at the [`TOP`] level are
//! full and never merged. Readers add up buckets across segments, so a bucket split over
//! several segments reads the same as one.
//!
//! Roll-up (minute buckets first written more than a day ago into their hours) rewrites
//! the segments that hold such buckets; it also turns buckets stored one per key by
//! earlier versions into segments.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::aggregate::{EdgeKey, HOUR, MINUTE, ROLLUP_AFTER};
use super::figures::Figures;
use super::parse_bucket_key;
use crate::error::{Error, Result};
use crate::store::Store;

/// Most buckets in one stored segment.
pub const SEGMENT_BUCKETS: usize = 64;
/// Segments of one level merged into the next.
pub const FAN_IN: usize = 8;
/// The level of full segments, never merged.
pub const TOP: u8 = 2;
/// First byte of an encoded segment: the format version.
const FORMAT: u8 = 1;

/// Buckets with their edges: (edge index, bucket start, bucket seconds, figures).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Segment {
    edges: Vec<EdgeKey>,
    buckets: Vec<(u32, i64, i64, Figures)>,
}

impl Segment {
    /// Its buckets: edge, start, width, figures.
    pub fn iter(&self) -> impl Iterator<Item = (&EdgeKey, i64, i64, &Figures)> {
        self.buckets.iter().filter_map(|(e, start, width, fig)| {
            Some((self.edges.get(*e as usize)?, *start, *width, fig))
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        // Encoding plain data into a Vec cannot fail.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    fn decode(bytes: &[u8]) -> std::result::Result<Segment, String> {
        match bytes.split_first() {
            Some((&FORMAT, rest)) => postcard::from_bytes(rest).map_err(|e| e.to_string()),
            Some((v, _)) => Err(format!("unknown observed-segment format {v}")),
            None => Err("empty observed segment".into()),
        }
    }
}

/// The level of a segment of `n` buckets.
fn level_of(n: usize) -> u8 {
    if n < SEGMENT_BUCKETS / FAN_IN {
        0
    } else if n < SEGMENT_BUCKETS / 2 {
        1
    } else {
        TOP
    }
}

/// Buckets gathered (same edge and time added up) into segments.
#[derive(Debug, Default)]
pub struct Builder {
    edges: FxHashMap<EdgeKey, u32>,
    keys: Vec<EdgeKey>,
    buckets: FxHashMap<(u32, i64, i64), Figures>,
}

impl Builder {
    /// Adds one bucket.
    pub fn add(&mut self, edge: &EdgeKey, start: i64, width: i64, fig: Figures) {
        let e = match self.edges.get(edge) {
            Some(e) => *e,
            None => {
                let e = self.keys.len() as u32;
                self.edges.insert(edge.clone(), e);
                self.keys.push(edge.clone());
                e
            }
        };
        match self.buckets.entry((e, start, width)) {
            std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().merge(&fig),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(fig);
            }
        }
    }

    /// Distinct buckets.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Encoded segments of at most [`SEGMENT_BUCKETS`], with their levels.
    pub fn finish(self) -> Vec<(u8, Vec<u8>)> {
        let mut all: Vec<((u32, i64, i64), Figures)> = self.buckets.into_iter().collect();
        all.sort_unstable_by_key(|(k, _)| *k);
        let mut out = Vec::new();
        let mut rest = all.into_iter().peekable();
        while rest.peek().is_some() {
            let mut seg = Segment::default();
            let mut remap: FxHashMap<u32, u32> = FxHashMap::default();
            for ((e, start, width), fig) in rest.by_ref().take(SEGMENT_BUCKETS) {
                let local = *remap.entry(e).or_insert_with(|| {
                    seg.edges.push(self.keys[e as usize].clone());
                    seg.edges.len() as u32 - 1
                });
                seg.buckets.push((local, start, width, fig));
            }
            out.push((level_of(seg.buckets.len()), seg.encode()));
        }
        out
    }
}

/// Stores `builder`'s buckets as new segments of `source`, then compacts.
pub fn write(store: &Store, source: &str, builder: Builder) -> Result<()> {
    replace(store, source, &[], builder)?;
    compact(store, source)
}

/// Merges every level below [`TOP`] that holds [`FAN_IN`] segments or more.
fn compact(store: &Store, source: &str) -> Result<()> {
    for level in 0..TOP {
        let segments = store.observed_level(source, level).map_err(Error::from)?;
        if segments.len() < FAN_IN {
            continue;
        }
        let mut builder = Builder::default();
        let mut keys = Vec::with_capacity(segments.len());
        for (key, value) in segments {
            let seg = Segment::decode(&value).map_err(|reason| corrupt(source, reason))?;
            for (edge, start, width, fig) in seg.iter() {
                builder.add(edge, start, width, fig.clone());
            }
            keys.push(key);
        }
        replace(store, source, &keys, builder)?;
    }
    Ok(())
}

/// Replaces the segments `keys` by `builder`'s in one batch (nothing when another
/// compaction took them first).
fn replace(store: &Store, source: &str, keys: &[Vec<u8>], builder: Builder) -> Result<()> {
    store.replace_observed(source, keys, builder.finish()).map_err(Error::from)?;
    Ok(())
}

fn corrupt(source: &str, reason: String) -> Error {
    Error::from(crate::store::StoreError::Corrupt { key: format!("observed/{source}"), reason })
}

/// Whether a stored key (without its source) is a segment's, not an old single bucket's.
fn is_segment_key(rest: &[u8]) -> bool {
    rest.len() == 9 && rest[0] <= TOP
}

/// Calls `f(source, edge, start, width, figures)` for every stored bucket of `source`
/// (every source when `None`), old single-bucket entries included. Unreadable entries
/// are skipped with a warning.
pub fn for_each(
    store: &Store,
    source: Option<&str>,
    mut f: impl FnMut(&str, &EdgeKey, i64, i64, &Figures),
) -> Result<()> {
    for entry in store.observed(source).map_err(Error::from)? {
        let (src, rest, value) = entry.map_err(Error::from)?;
        if is_segment_key(&rest) {
            match Segment::decode(&value) {
                Ok(seg) => seg.iter().for_each(|(e, s, w, fig)| f(&src, e, s, w, fig)),
                Err(reason) => tracing::warn!(source = %src, %reason, "unreadable segment"),
            }
        } else if let Some((edge, start, width)) = parse_bucket_key(&rest)
            && let Ok(fig) = Figures::decode(&value)
        {
            f(&src, &edge, start, width, &fig);
        }
    }
    Ok(())
}

/// Rolls `source`'s minute buckets first written before `now` − a day into their hours,
/// rewriting the segments that hold them, and turns old single-bucket entries into
/// segments.
pub fn roll_up(store: &Store, source: &str, now: i64) -> Result<()> {
    let cutoff = now - ROLLUP_AFTER;
    let due =
        |width: i64, fig: &Figures| width == MINUTE && fig.written != 0 && fig.written < cutoff;
    let mut legacy_keys = Vec::new();
    let mut legacy = Builder::default();
    // sled's iterators tolerate writes made while they run.
    for entry in store.observed(Some(source)).map_err(Error::from)? {
        let (_, rest, value) = entry.map_err(Error::from)?;
        if !is_segment_key(&rest) {
            if let Some((edge, start, width)) = parse_bucket_key(&rest)
                && let Ok(fig) = Figures::decode(&value)
            {
                let (start, width) = if due(width, &fig) {
                    (start - start.rem_euclid(HOUR), HOUR)
                } else {
                    (start, width)
                };
                legacy.add(&edge, start, width, fig);
            }
            legacy_keys.push(rest);
            continue;
        }
        let Ok(seg) = Segment::decode(&value) else { continue };
        if !seg.iter().any(|(_, _, width, fig)| due(width, fig)) {
            continue;
        }
        let mut builder = Builder::default();
        for (edge, start, width, fig) in seg.iter() {
            if due(width, fig) {
                builder.add(edge, start - start.rem_euclid(HOUR), HOUR, fig.clone());
            } else {
                builder.add(edge, start, width, fig.clone());
            }
        }
        replace(store, source, &[rest], builder)?;
    }
    if !legacy_keys.is_empty() {
        replace(store, source, &legacy_keys, legacy)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(to: &str) -> EdgeKey {
        EdgeKey { kind: 's', from: vec!["a".into()], to: vec![to.into()] }
    }

    fn fig(requests: u64, written: i64) -> Figures {
        let mut f = Figures::default();
        for i in 0..requests {
            f.add(i as i64, 1_000_000, i == 0, 7);
        }
        f.written = written;
        f
    }

    /// (requests, distinct buckets) of `source` per bucket width.
    fn totals(store: &Store, width: i64) -> (u64, usize) {
        let mut requests = 0;
        let mut buckets = std::collections::HashSet::new();
        for_each(store, Some("s"), |_, e, start, w, f| {
            if w == width {
                requests += f.requests;
                buckets.insert((e.clone(), start));
            }
        })
        .unwrap();
        (requests, buckets.len())
    }

    #[test]
    fn writes_compact_without_losing_or_doubling_a_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for w in 0..(FAN_IN * FAN_IN + 3) {
            let mut b = Builder::default();
            // The same bucket in every write, and one of its own.
            b.add(&edge("b"), 0, MINUTE, fig(2, 100));
            b.add(&edge("c"), 60 * w as i64, MINUTE, fig(1, 100));
            write(&store, "s", b).unwrap();
        }
        let writes = (FAN_IN * FAN_IN + 3) as u64;
        assert_eq!(totals(&store, MINUTE), (3 * writes, writes as usize + 1));
        assert!(store.observed_level("s", 0).unwrap().len() < FAN_IN);
        assert!(store.observed(Some("s")).unwrap().count() < 8 * FAN_IN);
    }

    #[test]
    fn roll_up_turns_old_minutes_into_hours_and_reads_single_bucket_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut b = Builder::default();
        b.add(&edge("b"), 0, MINUTE, fig(2, 100));
        b.add(&edge("b"), 60, MINUTE, fig(3, 100));
        b.add(&edge("b"), 7200, MINUTE, fig(1, 100 + ROLLUP_AFTER));
        write(&store, "s", b).unwrap();
        // An entry as stores before segments wrote it.
        let mut old = serde_json::to_vec(&edge("c")).unwrap();
        old.push(0);
        old.extend_from_slice(&MINUTE.to_be_bytes());
        old.extend_from_slice(&120i64.to_be_bytes());
        store.insert_observed_raw("s", &old, &fig(4, 100).encode()).unwrap();
        assert_eq!(totals(&store, MINUTE), (10, 4));
        roll_up(&store, "s", 101 + ROLLUP_AFTER).unwrap();
        assert_eq!(totals(&store, HOUR), (9, 2));
        assert_eq!(totals(&store, MINUTE), (1, 1));
        assert!(store.observed(Some("s")).unwrap().all(|e| is_segment_key(&e.unwrap().1)));
    }
}
