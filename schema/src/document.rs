//! Documents: runbooks, postmortems, other Markdown and tribal notes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Provenance;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Steps for an alert or a failure.
    Runbook,
    /// An incident report.
    Postmortem,
    /// Anything else.
    Other,
    /// A short piece of tribal knowledge about one node, written through `lore note` or
    /// `POST /v1/notes` (front matter: `node`, `author`, `expires`, `tags`, `created`).
    Note,
}

/// A heading-delimited chunk of a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Section {
    /// Headings from the top of the document down to this section.
    pub heading_path: Vec<String>,
    /// Text of the section, code blocks verbatim.
    pub text: String,
    /// Line where the section starts.
    pub line: u32,
}

/// A document as ingested.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Document {
    /// Path as given to ingest.
    pub path: String,
    /// Kind.
    pub kind: DocumentKind,
    /// Title.
    pub title: String,
    /// Front matter, flattened to strings.
    pub front_matter: BTreeMap<String, String>,
    /// Sections in document order.
    pub sections: Vec<Section>,
    /// Outgoing links.
    pub links: Vec<String>,
    /// Incident structure, for postmortems that state it.
    pub postmortem: Option<Postmortem>,
    /// Where it was read.
    pub provenance: Provenance,
}

/// One timeline entry of a postmortem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The timestamp as written (`2021-03-04 14:05 UTC`, `14:05`).
    pub when: String,
    /// What happened.
    pub text: String,
}

/// Structure extracted from a postmortem, where the document states it; never invented.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Postmortem {
    /// Summary.
    pub summary: Option<String>,
    /// Impact.
    pub impact: Option<String>,
    /// Root cause(s).
    pub root_cause: Option<String>,
    /// Trigger.
    pub trigger: Option<String>,
    /// Resolution / mitigation.
    pub resolution: Option<String>,
    /// How it was detected.
    pub detection: Option<String>,
    /// Action items, one per entry.
    pub action_items: Vec<String>,
    /// Timeline entries with their timestamps.
    pub timeline: Vec<TimelineEntry>,
}
