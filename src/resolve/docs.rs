//! Documents as nodes, and entity linking: which services, datastores and alerts each
//! runbook or postmortem is about or mentions.
//!
//! Links, strongest first (each kept once per document and node, with its confidence and
//! the locator of the mention):
//! 1. front matter naming services (`service`, `services`, `component`, `app`,
//!    `affected`) or alerts (`alert`, `alerts`) — confidence 1000;
//! 2. a runbook named after an alert (`KubePodCrashLooping.md`) documents it — 1000;
//! 3. an alert's `runbook_url` whose path ends like the runbook's path — 1000;
//! 4. a service, datastore or alert name written in the text — 800 in a heading or the
//!    title, 600 in the body.
//!
//! Runbooks `document` what they link to, postmortems are `about` it, other documents
//! `mention` it. A note (`lore note`) `annotates` the node whose id its front matter
//! `node` holds (confidence 1000); its node is `note:<note id>`. Alerts whose
//! `runbook_url` matches no runbook are reported as dangling.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::{AhoCorasick, MatchKind};
use lore_schema::{Document, DocumentKind, EdgeKind, NodeId, NodeKind, Record};
use serde::Serialize;

use super::{Resolved, SourcedRecord};
use crate::model::{Edge, Evidence, Member, Node};

/// An alert whose `runbook_url` points at no ingested runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DanglingLink {
    /// The alert.
    pub alert: NodeId,
    /// The URL.
    pub runbook_url: String,
    /// Where the alert is declared.
    pub locator: String,
}

/// Front-matter keys that name services or datastores.
pub(crate) const SERVICE_KEYS: &[&str] =
    &["service", "services", "component", "components", "app", "affected", "affected_services"];
/// Front-matter keys that name alerts.
pub(crate) const ALERT_KEYS: &[&str] = &["alert", "alerts", "alertname"];

/// `../shared/corpora/runbooks/x.md` → `shared/corpora/runbooks/x.md`.
pub fn doc_key(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect::<Vec<_>>()
        .join("/")
}

fn node_kind(kind: DocumentKind) -> NodeKind {
    match kind {
        DocumentKind::Runbook => NodeKind::Runbook,
        DocumentKind::Postmortem => NodeKind::Postmortem,
        DocumentKind::Other | DocumentKind::Note => NodeKind::Note,
    }
}

fn link_kind(kind: DocumentKind) -> EdgeKind {
    match kind {
        DocumentKind::Runbook => EdgeKind::Documents,
        DocumentKind::Postmortem => EdgeKind::About,
        DocumentKind::Other => EdgeKind::Mentions,
        DocumentKind::Note => EdgeKind::Annotates,
    }
}

fn stem(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.rsplit_once('.').map_or(file, |(s, _)| s)
}

struct Link {
    to: usize,
    kind: EdgeKind,
    confidence: u16,
    locator: String,
    note: String,
}

/// Adds document nodes and their links to `resolved`.
pub(super) fn link_documents(records: &[SourcedRecord], resolved: &mut Resolved) {
    let docs: Vec<(&SourcedRecord, &Document)> = records
        .iter()
        .filter_map(|r| match &r.record {
            Record::Document(d) => Some((r, d)),
            _ => None,
        })
        .collect();
    let n_before = resolved.nodes.len();
    let mut by_name: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, n) in resolved.nodes.iter().enumerate() {
        if matches!(n.kind, NodeKind::Service | NodeKind::Datastore | NodeKind::Alert) {
            for name in std::iter::once(&n.name).chain(&n.aliases) {
                by_name.entry(name.to_ascii_lowercase()).or_default().insert(i);
            }
        }
    }
    let unique = |name: &str, kinds: &[NodeKind], nodes: &[Node]| -> Option<usize> {
        let found: Vec<usize> = by_name
            .get(&name.trim().to_ascii_lowercase())
            .map(|s| s.iter().copied().filter(|&i| kinds.contains(&nodes[i].kind)).collect())
            .unwrap_or_default();
        if let [one] = found.as_slice() { Some(*one) } else { None }
    };
    let matcher = MentionMatcher::new(&resolved.nodes);
    let by_url = runbook_url_index(&resolved.nodes);
    let mut matched_alerts = BTreeSet::new();
    let mut doc_nodes: Vec<(Node, Member, Vec<Link>)> = Vec::new();
    for (r, d) in &docs {
        let kind = node_kind(d.kind);
        // A note's path is its locator (`api:notes/<id>`); its node is named by its id.
        let key =
            if d.kind == DocumentKind::Note { stem(&d.path).to_string() } else { doc_key(&d.path) };
        let id = NodeId::new(kind, &key);
        let locator1 = format!("{}:1", d.path);
        let mut links: Vec<Link> = Vec::new();
        if d.kind == DocumentKind::Note
            && let Some(node) = d.front_matter.get("node")
            && let Some(to) = resolved.nodes.iter().position(|n| n.id.as_str() == node)
        {
            links.push(Link {
                to,
                kind: EdgeKind::Annotates,
                confidence: 1000,
                locator: d.path.clone(),
                note: format!("note on {node}"),
            });
        }
        let svc_kinds = [NodeKind::Service, NodeKind::Datastore];
        for (k, v) in &d.front_matter {
            let k = k.to_ascii_lowercase();
            let (kinds, what): (&[NodeKind], &str) = if SERVICE_KEYS.contains(&k.as_str()) {
                (&svc_kinds, "service")
            } else if ALERT_KEYS.contains(&k.as_str()) {
                (&[NodeKind::Alert], "alert")
            } else {
                continue;
            };
            for name in v.split(',') {
                if let Some(to) = unique(name, kinds, &resolved.nodes) {
                    links.push(Link {
                        to,
                        kind: link_kind(d.kind),
                        confidence: 1000,
                        locator: locator1.clone(),
                        note: format!("front matter {k}: {} ({what})", name.trim()),
                    });
                }
            }
        }
        if let Some(to) = unique(stem(&d.path), &[NodeKind::Alert], &resolved.nodes) {
            links.push(Link {
                to,
                kind: EdgeKind::Documents,
                confidence: 1000,
                locator: locator1.clone(),
                note: "runbook named after the alert".to_string(),
            });
        }
        for alert in url_matches(&by_url, &d.path) {
            matched_alerts.insert(alert);
            let a = &resolved.nodes[alert];
            let url = a.attrs.get("runbook_url").cloned().unwrap_or_default();
            let locator = alert_locator(resolved, alert).unwrap_or_else(|| locator1.clone());
            links.push(Link {
                to: alert,
                kind: EdgeKind::Documents,
                confidence: 1000,
                locator,
                note: format!("alert runbook_url {url}"),
            });
        }
        // Mentions only add nodes the stronger rules did not link.
        let strong: BTreeSet<usize> = links.iter().map(|l| l.to).collect();
        links.extend(
            matcher.mentions(d, &resolved.nodes).into_iter().filter(|l| !strong.contains(&l.to)),
        );
        let mut attrs = BTreeMap::new();
        attrs.insert("source".to_string(), d.path.clone());
        attrs.insert("title".to_string(), d.title.clone());
        let node = Node {
            id,
            kind,
            name: key,
            aliases: vec![d.path.clone()],
            namespace: None,
            datastore: None,
            role: None,
            owners: Vec::new(),
            systems: Vec::new(),
            attrs,
            labels: Default::default(),
        };
        let member = Member {
            name: d.title.clone(),
            source: r.source.clone(),
            locator: locator1,
            declared_as: format!("{:?} document", d.kind).to_lowercase(),
            rule: "canonical declaration".to_string(),
        };
        doc_nodes.push((node, member, links));
    }
    for (node_idx, (node, member, links)) in doc_nodes.into_iter().enumerate() {
        let source = member.source.clone();
        let (valid_from, valid_to) =
            docs.get(node_idx).map_or((0, None), |(r, _)| (r.valid_from, r.valid_to));
        let ingestor = docs.get(node_idx).map_or("markdown", |(_, d)| &d.provenance.ingestor);
        // One edge per target and kind, with every rule that supports it as evidence.
        let mut grouped: BTreeMap<(usize, EdgeKind), (u16, Vec<Evidence>)> = BTreeMap::new();
        for l in links {
            let entry = grouped.entry((l.to, l.kind)).or_default();
            entry.0 = entry.0.max(l.confidence);
            entry.1.push(Evidence {
                source: source.clone(),
                locator: l.locator,
                ingestor: ingestor.to_string(),
                note: format!("{} (confidence {})", l.note, f32::from(l.confidence) / 1000.0),
                valid_from,
                valid_to,
            });
        }
        for ((to, kind), (confidence, evidence)) in grouped {
            resolved.edges.push(Edge {
                from: node.id.clone(),
                to: resolved.nodes[to].id.clone(),
                kind,
                optional: false,
                start_order: false,
                observed: false,
                confidence,
                evidence,
            });
        }
        resolved.documents.insert(node.id.clone(), docs[node_idx].1.clone());
        resolved.nodes.push(node);
        resolved.members.push(vec![member]);
    }
    let mut dangling = Vec::new();
    for (i, n) in resolved.nodes.iter().enumerate().take(n_before) {
        if n.kind == NodeKind::Alert
            && !matched_alerts.contains(&i)
            && let Some(url) = n.attrs.get("runbook_url")
            && !url.is_empty()
        {
            dangling.push(DanglingLink {
                alert: n.id.clone(),
                runbook_url: url.clone(),
                locator: alert_locator(resolved, i).unwrap_or_default(),
            });
        }
    }
    resolved.dangling = dangling;
}

/// The document nodes `records` (documents only: a note written) add to `graph`, linked
/// by the same rules as [`link_documents`] against the graph's nodes, for
/// [`crate::graph::Graph::with_documents`]. Only `nodes`, `members`, `edges` and
/// `documents` of the answer are filled.
pub fn link_added_documents(graph: &crate::graph::Graph, records: &[SourcedRecord]) -> Resolved {
    // Documents link to topology nodes only; the graph's own documents are left out so
    // the new ones are the nodes past `before`.
    let (nodes, members): (Vec<Node>, Vec<Vec<Member>>) = graph
        .nodes()
        .iter()
        .filter(|n| !graph.has_document(&n.id))
        .map(|n| ((**n).clone(), graph.members(&n.id).to_vec()))
        .unzip();
    let before = nodes.len();
    let mut resolved = Resolved { nodes, members, ..Resolved::default() };
    link_documents(records, &mut resolved);
    Resolved {
        nodes: resolved.nodes.split_off(before),
        members: resolved.members.split_off(before),
        edges: resolved.edges,
        documents: resolved.documents,
        ..Resolved::default()
    }
}

fn alert_locator(resolved: &Resolved, alert: usize) -> Option<String> {
    resolved.members.get(alert).and_then(|m| m.first()).map(|m| m.locator.clone())
}

/// Alerts by the last two and the last path segment of their `runbook_url`, lowercased.
fn runbook_url_index(nodes: &[Node]) -> BTreeMap<String, Vec<usize>> {
    let mut map: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(url) = n.attrs.get("runbook_url") else { continue };
        let path = url.split("://").nth(1).and_then(|r| r.split_once('/')).map_or("", |(_, p)| p);
        let path =
            path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/').to_ascii_lowercase();
        let path = path.strip_suffix(".md").unwrap_or(&path).to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if let [.., parent, last] = segments.as_slice() {
            map.entry(format!("{parent}/{last}")).or_default().push(i);
        }
    }
    map
}

fn url_matches(index: &BTreeMap<String, Vec<usize>>, doc_path: &str) -> Vec<usize> {
    let lower = doc_path.to_ascii_lowercase();
    let without_ext = lower.rsplit_once('.').map_or(lower.as_str(), |(s, _)| s);
    let segments: Vec<&str> = without_ext.split('/').collect();
    match segments.as_slice() {
        [.., parent, last] => index.get(&format!("{parent}/{last}")).cloned().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Longest name looked for in document text (a DNS subdomain's limit).
const MAX_MENTION_NAME: usize = 253;

/// Finds service, datastore and alert names in document text.
struct MentionMatcher {
    ac: Option<AhoCorasick>,
    targets: Vec<usize>,
}

impl MentionMatcher {
    fn new(nodes: &[Node]) -> MentionMatcher {
        let mut patterns = Vec::new();
        let mut targets = Vec::new();
        let mut seen: BTreeMap<String, Option<usize>> = BTreeMap::new();
        for (i, n) in nodes.iter().enumerate() {
            let min = match n.kind {
                NodeKind::Service | NodeKind::Datastore => 4,
                NodeKind::Alert => 6,
                _ => continue,
            };
            for name in std::iter::once(&n.name).chain(&n.aliases) {
                // No document mentions a 10,000-character name, and each pattern byte
                // costs the automaton a state: longer names than a DNS name are skipped.
                if name.len() < min
                    || name.len() > MAX_MENTION_NAME
                    || name.contains(['.', '/', ' '])
                {
                    continue;
                }
                let key = name.to_ascii_lowercase();
                // A name two nodes share says nothing about which one is meant.
                match seen.get(&key) {
                    Some(Some(j)) if *j != i => {
                        seen.insert(key, None);
                    }
                    None => {
                        seen.insert(key, Some(i));
                    }
                    _ => {}
                }
            }
        }
        for (key, owner) in seen {
            if let Some(i) = owner {
                patterns.push(key);
                targets.push(i);
            }
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok();
        MentionMatcher { ac, targets }
    }

    fn mentions(&self, d: &Document, nodes: &[Node]) -> Vec<Link> {
        let Some(ac) = &self.ac else { return Vec::new() };
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut scan = |text: &str, line: u32, in_heading: bool, out: &mut Vec<Link>| {
            let bytes = text.as_bytes();
            for m in ac.find_iter(text) {
                let before = m.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(m.end()).copied();
                let boundary = |b: Option<u8>| {
                    b.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                };
                if !boundary(before) || !boundary(after) {
                    continue;
                }
                let target = self.targets[m.pattern().as_usize()];
                if !seen.insert(target) {
                    continue;
                }
                let kind =
                    if nodes[target].kind == NodeKind::Alert && d.kind == DocumentKind::Runbook {
                        EdgeKind::Documents
                    } else {
                        EdgeKind::Mentions
                    };
                out.push(Link {
                    to: target,
                    kind,
                    confidence: if in_heading { 800 } else { 600 },
                    locator: format!("{}:{}", d.path, line.max(1)),
                    note: format!("mentions {}", &text[m.start()..m.end()]),
                });
            }
        };
        scan(&d.title, 1, true, &mut out);
        for s in &d.sections {
            scan(&s.heading_path.join(" "), s.line, true, &mut out);
            scan(&s.text, s.line, false, &mut out);
        }
        out
    }
}
