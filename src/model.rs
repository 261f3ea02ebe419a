//! The resolved graph's nodes and edges, as queries return them.
//!
//! These are the JSON contract of `../shared/DESIGN.md`: the CLI's `--json` and the HTTP
//! API serialize the same types, so they cannot drift apart.

use std::collections::BTreeMap;

use lore_schema::{DatastoreType, EdgeKind, NodeId, NodeKind, Role};
use serde::Serialize;

/// A node after identity resolution: one real thing, whatever names sources give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Node {
    /// Stable id, `kind:name`.
    pub id: NodeId,
    /// Kind.
    pub kind: NodeKind,
    /// Canonical name.
    pub name: String,
    /// Every other name it answers to.
    pub aliases: Vec<String>,
    /// Namespace, when deployed in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Datastore technology.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datastore: Option<DatastoreType>,
    /// Plumbing role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Owning teams.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// Systems it is part of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub systems: Vec<String>,
    /// Other attributes (image, tier, description).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
    /// Pod labels of its workload, as the manifest writes them (what selectors and
    /// metrics use).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Why a node exists and which declarations were merged into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Member {
    /// Name as the source spells it.
    pub name: String,
    /// Source (ingest root).
    pub source: String,
    /// `file:line` of the declaration.
    pub locator: String,
    /// What the declaration is (`Deployment shop/checkout`).
    pub declared_as: String,
    /// The identity rule that merged it into this node.
    pub rule: String,
}

/// Evidence for an edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Evidence {
    /// Source (ingest root).
    pub source: String,
    /// `file:line`.
    pub locator: String,
    /// Ingestor that read it.
    pub ingestor: String,
    /// Why the edge exists (`env CART_ADDR -> cart:7070`).
    pub note: String,
    /// Unix seconds since when the fact holds.
    pub valid_from: i64,
    /// Unix seconds when the fact stopped holding (history only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<i64>,
}

/// A resolved edge between two nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Edge {
    /// The dependent.
    pub from: NodeId,
    /// The dependency.
    pub to: NodeId,
    /// Kind after refinement.
    pub kind: EdgeKind,
    /// Declared only by an opt-in layer (a test or add-on compose overlay); left out of
    /// impact unless asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Declared only as a start order (compose `depends_on`, `links`) that no env var,
    /// config value or URL corroborates: impact follows it, a reader may discount it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub start_order: bool,
    /// Seen in traces, not declared: the observed side of the topology (its evidence
    /// names the trace sources and the last trace id). Only in the graph impact uses
    /// when traces exist (`traces/topology.rs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub observed: bool,
    /// How sure the link is, in thousandths: 1000 for declared facts; document links
    /// found in text are weaker (see `resolve/docs.rs`).
    #[serde(default = "certain", skip_serializing_if = "is_certain")]
    pub confidence: u16,
    /// Every declaration that supports it.
    pub evidence: Vec<Evidence>,
}

/// Confidence of a declared fact.
pub const CERTAIN: u16 = 1000;

fn is_certain(c: &u16) -> bool {
    *c >= CERTAIN
}

fn certain() -> u16 {
    CERTAIN
}
