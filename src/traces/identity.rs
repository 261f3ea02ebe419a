//! Trace names onto graph nodes, through the identity index the declared sources built:
//! `service.name` (the catalog name or any alias), then `k8s.deployment.name`, with the
//! namespace attributes choosing among same-named services; datastores and topics by the
//! names a span gives (`peer.service`, `server.address` in any host style, `db.namespace`,
//! bucket, topic). A service found nowhere is a node of its own, observed only.

use std::collections::HashMap;

use lore_schema::{NodeId, NodeKind};

use crate::graph::Graph;
use crate::model::Node;

/// A resolved trace name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The node.
    pub id: NodeId,
    /// Whether no declared source knows it (seen only in traces).
    pub observed_only: bool,
}

fn candidates<'g>(graph: &'g Graph, name: &str) -> Vec<&'g Node> {
    match graph.lookup(name) {
        Ok(n) => vec![n],
        Err(crate::Error::Ambiguous { candidates, .. }) => candidates
            .iter()
            .filter_map(|c| c.parse::<NodeId>().ok())
            .filter_map(|id| graph.node(&id))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Host-name spellings of an address: as given, without the port, the first label.
fn host_forms(address: &str) -> Vec<String> {
    let host = address.trim().trim_start_matches("http://").trim_start_matches("https://");
    let host = host.split('/').next().unwrap_or(host);
    let no_port = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let mut forms = vec![host.to_string(), no_port.to_string()];
    if let Some((first, _)) = no_port.split_once('.') {
        forms.push(first.to_string());
    }
    forms.dedup();
    forms
}

/// Resolves trace names against one graph, caching each answer.
#[derive(Debug)]
pub struct Resolver<'g> {
    graph: &'g Graph,
    cache: HashMap<(char, Vec<String>), Resolved>,
}

impl<'g> Resolver<'g> {
    /// A resolver over `graph`.
    pub fn new(graph: &'g Graph) -> Resolver<'g> {
        Resolver { graph, cache: HashMap::new() }
    }

    /// A service from its resource identity `[name, namespace, deployment, k8s ns]`.
    pub fn service(&mut self, parts: &[String]) -> Resolved {
        let key = ('s', parts.to_vec());
        if let Some(r) = self.cache.get(&key) {
            return r.clone();
        }
        let get = |i: usize| parts.get(i).map(String::as_str).unwrap_or("");
        let namespaces = [get(3), get(1)];
        let mut found = None;
        for name in [get(0), get(2)].into_iter().filter(|n| !n.is_empty()) {
            let mut nodes: Vec<&Node> = candidates(self.graph, name)
                .into_iter()
                .filter(|n| n.kind == NodeKind::Service)
                .collect();
            if nodes.len() > 1 {
                let in_ns: Vec<&Node> = nodes
                    .iter()
                    .copied()
                    .filter(|n| n.namespace.as_deref().is_some_and(|ns| namespaces.contains(&ns)))
                    .collect();
                if !in_ns.is_empty() {
                    nodes = in_ns;
                }
            }
            if let [one] = nodes.as_slice() {
                found = Some(Resolved { id: one.id.clone(), observed_only: false });
                break;
            }
        }
        let resolved = found.unwrap_or_else(|| Resolved {
            id: NodeId::new(NodeKind::Service, &get(0).to_ascii_lowercase()),
            observed_only: true,
        });
        self.cache.insert(key, resolved.clone());
        resolved
    }

    /// A datastore or topic from the names a span gives, best first.
    pub fn store(&mut self, names: &[String]) -> Resolved {
        self.by_names('d', names, &[NodeKind::Datastore, NodeKind::Service], NodeKind::Datastore)
    }

    /// What an unanswered CLIENT span called, from the names it gives.
    pub fn address(&mut self, names: &[String]) -> Resolved {
        self.by_names('a', names, &[NodeKind::Service, NodeKind::Datastore], NodeKind::Service)
    }

    fn by_names(
        &mut self,
        tag: char,
        names: &[String],
        kinds: &[NodeKind],
        default: NodeKind,
    ) -> Resolved {
        let key = (tag, names.to_vec());
        if let Some(r) = self.cache.get(&key) {
            return r.clone();
        }
        let mut found = None;
        'names: for name in names {
            for form in host_forms(name) {
                let nodes = candidates(self.graph, &form);
                for kind in kinds {
                    let of_kind: Vec<&&Node> = nodes.iter().filter(|n| n.kind == *kind).collect();
                    if let [one] = of_kind.as_slice() {
                        found = Some(Resolved { id: one.id.clone(), observed_only: false });
                        break 'names;
                    }
                }
            }
        }
        let resolved = found.unwrap_or_else(|| {
            let best = names
                .first()
                .map(|n| host_forms(n).get(1).cloned().unwrap_or_default())
                .unwrap_or_default();
            Resolved { id: NodeId::new(default, &best.to_ascii_lowercase()), observed_only: true }
        });
        self.cache.insert(key, resolved.clone());
        resolved
    }
}
