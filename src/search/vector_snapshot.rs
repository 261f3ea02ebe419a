//! The vector index saved beside the store (`projections/vectors-current.bin`), so a fresh
//! process reads one file instead of looking up every text's vector in the store.
//!
//! Catch-up rule: the file is stamped with the model, the chunk set's fingerprint and a
//! hash of the chunks' order; vectors are addressed by model and text, so an index built
//! with no text missing stays right for as long as the stamp matches. An index with texts
//! still missing is not saved (embedding them later does not move the fingerprint). Any
//! other stamp, or a file that does not read whole, is ignored and the index is built from
//! the store as before.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::chunks::ChunkSet;
use super::vector::VectorIndex;
use crate::graph::stored::{read_stamped, save_stamped, write_value};

const MAGIC: &[u8; 8] = b"LOREVECS";
/// Version of the layout.
const FORMAT: u32 = 1;

/// What a saved index was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    format: u32,
    model: String,
    fingerprint: u64,
    chunks: u64,
    /// Hash of each chunk's document, section and line, in the set's order (rows name
    /// chunks by place).
    order: u64,
}

impl Stamp {
    /// The stamp of an index over `set` with vectors of `model`.
    pub(crate) fn of(set: &ChunkSet, model: &str) -> Stamp {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for c in &set.chunks {
            (&c.doc_id, &c.section, c.line).hash(&mut h);
        }
        Stamp {
            format: FORMAT,
            model: model.to_string(),
            fingerprint: set.fingerprint,
            chunks: set.chunks.len() as u64,
            order: h.finish(),
        }
    }
}

/// The index's columns but the vectors, which follow it as raw bytes.
#[derive(Serialize, Deserialize)]
struct Header {
    dim: u32,
    rows: Vec<u32>,
    scales: Vec<f32>,
    units: Vec<u32>,
    unit_count: u64,
}

/// Saves `index` (built with no text missing) to `path` under `stamp`.
pub(crate) fn save(path: &Path, stamp: &Stamp, index: &VectorIndex) -> std::io::Result<()> {
    let p = index.parts();
    let header = Header {
        dim: p.dim as u32,
        rows: p.rows.to_vec(),
        scales: p.scales.to_vec(),
        units: p.units.to_vec(),
        unit_count: p.unit_count as u64,
    };
    save_stamped(path, MAGIC, stamp, |out| {
        write_value(out, &header)?;
        let bytes: Vec<u8> = p.data.iter().map(|&v| v as u8).collect();
        out.write_all(&bytes)
    })
}

/// The index saved at `path` over `set` if its stamp is `stamp`; `None` when there is
/// none or it was built from anything else (a file that does not read is logged).
pub(crate) fn load(path: &Path, stamp: &Stamp, set: Arc<ChunkSet>) -> Option<VectorIndex> {
    let file = File::open(path).ok()?;
    match read(file, stamp, set) {
        Ok(index) => index,
        Err(reason) => {
            tracing::warn!(path = %path.display(), %reason, "vector index snapshot ignored");
            None
        }
    }
}

fn read(file: File, stamp: &Stamp, set: Arc<ChunkSet>) -> Result<Option<VectorIndex>, String> {
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if !read_stamped(&mut reader, MAGIC, stamp, "vector index snapshot")? {
        return Ok(None);
    }
    let h: Header = rmp_serde::from_read(&mut reader).map_err(|e| e.to_string())?;
    let (n, dim) = (h.rows.len(), h.dim as usize);
    if h.scales.len() != n || h.units.len() != n {
        return Err("columns of different lengths".into());
    }
    if h.rows.iter().any(|&r| r as usize >= set.chunks.len())
        || h.units.iter().any(|&u| u64::from(u) >= h.unit_count)
    {
        return Err("a row names no chunk or unit".into());
    }
    let mut bytes = vec![0u8; n * dim];
    reader.read_exact(&mut bytes).map_err(|e| format!("vectors cut short: {e}"))?;
    let data: Vec<i8> = bytes.into_iter().map(|b| b as i8).collect();
    Ok(Some(VectorIndex::from_parts(
        set,
        dim,
        h.rows,
        data,
        h.scales,
        h.units,
        h.unit_count as usize,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Chunk;

    fn set(sections: &[&str]) -> Arc<ChunkSet> {
        let chunks = sections
            .iter()
            .map(|s| Chunk {
                source: "a.md".into(),
                doc_id: "runbook:a".into(),
                section: s.to_string(),
                body: format!("{s} body"),
                ..Chunk::default()
            })
            .collect();
        Arc::new(ChunkSet::new(chunks))
    }

    #[test]
    fn a_saved_index_reads_back_the_same_and_only_under_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.bin");
        let s = set(&["one", "two"]);
        let index = VectorIndex::new(s.clone(), vec![(0, vec![1.0, 0.0]), (1, vec![0.6, 0.8])], 0);
        let stamp = Stamp::of(&s, "model-a");
        save(&path, &stamp, &index).unwrap();
        let back = load(&path, &stamp, s.clone()).expect("read back");
        let q = crate::search::SearchQuery { limit: 5, ..Default::default() };
        assert_eq!(back.search(&[0.0, 1.0], &q), index.search(&[0.0, 1.0], &q));
        assert_eq!(back.len(), 2);
        // Another model, or other chunks, and the file is not used.
        assert!(load(&path, &Stamp::of(&s, "model-b"), s.clone()).is_none());
        let other = set(&["one", "three"]);
        assert!(load(&path, &Stamp::of(&other, "model-a"), other).is_none());
        // A torn file is ignored, not trusted.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(load(&path, &stamp, s).is_none());
    }
}
