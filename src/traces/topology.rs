//! The topology with what traces observed: the declared graph plus every observed edge
//! (marked `observed`, its evidence the trace sources and the last trace id) and every
//! node seen only in traces (a member of source `traces`, rule `observed only`). Impact
//! and path follow it with `Sides` choosing declared, observed or both.

use std::collections::BTreeSet;

use lore_schema::{NodeId, NodeKind};

use super::index::ObservedIndex;
use crate::graph::Graph;
use crate::model::{CERTAIN, Edge, Evidence, Member, Node};

/// Source of nodes and edges known only from traces.
pub const SOURCE: &str = "traces";

fn observed_node(id: &NodeId, last_trace: &str) -> (Node, Vec<Member>) {
    let name = id.name().to_string();
    let node = Node {
        id: id.clone(),
        kind: id.kind(),
        name: name.clone(),
        aliases: Vec::new(),
        namespace: None,
        datastore: None,
        role: None,
        owners: Vec::new(),
        systems: Vec::new(),
        attrs: [("observed_only".to_string(), "true".to_string())].into(),
        labels: Default::default(),
    };
    let member = Member {
        name,
        source: SOURCE.into(),
        locator: format!("trace {last_trace}"),
        declared_as: match id.kind() {
            NodeKind::Service => "service.name seen in traces".into(),
            _ => "peer named by spans".into(),
        },
        rule: "observed only".into(),
    };
    (node, vec![member])
}

/// `graph` with `index`'s observed edges and observed-only nodes.
pub fn with_observed(graph: &Graph, index: &ObservedIndex) -> Graph {
    let mut nodes = Vec::new();
    let mut added: BTreeSet<&NodeId> = BTreeSet::new();
    let mut edges = Vec::new();
    for ((from, to, kind), edge) in &index.edges {
        let fig = edge.series.overlapping(None, None);
        let last_trace = fig.last_trace_hex();
        for n in [from, to] {
            if graph.node(n).is_none() && added.insert(n) {
                nodes.push(observed_node(n, &last_trace));
            }
        }
        let note = format!(
            "observed: {} requests, {} errors, p99 {} ms",
            fig.requests,
            fig.errors,
            fig.quantile(0.99).map_or("?".into(), |v| format!("{v:.1}"))
        );
        let evidence = edge
            .sources
            .iter()
            .map(|source| Evidence {
                source: source.clone(),
                locator: format!("trace {last_trace}"),
                ingestor: SOURCE.into(),
                note: note.clone(),
                valid_from: fig.first,
                valid_to: None,
            })
            .collect();
        edges.push(Edge {
            from: from.clone(),
            to: to.clone(),
            kind: *kind,
            optional: false,
            start_order: false,
            observed: true,
            confidence: CERTAIN,
            evidence,
        });
    }
    for (id, series) in &index.own {
        if graph.node(id).is_none() && added.insert(id) {
            nodes.push(observed_node(id, &series.overlapping(None, None).last_trace_hex()));
        }
    }
    graph.extended(nodes, edges)
}
