//! Bounded traversals: impact (transitive callers or dependencies) and paths.

use std::collections::{BTreeSet, VecDeque};

use lore_schema::{EdgeKind, NodeId, NodeKind};
use petgraph::Direction as PgDirection;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

use super::Graph;
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

/// Which edges a traversal follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeFilter {
    /// Kinds followed.
    pub kinds: BTreeSet<EdgeKind>,
    /// Whether edges declared only by opt-in layers are followed.
    pub include_optional: bool,
}

impl EdgeFilter {
    /// Request-path edges only: what impact follows by default.
    pub fn request_path() -> EdgeFilter {
        EdgeFilter {
            kinds: EdgeKind::ALL.iter().copied().filter(|k| k.is_request_path()).collect(),
            include_optional: false,
        }
    }

    /// Request path plus plumbing (telemetry, discovery, feature flags).
    pub fn with_plumbing(mut self) -> EdgeFilter {
        self.kinds.extend(EdgeKind::ALL.iter().copied().filter(|k| k.is_plumbing()));
        self
    }

    fn follows(&self, edge: &Edge) -> bool {
        self.kinds.contains(&edge.kind) && (self.include_optional || !edge.optional)
    }
}

/// One node reached by an impact query.
#[derive(Debug, Clone, Serialize)]
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
    pub path: Vec<Edge>,
}

/// A path between two nodes.
#[derive(Debug, Clone, Serialize)]
pub struct PathHit {
    /// Hops.
    pub hops: usize,
    /// Edges in order, from the first node to the last.
    pub path: Vec<Edge>,
}

impl Graph {
    /// Breadth-first impact from `start`, up to `max_depth` hops.
    pub fn impact(
        &self,
        start: &NodeId,
        direction: Direction,
        max_depth: Option<usize>,
        filter: &EdgeFilter,
    ) -> Vec<ImpactHit> {
        let Some(&s) = self.by_id.get(start) else { return Vec::new() };
        let pg_dir = match direction {
            Direction::Upstream => PgDirection::Incoming,
            Direction::Downstream => PgDirection::Outgoing,
        };
        // parent[node] = (previous node, edge index), for path reconstruction.
        let mut parent: Vec<Option<(usize, usize)>> = vec![None; self.nodes.len()];
        let mut depth = vec![usize::MAX; self.nodes.len()];
        depth[s] = 0;
        let mut queue = VecDeque::from([s]);
        let mut order = Vec::new();
        while let Some(n) = queue.pop_front() {
            if max_depth.is_some_and(|m| depth[n] >= m) {
                continue;
            }
            let mut next: Vec<(usize, usize)> = self
                .graph
                .edges_directed(self.index[n], pg_dir)
                .filter(|e| filter.follows(&self.edges[*e.weight()]))
                .map(|e| {
                    let other = match pg_dir {
                        PgDirection::Incoming => e.source(),
                        PgDirection::Outgoing => e.target(),
                    };
                    (self.graph[other], *e.weight())
                })
                .collect();
            next.sort_unstable();
            for (m, e_idx) in next {
                if depth[m] == usize::MAX {
                    depth[m] = depth[n] + 1;
                    parent[m] = Some((n, e_idx));
                    order.push(m);
                    queue.push_back(m);
                }
            }
        }
        let mut hits: Vec<ImpactHit> = order
            .into_iter()
            .map(|m| {
                let mut path = Vec::new();
                let mut cur = m;
                while let Some((prev, e_idx)) = parent[cur] {
                    path.push(self.edges[e_idx].clone());
                    cur = prev;
                }
                if direction == Direction::Downstream {
                    path.reverse();
                }
                let node = &self.nodes[m];
                ImpactHit {
                    id: node.id.clone(),
                    kind: node.kind,
                    name: node.name.clone(),
                    depth: depth[m],
                    path,
                }
            })
            .collect();
        hits.sort_by(|a, b| (a.depth, &a.id).cmp(&(b.depth, &b.id)));
        hits
    }

    /// Shortest path from `from` to `to` along edges the filter follows, in their
    /// direction (dependent to dependency).
    pub fn path(&self, from: &NodeId, to: &NodeId, filter: &EdgeFilter) -> Option<PathHit> {
        let (&f, &t) = (self.by_id.get(from)?, self.by_id.get(to)?);
        let mut parent: Vec<Option<(usize, usize)>> = vec![None; self.nodes.len()];
        let mut seen = vec![false; self.nodes.len()];
        seen[f] = true;
        let mut queue = VecDeque::from([f]);
        while let Some(n) = queue.pop_front() {
            if n == t {
                break;
            }
            let mut next: Vec<(usize, usize)> = self
                .graph
                .edges_directed(self.index[n], PgDirection::Outgoing)
                .filter(|e| filter.follows(&self.edges[*e.weight()]))
                .map(|e| (self.graph[e.target()], *e.weight()))
                .collect();
            next.sort_unstable();
            for (m, e_idx) in next {
                if !seen[m] {
                    seen[m] = true;
                    parent[m] = Some((n, e_idx));
                    queue.push_back(m);
                }
            }
        }
        if !seen[t] {
            return None;
        }
        let mut path = Vec::new();
        let mut cur = t;
        while let Some((prev, e_idx)) = parent[cur] {
            path.push(self.edges[e_idx].clone());
            cur = prev;
        }
        path.reverse();
        Some(PathHit { hops: path.len(), path })
    }
}
