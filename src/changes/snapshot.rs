//! The change index on disk: the current change events (one per id, the one that speaks
//! for it) saved with the store generation they were read at, so a fresh process (a
//! one-shot `lore changes`, a server starting) reads one file instead of decoding every
//! change fact in the store.
//!
//! Layout: [`MAGIC`], then two MessagePack values, the [`Stamp`] and the header (the
//! tables of sources and service names, and each event's id, time, service, source and
//! place), then each event as its own value, read only when a query asks for it: opening
//! decodes no event. Only the events are saved, not which node each resolved to: that
//! depends on the graph, and is looked up again (once per service name). A snapshot is
//! used only when its stamp matches the store's id and generation, which every write
//! moves; anything else (missing, older, torn, another
//! format) is ignored and rebuilt from the store. Written to a temporary file of this
//! process, synced and renamed into place: readers see a whole snapshot or none.

use std::fs::File;
use std::io::{BufReader, Seek, Write};
use std::path::Path;
use std::sync::Arc;

use lore_schema::ChangeEvent;
use serde::{Deserialize, Serialize};

use super::index::{Key, StoredChange, Table};
use crate::graph::stored::{Place, Stored, put, read_stamped, save_stamped, write_value};

const MAGIC: &[u8; 8] = b"LORECHNG";
/// Version of the layout and of the encoded types.
const FORMAT: u32 = 1;

/// What a snapshot was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    format: u32,
    /// The store's id (`Store::id`) and generation (`Store::generation`).
    store: String,
    generation: u64,
}

impl Stamp {
    pub(crate) fn new(store: &str, generation: u64) -> Stamp {
        Stamp { format: FORMAT, store: store.to_string(), generation }
    }
}

/// Everything but the events, one column per field.
#[derive(Serialize, Deserialize, Default)]
struct Header {
    sources: Vec<String>,
    services: Vec<String>,
    ids: Vec<String>,
    ts: Vec<i64>,
    service: Vec<u32>,
    source: Vec<u32>,
    /// Each event's place, from the end of the header.
    places: Vec<Place>,
}

/// A snapshot opened: its events are read when first asked for.
pub(crate) struct Saved {
    pub(crate) sources: Table,
    pub(crate) services: Table,
    /// Id and key of each event, in the order saved.
    pub(crate) keys: Vec<(String, Key)>,
    pub(crate) events: Stored<ChangeEvent>,
}

/// Writes `changes` (with the tables their keys number into) to `path` stamped `stamp`
/// (atomically: temporary file, sync, rename).
pub(crate) fn save<'a>(
    changes: impl Iterator<Item = (StoredChange<'a>, Key)>,
    sources: &Table,
    services: &Table,
    stamp: &Stamp,
    path: &Path,
) -> std::io::Result<()> {
    let mut header = Header {
        sources: sources.names.clone(),
        services: services.names.clone(),
        ..Header::default()
    };
    let mut blobs = Vec::new();
    for (change, key) in changes {
        header.places.push(put(&mut blobs, change.event)?);
        header.ids.push(change.event.id.clone());
        header.ts.push(key.ts);
        header.service.push(key.service);
        header.source.push(key.source);
    }
    save_stamped(path, MAGIC, stamp, |out| {
        write_value(out, &header)?;
        out.write_all(&blobs)
    })
}

/// The snapshot at `path` if its stamp is `stamp`; `None` when there is none or it was
/// read from anything else (a snapshot that does not decode is logged and ignored).
pub(crate) fn load(path: &Path, stamp: &Stamp) -> Option<Saved> {
    let file = File::open(path).ok()?;
    match read(file, stamp) {
        Ok(saved) => saved,
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "change index snapshot ignored");
            None
        }
    }
}

fn read(file: File, stamp: &Stamp) -> Result<Option<Saved>, String> {
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if !read_stamped(&mut reader, MAGIC, stamp, "change index snapshot")? {
        return Ok(None);
    }
    let h: Header = rmp_serde::from_read(&mut reader).map_err(|e| e.to_string())?;
    let start = reader.stream_position().map_err(|e| e.to_string())?;
    let file = reader.into_inner();
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let n = h.ids.len();
    if [h.ts.len(), h.service.len(), h.source.len(), h.places.len()].iter().any(|&l| l != n) {
        return Err("columns of different lengths".into());
    }
    let end = h.places.iter().map(|p| start + p.offset + u64::from(p.len)).max();
    if end.unwrap_or(start) > size {
        return Err("events cut short".into());
    }
    let numbered = |ns: &[u32], of: usize| ns.iter().all(|&i| (i as usize) < of);
    if !numbered(&h.service, h.services.len()) || !numbered(&h.source, h.sources.len()) {
        return Err("an event names a service or source that is not saved".into());
    }
    let keys = h
        .ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, Key { ts: h.ts[i], service: h.service[i], source: h.source[i] }));
    let places = h.places.into_iter().map(|p| Place { offset: start + p.offset, ..p }).collect();
    Ok(Some(Saved {
        sources: Table::from_names(h.sources),
        services: Table::from_names(h.services),
        keys: keys.collect(),
        events: Stored::lazy(places, Arc::new(file)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lore_schema::{ChangeKind, Origin, Provenance};

    fn event(id: &str, url: Option<&str>) -> ChangeEvent {
        ChangeEvent {
            id: id.into(),
            ts: 1_700_000_000,
            service: "cart".into(),
            kind: ChangeKind::Deploy,
            version: Some("1.2.3".into()),
            commit: None,
            author: None,
            description: "roll out".into(),
            url: url.map(Into::into),
            provenance: Provenance {
                ingestor: "deploys".into(),
                locator: "deploys.ndjson:1".into(),
                origin: Origin::Declared,
                confidence: 1000,
                note: String::new(),
            },
        }
    }

    #[test]
    fn events_come_back_only_for_their_own_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("changes.bin");
        let sources = Table::from_names(vec!["s1".into(), "s2".into()]);
        let services = Table::from_names(vec!["cart".into()]);
        // The url is skipped when absent: the encoding must still line up.
        let events = [event("a", None), event("b", Some("https://x")), event("c", None)];
        let key = |source| Key { ts: 1_700_000_000, service: 0, source };
        let changes = [(0, &events[0]), (1, &events[1]), (0, &events[2])]
            .map(|(s, e)| (StoredChange { event: e, source: &sources.names[s as usize] }, key(s)));
        save(changes.into_iter(), &sources, &services, &Stamp::new("store", 7), &path).unwrap();
        let back = load(&path, &Stamp::new("store", 7)).unwrap();
        let ids: Vec<_> = back.keys.iter().map(|(id, k)| (id.as_str(), k.source)).collect();
        assert_eq!(ids, [("a", 0), ("b", 1), ("c", 0)]);
        assert_eq!(back.events.get_or(1, "event", || None), Some(&events[1]));
        assert_eq!(back.events.get_or(2, "event", || None), Some(&events[2]));
        assert!(load(&path, &Stamp::new("store", 8)).is_none());
        assert!(load(&path, &Stamp::new("other", 7)).is_none());
        // A torn file is ignored, not trusted.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        assert!(load(&path, &Stamp::new("store", 7)).is_none());
    }
}
