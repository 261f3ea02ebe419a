//! Encoding of stored values: a version byte followed by JSON.

use lore_schema::Record;
use serde::{Deserialize, Serialize};

use super::StoreError;

const VALUE_VERSION: u8 = 1;

/// One version of a fact with its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactVersion {
    /// The record.
    pub record: Record,
    /// Unix seconds when this version was first ingested.
    pub valid_from: i64,
    /// Unix seconds when it vanished or changed; `None` while current.
    pub valid_to: Option<i64>,
}

impl FactVersion {
    /// Whether this version was valid at `at` (or is current, when `at` is `None`).
    pub fn valid_at(&self, at: Option<i64>) -> bool {
        match at {
            None => self.valid_to.is_none(),
            Some(t) => self.valid_from <= t && self.valid_to.is_none_or(|to| t < to),
        }
    }
}

/// A fact owned by one source, with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// Source that owns it.
    pub source: String,
    /// Versions, oldest first; at most the last one is open.
    pub versions: Vec<FactVersion>,
}

impl Fact {
    /// The version valid at `at` (current when `None`).
    pub fn version_at(&self, at: Option<i64>) -> Option<&FactVersion> {
        self.versions.iter().rev().find(|v| v.valid_at(at))
    }
}

/// What Lore knows of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMeta {
    /// Root path as given to ingest.
    pub root: String,
    /// Unix seconds of the last ingest that changed something.
    pub changed_at: i64,
    /// Files ingested.
    pub files: usize,
}

pub(super) fn encode_fact(fact: &Fact) -> Vec<u8> {
    encode(fact)
}

pub(super) fn decode_fact(key: &[u8], value: &[u8]) -> Result<Fact, StoreError> {
    decode(key, value)
}

pub(super) fn encode_source(meta: &SourceMeta) -> Vec<u8> {
    encode(meta)
}

pub(super) fn decode_source(source: &str, value: &[u8]) -> Result<SourceMeta, StoreError> {
    decode(source.as_bytes(), value)
}

pub(super) fn encode_feedback(feedback: &super::StoredFeedback) -> Vec<u8> {
    encode(feedback)
}

pub(super) fn decode_feedback(
    key: &[u8],
    value: &[u8],
) -> Result<super::StoredFeedback, StoreError> {
    decode(key, value)
}

pub(super) fn decode_version(value: &[u8]) -> Result<u32, StoreError> {
    let bytes: [u8; 4] = value.try_into().map_err(|_| StoreError::Corrupt {
        key: "format_version".to_string(),
        reason: format!("{} bytes", value.len()),
    })?;
    Ok(u32::from_be_bytes(bytes))
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![VALUE_VERSION];
    // Serializing these plain data types to a Vec cannot fail.
    serde_json::to_writer(&mut out, value).unwrap_or_default();
    out
}

fn decode<T: for<'de> Deserialize<'de>>(key: &[u8], value: &[u8]) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).replace('\0', "/"),
        reason,
    };
    match value.split_first() {
        Some((&VALUE_VERSION, rest)) => {
            serde_json::from_slice(rest).map_err(|e| corrupt(e.to_string()))
        }
        Some((v, _)) => Err(corrupt(format!("unknown value version {v}"))),
        None => Err(corrupt("empty value".to_string())),
    }
}

pub(super) fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(super) fn decode_vector(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}
