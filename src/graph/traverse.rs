//! Bounded traversals: impact (transitive callers or dependencies) and paths.

use std::collections::BTreeSet;
use std::sync::Arc;

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::{Deserialize, Serialize};

use super::Graph;
use super::adjacency::{Adjacency, OBSERVED_SHIFT, ROOT, Rows, Step, Visit, kind_bit};
use super::hits::{ImpactHits, Reached, hit_ref};
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

    /// [`EdgeFilter::request_path`], built once: for the walks that take the default.
    pub fn request_path_ref() -> &'static EdgeFilter {
        static DEFAULT: std::sync::LazyLock<EdgeFilter> =
            std::sync::LazyLock::new(EdgeFilter::request_path);
        &DEFAULT
    }

    /// Request path plus plumbing (telemetry, discovery, feature flags).
    pub fn with_plumbing(mut self) -> EdgeFilter {
        self.kinds.extend(EdgeKind::ALL.iter().copied().filter(|k| k.is_plumbing()));
        self
    }

    /// The kinds followed as a bit mask over [`kind_bit`].
    pub(super) fn mask(&self) -> u64 {
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

/// The rows a walk reads: every link, checked against the filter, or rows kept for it.
enum Follow<'g> {
    Checked { links: &'g Adjacency, mask: u64, optional: bool },
    Kept(&'g Rows<Step>),
}

/// Breadth-first walk from `start`, level by level, expanding nodes up to `max_depth`
/// hops away and stopping once `target` is reached: `visit.order` holds the nodes in the
/// order they were reached, `visit.levels` where each depth begins.
fn bfs(
    visit: &mut Visit,
    start: u32,
    max_depth: u32,
    target: Option<u32>,
    mut expand: impl FnMut(u32, &mut Visit),
) {
    visit.reach(start, ROOT, ROOT);
    visit.levels.extend([0, 1]);
    let mut depth = 0;
    'levels: while depth < max_depth {
        let (a, b) = (visit.levels[depth as usize], visit.levels[depth as usize + 1]);
        if a == b {
            break;
        }
        for i in a..b {
            expand(visit.order[i as usize], visit);
            if target.is_some_and(|t| visit.seen(t)) {
                break 'levels;
            }
        }
        visit.levels.push(visit.order.len() as u32);
        depth += 1;
    }
}

impl Graph {
    /// The rows a walk in `direction` with `filter` reads.
    fn follow(&self, direction: Direction, filter: &EdgeFilter) -> Follow<'_> {
        let mask = filter.mask();
        if mask == self.kept_mask && !filter.include_optional {
            return Follow::Kept(match direction {
                Direction::Upstream => &self.kept_in,
                Direction::Downstream => &self.kept_out,
            });
        }
        let links = match direction {
            Direction::Upstream => &self.incoming,
            Direction::Downstream => &self.outgoing,
        };
        Follow::Checked { links, mask, optional: filter.include_optional }
    }

    fn walk(
        &self,
        visit: &mut Visit,
        start: u32,
        follow: &Follow<'_>,
        max_depth: u32,
        target: Option<u32>,
    ) {
        match *follow {
            Follow::Checked { links, mask, optional } => {
                bfs(visit, start, max_depth, target, |n, visit| {
                    for l in links.row(n) {
                        if l.follows(mask, optional) {
                            visit.reach(l.node, n, l.edge);
                        }
                    }
                })
            }
            Follow::Kept(rows) => bfs(visit, start, max_depth, target, |n, visit| {
                for s in rows.row(n) {
                    visit.reach(s.node, n, s.edge);
                }
            }),
        }
    }

    /// The nodes of an impact walk, by depth then id (nodes are indexed in id order),
    /// each with the position of the hit it was reached from.
    fn impact_walk(
        &self,
        start: &NodeId,
        direction: Direction,
        max_depth: Option<usize>,
        filter: &EdgeFilter,
    ) -> Vec<Reached> {
        let Some(&s) = self.by_id.get(start) else { return Vec::new() };
        let follow = self.follow(direction, filter);
        let max_depth = max_depth.map_or(u32::MAX, |m| m.min(u32::MAX as usize) as u32);
        self.visits.with(|visit| {
            self.walk(visit, s as u32, &follow, max_depth, None);
            let mut out = Vec::with_capacity(visit.order.len() - 1);
            for d in 1..visit.levels.len() - 1 {
                let (a, b) = (visit.levels[d] as usize, visit.levels[d + 1] as usize);
                visit.sort_range(a, b);
                for i in a..b {
                    let n = visit.order[i];
                    let (p, edge) = visit.parent(n);
                    // The start's position is ROOT: hits of depth 1 come from it.
                    let parent = visit.pos(p);
                    visit.set_pos(n, out.len() as u32);
                    out.push(Reached { node: n, depth: d as u32, parent, edge });
                }
            }
            out
        })
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
        let reached = self.impact_walk(start, direction, max_depth, filter);
        (0..reached.len()).map(|i| hit_ref(self, direction, &reached, i).to_hit()).collect()
    }

    /// [`Graph::impact`] as a compact answer: ids, names and paths are read from the
    /// graph when asked, so the answer costs 16 bytes per node reached.
    pub fn impact_hits(
        self: &Arc<Self>,
        start: &NodeId,
        direction: Direction,
        max_depth: Option<usize>,
        filter: &EdgeFilter,
    ) -> ImpactHits {
        let reached = self.impact_walk(start, direction, max_depth, filter);
        ImpactHits::walked(self.clone(), direction, reached)
    }

    /// Shortest path from `from` to `to` along edges the filter follows, in their
    /// direction (dependent to dependency).
    pub fn path(&self, from: &NodeId, to: &NodeId, filter: &EdgeFilter) -> Option<PathHit> {
        let (&f, &t) = (self.by_id.get(from)?, self.by_id.get(to)?);
        let follow = self.follow(Direction::Downstream, filter);
        self.visits.with(|visit| {
            self.walk(visit, f as u32, &follow, u32::MAX, Some(t as u32));
            if !visit.seen(t as u32) {
                return None;
            }
            let mut path = Vec::new();
            let mut cur = t as u32;
            while visit.parent(cur).0 != ROOT {
                let (prev, e) = visit.parent(cur);
                path.extend(self.edge(e as usize).cloned());
                cur = prev;
            }
            path.reverse();
            Some(PathHit { hops: path.len(), path })
        })
    }
}
