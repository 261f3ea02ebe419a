//! Records: what every ingestor emits.
//!
//! Ingestors describe what one file says, with names as the file spells them. Identity
//! (which names are the same real service) and reference resolution (which Service a
//! host name or label selector means) are decided later, across all sources, by the main
//! crate: a file alone cannot know that `checkout-service` in the catalog is the
//! `checkoutservice` Deployment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ChangeEvent, DatastoreType, Document, EdgeKind, NodeKind, Provenance, Role};

/// One fact read from a source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// A node as one source declares it.
    Entity(Entity),
    /// An edge between two references.
    Relation(Relation),
    /// A runbook, postmortem or other document.
    Document(Document),
    /// A change event.
    Change(ChangeEvent),
}

impl Record {
    /// A key unique within one source, so re-ingesting can tell upserts from removals.
    pub fn key(&self) -> String {
        match self {
            Record::Entity(e) => format!(
                "e/{}/{}/{}/{}",
                e.kind,
                e.namespace.as_deref().unwrap_or(""),
                e.name,
                e.class.as_str()
            ),
            Record::Relation(r) => format!("r/{}/{}/{}", r.from.key(), r.kind, r.to.key()),
            Record::Document(d) => format!("d/{}", d.path),
            Record::Change(c) => format!("c/{}", c.id),
        }
    }

    /// Provenance of the record.
    pub fn provenance(&self) -> &Provenance {
        match self {
            Record::Entity(e) => &e.provenance,
            Record::Relation(r) => &r.provenance,
            Record::Document(d) => &d.provenance,
            Record::Change(c) => &c.provenance,
        }
    }
}

/// How authoritative a source is about an entity's existence and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityClass {
    /// A deployed unit: Kubernetes workload, compose service. Two workloads are never
    /// merged with each other unless they share a name.
    Workload,
    /// A network endpoint: a Kubernetes Service, merged into the workload it selects.
    Endpoint,
    /// A catalog entry (Backstage, service catalog): merged into a workload by name,
    /// `kubernetes-id` annotation or normalised name.
    Catalog,
    /// A node known only because something refers to it (a bucket in an env var, a
    /// dependency target in a catalog).
    Mention,
}

impl EntityClass {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityClass::Workload => "workload",
            EntityClass::Endpoint => "endpoint",
            EntityClass::Catalog => "catalog",
            EntityClass::Mention => "mention",
        }
    }
}

/// A node as one source declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entity {
    /// Kind the source suggests; identity resolution may refine service to datastore.
    pub kind: NodeKind,
    /// Name as the source spells it.
    pub name: String,
    /// Kubernetes namespace or compose project, when the source has one.
    pub namespace: Option<String>,
    /// How authoritative the source is.
    pub class: EntityClass,
    /// Other names the source gives the same thing (container_name, hostname, kubernetes-id).
    pub aliases: Vec<String>,
    /// Pod labels, for selector matching.
    pub labels: BTreeMap<String, String>,
    /// Label selector of a Kubernetes Service.
    pub selector: BTreeMap<String, String>,
    /// Technology, for datastores.
    pub datastore: Option<DatastoreType>,
    /// Plumbing role, if any.
    pub role: Option<Role>,
    /// Owning team as the source names it.
    pub owner: Option<String>,
    /// System or domain as the source names it.
    pub system: Option<String>,
    /// Further attributes: image, description, tier, lifecycle, workload kind.
    pub attrs: BTreeMap<String, String>,
    /// Where it was declared.
    pub provenance: Provenance,
}

impl Entity {
    /// An entity with no optional fields set.
    pub fn new(
        kind: NodeKind,
        name: impl Into<String>,
        class: EntityClass,
        provenance: Provenance,
    ) -> Entity {
        Entity {
            kind,
            name: name.into(),
            namespace: None,
            class,
            aliases: Vec::new(),
            labels: BTreeMap::new(),
            selector: BTreeMap::new(),
            datastore: None,
            role: None,
            owner: None,
            system: None,
            attrs: BTreeMap::new(),
            provenance,
        }
    }
}

/// A reference to a node as a file writes it, resolved across sources later.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum NodeRef {
    /// A name, optionally with the expected kind and namespace.
    Name {
        /// Expected kind, if the source says (`component:x` vs `resource:x`).
        kind: Option<NodeKind>,
        /// The name.
        name: String,
        /// Namespace of the referring object.
        namespace: Option<String>,
    },
    /// A network host from configuration: `cart`, `cart:7070`,
    /// `cart.shop.svc.cluster.local`.
    Host {
        /// Host name without port or scheme.
        host: String,
        /// Namespace of the referring object, for bare names.
        namespace: Option<String>,
    },
    /// The pods a Kubernetes label selector matches.
    Selector {
        /// Namespace the selector applies in.
        namespace: Option<String>,
        /// Labels that must all match.
        labels: BTreeMap<String, String>,
    },
}

impl NodeRef {
    /// A reference by plain name.
    pub fn name(
        kind: Option<NodeKind>,
        name: impl Into<String>,
        namespace: Option<&str>,
    ) -> NodeRef {
        NodeRef::Name { kind, name: name.into(), namespace: namespace.map(str::to_string) }
    }

    /// Text form, used in record keys and messages.
    pub fn key(&self) -> String {
        match self {
            NodeRef::Name { kind, name, namespace } => format!(
                "{}{}{}",
                kind.map(|k| format!("{k}:")).unwrap_or_default(),
                namespace.as_deref().map(|ns| format!("{ns}/")).unwrap_or_default(),
                name
            ),
            NodeRef::Host { host, namespace } => format!(
                "host:{}{}",
                namespace.as_deref().map(|ns| format!("{ns}/")).unwrap_or_default(),
                host
            ),
            NodeRef::Selector { namespace, labels } => format!(
                "selector:{}{}",
                namespace.as_deref().map(|ns| format!("{ns}/")).unwrap_or_default(),
                labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
            ),
        }
    }
}

/// An edge as a source declares it, between two references.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    /// The dependent.
    pub from: NodeRef,
    /// The dependency.
    pub to: NodeRef,
    /// What the source says the edge is; resolution refines `calls` to `depends_on` for
    /// datastores and to a plumbing kind for telemetry, discovery and flag services.
    pub kind: EdgeKind,
    /// Where it was declared.
    pub provenance: Provenance,
}
