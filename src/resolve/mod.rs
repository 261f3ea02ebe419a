//! Identity and reference resolution: from every source's records to one graph.
//!
//! Identity rules, applied in order (each merge records the rule that made it, and
//! `lore show` prints them):
//! 1. Workloads (Kubernetes workloads, compose services) with the same name are one node,
//!    unless they sit in different explicit namespaces. Two workloads with different
//!    names are never merged.
//! 2. A Kubernetes Service joins the workload its selector matches (its name becomes an
//!    alias), else the workload of its own name.
//! 3. Catalog entries and mentions join the deployed node whose name or alias matches
//!    exactly, then through their own aliases (`backstage.io/kubernetes-id`), then through
//!    normalised names (see [`names`]) when exactly one node matches.
//! 4. Teams, systems and APIs are one node per kind and name.
//!
//! The canonical name is the workload's, then the Service's, then the catalog's.

mod config;
mod docs;
mod mounts;
mod names;
mod refs;

pub(crate) use docs::{ALERT_KEYS, SERVICE_KEYS};
pub use docs::{DanglingLink, doc_key, link_added_documents};

use std::collections::{BTreeMap, BTreeSet};

use lore_schema::{
    EdgeKind, Entity, EntityClass, NodeId, NodeKind, NodeRef, Provenance, Record, Relation,
};

use crate::model::{Edge, Member, Node};
use names::NameIndex;

/// Attribute set by ingestors on declarations from opt-in layers.
pub(crate) const OPTIONAL_LAYER: &str = "optional_layer";

/// A record with the source that owns it and its validity.
#[derive(Debug, Clone)]
pub struct SourcedRecord {
    /// Source (ingest root).
    pub source: String,
    /// The record.
    pub record: Record,
    /// Validity start.
    pub valid_from: i64,
    /// Validity end, for history.
    pub valid_to: Option<i64>,
}

/// A reference that matched no node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unresolved {
    /// The reference as written.
    pub reference: String,
    /// Where.
    pub locator: String,
    /// Why it was recorded (`env X -> host`).
    pub note: String,
}

/// The resolved graph.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Nodes, sorted by id.
    pub nodes: Vec<Node>,
    /// Declarations merged into each node, by node index.
    pub members: Vec<Vec<Member>>,
    /// Edges, sorted.
    pub edges: Vec<Edge>,
    /// References that matched nothing.
    pub unresolved: Vec<Unresolved>,
    /// Documents by node id.
    pub documents: BTreeMap<NodeId, lore_schema::Document>,
    /// Alerts whose runbook_url matched no runbook.
    pub dangling: Vec<DanglingLink>,
}

struct EntityFact<'r> {
    entity: &'r Entity,
    source: &'r str,
}

/// Union-find over entity indices, remembering why each entity joined.
struct Clusters {
    parent: Vec<usize>,
    rule: Vec<String>,
}

impl Clusters {
    fn new(n: usize) -> Clusters {
        Clusters { parent: (0..n).collect(), rule: vec![String::new(); n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Merges `x` into `into`'s cluster, recording `rule` on `x`.
    fn join(&mut self, x: usize, into: usize, rule: impl Into<String>) {
        let (rx, ri) = (self.find(x), self.find(into));
        if rx != ri {
            self.parent[rx] = ri;
            if self.rule[x].is_empty() {
                self.rule[x] = rule.into();
            }
        }
    }
}

fn deployable(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Service | NodeKind::Datastore)
}

fn ns_compatible(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Resolves identity and references over `records` (already filtered to one point in time).
pub fn resolve(records: &[SourcedRecord]) -> Resolved {
    let owned = derived_entities(records);
    let mut facts: Vec<EntityFact<'_>> = Vec::new();
    for r in records {
        if let Record::Entity(e) = &r.record {
            facts.push(EntityFact { entity: e, source: &r.source });
        }
    }
    for (source, e) in &owned {
        facts.push(EntityFact { entity: e, source });
    }
    facts.sort_by(|a, b| {
        (a.entity.class, &a.entity.name, &a.entity.namespace, &a.entity.provenance).cmp(&(
            b.entity.class,
            &b.entity.name,
            &b.entity.namespace,
            &b.entity.provenance,
        ))
    });
    let mut clusters = Clusters::new(facts.len());
    cluster_entities(&facts, &mut clusters);
    let (nodes, members, root_to_node) = build_nodes(&facts, &mut clusters);
    let entity_node: Vec<usize> =
        (0..facts.len()).map(|i| root_to_node[&clusters.find(i)]).collect();
    let mut resolved = refs::resolve_relations(
        records,
        &facts.iter().map(|f| f.entity).collect::<Vec<_>>(),
        &entity_node,
        nodes,
        members,
    );
    docs::link_documents(records, &mut resolved);
    resolved
}

/// Teams and systems named by entities' owner and system fields become nodes too,
/// with owned_by / part_of relations.
fn derived_entities(records: &[SourcedRecord]) -> Vec<(String, Entity)> {
    let mut out = Vec::new();
    for r in records {
        let Record::Entity(e) = &r.record else { continue };
        if !deployable(e.kind) {
            continue;
        }
        for (name, kind) in [(&e.owner, NodeKind::Team), (&e.system, NodeKind::System)] {
            if let Some(name) = name {
                let mut prov = e.provenance.clone();
                prov.note = format!("named by {} {}", e.kind, e.name);
                out.push((
                    r.source.clone(),
                    Entity::new(kind, name.clone(), EntityClass::Mention, prov),
                ));
            }
        }
    }
    out
}

fn cluster_entities(facts: &[EntityFact<'_>], clusters: &mut Clusters) {
    // Rule 1: workloads by name and namespace.
    let mut by_name: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
    for (i, f) in facts.iter().enumerate() {
        if f.entity.class == EntityClass::Workload && deployable(f.entity.kind) {
            by_name.entry((true, f.entity.name.as_str())).or_default().push(i);
        }
    }
    for group in by_name.values() {
        for (pos, &i) in group.iter().enumerate() {
            let ns = facts[i].entity.namespace.as_deref();
            if let Some(&j) = group[..pos]
                .iter()
                .find(|&&j| ns_compatible(ns, facts[j].entity.namespace.as_deref()))
            {
                clusters.join(i, j, "same workload name in another source or file");
            }
        }
    }
    // Rule 2: Kubernetes Services join the workloads they select.
    let mut by_label: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut deployed_by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (j, w) in facts.iter().enumerate() {
        if w.entity.class == EntityClass::Workload {
            for (k, v) in &w.entity.labels {
                by_label.entry((k.as_str(), v.as_str())).or_default().push(j);
            }
        }
        if matches!(w.entity.class, EntityClass::Workload | EntityClass::Endpoint) {
            deployed_by_name.entry(w.entity.name.as_str()).or_default().push(j);
        }
    }
    for (i, f) in facts.iter().enumerate() {
        let e = f.entity;
        if e.class != EntityClass::Endpoint {
            continue;
        }
        let ns = e.namespace.as_deref();
        // Candidates carry the selector's first label; the others are checked.
        let selected: Vec<usize> = match e.selector.iter().next() {
            None => Vec::new(),
            Some((k, v)) => by_label
                .get(&(k.as_str(), v.as_str()))
                .map(|c| {
                    c.iter()
                        .copied()
                        .filter(|&j| {
                            let w = facts[j].entity;
                            ns_compatible(ns, w.namespace.as_deref())
                                && e.selector.iter().all(|(k, v)| w.labels.get(k) == Some(v))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let same_name = |j: &&usize| facts[**j].entity.name == e.name;
        if let Some(&j) = selected.iter().find(same_name).or(selected.first()) {
            let labels: Vec<String> = e.selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            clusters.join(i, j, format!("Kubernetes Service selecting {}", labels.join(",")));
            continue;
        }
        let named = deployed_by_name.get(e.name.as_str()).and_then(|c| {
            c.iter().copied().find(|&j| {
                let w = facts[j].entity;
                j != i
                    && ns_compatible(ns, w.namespace.as_deref())
                    && (w.class == EntityClass::Workload || j < i)
            })
        });
        if let Some(j) = named {
            clusters.join(i, j, "Kubernetes Service of the same name");
        }
    }
    // Rule 3: catalog entries and mentions join deployed nodes by name.
    let mut index: NameIndex<usize> = NameIndex::new();
    for (i, f) in facts.iter().enumerate() {
        if matches!(f.entity.class, EntityClass::Workload | EntityClass::Endpoint)
            && deployable(f.entity.kind)
        {
            let root = clusters.find(i);
            index.insert(&f.entity.name, root);
            for alias in &f.entity.aliases {
                index.insert(alias, root);
            }
        }
    }
    let mut loose_by_name: BTreeMap<(NodeKind, String), usize> = BTreeMap::new();
    for (i, f) in facts.iter().enumerate() {
        let e = f.entity;
        if matches!(e.class, EntityClass::Workload | EntityClass::Endpoint) && deployable(e.kind) {
            continue;
        }
        if !deployable(e.kind) {
            let key = (e.kind, e.name.to_ascii_lowercase());
            match loose_by_name.get(&key) {
                Some(&j) => clusters.join(i, j, format!("same {} name", e.kind)),
                None => {
                    loose_by_name.insert(key, i);
                }
            }
            continue;
        }
        let exact = index.exact(&e.name);
        if let [root] = exact.as_slice() {
            clusters.join(i, *root, format!("{} entry with the same name", e.class.as_str()));
            continue;
        }
        let by_alias = e.aliases.iter().find_map(|a| match index.exact(a).as_slice() {
            [root] => Some((*root, a.clone())),
            _ => None,
        });
        if let Some((root, alias)) = by_alias {
            clusters.join(
                i,
                root,
                format!("{} entry naming it `{alias}` (kubernetes-id/alias)", e.class.as_str()),
            );
            continue;
        }
        // A loose match in the entry's own system (a namespace or part-of of that name)
        // wins over one elsewhere: `export` of system `localization-export` is that
        // namespace's `export-api`, not `export-service` of another system.
        let in_system = |root: usize| {
            let w = facts[root].entity;
            e.system.is_some()
                && (w.system == e.system || w.namespace.is_some() && w.namespace == e.system)
        };
        let loose = || {
            let own = index.loose(&e.name, in_system).map(|(r, l)| (r, l, ", in its own system"));
            own.or_else(|| index.loose(&e.name, |_| true).map(|(r, l)| (r, l, "")))
        };
        if exact.is_empty()
            && let Some((root, level, within)) = loose()
        {
            let rule = names::level_rule(level);
            clusters.join(i, root, format!("{} entry: {rule}{within}", e.class.as_str()));
            continue;
        }
        let key = (NodeKind::Service, e.name.to_ascii_lowercase());
        match loose_by_name.get(&key) {
            Some(&j) => clusters.join(i, j, "catalog entries with the same name"),
            None => {
                loose_by_name.insert(key, i);
            }
        }
    }
}

type BuiltNodes = (Vec<Node>, Vec<Vec<Member>>, BTreeMap<usize, usize>);

fn build_nodes(facts: &[EntityFact<'_>], clusters: &mut Clusters) -> BuiltNodes {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..facts.len() {
        groups.entry(clusters.find(i)).or_default().push(i);
    }
    let mut drafts = Vec::new();
    for (root, members) in &groups {
        let canonical = *members
            .iter()
            .min_by_key(|&&i| {
                (facts[i].entity.class, facts[i].entity.name.len(), &facts[i].entity.name)
            })
            .unwrap_or(root);
        let ce = facts[canonical].entity;
        let kind = if deployable(ce.kind) {
            let workloads: Vec<&Entity> = members
                .iter()
                .map(|&i| facts[i].entity)
                .filter(|e| e.class == EntityClass::Workload)
                .collect();
            let votes = if workloads.is_empty() {
                members.iter().map(|&i| facts[i].entity).collect()
            } else {
                workloads
            };
            if votes.iter().any(|e| e.kind == NodeKind::Datastore) {
                NodeKind::Datastore
            } else {
                NodeKind::Service
            }
        } else {
            ce.kind
        };
        let mut aliases = BTreeSet::new();
        let mut owners = BTreeSet::new();
        let mut systems = BTreeSet::new();
        let mut attrs = BTreeMap::new();
        let mut datastore = None;
        let mut role = None;
        let mut labels = BTreeMap::new();
        for &i in members {
            let e = facts[i].entity;
            if labels.is_empty() && e.class == EntityClass::Workload {
                labels = e.labels.clone();
            }
            aliases.insert(e.name.clone());
            aliases.extend(e.aliases.iter().cloned());
            if e.class == EntityClass::Endpoint
                && let Some(ns) = &e.namespace
            {
                aliases.insert(format!("{}.{ns}", e.name));
                aliases.insert(format!("{}.{ns}.svc.cluster.local", e.name));
            }
            owners.extend(e.owner.iter().cloned());
            systems.extend(e.system.iter().cloned());
            datastore = datastore.or(e.datastore);
            role = role.or(e.role);
            for (k, v) in &e.attrs {
                attrs.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        aliases.remove(&ce.name);
        // A node declared only by opt-in layers is itself optional.
        if !members.iter().all(|&i| facts[i].entity.attrs.contains_key(OPTIONAL_LAYER)) {
            attrs.remove(OPTIONAL_LAYER);
        }
        let member_list: Vec<Member> = members
            .iter()
            .map(|&i| {
                let e = facts[i].entity;
                Member {
                    name: e.name.clone(),
                    source: facts[i].source.to_string(),
                    locator: e.provenance.locator.clone(),
                    declared_as: e.provenance.note.clone(),
                    rule: if i == canonical {
                        "canonical declaration".to_string()
                    } else if clusters.rule[i].is_empty() {
                        "same cluster".to_string()
                    } else {
                        clusters.rule[i].clone()
                    },
                }
            })
            .collect();
        let node = Node {
            id: NodeId::new(kind, &ce.name),
            kind,
            name: ce.name.clone(),
            aliases: aliases.into_iter().collect(),
            namespace: ce.namespace.clone(),
            datastore: if kind == NodeKind::Datastore {
                datastore.or(Some(lore_schema::DatastoreType::Other))
            } else {
                None
            },
            role,
            owners: owners.into_iter().collect(),
            systems: systems.into_iter().collect(),
            attrs,
            labels,
        };
        drafts.push((*root, node, member_list));
    }
    // Disambiguate ids shared by nodes in different namespaces.
    let mut count: BTreeMap<NodeId, usize> = BTreeMap::new();
    for (_, node, _) in &drafts {
        *count.entry(node.id.clone()).or_default() += 1;
    }
    for (_, node, _) in &mut drafts {
        if count[&node.id] > 1
            && let Some(ns) = &node.namespace
        {
            node.id = NodeId::new(node.kind, &format!("{}.{ns}", node.name));
        }
    }
    drafts.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let mut nodes = Vec::new();
    let mut members = Vec::new();
    let mut root_to_node = BTreeMap::new();
    for (idx, (root, node, m)) in drafts.into_iter().enumerate() {
        root_to_node.insert(root, idx);
        nodes.push(node);
        members.push(m);
    }
    (nodes, members, root_to_node)
}

/// Owner and system relations implied by entity fields.
pub(crate) fn derived_relations(e: &Entity) -> Vec<Relation> {
    let me = NodeRef::name(Some(e.kind), e.name.clone(), e.namespace.as_deref());
    let mut out = Vec::new();
    for (name, kind, edge) in [
        (&e.owner, NodeKind::Team, EdgeKind::OwnedBy),
        (&e.system, NodeKind::System, EdgeKind::PartOf),
    ] {
        if let Some(name) = name {
            let prov = Provenance {
                note: format!("{edge} from {} fields", e.provenance.ingestor),
                ..e.provenance.clone()
            };
            out.push(Relation {
                from: me.clone(),
                to: NodeRef::name(Some(kind), name.clone(), None),
                kind: edge,
                provenance: prov,
            });
        }
    }
    out
}

/// The file of a `path:line` locator (a locator without a line is its own file).
pub(super) fn file_of(locator: &str) -> &str {
    match locator.rsplit_once(':') {
        Some((file, line)) if line.bytes().all(|b| b.is_ascii_digit()) => file,
        _ => locator,
    }
}
