//! Tribal notes: short text a responder attaches to one node ("checkout's p99 alert is
//! noisy on Mondays, ignore unless errors rise too").
//!
//! A note is a fact of its own source [`NOTES_SOURCE`] (`api:notes`), written additively
//! with [`crate::store::Store::upsert_records`]: a [`lore_schema::Document`] of kind
//! `note` whose path is its locator `api:notes/<id>` and whose front matter carries
//! `node` (the resolved node id), `author`, `expires` and `created` (RFC 3339) and `tags`
//! (comma-separated). The resolver makes it the node `note:<id>` and links it to its node
//! with an `annotates` edge (`resolve/docs.rs`); the search index holds it like any
//! document, with kind `note`. Removing a note closes its fact (history kept).
//!
//! A note whose `expires` is at or before now is expired: it stays in the store and the
//! graph, but leaves listings (unless asked for all), `show`, [`Engine::notes_about`] and
//! search results. Note ids are `note-` and 12 hex digits of blake3(node, text, created),
//! so the same note posted twice in one second is stored once.

use lore_schema::{Document, DocumentKind, NodeId, NodeKind, Provenance, Record, Section};
use serde::Serialize;

use crate::Engine;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::resolve::SourcedRecord;

/// Source that owns every note.
pub const NOTES_SOURCE: &str = "api:notes";
/// File notes are kept under within their source.
const NOTES_FILE: &str = "notes";
/// Longest note text, in characters.
const MAX_TEXT_CHARS: usize = 10_000;
/// Characters of the first line a note's title keeps.
const TITLE_CHARS: usize = 80;

/// A note to add.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The node it is about: id, name or alias.
    pub node: String,
    /// What to know.
    pub text: String,
    /// Who wrote it.
    pub author: Option<String>,
    /// When it stops applying: RFC 3339, a date, unix seconds, or a duration from now
    /// (`2h`, `30m`, `1d`, `1w`).
    pub expires: Option<String>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A note as listings, `show` and bundles return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NoteView {
    /// `note-` and 12 hex digits.
    pub id: String,
    /// Id of the node it annotates.
    pub node: NodeId,
    /// The text.
    pub text: String,
    /// Who wrote it.
    pub author: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// When it was written (RFC 3339).
    pub created: String,
    /// When it stops applying (RFC 3339).
    pub expires: Option<String>,
    /// Always [`NOTES_SOURCE`].
    pub source: String,
    /// `api:notes/<id>`.
    pub locator: String,
}

/// The answer to a note listing.
#[derive(Debug, Clone, Serialize)]
pub struct NoteList {
    /// Notes, newest first.
    pub notes: Vec<NoteView>,
}

/// The id of a note on `node` with `text` written at `created`.
pub fn note_id(node: &NodeId, text: &str, created: i64) -> String {
    let mut hasher = blake3::Hasher::new();
    for part in [node.as_str(), text, &created.to_string()] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    format!("note-{}", &hasher.finalize().to_hex()[..12])
}

fn locator(id: &str) -> String {
    format!("{NOTES_SOURCE}/{id}")
}

fn invalid(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidParam { name: name.to_string(), reason: reason.into() }
}

/// When a note given `expires` at `now` expires, in unix seconds: a duration counts from
/// now, anything else is a time.
fn parse_expires(text: &str, now: i64) -> Result<i64> {
    if let Ok(secs) = crate::time::parse_duration(text) {
        return Ok(now.saturating_add(secs));
    }
    crate::time::parse(text).map_err(|reason| invalid("expires", reason))
}

/// Whether `doc` is a note that has expired at `now`.
pub(crate) fn expired(doc: &Document, now: i64) -> bool {
    doc.kind == DocumentKind::Note
        && doc
            .front_matter
            .get("expires")
            .and_then(|t| crate::time::parse(t).ok())
            .is_some_and(|t| t <= now)
}

/// Whether the search hit on unit `id` is an expired note of `graph`.
pub(crate) fn expired_hit(graph: &Graph, id: &str, now: i64) -> bool {
    id.parse::<NodeId>().ok().and_then(|id| graph.document(&id)).is_some_and(|d| expired(d, now))
}

fn view(doc: &Document) -> Option<NoteView> {
    if doc.kind != DocumentKind::Note {
        return None;
    }
    let fm = &doc.front_matter;
    let id = fm.get("id")?.clone();
    let get = |k: &str| fm.get(k).filter(|v| !v.is_empty()).cloned();
    Some(NoteView {
        node: fm.get("node")?.parse().ok()?,
        text: doc.sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n"),
        author: get("author"),
        tags: get("tags").map(|t| t.split(',').map(str::to_string).collect()).unwrap_or_default(),
        created: get("created").unwrap_or_default(),
        expires: get("expires"),
        source: NOTES_SOURCE.to_string(),
        locator: locator(&id),
        id,
    })
}

/// Notes of `graph` passing `keep` (and not expired at `now`, unless `all`), newest first.
fn collect(graph: &Graph, now: i64, all: bool, keep: impl Fn(&NoteView) -> bool) -> Vec<NoteView> {
    let mut notes: Vec<(i64, NoteView)> = graph
        .documents()
        .filtered(|id| id.kind() == NodeKind::Note)
        .map(|(_, d)| d)
        .filter(|d| all || !expired(d, now))
        .filter_map(view)
        .filter(|n| keep(n))
        .map(|n| (crate::time::parse(&n.created).unwrap_or(0), n))
        .collect();
    notes.sort_by(|(ta, a), (tb, b)| tb.cmp(ta).then_with(|| a.id.cmp(&b.id)));
    notes.into_iter().map(|(_, n)| n).collect()
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() || tag.contains(',') {
            return Err(invalid("tags", format!("`{tag}` is not a tag (non-empty, no commas)")));
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    Ok(out)
}

impl Engine {
    /// Adds a note on the node `req.node` names, written at `now`.
    pub fn add_note(&self, req: &NoteRequest, now: i64) -> Result<NoteView> {
        let (text, _) = crate::redact::text(req.text.trim());
        let text = text.as_str();
        if text.is_empty() {
            return Err(invalid("text", "is empty"));
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid("text", format!("is longer than {MAX_TEXT_CHARS} characters")));
        }
        if req.node.trim().is_empty() {
            return Err(invalid("node", "is empty"));
        }
        let node = self.graph(None)?.lookup(req.node.trim())?.id.clone();
        let expires = req.expires.as_deref().map(|t| parse_expires(t, now)).transpose()?;
        let tags = clean_tags(&req.tags)?;
        let author = req.author.as_deref().map(str::trim).filter(|a| !a.is_empty());
        let id = note_id(&node, text, now);
        let mut front_matter = std::collections::BTreeMap::new();
        front_matter.insert("id".to_string(), id.clone());
        front_matter.insert("node".to_string(), node.to_string());
        front_matter.insert("created".to_string(), crate::time::format(now));
        front_matter.insert("tags".to_string(), tags.join(","));
        if let Some(author) = author {
            front_matter.insert("author".to_string(), author.to_string());
        }
        if let Some(expires) = expires {
            front_matter.insert("expires".to_string(), crate::time::format(expires));
        }
        let first_line = text.lines().next().unwrap_or_default();
        let mut title: String = first_line.chars().take(TITLE_CHARS).collect();
        if title.len() < first_line.len() {
            title.push('…');
        }
        let doc = Document {
            path: locator(&id),
            kind: DocumentKind::Note,
            title: title.clone(),
            front_matter,
            sections: vec![Section { heading_path: vec![title], text: text.to_string(), line: 1 }],
            links: Vec::new(),
            postmortem: None,
            provenance: Provenance::declared(NOTES_SOURCE, locator(&id), format!("note on {node}")),
        };
        let note = view(&doc).ok_or_else(|| Error::Internal("note without a view".into()))?;
        // As the store keeps it (redacted there too).
        let mut record = Record::Document(doc.clone());
        crate::redact::records(std::iter::once(&mut record));
        let written = SourcedRecord {
            source: NOTES_SOURCE.to_string(),
            record,
            valid_from: now,
            valid_to: None,
        };
        let records = vec![(NOTES_FILE.to_string(), Record::Document(doc))];
        let writing = self.api_writes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = self.store().upsert_records(NOTES_SOURCE, records, now)?;
        if stats.added + stats.updated > 0 {
            // The note goes into the graphs in place: the topology is not resolved again.
            self.update_documents(&[written], &[], self.store().generation()?);
            drop(writing);
            self.refresh_search();
        }
        Ok(note)
    }

    /// Notes on the node `node` names (every note when `None`), newest first; expired ones
    /// (at `now`) only when `all`.
    pub fn notes(&self, node: Option<&str>, all: bool, now: i64) -> Result<NoteList> {
        let graph = self.graph(None)?;
        let node = node.map(|n| graph.lookup(n).map(|n| n.id.clone())).transpose()?;
        let notes = collect(&graph, now, all, |n| node.as_ref().is_none_or(|id| &n.node == id));
        Ok(NoteList { notes })
    }

    /// Removes note `id` (`note-…` or its node id `note:note-…`) at `now`: its fact closes,
    /// its history stays. Returns the removed note.
    pub fn remove_note(&self, id: &str, now: i64) -> Result<NoteView> {
        let id = id.trim();
        let id = id.strip_prefix("note:").unwrap_or(id);
        let not_found = || Error::NotFound { what: "note", id: id.to_string() };
        let graph = self.graph(None)?;
        let doc = graph.document(&NodeId::new(NodeKind::Note, id)).ok_or_else(not_found)?;
        let note = view(doc).ok_or_else(not_found)?;
        let record_key = Record::Document(doc.clone()).key();
        let writing = self.api_writes.lock().unwrap_or_else(|p| p.into_inner());
        if !self.store().close_fact(NOTES_SOURCE, NOTES_FILE, &record_key, now)? {
            return Err(not_found());
        }
        let node = NodeId::new(NodeKind::Note, id);
        self.update_documents(&[], &[node], self.store().generation()?);
        drop(writing);
        self.refresh_search();
        Ok(note)
    }

    /// Notes annotating any of `nodes` that have not expired at `now`, newest first (for
    /// incident-context bundles and `show`).
    pub fn notes_about(&self, nodes: &[NodeId], now: i64) -> Result<Vec<NoteView>> {
        let graph = self.graph(None)?;
        Ok(collect(&graph, now, false, |n| nodes.contains(&n.node)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_ids_are_stable_and_expiry_accepts_durations() {
        let node: NodeId = "service:checkout".parse().unwrap();
        let id = note_id(&node, "noisy on Mondays", 100);
        assert_eq!(id, note_id(&node, "noisy on Mondays", 100));
        assert_ne!(id, note_id(&node, "noisy on Mondays", 101));
        assert!(id.starts_with("note-") && id.len() == 17, "{id}");
        assert_eq!(parse_expires("2h", 100).unwrap(), 7300);
        assert_eq!(parse_expires("2026-11-01", 100).unwrap(), 1_793_491_200);
        let err = parse_expires("soon", 100).unwrap_err().to_string();
        assert!(err.contains("`expires`"), "{err}");
    }
}
