//! The key layout, owned here and versioned by [`FORMAT_VERSION`].
//!
//! - tree `meta`: `format_version` → u32 big-endian; `generation` → u64 big-endian,
//!   bumped by every write that changes facts; `topology_generation` → u64 big-endian,
//!   bumped by every write that changes a fact other than a change event (what the
//!   graphs are resolved from: [`is_change_key`]); `store_id` → 32 hex digits, random,
//!   written when the store is created (what projections on disk are stamped with).
//! - tree `facts`: `<source> 0x00 <file> 0x00 <record key>` → encoded [`super::Fact`].
//! - tree `sources`: `<source>` → encoded [`super::SourceMeta`].
//! - tree `vectors`: blake3(model id, chunk text) → little-endian f32s: embeddings are
//!   keyed by content, so unchanged text is never embedded twice.
//! - tree `feedback`: feedback id → encoded [`super::StoredFeedback`] (the feedback with
//!   its validity); `meta` `feedback_generation` → u64 big-endian, bumped by every
//!   feedback write. Feedback is not a fact: it changes no graph or index, so writing it
//!   leaves `generation` alone.
//! - tree `audit`: sled's monotonic id, big-endian → JSON [`super::AuditEntry`] (one per
//!   write through the API or the CLI; never changed).

/// Version of the key layout and value encoding.
pub(crate) const FORMAT_VERSION: u32 = 1;
pub(crate) const META_TREE: &str = "meta";
pub(crate) const FACTS_TREE: &str = "facts";
pub(crate) const SOURCES_TREE: &str = "sources";
pub(crate) const VECTORS_TREE: &str = "vectors";
pub(crate) const FEEDBACK_TREE: &str = "feedback";
pub(crate) const AUDIT_TREE: &str = "audit";
pub(crate) const FORMAT_KEY: &str = "format_version";
pub(crate) const GENERATION_KEY: &str = "generation";
pub(crate) const TOPOLOGY_GENERATION_KEY: &str = "topology_generation";
pub(crate) const STORE_ID_KEY: &str = "store_id";
pub(crate) const FEEDBACK_GENERATION_KEY: &str = "feedback_generation";

pub(crate) fn source_prefix(source: &str) -> Vec<u8> {
    let mut key = source.as_bytes().to_vec();
    key.push(0);
    key
}

/// Whether the fact key `source \0 file \0 record-key` holds a change event (record
/// key `c/<id>`; neither a source nor a file name holds a NUL).
pub(crate) fn is_change_key(key: &[u8]) -> bool {
    let mut parts = key.splitn(3, |b| *b == 0);
    parts.nth(2).is_some_and(|record_key| record_key.starts_with(b"c/"))
}

pub(crate) fn fact_key(source: &str, file: &str, record_key: &str) -> Vec<u8> {
    let mut key = source_prefix(source);
    key.extend_from_slice(file.as_bytes());
    key.push(0);
    key.extend_from_slice(record_key.as_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_keys_are_told_by_their_record_key() {
        assert!(is_change_key(&fact_key("/org", "deploys.ndjson", "c/d-1")));
        assert!(!is_change_key(&fact_key("/org", "c/x.yaml", "e/service//c/orders")));
        assert!(!is_change_key(&fact_key("/c/", "runbooks/c/x.md", "d/c/x.md")));
        assert!(!is_change_key(b"no-separators"));
    }
}
