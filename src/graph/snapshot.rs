//! The graph on disk: a resolved graph saved with the stamp of what it was built from,
//! so a fresh process (a one-shot CLI call, a server starting) opens it instead of
//! reading and resolving every fact.
//!
//! Layout: [`MAGIC`], then three MessagePack values: the [`Stamp`], the [`Meta`], the
//! topology (nodes, what traversals need of each edge, unresolved references, dangling
//! links, and the place of each node's members, each edge and each document), then
//! those members, edges and documents, each its own value, read only when a query asks
//! for it (`stored.rs`, `edges.rs`, `documents.rs`): opening decodes no evidence, no
//! declaration and no document text. A snapshot is used
//! only when its whole stamp matches: the store (its id and topology generation) and the build
//! of Lore that resolved it, since resolution rules change between builds. Anything
//! else (missing, older, torn, another format) is ignored and rebuilt, so the snapshot
//! can never answer for a store it was not built from. Written to a temporary file,
//! synced and renamed into place: readers see a whole snapshot or none.

use std::fs::File;
use std::io::{BufReader, Seek, Write};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use lore_schema::NodeId;
use serde::{Deserialize, Serialize};

use super::Graph;
use super::documents::{Documents, Place};
use super::edges::{Core, Edges};
use super::stored::{Stored, put, read_stamped, save_stamped, write_value};
use crate::model::Node;
use crate::resolve::{DanglingLink, Unresolved};

const MAGIC: &[u8; 8] = b"LOREGRAF";
/// Version of the layout and of the encoded types.
const FORMAT: u32 = 2;

/// What a snapshot was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    format: u32,
    /// The store's id (`Store::id`) and topology generation.
    store: String,
    generation: u64,
    /// The Lore build that resolved it.
    build: String,
}

/// What a snapshot says beside its graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The store holds no superseded fact, so the history graph is this graph.
    pub history_is_current: bool,
    /// Of a history graph: the nodes whose history the current graph lacks
    /// (`Graph::differing_from`), sorted; `None` when not known (any node may then have
    /// history). `show` of another node needs only the current graph.
    #[serde(default)]
    pub differing: Option<Vec<NodeId>>,
}

impl Stamp {
    /// The stamp of a graph of store `store` at `generation`, by this build.
    pub fn new(store: &str, generation: u64) -> Stamp {
        Stamp {
            format: FORMAT,
            store: store.to_string(),
            generation,
            build: build_id().to_string(),
        }
    }
}

/// This executable, by size and modification time: a rebuilt binary does not trust the
/// snapshots of the previous one.
fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().and_then(std::fs::metadata);
        let stamp = exe.ok().map(|m| {
            let mtime =
                m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            format!("{}:{}", m.len(), mtime.map_or(0, |d| d.as_nanos()))
        });
        format!("{}+{}", env!("CARGO_PKG_VERSION"), stamp.unwrap_or_default())
    })
}

#[derive(Serialize)]
struct TopologyRef<'a> {
    nodes: &'a [Arc<Node>],
    edges: &'a [Core],
    unresolved: &'a [Unresolved],
    dangling: &'a [DanglingLink],
    /// Each node's members' place, from the end of the topology.
    member_places: Vec<Place>,
    /// Each edge's place, from the end of the topology.
    edge_places: Vec<Place>,
    /// Each document's place, from the end of the topology.
    documents: Vec<(&'a NodeId, Place)>,
}

#[derive(Deserialize)]
struct Topology {
    nodes: Vec<Arc<Node>>,
    edges: Vec<Core>,
    unresolved: Vec<Unresolved>,
    dangling: Vec<DanglingLink>,
    member_places: Vec<Place>,
    edge_places: Vec<Place>,
    documents: Vec<(NodeId, Place)>,
}

/// Writes `graph` to `path` stamped `stamp` (atomically: temporary file, sync, rename).
pub fn save(graph: &Graph, stamp: &Stamp, meta: Meta, path: &Path) -> std::io::Result<()> {
    let mut topology = TopologyRef {
        nodes: &graph.nodes,
        edges: graph.edges.cores(),
        unresolved: &graph.unresolved,
        dangling: &graph.dangling,
        member_places: Vec::with_capacity(graph.nodes.len()),
        edge_places: Vec::with_capacity(graph.edge_count()),
        documents: Vec::with_capacity(graph.documents.len()),
    };
    let mut blobs: Vec<u8> = Vec::new();
    for members in graph.all_members() {
        topology.member_places.push(put(&mut blobs, &members)?);
    }
    for edge in graph.edges() {
        topology.edge_places.push(put(&mut blobs, &**edge)?);
    }
    for (id, doc) in graph.documents.iter() {
        topology.documents.push((id, put(&mut blobs, doc)?));
    }
    save_stamped(path, MAGIC, stamp, |out| {
        write_value(out, &meta)?;
        write_value(out, &topology)?;
        out.write_all(&blobs)
    })
}

/// The [`Meta`] of the graph saved at `path` if its stamp is `stamp`, reading nothing
/// after it.
pub fn meta(path: &Path, stamp: &Stamp) -> Option<Meta> {
    let mut reader = BufReader::with_capacity(1 << 12, File::open(path).ok()?);
    let same = read_stamped(&mut reader, MAGIC, stamp, "graph snapshot").ok()?;
    same.then(|| rmp_serde::from_read(&mut reader).ok())?
}

/// The graph saved at `path` if its stamp is `stamp`; `None` when there is none or it
/// was built from anything else (a snapshot that does not decode is logged and ignored).
pub fn load(path: &Path, stamp: &Stamp) -> Option<(Graph, Meta)> {
    let file = File::open(path).ok()?;
    match read(file, stamp) {
        Ok(graph) => graph,
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "graph snapshot ignored");
            None
        }
    }
}

fn read(file: File, stamp: &Stamp) -> Result<Option<(Graph, Meta)>, String> {
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if !read_stamped(&mut reader, MAGIC, stamp, "graph snapshot")? {
        return Ok(None);
    }
    let meta: Meta = rmp_serde::from_read(&mut reader).map_err(|e| e.to_string())?;
    let t: Topology = rmp_serde::from_read(&mut reader).map_err(|e| e.to_string())?;
    let start = reader.stream_position().map_err(|e| e.to_string())?;
    let file = reader.into_inner();
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let places = t.member_places.iter().chain(&t.edge_places);
    let places = places.chain(t.documents.iter().map(|(_, p)| p));
    let end = places.map(|p| start + p.offset + u64::from(p.len)).max();
    if end.unwrap_or(start) > size {
        return Err("edges or documents cut short".into());
    }
    if t.edge_places.len() != t.edges.len() || t.edges.iter().any(|c| !c.within(t.nodes.len())) {
        return Err("edges do not match the nodes".into());
    }
    if t.member_places.len() != t.nodes.len() {
        return Err("members do not match the nodes".into());
    }
    let at = |p: Place| Place { offset: start + p.offset, ..p };
    let file = Arc::new(file);
    let edge_places = t.edge_places.into_iter().map(at).collect();
    let edges = Edges::lazy(t.edges, edge_places, file.clone());
    let members = Stored::lazy(t.member_places.into_iter().map(at).collect(), file.clone());
    let places = t.documents.into_iter().map(|(id, p)| (id, at(p)));
    let documents = Documents::lazy(places.collect(), file);
    let edges = |_: &_| edges;
    let graph = Graph::from_parts(t.nodes, members, edges, t.unresolved, documents, t.dangling);
    Ok(Some((graph, meta)))
}
