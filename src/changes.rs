//! What changed: change events near a node, ranked for an incident, and the topology
//! diff of a time window.
//!
//! Change events (deploys, config changes, flags, migrations, commits) live in the store
//! as facts like any other, owned by their source: an NDJSON file, a git repository
//! (`git:<path>`) or `POST /v1/events` (`api:events`, written additively). They are kept
//! out of the topology graph and read into a [`ChangeCache`], rebuilt after each ingest,
//! that maps every event to the node its service names (through names and aliases).
//!
//! [`Engine::changes`] walks downstream from the node over request-path edges
//! (`graph.impact`, up to `depth` hops; 0 is the node alone) and returns the events on
//! the node and on each dependency reached, with `since <= ts < until`, ranked by
//!
//! ```text
//! score   = kind_weight × 1 / (1 + hops / 2) × recency × red
//! recency = 1 / (1 + hours_before_until / 3) × (1 + 2 × near)
//! near    = min(1, minutes_before / 5) / (1 + max(0, minutes_before − 5) / 15)
//! ```
//!
//! where `kind_weight` is 1.0 for deploy, 0.9 for config and migration, 0.8 for
//! feature_flag, 0.6 for scale, 0.5 for rollback and other kinds, 0.3 for commit: the
//! change on the failing node itself, just before the incident, that rolled out new code
//! comes first; a commit three hops away a day earlier comes last. Recency counts most
//! (the time factor halves 3 hours before the incident), distance less (it halves at 2
//! hops): a release one hop away 50 minutes before the incident outranks one on the node
//! itself six hours before. The near-time boost (shared with the incident bundle,
//! `context/rank.rs`) lifts a change 5 to 20 minutes before the incident up to three
//! times: a change that breaks something usually shows within minutes, after it has
//! rolled out. `red` (1 without traces) is how much the changed node, or one on the path to
//! it, started failing or slowing right after the change (`traces/red.rs`). Ties go to the
//! later event. Events whose service matches no node are left out and counted.

mod diff;
mod git;
mod index;
mod snapshot;

use lore_ingestors::deploy_events;
use lore_schema::{ChangeEvent, ChangeKind, NodeId, Provenance, Record};
use serde::Serialize;

use crate::Engine;
use crate::error::{Error, Result};
use crate::graph::{Direction, EdgeFilter, ImpactHits};
use crate::model::{Edge, Node};
pub use diff::DiffView;
pub use git::GitReport;
pub(crate) use index::ChangeCache;

/// Hops walked downstream when a request does not say.
pub const DEFAULT_DEPTH: usize = 2;
/// Window before `until` when a request gives no `since`: 24 hours.
pub const DEFAULT_WINDOW_SECS: i64 = 24 * 3600;
/// Source of the events pushed with `POST /v1/events`.
pub const API_EVENTS_SOURCE: &str = "api:events";
/// Most events one `POST /v1/events` may carry.
pub const MAX_EVENTS_PER_REQUEST: usize = 10_000;
/// How many unknown service names a what-changed answer lists.
const UNRESOLVED_LISTED: usize = 20;
/// Hours before the incident at which the time factor halves.
const TIME_HALF_HOURS: f64 = 3.0;
/// Hops at which the distance factor halves.
const HOPS_HALF: f64 = 2.0;

/// A what-changed question.
#[derive(Debug, Clone, Default)]
pub struct ChangesRequest {
    /// Node id, name or alias.
    pub node: String,
    /// Hops downstream over request-path edges; [`DEFAULT_DEPTH`] when `None`.
    pub depth: Option<usize>,
    /// Window start, unix seconds, inclusive; `until` − 24 h when `None`.
    pub since: Option<i64>,
    /// Window end and incident time, unix seconds, exclusive; now when `None`.
    pub until: Option<i64>,
    /// Walk the topology as it was at this time; the current graph when `None`.
    pub at: Option<i64>,
}

/// The answer to a what-changed question.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ChangesView {
    /// The queried node.
    pub node: std::sync::Arc<Node>,
    /// Hops walked.
    pub depth: usize,
    /// Window start (RFC 3339, inclusive).
    pub since: String,
    /// Window end and incident time (RFC 3339, exclusive).
    pub until: String,
    /// Changes, best first.
    pub results: Vec<ChangeHit>,
    /// Events in the window whose service matches no node.
    pub unresolved: UnresolvedChanges,
}

/// One change near the queried node.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ChangeHit {
    /// The event's own id.
    pub id: String,
    /// Canonical name of the changed node.
    pub service: String,
    /// Id of the changed node.
    pub node: NodeId,
    /// The service name as the event wrote it, when it differs from the canonical one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_as: Option<String>,
    /// When (RFC 3339).
    pub ts: String,
    /// When, in unix seconds (the same instant as `ts`).
    #[serde(skip)]
    pub unix_ts: i64,
    /// deploy, config, feature_flag, migration, scale, rollback, commit or another name.
    pub kind: String,
    /// Hops from the queried node (0: the node itself).
    pub hops: usize,
    /// Edges from the queried node to the changed node, with their evidence.
    pub path: Vec<std::sync::Arc<Edge>>,
    /// Rank for an incident at `until` (see the module docs).
    pub score: f64,
    /// Version rolled out.
    pub version: Option<String>,
    /// Commit.
    pub commit: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// What the change says it does.
    pub description: String,
    /// Link to the change, if the event has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where the event was read.
    pub evidence: ChangeEvidence,
    /// How the changed node (or one on the path to it) started failing or slowing after
    /// the change, from traces (`traces/red.rs`); its factor is in `score`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degradation: Option<crate::traces::red::Degradation>,
}

/// Where a change event was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChangeEvidence {
    /// Source: the ingested path, `git:<repo>` or `api:events`.
    pub source: String,
    /// `file:line`, commit hash or request.
    pub locator: String,
    /// Ingestor that read it.
    pub ingestor: String,
}

/// Events that name a service Lore does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UnresolvedChanges {
    /// How many events in the window.
    pub count: usize,
    /// Their service names, distinct, sorted (at most 20).
    pub services: Vec<String>,
}

/// What `POST /v1/events` stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventsReport {
    /// Source the events belong to.
    pub source: String,
    /// Events in the request.
    pub accepted: usize,
    /// Events stored for the first time.
    pub added: usize,
    /// Events whose content changed (kept as a new version).
    pub updated: usize,
    /// Events already stored as they are.
    pub unchanged: usize,
    /// Secrets redacted from the events' free text (`redact.rs`).
    pub redacted: usize,
}

/// The weight of a change kind in the ranking (see the module docs).
pub fn kind_weight(kind: &ChangeKind) -> f64 {
    match kind {
        ChangeKind::Deploy => 1.0,
        ChangeKind::Config | ChangeKind::Migration => 0.9,
        ChangeKind::FeatureFlag => 0.8,
        ChangeKind::Scale => 0.6,
        ChangeKind::Rollback | ChangeKind::Other(_) => 0.5,
        ChangeKind::Commit => 0.3,
    }
}

/// Minutes a change takes to be able to start an incident: the near-time boost ramps up
/// over them.
const LAG_MINUTES: f64 = 5.0;
/// Minutes after [`LAG_MINUTES`] at which the near-time boost halves.
const NEAR_MINUTES: f64 = 15.0;
/// Weight of the near-time boost.
const NEAR_WEIGHT: f64 = 2.0;

/// The time factor of a change `age_secs` before the incident (module docs).
pub fn recency(age_secs: i64) -> f64 {
    let minutes = age_secs.max(0) as f64 / 60.0;
    let near =
        (minutes / LAG_MINUTES).min(1.0) / (1.0 + (minutes - LAG_MINUTES).max(0.0) / NEAR_MINUTES);
    1.0 / (1.0 + minutes / 60.0 / TIME_HALF_HOURS) * (1.0 + NEAR_WEIGHT * near)
}

/// The rank of a change `hops` away, `age_secs` before the incident.
pub fn score(kind: &ChangeKind, hops: usize, age_secs: i64) -> f64 {
    let raw = kind_weight(kind) / (1.0 + hops as f64 / HOPS_HALF) * recency(age_secs);
    (raw * 1e6).round() / 1e6
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Validates the body of `POST /v1/events`: one event object or an array of at most
/// [`MAX_EVENTS_PER_REQUEST`] of them. The first invalid event fails the whole request,
/// naming its index and field.
pub fn parse_events(body: &serde_json::Value) -> Result<Vec<ChangeEvent>> {
    parse_events_at_most(body, MAX_EVENTS_PER_REQUEST)
}

/// [`parse_events`] with at most `max` events (`[limits] max_events_per_batch`).
pub fn parse_events_at_most(body: &serde_json::Value, max: usize) -> Result<Vec<ChangeEvent>> {
    let provenance = || Provenance::declared("api", "POST /v1/events".to_string(), "");
    let bad = |name: String, reason: String| Error::InvalidParam { name, reason };
    match body {
        serde_json::Value::Array(items) => {
            if items.is_empty() {
                return Err(bad("events".into(), "no events in the array".into()));
            }
            if items.len() > max {
                return Err(bad(
                    "events".into(),
                    format!(
                        "{} events; at most {max} per request ([limits] max_events_per_batch in \
                         lore.toml)",
                        items.len()
                    ),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    deploy_events::parse_event(item, provenance()).map_err(|e| {
                        let field = e.field.map(|f| format!(".{f}")).unwrap_or_default();
                        bad(format!("events[{i}]{field}"), e.reason)
                    })
                })
                .collect()
        }
        serde_json::Value::Object(_) => {
            let event = deploy_events::parse_event(body, provenance()).map_err(|e| {
                bad(
                    format!("event{}", e.field.map(|f| format!(".{f}")).unwrap_or_default()),
                    e.reason,
                )
            })?;
            Ok(vec![event])
        }
        _ => Err(bad("events".into(), "expected an event object or an array of events".into())),
    }
}

impl Engine {
    /// Changes on a node and on what it depends on, in a window, ranked for an incident
    /// at the window's end.
    pub fn changes(&self, req: &ChangesRequest) -> Result<ChangesView> {
        let until = req.until.unwrap_or_else(crate::time::now);
        let since = req.since.unwrap_or(until - DEFAULT_WINDOW_SECS);
        if since >= until {
            return Err(Error::InvalidParam {
                name: "since".into(),
                reason: format!(
                    "{} is not before until {}",
                    crate::time::format(since),
                    crate::time::format(until)
                ),
            });
        }
        let depth = req.depth.unwrap_or(DEFAULT_DEPTH);
        let graph = self.graph(req.at)?;
        let node = graph.lookup_shared(&req.node)?.clone();
        // Paths are read from the walk only for the nodes that have changes.
        let hits = if depth > 0 {
            graph.impact_hits(
                &node.id,
                Direction::Downstream,
                Some(depth),
                EdgeFilter::request_path_ref(),
            )
        } else {
            ImpactHits::from(Vec::new())
        };
        let index = self.change_index()?;
        let window = index.window(&graph, since, until);
        let red = self.observed_index()?;
        let mut results = Vec::new();
        let near = std::iter::once((&node.id, &node.name, 0, None))
            .chain(hits.iter().map(|h| (h.id, h.name, h.depth, Some(h.path))));
        for (id, name, hops, walked) in near {
            let mut changes = window.on(id).peekable();
            if changes.peek().is_none() {
                continue;
            }
            let path = walked.map(|p| p.to_vec()).unwrap_or_default();
            for stored in changes {
                let ev = stored.event;
                // The changed node first, then the path to it (not the queried node).
                let on_path = std::iter::once(id).chain(path.iter().rev().skip(1).map(|e| &e.to));
                let degradation = if red.is_empty() {
                    None
                } else {
                    crate::traces::red::strongest(&red, on_path, ev.ts, until)
                };
                let factor = degradation.as_ref().map_or(1.0, |d| d.factor);
                results.push(ChangeHit {
                    degradation,
                    id: ev.id.clone(),
                    service: name.clone(),
                    node: id.clone(),
                    reported_as: (ev.service != *name).then(|| ev.service.clone()),
                    ts: crate::time::format(ev.ts),
                    unix_ts: ev.ts,
                    kind: ev.kind.as_str().to_string(),
                    hops,
                    path: path.clone(),
                    score: round6(score(&ev.kind, hops, until - ev.ts) * factor),
                    version: ev.version.clone(),
                    commit: ev.commit.clone(),
                    author: ev.author.clone(),
                    description: ev.description.clone(),
                    url: ev.url.clone(),
                    evidence: ChangeEvidence {
                        source: stored.source.to_string(),
                        locator: ev.provenance.locator.clone(),
                        ingestor: ev.provenance.ingestor.clone(),
                    },
                });
            }
        }
        results.sort_by(|a, b| {
            b.score.total_cmp(&a.score).then_with(|| b.ts.cmp(&a.ts)).then_with(|| a.id.cmp(&b.id))
        });
        let mut services: Vec<String> =
            window.unresolved().map(|c| c.event.service.clone()).collect();
        let count = services.len();
        services.sort();
        services.dedup();
        services.truncate(UNRESOLVED_LISTED);
        Ok(ChangesView {
            node,
            depth,
            since: crate::time::format(since),
            until: crate::time::format(until),
            results,
            unresolved: UnresolvedChanges { count, services },
        })
    }

    /// Stores events pushed over HTTP under [`API_EVENTS_SOURCE`], additively: an id
    /// already stored with the same content is left alone, other events are never closed.
    /// An event whose id is already stored (by any source) with other content is a
    /// conflict (409) and nothing of the request is stored. Free text is redacted first.
    pub fn add_events(&self, mut events: Vec<ChangeEvent>, now: i64) -> Result<EventsReport> {
        let accepted = events.len();
        for (i, event) in events.iter().enumerate() {
            if let Some(reason) = crate::ingest::event_over_limit(event, self.limits()) {
                return Err(Error::InvalidParam { name: format!("events[{i}]"), reason });
            }
        }
        let redacted = events.iter_mut().map(crate::redact::event).sum();
        let _writing = self.api_writes.lock().unwrap_or_else(|p| p.into_inner());
        self.check_event_conflicts(&events)?;
        let records =
            events.iter().map(|e| ("events".to_string(), Record::Change(e.clone()))).collect();
        let stats = self.store().upsert_records(API_EVENTS_SOURCE, records, now)?;
        if stats.added + stats.updated > 0 {
            // Events are not in the topology graph: it stays; the change index takes the
            // new events in place instead of reading the whole store again.
            let generation = self.store().generation()?;
            self.changes.extend(&events, API_EVENTS_SOURCE, generation);
        }
        Ok(EventsReport {
            source: API_EVENTS_SOURCE.to_string(),
            accepted,
            added: stats.added,
            updated: stats.updated,
            unchanged: stats.unchanged,
            redacted,
        })
    }

    /// Refuses events whose id is stored with other content, by this or another source.
    fn check_event_conflicts(&self, events: &[ChangeEvent]) -> Result<()> {
        let index = self.change_index()?;
        let mut first: std::collections::HashMap<&str, &ChangeEvent> = Default::default();
        for (i, event) in events.iter().enumerate() {
            let conflict =
                |reason: String| Error::Conflict { name: format!("events[{i}].id"), reason };
            if let Some(earlier) = first.insert(event.id.as_str(), event)
                && earlier != event
            {
                return Err(conflict(format!(
                    "`{}` appears twice with different content",
                    event.id
                )));
            }
            let Some(stored) = index.get(&event.id) else { continue };
            let same = ChangeEvent { provenance: event.provenance.clone(), ..stored.event.clone() };
            if same == *event {
                continue;
            }
            return Err(conflict(if stored.source == API_EVENTS_SOURCE {
                format!(
                    "`{}` is already stored with other content; post the change under a new id",
                    event.id
                )
            } else {
                format!(
                    "`{}` belongs to source `{}` with other content; events posted through the API cannot replace it",
                    event.id, stored.source
                )
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closer_newer_riskier_changes_rank_higher() {
        // Ten minutes before the incident, on the node itself.
        let deploy_here_now = score(&ChangeKind::Deploy, 0, 600);
        assert!(score(&ChangeKind::Deploy, 1, 600) < deploy_here_now);
        assert!(score(&ChangeKind::Deploy, 0, 3600) < deploy_here_now);
        assert!(score(&ChangeKind::Commit, 0, 0) < score(&ChangeKind::FeatureFlag, 0, 0));
        // Ten minutes before beats the moment of the incident (not rolled out yet) and an
        // hour before.
        assert!(score(&ChangeKind::Deploy, 0, 600) > score(&ChangeKind::Deploy, 0, 30));
        assert!(score(&ChangeKind::Deploy, 0, 600) > score(&ChangeKind::Deploy, 0, 3600));
        // A release one hop away 50 minutes before the incident outranks one on the node
        // itself six hours before.
        assert!(score(&ChangeKind::Deploy, 1, 50 * 60) > score(&ChangeKind::Deploy, 0, 6 * 3600));
        for kind in
            [ChangeKind::Deploy, ChangeKind::Config, ChangeKind::Migration, ChangeKind::FeatureFlag]
        {
            assert!(kind_weight(&kind) > kind_weight(&ChangeKind::Commit));
        }
    }

    #[test]
    fn event_bodies_are_validated_whole() {
        let ok = serde_json::json!({"id": "a", "ts": "2026-11-01T00:00:00Z", "service": "cart"});
        assert_eq!(parse_events(&ok).unwrap().len(), 1);
        let bad = serde_json::json!([ok, {"id": "b", "ts": "soon", "service": "cart"}]);
        let err = parse_events(&bad).unwrap_err().to_string();
        assert!(err.contains("`events[1].ts`"), "{err}");
        let err = parse_events(&serde_json::json!({"id": "a", "ts": 1})).unwrap_err().to_string();
        assert!(err.contains("`event.service`") && err.contains("missing"), "{err}");
        assert!(parse_events(&serde_json::json!([])).is_err());
        assert!(parse_events(&serde_json::json!("x")).is_err());
        let err = parse_events(&serde_json::json!([1])).unwrap_err().to_string();
        assert!(err.contains("`events[0]`"), "{err}");
        let err =
            parse_events_at_most(&serde_json::json!([ok, ok, ok]), 2).unwrap_err().to_string();
        assert!(err.contains("3 events") && err.contains("max_events_per_batch"), "{err}");
    }
}
