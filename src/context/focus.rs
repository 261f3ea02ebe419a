//! Which node an alert is about: from a node name, or from an alert's labels through the
//! identity index, then from the alert rule's own labels and the runbooks it links.
//!
//! Labels are tried in order: `service`, `job`, `app`, `app_kubernetes_io_name`,
//! `k8s_deployment_name`, `deployment`, `statefulset`, `daemonset`, `container`,
//! `service_name`, then `pod` (with its ReplicaSet hash or StatefulSet ordinal stripped,
//! preferring a node in the label's `namespace`), then the host of `instance`. A label
//! value is taken when it names exactly one service or datastore (by id, name or alias).
//! Then the alert rule itself: the nodes its `fires_for` labels name, and the services its
//! runbooks document. The answer says which label (or rule) chose the focus, what was
//! tried, and the candidates when a value named several nodes.

use std::collections::BTreeMap;

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::model::{CERTAIN, Node};

/// Labels that name a workload, in the order they are tried.
const NAME_LABELS: &[&str] = &[
    "service",
    "job",
    "app",
    "app_kubernetes_io_name",
    "k8s_deployment_name",
    "deployment",
    "statefulset",
    "daemonset",
    "container",
    "service_name",
];

/// How the focus was chosen.
#[derive(Debug, Clone, Serialize)]
pub struct FocusHow {
    /// The label that chose it (`service`, `pod`, ...), when a label did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// That label's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The rule in words.
    pub rule: String,
    /// The alert, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// Everything tried, in order, with its outcome.
    pub tried: Vec<String>,
    /// Other nodes the chosen value could mean, when it was ambiguous.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// The focus node and how it was found.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) node: Node,
    pub(crate) how: FocusHow,
}

/// Outcome of one name.
enum Match {
    One(NodeId),
    Many(Vec<NodeId>),
    None,
}

/// Services and datastores `name` may mean; `namespace` breaks ties.
fn match_name(graph: &Graph, name: &str, namespace: Option<&str>) -> Match {
    let ids: Vec<NodeId> = match graph.lookup(name) {
        Ok(n) => vec![n.id.clone()],
        Err(Error::Ambiguous { candidates, .. }) => {
            candidates.iter().filter_map(|c| c.parse().ok()).collect()
        }
        Err(_) => Vec::new(),
    };
    let mut deployable: Vec<NodeId> = ids
        .into_iter()
        .filter(|id| matches!(id.kind(), NodeKind::Service | NodeKind::Datastore))
        .collect();
    if deployable.len() > 1
        && let Some(ns) = namespace
    {
        let same: Vec<NodeId> = deployable
            .iter()
            .filter(|id| graph.node(id).and_then(|n| n.namespace.as_deref()) == Some(ns))
            .cloned()
            .collect();
        if !same.is_empty() {
            deployable = same;
        }
    }
    match deployable.len() {
        0 => Match::None,
        1 => Match::One(deployable.remove(0)),
        _ => Match::Many(deployable),
    }
}

/// Names a pod name may come from: itself, without a StatefulSet ordinal or DaemonSet
/// suffix, without a ReplicaSet hash and pod suffix.
fn pod_owners(pod: &str) -> Vec<String> {
    let mut out = vec![pod.to_string()];
    let parts: Vec<&str> = pod.split('-').collect();
    for strip in 1..=2 {
        if parts.len() > strip {
            out.push(parts[..parts.len() - strip].join("-"));
        }
    }
    out
}

/// The host of an `instance` label: `host:port` or a URL, without the port.
fn instance_host(instance: &str) -> String {
    let rest = instance.split_once("://").map_or(instance, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => host.to_string(),
    }
}

/// Resolves the focus of a request: `service` when given, else the labels, else the
/// alert rule's targets and runbooks.
pub(crate) fn resolve(
    graph: &Graph,
    service: Option<&str>,
    alert: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> Result<Resolved> {
    let mut tried = Vec::new();
    let mut ambiguous: Option<(String, String, Vec<NodeId>)> = None;
    let found = |id: &NodeId, label: Option<&str>, value: Option<&str>, rule: String| {
        graph.node(id).cloned().map(|node| Resolved {
            node,
            how: FocusHow {
                label: label.map(str::to_string),
                value: value.map(str::to_string),
                rule,
                alert: alert.map(str::to_string),
                tried: Vec::new(),
                candidates: Vec::new(),
            },
        })
    };
    if let Some(name) = service {
        let node = match graph.lookup(name) {
            Ok(n) => n.clone(),
            Err(Error::Ambiguous { name, candidates }) => match match_name(graph, &name, None) {
                Match::One(id) => graph.node(&id).cloned().ok_or(Error::NodeNotFound(name))?,
                _ => return Err(Error::Ambiguous { name, candidates }),
            },
            Err(e) => return Err(e),
        };
        let how = FocusHow {
            label: None,
            value: Some(name.to_string()),
            rule: format!("service `{name}` named in the request"),
            alert: alert.map(str::to_string),
            tried: vec![format!("service={name}: {}", node.id)],
            candidates: Vec::new(),
        };
        return Ok(Resolved { node, how });
    }
    let namespace = labels.get("namespace").map(String::as_str);
    let mut attempts: Vec<(String, String, String)> = Vec::new();
    for key in NAME_LABELS {
        if let Some(v) = labels.get(*key) {
            attempts.push((key.to_string(), v.clone(), v.clone()));
        }
    }
    if let Some(pod) = labels.get("pod") {
        for owner in pod_owners(pod) {
            attempts.push(("pod".into(), pod.clone(), owner));
        }
    }
    if let Some(instance) = labels.get("instance") {
        let host = instance_host(instance);
        attempts.push(("instance".into(), instance.clone(), host.clone()));
        if let Some((first, _)) = host.split_once('.') {
            attempts.push(("instance".into(), instance.clone(), first.to_string()));
        }
    }
    for (label, value, name) in &attempts {
        match match_name(graph, name, namespace) {
            Match::One(id) => {
                let via = if name == value { String::new() } else { format!(" (as `{name}`)") };
                tried.push(format!("{label}={value}{via}: {id}"));
                let rule =
                    format!("label {label}={value}{via} names {id} through the identity index");
                if let Some(mut r) = found(&id, Some(label), Some(value), rule) {
                    r.how.tried = tried;
                    return Ok(r);
                }
            }
            Match::Many(ids) => {
                tried.push(format!("{label}={value}: ambiguous ({} candidates)", ids.len()));
                ambiguous.get_or_insert((label.clone(), value.clone(), ids));
            }
            Match::None => tried.push(format!("{label}={value}: no node")),
        }
    }
    if let Some(alert) = alert {
        let alert_id = NodeId::new(NodeKind::Alert, alert);
        if graph.node(&alert_id).is_some() {
            let (out, inc) = graph.edges_of(&alert_id);
            let mut targets: Vec<(NodeId, String)> = out
                .iter()
                .filter(|e| e.kind == EdgeKind::FiresFor)
                .filter(|e| matches!(e.to.kind(), NodeKind::Service | NodeKind::Datastore))
                .map(|e| {
                    let at = e.evidence.first().map_or(String::new(), |ev| ev.locator.clone());
                    (e.to.clone(), format!("alert rule {alert} fires for {} ({at})", e.to))
                })
                .collect();
            targets.dedup_by(|a, b| a.0 == b.0);
            if targets.is_empty() {
                // The services the alert's runbooks document.
                for e in inc.iter().filter(|e| e.kind == EdgeKind::Documents) {
                    let (book_out, _) = graph.edges_of(&e.from);
                    for b in book_out.iter().filter(|b| {
                        b.kind == EdgeKind::Documents
                            && b.confidence >= CERTAIN
                            && matches!(b.to.kind(), NodeKind::Service | NodeKind::Datastore)
                    }) {
                        if !targets.iter().any(|(id, _)| id == &b.to) {
                            let rule =
                                format!("runbook {} of alert {alert} documents {}", e.from, b.to);
                            targets.push((b.to.clone(), rule));
                        }
                    }
                }
            }
            match targets.as_slice() {
                [(id, rule)] => {
                    tried.push(format!("alert rule {alert}: {id}"));
                    if let Some(mut r) = found(id, None, None, rule.clone()) {
                        r.how.tried = tried;
                        return Ok(r);
                    }
                }
                [] => tried.push(format!("alert rule {alert}: names no service")),
                many => {
                    tried.push(format!("alert rule {alert}: {} services", many.len()));
                    ambiguous.get_or_insert((
                        "alert".into(),
                        alert.to_string(),
                        many.iter().map(|(id, _)| id.clone()).collect(),
                    ));
                }
            }
        } else {
            tried.push(format!("alert rule {alert}: not ingested"));
        }
    }
    if let Some((label, value, ids)) = ambiguous {
        let first = &ids[0];
        let rule = format!(
            "{label}={value} names {} nodes; {first} is the first of them (see candidates)",
            ids.len()
        );
        if let Some(mut r) = found(first, Some(&label), Some(&value), rule) {
            r.how.tried = tried;
            r.how.candidates = ids.iter().map(ToString::to_string).collect();
            return Ok(r);
        }
    }
    if tried.is_empty() {
        return Err(Error::InvalidParam {
            name: "service".into(),
            reason: "give a service, an alert with labels, or an Alertmanager payload".into(),
        });
    }
    Err(Error::Unresolved { what: "the alert's focus".into(), tried })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_names_lose_their_controller_suffixes() {
        assert_eq!(
            pod_owners("checkout-7d9f8b6c5d-x2x9k"),
            ["checkout-7d9f8b6c5d-x2x9k", "checkout-7d9f8b6c5d", "checkout"]
        );
        assert_eq!(pod_owners("orders-db-0")[1], "orders-db");
        assert_eq!(instance_host("10.0.0.1:9100"), "10.0.0.1");
        assert_eq!(instance_host("http://cart.shop:8080/metrics"), "cart.shop");
    }
}
