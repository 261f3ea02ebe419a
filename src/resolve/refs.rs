//! Resolves relation endpoints (names, hosts, label selectors) to nodes and refines
//! edge kinds by what the ends turn out to be.
//!
//! Edge kinds: a relation a proxy or catalog declares as a route (note `route: ...`)
//! stays a call; otherwise an edge to or from a plumbing node (telemetry, discovery,
//! feature flags) takes the plumbing kind, and a call to a datastore becomes
//! `depends_on`.

use std::collections::{BTreeMap, BTreeSet};

use lore_ingestors::util::hosts::dns_candidates;
use lore_schema::{EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Record, Role};

use super::names::NameIndex;
use super::{
    OPTIONAL_LAYER, Resolved, SourcedRecord, Unresolved, derived_relations, file_of, ns_compatible,
};
use crate::model::{Edge, Evidence, Member, Node};

struct Entry<'a> {
    node: usize,
    namespace: Option<String>,
    /// File the name is declared in (the locator without its line).
    file: &'a str,
}

struct Index<'a> {
    nodes: &'a [Node],
    exact: BTreeMap<String, Vec<Entry<'a>>>,
    /// Files declaring each node's entities.
    declared: BTreeMap<usize, BTreeSet<&'a str>>,
    loose: NameIndex<usize>,
    pods: Vec<(usize, Option<String>, &'a BTreeMap<String, String>)>,
}

fn kind_compatible(want: Option<NodeKind>, have: NodeKind) -> bool {
    match want {
        None => matches!(have, NodeKind::Service | NodeKind::Datastore),
        Some(NodeKind::Service | NodeKind::Datastore) => {
            matches!(have, NodeKind::Service | NodeKind::Datastore)
        }
        Some(k) => k == have,
    }
}

impl<'a> Index<'a> {
    fn new(nodes: &'a [Node], facts: &'a [&'a Entity], entity_node: &[usize]) -> Index<'a> {
        let mut exact: BTreeMap<String, Vec<Entry<'a>>> = BTreeMap::new();
        let mut declared: BTreeMap<usize, BTreeSet<&'a str>> = BTreeMap::new();
        let mut loose = NameIndex::new();
        let mut pods = Vec::new();
        for (i, f) in facts.iter().enumerate() {
            let node = entity_node[i];
            let e: &Entity = f;
            let ns = e.namespace.clone();
            let file = file_of(&e.provenance.locator);
            declared.entry(node).or_default().insert(file);
            for name in std::iter::once(&e.name).chain(&e.aliases) {
                exact.entry(name.to_ascii_lowercase()).or_default().push(Entry {
                    node,
                    namespace: ns.clone(),
                    file,
                });
                loose.insert(name, node);
            }
            if e.class == EntityClass::Workload && !e.labels.is_empty() {
                pods.push((node, ns, &e.labels));
            }
        }
        for (node, n) in nodes.iter().enumerate() {
            exact.entry(n.id.as_str().to_ascii_lowercase()).or_default().push(Entry {
                node,
                namespace: None,
                file: "",
            });
        }
        Index { nodes, exact, declared, loose, pods }
    }

    /// The node `name` means for a referrer in `namespace`, declared in `file`: exact
    /// matches in the same namespace first, then a unique exact match (or a unique one
    /// declared in the referrer's own file: a compose `depends_on: payment` means that
    /// project's `payment`, not a Kubernetes Service of that name elsewhere), then a
    /// unique loose match.
    /// `loose` allows normalised matches (names written by people: catalogs, selectors);
    /// hosts are DNS names and match exactly.
    fn by_name(
        &self,
        kind: Option<NodeKind>,
        name: &str,
        namespace: Option<&str>,
        scope: &[&str],
        strict_ns: bool,
        loose: bool,
    ) -> Option<usize> {
        let entries: Vec<&Entry> = self
            .exact
            .get(&name.to_ascii_lowercase())
            .map(|v| v.iter().filter(|e| kind_compatible(kind, self.nodes[e.node].kind)).collect())
            .unwrap_or_default();
        let mut same_ns: Vec<usize> = entries
            .iter()
            .filter(|e| namespace.is_some() && e.namespace.as_deref() == namespace)
            .map(|e| e.node)
            .collect();
        same_ns.dedup();
        if let [one] = same_ns.as_slice() {
            return Some(*one);
        }
        let fitting: Vec<&&Entry> = entries
            .iter()
            .filter(|e| !strict_ns || ns_compatible(namespace, e.namespace.as_deref()))
            .collect();
        let nodes = |same_file: bool| {
            let mut n: Vec<usize> = (fitting.iter())
                .filter(|e| !same_file || scope.contains(&e.file))
                .map(|e| e.node)
                .collect();
            n.sort_unstable();
            n.dedup();
            n
        };
        let mut compatible = nodes(false);
        if compatible.len() > 1
            && let [one] = nodes(true).as_slice()
        {
            compatible = vec![*one];
        }
        match compatible.as_slice() {
            [one] => Some(*one),
            [] if entries.is_empty() && loose => self
                .loose
                .loose(name, |n| kind_compatible(kind, self.nodes[n].kind))
                .map(|(n, _)| n),
            _ => None,
        }
    }

    /// The files the entities of `node` are declared in.
    fn files(&self, node: usize) -> impl Iterator<Item = &'a str> + '_ {
        self.declared.get(&node).into_iter().flatten().copied()
    }

    fn by_host(&self, host: &str, namespace: Option<&str>, scope: &[&str]) -> Option<usize> {
        for (name, ns) in dns_candidates(host) {
            let (ns, strict) = match &ns {
                Some(ns) => (Some(ns.as_str()), true),
                None => (namespace, false),
            };
            if let Some(n) = self.by_name(None, &name, ns, scope, strict, false) {
                return Some(n);
            }
        }
        None
    }

    fn by_selector(
        &self,
        namespace: Option<&str>,
        labels: &BTreeMap<String, String>,
    ) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .pods
            .iter()
            .filter(|(_, ns, pod)| {
                ns_compatible(namespace, ns.as_deref())
                    && labels.iter().all(|(k, v)| pod.get(k) == Some(v))
            })
            .map(|(n, _, _)| *n)
            .collect();
        found.sort_unstable();
        found.dedup();
        if found.is_empty() {
            // A selector that matches no pods is read as a name: label values usually
            // are the service's name, and a label typo (`cart` for `carts`) should not
            // lose the declared dependency.
            found.extend(
                labels.values().find_map(|v| self.by_name(None, v, namespace, &[], false, true)),
            );
        }
        found
    }

    /// The nodes `r` means, for a reference whose referrer is declared in the files
    /// `scope` (where the reference is read, and where its other end is declared).
    fn resolve(&self, r: &NodeRef, scope: &[&str]) -> Vec<usize> {
        match r {
            NodeRef::Name { kind, name, namespace } => {
                let ns = namespace.as_deref();
                self.by_name(*kind, name, ns, scope, false, true).into_iter().collect()
            }
            NodeRef::Host { host, namespace } => {
                self.by_host(host, namespace.as_deref(), scope).into_iter().collect()
            }
            NodeRef::Selector { namespace, labels } => {
                self.by_selector(namespace.as_deref(), labels)
            }
        }
    }
}

fn refine(kind: EdgeKind, route: bool, from: &Node, to: &Node) -> EdgeKind {
    if !matches!(
        kind,
        EdgeKind::Calls | EdgeKind::DependsOn | EdgeKind::Publishes | EdgeKind::Consumes
    ) {
        return kind;
    }
    if !route && let Some(role) = to.role.or(from.role) {
        return match role {
            Role::Telemetry => EdgeKind::Telemetry,
            Role::Discovery => EdgeKind::Discovery,
            Role::FeatureFlags => EdgeKind::FeatureFlag,
        };
    }
    if kind == EdgeKind::Calls && to.kind == NodeKind::Datastore {
        return EdgeKind::DependsOn;
    }
    if kind == EdgeKind::DependsOn && to.kind == NodeKind::Service {
        return EdgeKind::Calls;
    }
    kind
}

/// Evidence that only orders start-up: compose `depends_on` and `links`.
fn is_start_order(e: &Evidence) -> bool {
    e.ingestor == "compose" && (e.note.starts_with("depends_on ") || e.note.starts_with("links "))
}

pub(super) fn resolve_relations(
    records: &[SourcedRecord],
    facts: &[&Entity],
    entity_node: &[usize],
    nodes: Vec<Node>,
    members: Vec<Vec<Member>>,
) -> Resolved {
    let index = Index::new(&nodes, facts, entity_node);
    let mounts = super::mounts::Mounts::new(facts, entity_node);
    let mut edges: BTreeMap<(usize, usize, EdgeKind), Vec<Evidence>> = BTreeMap::new();
    let (linked, mut unresolved) = super::config::expand(records);
    for r in records.iter().chain(&linked) {
        let relations = match &r.record {
            Record::Relation(rel) if super::config::is_config_half(rel) => continue,
            Record::Relation(rel) => vec![rel.clone()],
            Record::Entity(e) if matches!(e.kind, NodeKind::Service | NodeKind::Datastore) => {
                derived_relations(e)
            }
            _ => continue,
        };
        for mut rel in relations {
            let owner = mounts.owner(&rel);
            let file = file_of(&rel.provenance.locator);
            let froms = match &owner {
                Some((node, _)) => vec![*node],
                None => index.resolve(&rel.from, &[file]),
            };
            if let Some((node, why)) = owner {
                let why = format!(" (run by {}: {why})", nodes[node].name);
                rel.provenance.note.push_str(&why);
            }
            let mut scope = vec![file];
            scope.extend(froms.iter().flat_map(|&f| index.files(f)));
            let tos = index.resolve(&rel.to, &scope);
            if froms.is_empty() || tos.is_empty() {
                let missing = if froms.is_empty() { &rel.from } else { &rel.to };
                unresolved.push(Unresolved {
                    reference: missing.key(),
                    locator: rel.provenance.locator.clone(),
                    note: rel.provenance.note.clone(),
                });
                continue;
            }
            let route = rel.provenance.is_route();
            for &f in &froms {
                for &t in &tos {
                    if f == t {
                        continue;
                    }
                    let kind = refine(rel.kind, route, &nodes[f], &nodes[t]);
                    edges.entry((f, t, kind)).or_default().push(Evidence {
                        source: r.source.clone(),
                        locator: rel.provenance.locator.clone(),
                        ingestor: rel.provenance.ingestor.clone(),
                        note: rel.provenance.note.clone(),
                        valid_from: r.valid_from,
                        valid_to: r.valid_to,
                    });
                }
            }
        }
    }
    let edges = edges
        .into_iter()
        .map(|((f, t, kind), mut evidence)| {
            evidence.sort();
            evidence.dedup();
            let optional = evidence.iter().all(|e| e.note.contains("(optional layer"))
                || [f, t].iter().any(|&n| nodes[n].attrs.contains_key(OPTIONAL_LAYER));
            let start_order = evidence.iter().all(is_start_order);
            Edge {
                from: nodes[f].id.clone(),
                to: nodes[t].id.clone(),
                kind,
                optional,
                start_order,
                observed: false,
                confidence: crate::model::CERTAIN,
                evidence,
            }
        })
        .collect();
    unresolved.sort_by(|a, b| (&a.locator, &a.reference).cmp(&(&b.locator, &b.reference)));
    unresolved.dedup();
    Resolved { nodes, members, edges, unresolved, ..Resolved::default() }
}
