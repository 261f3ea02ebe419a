//! A graph's documents by node id: in memory when the graph was resolved in this
//! process, or each read from the graph's snapshot when first asked for (`snapshot.rs`
//! keeps every document as its own MessagePack value with its offset), so a query reads
//! only the documents it touches.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::{Arc, OnceLock};

use lore_schema::{Document, NodeId};

/// Where one value (a document, an edge, a change event) is in its snapshot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Place {
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

#[derive(Debug, Clone)]
struct Entry {
    place: Option<Place>,
    doc: OnceLock<Option<Document>>,
}

/// The documents of one graph.
#[derive(Debug, Default)]
pub struct Documents {
    entries: BTreeMap<NodeId, Entry>,
    /// The snapshot they are read from, when not in memory (shared by the graphs derived
    /// from this one: [`Documents::with`]).
    file: Option<Arc<File>>,
}

impl Documents {
    /// Documents already in memory.
    pub fn new(map: BTreeMap<NodeId, Document>) -> Documents {
        let entries = map
            .into_iter()
            .map(|(id, d)| (id, Entry { place: None, doc: OnceLock::from(Some(d)) }))
            .collect();
        Documents { entries, file: None }
    }

    /// Documents read from `file` at their places when first asked for.
    pub(super) fn lazy(places: Vec<(NodeId, Place)>, file: Arc<File>) -> Documents {
        let entries = places
            .into_iter()
            .map(|(id, p)| (id, Entry { place: Some(p), doc: OnceLock::new() }))
            .collect();
        Documents { entries, file: Some(file) }
    }

    fn load<'a>(&'a self, id: &NodeId, entry: &'a Entry) -> Option<&'a Document> {
        entry.doc.get_or_init(|| self.read(id, entry)).as_ref()
    }

    /// The document of `entry` from the snapshot, without keeping it.
    fn read(&self, id: &NodeId, entry: &Entry) -> Option<Document> {
        let (file, place) = (self.file.as_ref()?, entry.place?);
        match super::stored::read_at(file, place) {
            Ok(doc) => Some(doc),
            Err(reason) => {
                // The snapshot was whole when opened: this is a disk error. Say so rather
                // than let the document vanish quietly.
                tracing::error!(%id, %reason, "graph snapshot: document unreadable");
                None
            }
        }
    }

    /// These documents with `added` put in (replacing any of the same id) and `removed`
    /// taken out; the others stay where they are (in memory, or in the snapshot).
    pub fn with(&self, added: BTreeMap<NodeId, Document>, removed: &[NodeId]) -> Documents {
        let mut entries = self.entries.clone();
        for id in removed {
            entries.remove(id);
        }
        for (id, d) in added {
            entries.insert(id, Entry { place: None, doc: OnceLock::from(Some(d)) });
        }
        Documents { entries, file: self.file.clone() }
    }

    /// The document `id`.
    pub fn get(&self, id: &NodeId) -> Option<&Document> {
        self.entries.get(id).and_then(|e| self.load(id, e))
    }

    /// Whether `id` is a document of this graph (without reading it).
    pub fn contains(&self, id: &NodeId) -> bool {
        self.entries.contains_key(id)
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Calls `f` with every document, by id, reading those still in the snapshot without
    /// keeping them: one pass over every document (building the search chunks) does not
    /// leave a second copy of every text in memory for the life of the graph.
    pub fn scan(&self, mut f: impl FnMut(&NodeId, &Document)) {
        for (id, entry) in &self.entries {
            match entry.doc.get() {
                Some(doc) => doc.iter().for_each(|d| f(id, d)),
                None => self.read(id, entry).iter().for_each(|d| f(id, d)),
            }
        }
    }

    /// Every document, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &Document)> {
        self.entries.iter().filter_map(|(id, e)| self.load(id, e).map(|d| (id, d)))
    }

    /// The documents whose id passes `keep` (the others are not read).
    pub fn filtered(
        &self,
        keep: impl Fn(&NodeId) -> bool,
    ) -> impl Iterator<Item = (&NodeId, &Document)> {
        self.entries
            .iter()
            .filter(move |(id, _)| keep(id))
            .filter_map(|(id, e)| self.load(id, e).map(|d| (id, d)))
    }
}
