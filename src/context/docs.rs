//! Runbooks and past incidents for a bundle.
//!
//! **Runbooks**, scored by what links them to the page, then by text:
//!
//! ```text
//! score = 4 × (is a runbook of the alert, and documents the focus)
//!       + 2 × (is a runbook of the alert, and documents a neighbour)
//!       + 1.5 × (documents the focus) + 0.5 × (documents or names a neighbour)
//!       + 1 / (1 + search rank)        hybrid search over the alert's name, summary
//!                                      and description
//! ```
//!
//! A runbook is "of the alert" when the alert's rule links it (`documents` edge of
//! confidence 1: its `runbook_url`, front matter, a runbook named after it), when its
//! front matter lists the alert, or when its file is named after the alert in kebab case.
//! Neighbours are the focus's dependencies up to [`super::rank::DEPTH`] hops and its
//! direct callers. Documents that the graph does not tie to the neighbourhood come in from
//! search only after those that it does. The excerpt is the section search found, else the
//! first section with text after the title.
//!
//! **Incidents** are postmortems dated before the incident time, scored
//! `2 × (about the focus) + 1 × (about a neighbour) + 1 / (1 + search rank)`. A postmortem
//! dated by day only (front matter `date`, a `**Date:**` line, or the file name) is taken
//! to be available from the end of that day; an undated one is left out, so no bundle cites
//! a report written after the moment it describes.

use std::collections::{BTreeMap, BTreeSet};

use lore_schema::{Document, EdgeKind, NodeId};

use super::items::{IncidentItem, RunbookItem, untrusted_text};
use crate::Engine;
use crate::engine::SearchRequest;
use crate::error::Result;
use crate::graph::Graph;
use crate::model::CERTAIN;

/// Characters of a runbook excerpt.
const EXCERPT_CHARS: usize = 420;
/// Characters of each postmortem excerpt.
const INCIDENT_CHARS: usize = 260;
/// Search hits asked for per section.
const SEARCH_LIMIT: usize = 20;

/// What the page is about, for document ranking.
pub(crate) struct Page<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) focus: &'a NodeId,
    /// Dependencies and direct callers of the focus.
    pub(crate) near: &'a BTreeSet<NodeId>,
    pub(crate) alert: Option<&'a str>,
    /// Alert name, summary and description: the search query.
    pub(crate) query: String,
    pub(crate) at: i64,
}

fn kebab(name: &str) -> String {
    crate::search::text::humanize(name)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `doc` (node `id`) is a runbook of `alert`.
fn of_alert(graph: &Graph, id: &NodeId, doc: &Document, alert: &str) -> bool {
    let (out, _) = graph.edges_of(id);
    let alert_id = NodeId::new(lore_schema::NodeKind::Alert, alert);
    if out
        .iter()
        .any(|e| e.kind == EdgeKind::Documents && e.to == alert_id && e.confidence >= CERTAIN)
    {
        return true;
    }
    let listed = ["alerts", "alert"].iter().filter_map(|k| doc.front_matter.get(*k)).any(|v| {
        v.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .any(|w| w.eq_ignore_ascii_case(alert))
    });
    if listed {
        return true;
    }
    let stem = doc.path.rsplit('/').next().unwrap_or(&doc.path).trim_end_matches(".md");
    let key = kebab(alert);
    !key.is_empty() && kebab(stem) == key
}

/// The nodes `doc_id` documents (`documents`/`about`, confidence 1) and names (any link).
fn links(graph: &Graph, doc_id: &NodeId) -> (BTreeSet<NodeId>, BTreeSet<NodeId>) {
    let (out, _) = graph.edges_of(doc_id);
    let mut strong = BTreeSet::new();
    let mut any = BTreeSet::new();
    for e in out {
        if !matches!(e.kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions) {
            continue;
        }
        any.insert(e.to.clone());
        if e.kind != EdgeKind::Mentions && e.confidence >= CERTAIN {
            strong.insert(e.to.clone());
        }
    }
    (strong, any)
}

/// Documents linked to the focus or a neighbour, of `kind`.
fn linked_docs<'g>(page: &Page<'g>, kind: lore_schema::DocumentKind) -> BTreeSet<NodeId> {
    let mut out = BTreeSet::new();
    for id in std::iter::once(page.focus).chain(page.near.iter()) {
        let (_, inc) = page.graph.edges_of(id);
        for e in inc {
            if matches!(e.kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions)
                && page.graph.document(&e.from).is_some_and(|d| d.kind == kind)
            {
                out.insert(e.from.clone());
            }
        }
    }
    out
}

/// Search rank (0-based), heading and line of the best section, by document id.
type Found = BTreeMap<String, (usize, String, u64)>;

/// The documents of `kind` to rank: those linked to the focus or a neighbour, and those
/// search finds for the alert's text; with what search found.
fn candidates<'g>(
    engine: &Engine,
    page: &Page<'g>,
    kind: lore_schema::DocumentKind,
) -> Result<(Found, Vec<(NodeId, &'g Document)>)> {
    let found = search(engine, page, kind)?;
    let mut ids = linked_docs(page, kind);
    ids.extend(found.keys().filter_map(|k| k.parse::<NodeId>().ok()));
    let docs = ids
        .into_iter()
        .filter_map(|id| {
            let doc = page.graph.document(&id).filter(|d| d.kind == kind)?;
            Some((id, doc))
        })
        .collect();
    Ok((found, docs))
}

/// Search over the alert's text for documents of `kind`.
fn search(engine: &Engine, page: &Page<'_>, kind: lore_schema::DocumentKind) -> Result<Found> {
    let kind = match kind {
        lore_schema::DocumentKind::Postmortem => "postmortem",
        lore_schema::DocumentKind::Note => "note",
        _ => "runbook",
    };
    // An alert's text can be long: its head is what a search can use.
    let max = engine.limits().max_query_chars;
    let req = SearchRequest {
        query: page.query.chars().take(max).collect(),
        kinds: vec![kind.to_string()],
        limit: SEARCH_LIMIT,
        mode: "hybrid".into(),
        ..SearchRequest::default()
    };
    let view = engine.search(&req)?;
    Ok(view
        .results
        .into_iter()
        .enumerate()
        .map(|(rank, h)| (h.id, (rank, h.section, h.line)))
        .collect())
}

/// The section to quote: the one search found, else the first with text after the title
/// (a section without text, such as a bare title, gives way to the next with text).
fn section<'d>(
    doc: &'d Document,
    found: Option<&(usize, String, u64)>,
) -> Option<&'d lore_schema::Section> {
    let has_text = |s: &&lore_schema::Section| !s.text.trim().is_empty();
    if let Some((_, heading, line)) = found
        && let Some(at) = doc
            .sections
            .iter()
            .position(|s| u64::from(s.line) == *line || s.heading_path.join(" > ") == *heading)
        && let Some(s) = doc.sections[at..].iter().find(has_text)
    {
        return Some(s);
    }
    doc.sections
        .iter()
        .filter(|s| s.heading_path.len() > 1)
        .find(has_text)
        .or_else(|| doc.sections.iter().find(has_text))
}

/// Runbooks for the page, best first.
pub(crate) fn runbooks(
    engine: &Engine,
    page: &Page<'_>,
    feedback: &dyn Fn(&str) -> f64,
) -> Result<Vec<RunbookItem>> {
    let graph = page.graph;
    let (found, docs) = candidates(engine, page, lore_schema::DocumentKind::Runbook)?;
    let mut items = Vec::new();
    for (id, doc) in docs {
        let (strong, any) = links(graph, &id);
        let about_focus = strong.contains(page.focus);
        let about_near = strong.iter().chain(&any).any(|n| page.near.contains(n));
        let for_alert = page.alert.is_some_and(|a| of_alert(graph, &id, doc, a));
        let hit = found.get(id.as_str());
        let mut score = 0.0;
        let mut why = Vec::new();
        if for_alert && about_focus {
            score += 4.0;
            why.push("runbook of this alert for the focus".to_string());
        } else if for_alert && about_near {
            score += 2.0;
            why.push("runbook of this alert for a neighbour".to_string());
        } else if for_alert {
            why.push("runbook of this alert".to_string());
        }
        if about_focus {
            score += 1.5;
            if !for_alert {
                why.push("documents the focus".into());
            }
        } else if about_near {
            score += 0.5;
            if !for_alert {
                why.push("about a neighbour of the focus".into());
            }
        }
        if let Some((rank, _, _)) = hit {
            score += 1.0 / (1.0 + *rank as f64);
            why.push(format!("search rank {} for the alert's text", rank + 1));
        }
        if !about_focus && !about_near && hit.is_none() {
            continue;
        }
        let fb = feedback(id.as_str());
        if fb != 1.0 {
            why.push(format!("feedback ×{fb:.2}"));
        }
        let Some(sec) = section(doc, hit) else { continue };
        let (excerpt, warning) = untrusted_text(&sec.text, EXCERPT_CHARS);
        items.push(RunbookItem {
            id: id.to_string(),
            title: super::untrusted::sanitize(&doc.title),
            source: doc.path.clone(),
            locator: format!("{}:{}", doc.path, sec.line),
            section: super::untrusted::sanitize(&sec.heading_path.join(" > ")),
            excerpt,
            why: why.join("; "),
            score: (score * fb * 1e4).round() / 1e4,
            untrusted: true,
            warning,
        });
    }
    items.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    Ok(items)
}

/// When a postmortem became available: its time, or the end of its day.
pub(crate) fn available_from(doc: &Document) -> Option<i64> {
    let (day, hm) = crate::search::when::dated(doc)?;
    let start = crate::time::parse(&day).ok()?;
    Some(
        hm.and_then(|hm| crate::time::parse(&format!("{day}T{hm}:00Z")).ok())
            .unwrap_or(start + 86_400),
    )
}

/// Past incidents for the page, best first.
pub(crate) fn incidents(
    engine: &Engine,
    page: &Page<'_>,
    feedback: &dyn Fn(&str) -> f64,
) -> Result<Vec<IncidentItem>> {
    let graph = page.graph;
    let (found, docs) = candidates(engine, page, lore_schema::DocumentKind::Postmortem)?;
    let mut items = Vec::new();
    for (id, doc) in docs {
        let Some(from) = available_from(doc) else { continue };
        if from > page.at {
            continue;
        }
        let (strong, any) = links(graph, &id);
        let mut score = 0.0;
        let mut why = Vec::new();
        if strong.contains(page.focus) || any.contains(page.focus) {
            score += 2.0;
            why.push("about the focus".to_string());
        } else if strong.iter().chain(&any).any(|n| page.near.contains(n)) {
            score += 1.0;
            why.push("about a neighbour of the focus".to_string());
        }
        if let Some((rank, _, _)) = found.get(id.as_str()) {
            score += 1.0 / (1.0 + *rank as f64);
            why.push(format!("search rank {} for the alert's text", rank + 1));
        }
        if score == 0.0 {
            continue;
        }
        let fb = feedback(id.as_str());
        let pm = doc.postmortem.clone().unwrap_or_default();
        let mut warning = None;
        let mut field = |v: Option<String>| {
            v.map(|t| {
                let (text, w) = untrusted_text(&t, INCIDENT_CHARS);
                warning = warning.take().or(w);
                text
            })
        };
        let root_cause = field(pm.root_cause);
        let trigger = field(pm.trigger);
        let resolution = field(pm.resolution);
        let date = doc
            .front_matter
            .get("date")
            .cloned()
            .or_else(|| Some(crate::time::format(from - 86_400)[..10].to_string()));
        items.push(IncidentItem {
            id: id.to_string(),
            title: super::untrusted::sanitize(&doc.title),
            date,
            source: doc.path.clone(),
            locator: format!("{}:{}", doc.path, doc.sections.first().map_or(1, |s| s.line)),
            root_cause,
            trigger,
            resolution,
            why: why.join("; "),
            score: (score * fb * 1e4).round() / 1e4,
            untrusted: true,
            warning,
        });
    }
    items.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| b.date.cmp(&a.date)).then_with(|| a.id.cmp(&b.id))
    });
    Ok(items)
}
