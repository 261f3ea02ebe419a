//! Bounded traversals: impact (transitive callers or dependencies) and paths.

use std::collections::BTreeSet;
use std::sync::Arc;

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::{Deserialize, Serialize};

use super::Graph;
use super::adjacency::{Adjacency, OBSERVED_SHIFT, ROOT, Visit, kind_bit};
use crate::model::Edge;

/// Which way an impact query walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Who is affected if the node fails: transitive callers and users.
    Upstream,
    /// What the node needs: transitive dependencies.
    Downstream,
}

impl std::str::FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Direction, String> {
        match s {
            "upstream" | "up" => Ok(Direction::Upstream),
            "downstream" | "down" => Ok(Direction::Downstream),
            _ => Err(format!("unknown direction `{s}` (expected upstream or downstream)")),
        }
    }
}

/// Which side of the topology a traversal follows: what sources declare, what traces
/// observed, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sides {
    /// Declared and observed edges.
    #[default]
    Both,
    /// Declared edges only.
    Declared,
    /// Observed edges only.
    Observed,
}

/// Which edges a traversal follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeFilter {
    /// Kinds followed.
    pub kinds: BTreeSet<EdgeKind>,
    /// Whether edges declared only by opt-in layers are followed.
    pub include_optional: bool,
    /// Declared, observed or both (observed edges exist only in a graph with traces).
    pub sides: Sides,
}

impl EdgeFilter {
    /// Request-path edges only: what impact follows by default.
    pub fn request_path() -> EdgeFilter {
        EdgeFilter {
            kinds: EdgeKind::ALL.iter().copied().filter(|k| k.is_request_path()).collect(),
            include_optional: false,
            sides: Sides::Both,
        }
    }

    /// Request path plus plumbing (telemetry, discovery, feature flags).
    pub fn with_plumbing(mut self) -> EdgeFilter {
        self.kinds.extend(EdgeKind::ALL.iter().copied().filter(|k| k.is_plumbing()));
        self
    }

    /// The kinds followed as a bit mask over [`kind_bit`].
    fn mask(&self) -> u64 {
        let declared = self.kinds.iter().fold(0, |m, &k| m | kind_bit(k, false));
        match self.sides {
            Sides::Both => declared | declared << OBSERVED_SHIFT,
            Sides::Declared => declared,
            Sides::Observed => declared << OBSERVED_SHIFT,
        }
    }
}

/// One node reached by an impact query.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ImpactHit {
    /// Node id.
    pub id: NodeId,
    /// Node kind.
    pub kind: NodeKind,
    /// Node name.
    pub name: String,
    /// Hops from the queried node.
    pub depth: usize,
    /// Edges from the hit to the queried node (upstream) or from the queried node to the
    /// hit (downstream), in call direction, each with its evidence.
    pub path: Vec<Arc<Edge>>,
}

/// A path between two nodes.
#[derive(Debug, Clone, Serialize)]
pub struct PathHit {
    /// Hops.
    pub hops: usize,
    /// Edges in order, from the first node to the last.
    pub path: Vec<Arc<Edge>>,
}

/// Where a breadth-first walk stops.
struct Bounds {
    /// Kinds followed, as a mask over [`kind_bit`].
    mask: u64,
    /// Follow edges declared only by opt-in layers.
    optional: bool,
    /// Nodes at this depth are not expanded.
    max_depth: u32,
    /// Stop once this node is reached.
    target: Option<u32>,
}

impl Graph {
    /// Breadth-first walk from `start` over `adjacency`; `visit.order` holds the nodes in
    /// the order they were reached, each with its depth and parent link.
    fn walk(&self, visit: &mut Visit, start: u32, adjacency: &Adjacency, bounds: &Bounds) {
        visit.reach(start, 0, ROOT);
        let mut head = 0;
        while head < visit.order.len() && !bounds.target.is_some_and(|t| visit.seen(t)) {
            let n = visit.order[head];
            head += 1;
            let d = visit.depth(n);
            if d >= bounds.max_depth {
                continue;
            }
            for link in adjacency.row(n) {
                if link.kind_bit & bounds.mask != 0 && (bounds.optional || !link.optional) {
                    visit.reach(link.node, d + 1, (n, link.edge));
                }
            }
        }
    }

    /// The edges from a reached node back to the start, in walk order reversed.
    fn path_back(&self, visit: &Visit, mut cur: u32) -> Vec<Arc<Edge>> {
        let mut path = Vec::with_capacity(visit.depth(cur) as usize);
        while visit.parent(cur) != ROOT {
            let (prev, e) = visit.parent(cur);
            path.push(self.edges[e as usize].clone());
            cur = prev;
        }
        path
    }

    /// Breadth-first impact from `start`, up to `max_depth` hops. Hits come by depth
    /// then id; each carries its path, edges shared with the graph.
    pub fn impact(
        &self,
        start: &NodeId,
        direction: Direction,
        max_depth: Option<usize>,
        filter: &EdgeFilter,
    ) -> Vec<ImpactHit> {
        let Some(&s) = self.by_id.get(start) else { return Vec::new() };
        let adjacency = match direction {
            Direction::Upstream => &self.incoming,
            Direction::Downstream => &self.outgoing,
        };
        let bounds = Bounds {
            mask: filter.mask(),
            optional: filter.include_optional,
            max_depth: max_depth.map_or(u32::MAX, |m| m.min(u32::MAX as usize) as u32),
            target: None,
        };
        self.visits.with(|visit| {
            self.walk(visit, s as u32, adjacency, &bounds);
            // BFS order is by depth already; nodes are indexed in id order.
            let mut reached: Vec<(u32, u32)> =
                visit.order[1..].iter().map(|&m| (visit.depth(m), m)).collect();
            reached.sort_unstable();
            reached
                .into_iter()
                .map(|(d, m)| {
                    let mut path = self.path_back(visit, m);
                    if direction == Direction::Downstream {
                        path.reverse();
                    }
                    let node = &self.nodes[m as usize];
                    ImpactHit {
                        id: node.id.clone(),
                        kind: node.kind,
                        name: node.name.clone(),
                        depth: d as usize,
                        path,
                    }
                })
                .collect()
        })
    }

    /// Shortest path from `from` to `to` along edges the filter follows, in their
    /// direction (dependent to dependency).
    pub fn path(&self, from: &NodeId, to: &NodeId, filter: &EdgeFilter) -> Option<PathHit> {
        let (&f, &t) = (self.by_id.get(from)?, self.by_id.get(to)?);
        let bounds = Bounds {
            mask: filter.mask(),
            optional: filter.include_optional,
            max_depth: u32::MAX,
            target: Some(t as u32),
        };
        self.visits.with(|visit| {
            self.walk(visit, f as u32, &self.outgoing, &bounds);
            if !visit.seen(t as u32) {
                return None;
            }
            let mut path = self.path_back(visit, t as u32);
            path.reverse();
            Some(PathHit { hops: path.len(), path })
        })
    }
}
