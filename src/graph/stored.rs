//! Values by index, each in memory or read from a snapshot the first time it is asked
//! for (the graph's `snapshot.rs` and `changes/snapshot.rs` write every such value as
//! its own MessagePack value at a [`Place`]). Opening a snapshot then decodes none of
//! them.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) use super::documents::Place;

/// Where the values not yet in memory are.
#[derive(Debug, Clone)]
struct Source {
    file: Arc<File>,
    places: Vec<Place>,
}

/// Values by index, decoded on first use.
#[derive(Debug, Clone)]
pub(crate) struct Stored<T> {
    cells: Vec<OnceLock<T>>,
    source: Option<Source>,
}

impl<T> Default for Stored<T> {
    fn default() -> Stored<T> {
        Stored { cells: Vec::new(), source: None }
    }
}

impl<T: DeserializeOwned> Stored<T> {
    /// Values already in memory.
    pub(crate) fn new(values: Vec<T>) -> Stored<T> {
        Stored { cells: values.into_iter().map(OnceLock::from).collect(), source: None }
    }

    /// Values read from `file` at `places` when first asked for.
    pub(crate) fn lazy(places: Vec<Place>, file: Arc<File>) -> Stored<T> {
        let cells = (0..places.len()).map(|_| OnceLock::new()).collect();
        Stored { cells, source: Some(Source { file, places }) }
    }

    /// Value `i`, read the first time it is asked for. A value that cannot be read (a
    /// disk error: the snapshot was whole when opened) is logged as `what` and replaced
    /// by `fallback`, once.
    pub(crate) fn get_or(
        &self,
        i: usize,
        what: &str,
        fallback: impl FnOnce() -> Option<T>,
    ) -> Option<&T> {
        let cell = self.cells.get(i)?;
        if let Some(value) = cell.get() {
            return Some(value);
        }
        let value = match self.read(i) {
            Ok(value) => value,
            Err(reason) => {
                tracing::error!(index = i, %reason, "snapshot: {what} unreadable");
                fallback()?
            }
        };
        Some(cell.get_or_init(|| value))
    }

    /// Adds a value in memory at the next index.
    pub(crate) fn push(&mut self, value: T) {
        self.cells.push(OnceLock::from(value));
    }

    /// How many values there are.
    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }

    fn read(&self, i: usize) -> Result<T, String> {
        let source = self.source.as_ref().ok_or("neither in memory nor stored")?;
        read_at(&source.file, *source.places.get(i).ok_or("no place in the snapshot")?)
    }
}

/// Writes a snapshot to `path` atomically: `magic`, `stamp`, then what `body` writes, into
/// a temporary file named for this process (two processes saving at once never share
/// one), synced and renamed into place, so readers see a whole snapshot or none.
pub(crate) fn save_stamped(
    path: &Path,
    magic: &[u8; 8],
    stamp: &impl Serialize,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut out = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
    out.write_all(magic)?;
    write_value(&mut out, stamp)?;
    body(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Appends `value` as one MessagePack value (fields by name, so optional fields that
/// are left out still line up).
pub(crate) fn write_value(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    rmp_serde::encode::write_named(out, value).map_err(|e| std::io::Error::other(e.to_string()))
}

/// Reads a snapshot's `magic` and stamp from `reader`: whether the stamp is `stamp`
/// (what follows is then the snapshot's); an error when it is not a `what` at all.
pub(crate) fn read_stamped<S: DeserializeOwned + PartialEq>(
    reader: &mut impl Read,
    magic: &[u8; 8],
    stamp: &S,
    what: &str,
) -> Result<bool, String> {
    let mut found = [0u8; 8];
    reader.read_exact(&mut found).map_err(|e| e.to_string())?;
    if &found != magic {
        return Err(format!("not a {what}"));
    }
    let found: S = rmp_serde::from_read(reader).map_err(|e| e.to_string())?;
    Ok(found == *stamp)
}

/// Appends `value` to `blobs` as its own MessagePack value; its place in them.
pub(crate) fn put(blobs: &mut Vec<u8>, value: &impl Serialize) -> std::io::Result<Place> {
    let start = blobs.len();
    write_value(blobs, value)?;
    let len = u32::try_from(blobs.len() - start).map_err(std::io::Error::other)?;
    Ok(Place { offset: start as u64, len })
}

/// The MessagePack value at `place` of `file`.
pub(crate) fn read_at<T: DeserializeOwned>(file: &File, place: Place) -> Result<T, String> {
    let mut buf = vec![0u8; place.len as usize];
    file.read_exact_at(&mut buf, place.offset).map_err(|e| e.to_string())?;
    rmp_serde::from_slice(&buf).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn values_are_read_once_and_an_unreadable_one_gets_its_fallback() {
        let mut file = tempfile::tempfile().unwrap();
        let good = rmp_serde::to_vec(&vec!["a".to_string(), "b".to_string()]).unwrap();
        file.write_all(&good).unwrap();
        file.write_all(b"\xc1 not msgpack").unwrap();
        let places = vec![
            Place { offset: 0, len: good.len() as u32 },
            Place { offset: good.len() as u64, len: 5 },
            Place { offset: 1 << 40, len: 8 },
        ];
        let stored: Stored<Vec<String>> = Stored::lazy(places, Arc::new(file));
        assert_eq!(stored.get_or(0, "test", || None).unwrap(), &["a", "b"]);
        let fallback = || Some(vec!["fallback".to_string()]);
        assert_eq!(stored.get_or(1, "test", fallback).unwrap(), &["fallback"]);
        assert_eq!(stored.get_or(2, "test", || None), None, "past the end of the file");
        assert_eq!(stored.get_or(3, "test", fallback), None, "no such index");
        let in_memory = Stored::new(vec![1u8, 2]);
        assert_eq!(in_memory.get_or(1, "test", || None), Some(&2));
    }
}
