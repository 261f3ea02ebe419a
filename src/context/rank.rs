//! Blast radius, suspects and changes: the topology and timeline sections of a bundle.
//!
//! **Blast radius** walks upstream over request-path edges (unbounded). An entry point is
//! a node users reach the system through: an Ingress (`entrypoint` attribute), a node
//! whose catalog tier or type says so (`edge`, `frontend`, `bff`, `gateway`, `public`,
//! `website`), a name that says so (`gateway`, `bff`, `frontend`, `ingress`, `web`,
//! `portal` as a dash-separated word), or a service nobody in the graph calls. Entry
//! points come first (nearest first), then every other node by depth.
//!
//! **Changes** are those of what-changed (`Engine::changes`: the focus and its request-path
//! dependencies up to [`DEPTH`] hops, in the window before the incident) re-ranked with
//! what the bundle knows:
//!
//! ```text
//! score    = kind_weight × distance × recency × shared × symptom × feedback × red
//! distance = 1 / (1 + hops / 2)
//! recency  = 1 / (1 + hours_before / 3) × (1 + 2 × near)
//! near     = min(1, minutes_before / 5) / (1 + max(0, minutes_before − 5) / 15)
//! shared   = 1 + 0.5 × sharing(changed node)
//! sharing  = min(1, ln(1 + callers) / ln(1 + 50)), at least 0.5 for a datastore
//! symptom  = 1.15 when the change's kind is one that commonly causes the alert's
//!            class of symptom (latency: config, migration, scale, feature flag;
//!            errors: deploy, config, feature flag; saturation: deploy, config, scale),
//!            else 1
//! ```
//!
//! `recency` has a slow part (it halves 3 hours before the alert) and a near-time boost:
//! a change that causes an incident usually shows within minutes, so one landing 5 to 20
//! minutes before the alert counts up to three times as much. The boost ramps up over the
//! first 5 minutes: a change has to roll out and take traffic, and an alert's rate
//! (typically over a 5-minute window) has to move, before the alert can start, so a change
//! made a minute before the alert is rarely its cause. `shared` favours dependencies many
//! services share (platform services, datastores), a likelier cause than a leaf. `feedback`
//! is the bounded factor of engineers' verdicts on that change for this focus. `red` (1 to
//! 7, from traces) is how much the changed node, or one on the path to it, started
//! failing or slowing after the change and before the alert (`traces/red.rs`).
//!
//! **Suspects** are the focus and its dependencies: the best change score on each, plus a
//! structural prior `0.05 × distance × (1 + sharing)`.

use std::collections::BTreeMap;

use lore_schema::{ChangeKind, NodeId, NodeKind};

use super::items::{BlastItem, ChangeItem, Cite, Suspect, untrusted_text};
use crate::changes::ChangesView;
use crate::graph::{Direction, EdgeFilter, Graph, ImpactHit};
use crate::model::{Edge, Node};

/// Hops downstream the bundle looks for causes.
pub(crate) const DEPTH: usize = 4;
/// Weight of how shared the changed node is.
const SHARED_WEIGHT: f64 = 0.5;
/// Weight of the structural prior against change scores.
const PRIOR: f64 = 0.05;
/// Characters of a change description kept.
const DESCRIPTION_CHARS: usize = 240;

/// The class of symptom an alert describes, from its name and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Symptom {
    Latency,
    Errors,
    Saturation,
    Unknown,
}

impl Symptom {
    /// Reads the symptom off the alert's name, summary and description.
    pub(crate) fn of(text: &str) -> Symptom {
        let words = crate::search::text::humanize(text).to_ascii_lowercase();
        let has = |list: &[&str]| {
            list.iter().any(|w| words.split(|c: char| !c.is_alphanumeric()).any(|x| x == *w))
        };
        if has(&["latency", "slow", "p99", "p95", "duration", "timeout", "timeouts", "lag"]) {
            Symptom::Latency
        } else if has(&[
            "error",
            "errors",
            "5xx",
            "failures",
            "failing",
            "failed",
            "unavailable",
            "crash",
            "crashloop",
            "down",
        ]) {
            Symptom::Errors
        } else if has(&[
            "cpu",
            "memory",
            "oom",
            "disk",
            "saturation",
            "connections",
            "pool",
            "throttling",
            "full",
        ]) {
            Symptom::Saturation
        } else {
            Symptom::Unknown
        }
    }

    fn favours(self, kind: &ChangeKind) -> bool {
        use ChangeKind as K;
        match self {
            Symptom::Latency => {
                matches!(kind, K::Config | K::Migration | K::Scale | K::FeatureFlag)
            }
            Symptom::Errors => matches!(kind, K::Deploy | K::Config | K::FeatureFlag),
            Symptom::Saturation => matches!(kind, K::Deploy | K::Config | K::Scale),
            Symptom::Unknown => false,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Symptom::Latency => "latency",
            Symptom::Errors => "errors",
            Symptom::Saturation => "saturation",
            Symptom::Unknown => "unknown",
        }
    }
}

/// The change score of the module docs, without feedback; `sharing` is that of the
/// changed node ([`sharing`]).
pub(crate) fn change_score(
    kind: &ChangeKind,
    hops: usize,
    age_secs: i64,
    sharing: f64,
    symptom: Symptom,
) -> f64 {
    let recency = crate::changes::recency(age_secs);
    let distance = 1.0 / (1.0 + hops as f64 / 2.0);
    let fit = if symptom.favours(kind) { 1.15 } else { 1.0 };
    crate::changes::kind_weight(kind) * distance * recency * (1.0 + SHARED_WEIGHT * sharing) * fit
}

/// How shared a node is, 0 to 1: `ln(1 + callers) / ln(1 + 50)`, at least 0.5 for a
/// datastore.
pub(crate) fn sharing(graph: &Graph, node: &Node) -> (f64, usize) {
    let (_, inc) = graph.edges_of(&node.id);
    let callers = inc.iter().filter(|e| e.kind.is_request_path()).count();
    let mut shared = (((1 + callers) as f64).ln() / 51f64.ln()).min(1.0);
    if node.kind == NodeKind::Datastore {
        shared = shared.max(0.5);
    }
    (shared, callers)
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn ago(secs: i64) -> String {
    let m = secs.max(0) / 60;
    if m < 90 { format!("{m} min") } else { format!("{:.1} h", m as f64 / 60.0) }
}

/// `a → b → c` for a path of edges.
pub(crate) fn path_text(graph: &Graph, path: &[std::sync::Arc<Edge>]) -> String {
    let name =
        |id: &lore_schema::NodeId| graph.node(id).map_or(id.name().to_string(), |n| n.name.clone());
    let mut out = Vec::new();
    if let Some(first) = path.first() {
        out.push(name(&first.from));
    }
    out.extend(path.iter().map(|e| name(&e.to)));
    out.join(" → ")
}

fn cite_of(path: &[std::sync::Arc<Edge>]) -> Cite {
    path.first()
        .and_then(|e| e.evidence.first())
        .map(|ev| Cite { source: ev.source.clone(), locator: ev.locator.clone() })
        .unwrap_or_default()
}

/// Why `node` is an entry point, if it is one.
pub(crate) fn entry_reason(graph: &Graph, node: &Node) -> Option<String> {
    if node.kind != NodeKind::Service {
        return None;
    }
    if node.attrs.get("entrypoint").is_some_and(|v| v == "true") {
        return Some("Kubernetes Ingress".into());
    }
    const WORDS: &[&str] =
        &["edge", "frontend", "bff", "gateway", "public", "website", "ingress", "web", "portal"];
    for key in ["tier", "backstage_type", "layer"] {
        if let Some(v) = node.attrs.get(key)
            && WORDS.contains(&v.to_ascii_lowercase().as_str())
        {
            return Some(format!("{key} `{v}`"));
        }
    }
    if let Some(w) = node.name.split(['-', '_', '.']).find(|w| WORDS.contains(w)) {
        return Some(format!("name says `{w}`"));
    }
    let (_, inc) = graph.edges_of(&node.id);
    if !inc.iter().any(|e| e.kind.is_request_path() && !e.optional) {
        return Some("nothing in the graph calls it".into());
    }
    None
}

/// Who is hit upstream of `focus`: entry points first.
pub(crate) fn blast_radius(graph: &Graph, focus: &Node) -> Vec<BlastItem> {
    let hits = graph.impact(&focus.id, Direction::Upstream, None, &EdgeFilter::request_path());
    let mut items: Vec<BlastItem> = hits
        .iter()
        .filter_map(|h: &ImpactHit| {
            let node = graph.node(&h.id)?;
            let reason = entry_reason(graph, node);
            let why = match &reason {
                Some(_) => format!("user-facing entry point {} hop(s) above the focus", h.depth),
                None => format!("calls the focus through {} hop(s)", h.depth),
            };
            Some(BlastItem {
                id: h.id.to_string(),
                name: h.name.clone(),
                kind: h.kind.as_str().to_string(),
                depth: h.depth,
                entry_point: reason.is_some(),
                entry_reason: reason,
                path: path_text(graph, &h.path),
                why,
                cite: cite_of(&h.path),
            })
        })
        .collect();
    items.sort_by(|a, b| (!a.entry_point, a.depth, &a.id).cmp(&(!b.entry_point, b.depth, &b.id)));
    items
}

/// Changes re-ranked for the bundle, with `feedback(id)` applied.
pub(crate) fn changes(
    graph: &Graph,
    view: &ChangesView,
    until: i64,
    symptom: Symptom,
    feedback: &dyn Fn(&str) -> f64,
) -> Vec<ChangeItem> {
    let mut items: Vec<ChangeItem> = view
        .results
        .iter()
        .map(|c| {
            let ts = c.unix_ts;
            let kind = ChangeKind::from_name(&c.kind);
            let fb = feedback(&c.id);
            let (shared, callers) = graph.node(&c.node).map_or((0.0, 0), |n| sharing(graph, n));
            let red = c.degradation.as_ref().map_or(1.0, |d| d.factor);
            let score = round(change_score(&kind, c.hops, until - ts, shared, symptom) * fb * red);
            let place = if c.hops == 0 {
                "on the focus".to_string()
            } else {
                format!("{} hop(s) down", c.hops)
            };
            let mut why = format!("{} {} before the alert, {place}", c.kind, ago(until - ts));
            if callers >= 10 {
                why.push_str(&format!("; {} is shared by {callers} callers", c.service));
            }
            if symptom.favours(&kind) {
                why.push_str(&format!(
                    "; {} changes often cause {} alerts",
                    c.kind,
                    symptom.as_str()
                ));
            }
            if let Some(d) = &c.degradation {
                why.push_str(&format!("; traces: {} (×{:.1})", d.why, d.factor));
            }
            if fb != 1.0 {
                why.push_str(&format!("; feedback ×{fb:.2}"));
            }
            let (description, warning) = untrusted_text(&c.description, DESCRIPTION_CHARS);
            ChangeItem {
                id: c.id.clone(),
                service: c.service.clone(),
                node: c.node.clone(),
                ts: c.ts.clone(),
                kind: c.kind.clone(),
                hops: c.hops,
                score,
                why,
                description,
                version: c.version.clone(),
                commit: c.commit.clone(),
                url: c.url.clone(),
                evidence: Cite {
                    source: c.evidence.source.clone(),
                    locator: c.evidence.locator.clone(),
                },
                untrusted: true,
                warning,
            }
        })
        .collect();
    items.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then_with(|| b.ts.cmp(&a.ts)).then_with(|| a.id.cmp(&b.id))
    });
    items
}

/// The focus and its dependencies ranked as causes.
pub(crate) fn suspects(
    graph: &Graph,
    focus: &Node,
    near: &[ImpactHit],
    changes: &[ChangeItem],
    feedback: &dyn Fn(&str) -> f64,
) -> Vec<Suspect> {
    let mut best: BTreeMap<&NodeId, (f64, usize, &ChangeItem)> = BTreeMap::new();
    for c in changes {
        let e = best.entry(&c.node).or_insert((c.score, 0, c));
        e.1 += 1;
        if c.score > e.0 {
            e.0 = c.score;
            e.2 = c;
        }
    }
    let focus_hit = ImpactHit {
        id: focus.id.clone(),
        kind: focus.kind,
        name: focus.name.clone(),
        depth: 0,
        path: Vec::new(),
    };
    let mut out = Vec::new();
    for hit in std::iter::once(&focus_hit).chain(near) {
        let Some(node) = graph.node(&hit.id) else { continue };
        if !matches!(node.kind, NodeKind::Service | NodeKind::Datastore) {
            continue;
        }
        let (shared, callers) = sharing(graph, node);
        let distance = 1.0 / (1.0 + hit.depth as f64 / 2.0);
        let prior = PRIOR * distance * (1.0 + shared);
        let (change_score, n_changes, top) =
            best.get(&node.id).map_or((0.0, 0, None), |(s, n, c)| (*s, *n, Some(*c)));
        let fb = feedback(node.id.as_str());
        let score = round((change_score + prior) * fb);
        let mut why = Vec::new();
        match top {
            Some(c) => why.push(format!(
                "{} {} ({}; {} change(s) in the window)",
                c.kind,
                c.id,
                c.why.split(';').next().unwrap_or(""),
                n_changes
            )),
            None => why.push("no change in the window".to_string()),
        }
        if hit.depth == 0 {
            why.push("the alerting node".into());
        } else {
            why.push(format!("dependency of the focus: {}", path_text(graph, &hit.path)));
        }
        if node.kind == NodeKind::Datastore {
            why.push("datastore".into());
        }
        if callers >= 10 {
            why.push(format!("shared by {callers} callers"));
        }
        if fb != 1.0 {
            why.push(format!("feedback ×{fb:.2}"));
        }
        out.push(Suspect {
            id: node.id.to_string(),
            name: node.name.clone(),
            kind: node.kind.as_str().to_string(),
            hops: hit.depth,
            score,
            changes: n_changes,
            why: why.join("; "),
            cite: if hit.depth == 0 {
                Cite::of(graph.members(&node.id).first())
            } else {
                cite_of(&hit.path)
            },
        });
    }
    out.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then(a.hops.cmp(&b.hops)).then_with(|| a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_minutes_before_the_alert_ranks_higher() {
        let s = Symptom::Unknown;
        let score = |kind: &ChangeKind, hops, minutes: i64, shared| {
            change_score(kind, hops, minutes * 60, shared, s)
        };
        let deploy = ChangeKind::Deploy;
        assert!(score(&deploy, 1, 10, 0.0) > score(&deploy, 1, 90, 0.0));
        // Too soon to have started the alert: below one ten minutes before.
        assert!(score(&deploy, 1, 1, 0.0) < score(&deploy, 1, 10, 0.0));
        assert!(score(&deploy, 0, 10, 0.0) > score(&deploy, 2, 10, 0.0));
        assert!(score(&deploy, 1, 10, 1.0) > score(&deploy, 1, 10, 0.0));
        assert!(
            change_score(&ChangeKind::Config, 1, 600, 0.0, Symptom::Latency)
                > change_score(&ChangeKind::Config, 1, 600, 0.0, Symptom::Unknown)
        );
        assert_eq!(Symptom::of("HighLatencyP99"), Symptom::Latency);
        assert_eq!(Symptom::of("HighErrorRate"), Symptom::Errors);
        assert_eq!(Symptom::of("PodCrashLooping"), Symptom::Errors);
        assert_eq!(Symptom::of("CertificateExpiring"), Symptom::Unknown);
    }
}
