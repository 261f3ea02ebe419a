//! Incident context: one call that says what to look at, when, and how to filter.
//!
//! An agent paged for an alert asks once ([`Engine::context`]) and gets a bundle: the
//! focus node (from a name, an alert's labels or an Alertmanager webhook, `focus.rs`),
//! who is hit upstream up to user-facing entry points, the suspects and the changes ranked
//! as causes (`rank.rs`), the runbooks and past incidents (`docs.rs`), the first telemetry
//! queries (`telemetry.rs`) and tribal notes, every item cited and explained in one line,
//! within a token budget counted with a real tokenizer (`budget.rs`). Text from documents,
//! notes and events is marked untrusted, sanitised and flagged when it reads like an
//! instruction (`untrusted.rs`). What did not fit is counted per section with a cursor;
//! [`Engine::context_more`] returns the next items of a bundle kept in memory.

mod budget;
mod bundle;
mod docs;
mod focus;
pub mod items;
mod rank;
mod render;
mod request;
mod telemetry;
pub(crate) mod untrusted;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use lore_schema::NodeId;
use serde::Serialize;

use crate::Engine;
use crate::changes::ChangesRequest;
use crate::error::{Error, Result};
use crate::graph::{Direction, EdgeFilter};
use crate::model::Node;
pub use budget::count as count_tokens;
pub(crate) use bundle::BundleCache;
use bundle::Full;
pub use focus::FocusHow;
use items::{
    BlastItem, ChangeItem, Cite, IncidentItem, NoteItem, RunbookItem, Suspect, TelemetryItem,
};
pub(crate) use rank::{blast_radius, entry_reason};
pub use request::{ContextRequest, Format};

/// Token budget when a request gives none.
pub const DEFAULT_BUDGET: usize = 4000;
/// Smallest budget a request may ask for.
pub const MIN_BUDGET: usize = 200;
/// Largest budget a request may ask for.
pub const MAX_BUDGET: usize = 200_000;
/// Window of changes before the incident when a request gives none: 6 hours.
pub const DEFAULT_WINDOW_SECS: i64 = 6 * 3600;
/// Fewest tokens any item costs (an item has an id, a why and a citation).
const MIN_ITEM_TOKENS: usize = 8;
/// Bundles kept in memory for `more`.
const KEPT: usize = 256;

/// Section names, in the order ties are broken, with their fill weights (see `budget.rs`):
/// a section of weight 0.5 gets one item for every two of a section of weight 1.
const SECTIONS: [(&str, f64); 7] = [
    ("suspects", 1.0),
    ("changes", 1.0),
    ("runbooks", 0.7),
    ("notes", 0.7),
    ("blast_radius", 0.6),
    ("incidents", 0.5),
    ("telemetry", 0.5),
];

/// An escalation hint found in the sources.
#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    /// What it is (`pagerduty`, `opsgenie_team`, `runbook_url`, ...).
    pub kind: String,
    /// Its value.
    pub value: String,
    /// Where it was read.
    #[serde(flatten)]
    pub cite: Cite,
}

/// The focus of a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct FocusView {
    /// The node.
    #[serde(flatten)]
    pub node: Node,
    /// How it was chosen from the request.
    pub how: FocusHow,
    /// Tier, from the catalog or manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// On-call and escalation hints.
    pub escalation: Vec<Escalation>,
    /// Where the node is declared.
    #[serde(flatten)]
    pub cite: Cite,
}

/// What did not fit in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct More {
    /// Items left out.
    pub count: usize,
    /// Cursor for `GET /v1/context/{bundle_id}/more?section=…&cursor=…`.
    pub cursor: String,
}

/// The answer to a context request: the JSON contract of the issue.
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// Id of this bundle (`<focus>@<at>~<hash>`), for `more` and feedback.
    pub bundle_id: String,
    /// Incident time (RFC 3339).
    pub at: String,
    /// Start of the window of changes (RFC 3339).
    pub since: String,
    /// The focus.
    pub focus: FocusView,
    /// Tokens of this answer (o200k_base), as returned.
    pub tokens: usize,
    /// Budget asked for.
    pub budget_tokens: usize,
    /// Who is hit upstream, entry points first.
    pub blast_radius: Vec<BlastItem>,
    /// Likely causes, best first.
    pub suspects: Vec<Suspect>,
    /// Changes in the window, best first.
    pub changes: Vec<ChangeItem>,
    /// Runbooks, best first.
    pub runbooks: Vec<RunbookItem>,
    /// Similar past incidents dated before `at`.
    pub incidents: Vec<IncidentItem>,
    /// Queries to run first.
    pub telemetry: Vec<TelemetryItem>,
    /// Tribal notes on the focus and its neighbours.
    pub notes: Vec<NoteItem>,
    /// Per section, what did not fit.
    pub more: BTreeMap<String, More>,
    /// What the reader should know about how the answer was made.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// The next items of one section of a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct MoreView {
    /// The bundle.
    pub bundle_id: String,
    /// The section.
    pub section: String,
    /// Items from the cursor on, as many as fit.
    pub items: Vec<serde_json::Value>,
    /// Tokens of `items`.
    pub tokens: usize,
    /// Items still left after these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<More>,
}

impl Engine {
    /// The incident context bundle for a request, within its token budget; the text is
    /// what a caller asking for `req.format` receives (compact JSON or markdown).
    pub fn context(&self, req: &ContextRequest) -> Result<(Bundle, String)> {
        let budget = req.budget_tokens.unwrap_or(DEFAULT_BUDGET);
        if !(MIN_BUDGET..=MAX_BUDGET).contains(&budget) {
            return Err(Error::InvalidParam {
                name: "budget_tokens".into(),
                reason: format!("{budget} is outside {MIN_BUDGET}..={MAX_BUDGET}"),
            });
        }
        let full = Arc::new(self.context_full(req)?);
        self.bundles.put(full.clone());
        full.fit(budget, req.format)
    }

    /// The next items of `section` of a bundle from `cursor`, within `budget` tokens.
    pub fn context_more(
        &self,
        bundle_id: &str,
        section: &str,
        cursor: Option<&str>,
        budget: Option<usize>,
    ) -> Result<MoreView> {
        let full = self.bundles.get(bundle_id).ok_or_else(|| {
            Error::NodeNotFound(format!("bundle {bundle_id} (bundles are kept in memory for the {KEPT} latest requests; ask for the context again)"))
        })?;
        let s = SECTIONS.iter().position(|(n, _)| *n == section).ok_or_else(|| {
            Error::InvalidParam {
                name: "section".into(),
                reason: format!(
                    "unknown section `{section}` (expected one of {})",
                    SECTIONS.map(|(n, _)| n).join(", ")
                ),
            }
        })?;
        let from = match cursor {
            None => 0,
            Some(c) => c
                .rsplit_once(':')
                .filter(|(name, _)| *name == section)
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .ok_or_else(|| Error::InvalidParam {
                    name: "cursor".into(),
                    reason: format!("`{c}` is not a cursor of section {section}"),
                })?,
        };
        let budget = budget.unwrap_or(DEFAULT_BUDGET).clamp(MIN_BUDGET, MAX_BUDGET);
        let mut items = Vec::new();
        let mut tokens = 0;
        for item in full.json_items(s, from) {
            let n = budget::count(&item.to_string()) + 1;
            if tokens + n > budget && !items.is_empty() {
                break;
            }
            tokens += n;
            items.push(item);
        }
        let next = from + items.len();
        let left = full.len(s).saturating_sub(next);
        Ok(MoreView {
            bundle_id: bundle_id.to_string(),
            section: section.to_string(),
            items,
            tokens,
            more: (left > 0).then(|| More { count: left, cursor: format!("{section}:{next}") }),
        })
    }

    fn context_full(&self, req: &ContextRequest) -> Result<Full> {
        let started = std::time::Instant::now();
        let graph = self.graph(None)?;
        let resolved =
            focus::resolve(&graph, req.service.as_deref(), req.alert.as_deref(), &req.labels)?;
        let focus_node = resolved.node.clone();
        let at = req.at.unwrap_or_else(crate::time::now);
        let window = req.window_secs.unwrap_or(DEFAULT_WINDOW_SECS);
        if window <= 0 {
            return Err(Error::InvalidParam {
                name: "window".into(),
                reason: "must be positive".into(),
            });
        }
        let since = at - window;
        let alert_text = req.alert_text(&graph);
        let symptom = rank::Symptom::of(&alert_text);
        let feedback = |item: &str| self.feedback_weight(&focus_node.id, item);

        let down = graph.impact(
            &focus_node.id,
            Direction::Downstream,
            Some(rank::DEPTH),
            &EdgeFilter::request_path(),
        );
        let up1 =
            graph.impact(&focus_node.id, Direction::Upstream, Some(1), &EdgeFilter::request_path());
        let near: BTreeSet<NodeId> = down.iter().chain(&up1).map(|h| h.id.clone()).collect();

        let mut notices = Vec::new();
        let changes_view = self.changes(&ChangesRequest {
            node: focus_node.id.to_string(),
            depth: Some(rank::DEPTH),
            since: Some(since),
            until: Some(at),
            at: None,
        })?;
        if changes_view.unresolved.count > 0 {
            notices.push(format!(
                "{} change(s) in the window name services Lore does not know (e.g. {})",
                changes_view.unresolved.count,
                changes_view
                    .unresolved
                    .services
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let t_changes = started.elapsed();
        let changes = rank::changes(&graph, &changes_view, at, symptom, &feedback);
        let suspects = rank::suspects(&graph, &focus_node, &down, &changes, &feedback);
        let blast_radius = rank::blast_radius(&graph, &focus_node);
        let t_topology = started.elapsed();
        let query = if alert_text.trim().is_empty() {
            focus_node.name.clone()
        } else {
            format!("{} {}", alert_text, focus_node.name)
        };
        let page = docs::Page {
            graph: &graph,
            focus: &focus_node.id,
            near: &near,
            alert: req.alert.as_deref(),
            query,
            at,
        };
        let runbooks = docs::runbooks(self, &page, &feedback)?;
        let t_runbooks = started.elapsed();
        let incidents = docs::incidents(self, &page, &feedback)?;
        let t_incidents = started.elapsed();
        let telemetry = telemetry::queries(&graph, &focus_node, req.alert.as_deref());
        let notes = self.context_notes(&focus_node.id, &near)?;
        tracing::debug!(
            changes_ms = t_changes.as_millis() as u64,
            topology_ms = t_topology.as_millis() as u64,
            runbooks_ms = t_runbooks.as_millis() as u64,
            incidents_ms = t_incidents.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "context sections"
        );

        let cite = Cite::of(graph.members(&focus_node.id).first());
        let escalation = escalation(&graph, &focus_node);
        let id = bundle_id(req, &focus_node.id, at, self.store().generation()?);
        Ok(Full {
            id,
            at,
            since,
            focus: FocusView {
                tier: focus_node.attrs.get("tier").cloned(),
                node: focus_node,
                how: resolved.how,
                escalation,
                cite,
            },
            blast_radius,
            suspects,
            changes,
            runbooks,
            incidents,
            telemetry,
            notes,
            notices,
        })
    }

    /// Feedback's rank factor for `item` in bundles about `focus` (`feedback.rs`; 1 when
    /// there is none or it cannot be read, with a log line).
    fn feedback_weight(&self, focus: &NodeId, item: &str) -> f64 {
        self.feedback_factor(focus, item).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "feedback unreadable; ranking without it");
            1.0
        })
    }

    /// Notes on the focus and its neighbours that have not expired, the focus's first.
    fn context_notes(&self, focus: &NodeId, near: &BTreeSet<NodeId>) -> Result<Vec<NoteItem>> {
        let mut ids = vec![focus.clone()];
        ids.extend(near.iter().cloned());
        let mut notes = self.notes_about(&ids, crate::time::now())?;
        notes.sort_by_key(|n| n.node != *focus);
        Ok(notes
            .into_iter()
            .map(|n| {
                let (text, warning) = items::untrusted_text(&n.text, 600);
                let why = if n.node == *focus {
                    "tribal note on the focus".to_string()
                } else {
                    format!("tribal note on {}, a neighbour", n.node)
                };
                NoteItem {
                    id: n.id,
                    node: n.node.to_string(),
                    text,
                    author: n.author,
                    created: n.created,
                    why,
                    cite: Cite { source: n.source, locator: n.locator },
                    untrusted: true,
                    warning,
                }
            })
            .collect())
    }
}

/// Escalation hints among a node's attributes: catalog annotations and links.
fn escalation(graph: &crate::graph::Graph, node: &Node) -> Vec<Escalation> {
    const KEYS: &[&str] = &[
        "pagerduty",
        "opsgenie",
        "oncall",
        "on_call",
        "escalation",
        "slack",
        "victorops",
        "runbook_url",
        "chat",
    ];
    let catalog = graph
        .members(&node.id)
        .iter()
        .find(|m| m.declared_as.starts_with("Component") || m.declared_as.starts_with("Resource"))
        .or_else(|| graph.members(&node.id).first());
    let cite = Cite::of(catalog);
    node.attrs
        .iter()
        .filter(|(k, _)| KEYS.iter().any(|w| k.to_ascii_lowercase().contains(w)))
        .map(|(k, v)| Escalation {
            kind: k.clone(),
            value: untrusted::sanitize(v),
            cite: cite.clone(),
        })
        .collect()
}

/// `<focus>@<at>~<hash of the request and store generation>`.
fn bundle_id(req: &ContextRequest, focus: &NodeId, at: i64, generation: u64) -> String {
    let mut h = blake3::Hasher::new();
    h.update(format!("{req:?}").as_bytes());
    h.update(&generation.to_le_bytes());
    let hex = h.finalize().to_hex();
    format!("{focus}@{at}~{}", &hex[..8])
}

/// Who owns a node and how to reach them.
#[derive(Debug, Clone, Serialize)]
pub struct OwnersView {
    /// The node.
    pub node: Node,
    /// Owning teams (catalog `spec.owner`, manifest labels).
    pub owners: Vec<String>,
    /// Systems it is part of.
    pub systems: Vec<String>,
    /// Escalation hints: on-call, chat, runbook links, each cited.
    pub escalation: Vec<Escalation>,
    /// Where each declaration of the node was read.
    pub declared: Vec<Cite>,
}

impl Engine {
    /// Owners, systems and escalation hints of a node.
    pub fn owners(&self, name: &str, at: Option<i64>) -> Result<OwnersView> {
        let graph = self.graph(at)?;
        let node = graph.lookup(name)?.clone();
        Ok(OwnersView {
            owners: node.owners.clone(),
            systems: node.systems.clone(),
            escalation: escalation(&graph, &node),
            declared: graph.members(&node.id).iter().map(|m| Cite::of(Some(m))).collect(),
            node,
        })
    }
}
