//! Builds search chunks from the resolved graph: document sections (notes included, kind
//! `note`) and alert rules, each with the services, teams and alerts the document is
//! linked to. Expired notes stay in the index; queries drop them (`retrieval.rs`).
//! A runbook's chunks also carry the symptom text (summary, description) of the alert
//! rules it is the runbook of, so a symptom query reaches the runbook even when the
//! runbook shares no word with it.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use lore_schema::{EdgeKind, NodeKind};

use super::Chunk;
use crate::graph::Graph;
use crate::model::CERTAIN;

/// An alert rule's symptom language: its summary and description.
fn symptoms(alert: &crate::model::Node) -> String {
    let parts: Vec<&str> = ["summary", "description", "message"]
        .iter()
        .filter_map(|k| alert.attrs.get(*k).map(String::as_str))
        .collect();
    parts.join("\n")
}

/// Every chunk the index should hold for `graph`.
pub(crate) fn chunks(graph: &Graph) -> Vec<Chunk> {
    let mut out = Vec::new();
    graph.documents().scan(|id, doc| {
        let (links, _) = graph.edges_of(id);
        let mut services = BTreeSet::new();
        let mut service_ids = BTreeSet::new();
        let mut teams = BTreeSet::new();
        let mut alerts = BTreeSet::new();
        let mut alert_text = BTreeSet::new();
        for e in links {
            if !matches!(
                e.kind,
                EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions | EdgeKind::Annotates
            ) {
                continue;
            }
            let Some(n) = graph.node(&e.to) else { continue };
            match n.kind {
                NodeKind::Service | NodeKind::Datastore => {
                    services.insert(n.name.clone());
                    services.extend(n.aliases.iter().filter(|a| !a.contains('.')).cloned());
                    service_ids.insert(n.id.to_string());
                    teams.extend(n.owners.iter().cloned());
                }
                NodeKind::Alert => {
                    alerts.insert(n.name.clone());
                    if e.kind == EdgeKind::Documents && e.confidence >= CERTAIN {
                        alert_text.insert(symptoms(n));
                    }
                }
                _ => {}
            }
        }
        let kind = match doc.kind {
            lore_schema::DocumentKind::Runbook => "runbook",
            lore_schema::DocumentKind::Postmortem => "postmortem",
            lore_schema::DocumentKind::Other => "other",
            lore_schema::DocumentKind::Note => "note",
        };
        let base = Chunk {
            source: doc.path.clone(),
            doc_id: id.to_string(),
            kind: kind.to_string(),
            title: doc.title.clone(),
            alerts: alerts.into_iter().collect(),
            services: services.into_iter().collect(),
            service_ids: service_ids.into_iter().collect(),
            teams: teams.into_iter().collect(),
            alert_text: alert_text.into_iter().filter(|t| !t.is_empty()).collect(),
            date: super::when::dated(doc).map(|(day, _)| day),
            ..Chunk::default()
        };
        if doc.sections.is_empty() {
            out.push(Chunk { section: doc.title.clone(), line: 1, ..base.clone() });
        }
        for s in &doc.sections {
            out.push(Chunk {
                section: s.heading_path.join(" > "),
                body: s.text.clone(),
                line: u64::from(s.line),
                ..base.clone()
            });
        }
    });
    for n in graph.nodes().iter().filter(|n| n.kind == NodeKind::Alert) {
        let Some(member) = graph.members(&n.id).first() else { continue };
        let (file, line) =
            member.locator.rsplit_once(':').unwrap_or((member.locator.as_str(), "1"));
        let (fires_for, _) = graph.edges_of(&n.id);
        let targets: Vec<_> = fires_for.iter().filter_map(|e| graph.node(&e.to)).collect();
        out.push(Chunk {
            source: file.to_string(),
            doc_id: n.id.to_string(),
            kind: "alert".to_string(),
            title: n.name.clone(),
            section: n.attrs.get("group").map_or(n.name.clone(), |g| format!("{g} > {}", n.name)),
            body: symptoms(n),
            code: n.attrs.get("expr").cloned().unwrap_or_default(),
            line: line.parse().unwrap_or(1),
            alerts: vec![n.name.clone()],
            services: targets.iter().map(|t| t.name.clone()).collect(),
            service_ids: targets.iter().map(|t| t.id.to_string()).collect(),
            teams: targets.iter().flat_map(|t| t.owners.clone()).collect(),
            alert_text: Vec::new(),
            date: None,
        });
    }
    out
}

/// The chunks of one store generation, with a hash per document (its chunks in order)
/// and one over all: what the search projections are keyed on, so a write that changes
/// no chunk (a change event) leaves them as they are.
#[derive(Debug)]
pub struct ChunkSet {
    /// Every chunk, as [`chunks`] gives them.
    pub chunks: Vec<Chunk>,
    /// Hash of each document's (or alert rule's) chunks, by `doc_id`.
    pub docs: BTreeMap<String, u64>,
    /// Hash of `docs`.
    pub fingerprint: u64,
}

impl ChunkSet {
    /// The set of `chunks`.
    pub fn new(chunks: Vec<Chunk>) -> ChunkSet {
        let mut hashers: BTreeMap<&str, std::collections::hash_map::DefaultHasher> =
            BTreeMap::new();
        for c in &chunks {
            c.hash(hashers.entry(c.doc_id.as_str()).or_default());
        }
        let docs: BTreeMap<String, u64> =
            hashers.into_iter().map(|(id, h)| (id.to_string(), h.finish())).collect();
        let mut all = std::collections::hash_map::DefaultHasher::new();
        docs.hash(&mut all);
        ChunkSet { fingerprint: all.finish(), docs, chunks }
    }

    /// The stamp the search index records.
    pub fn stamp(&self) -> String {
        format!("chunks:{:016x}", self.fingerprint)
    }
}
