//! A layered (Sugiyama-style) layout for the dependency picture: nodes are ranked by
//! their hop distance from the focus (callers left, dependencies right), then ordered
//! within each rank by the barycenter of their neighbours in the rank before, sweeping
//! right and left a few times and keeping the order with the fewest crossings.
//!
//! Small and exact enough for pictures of up to a few hundred nodes; no crate needed.

use std::collections::BTreeMap;

/// Sweeps (one right, one left each).
const SWEEPS: usize = 6;

/// Where a node goes: its column (rank, lowest first, from 0) and its row in that column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) column: usize,
    pub(crate) row: usize,
}

/// Places nodes of the given ranks, with `edges` between node indices, ordering each
/// rank to cut crossings. Nodes of one rank start in input order.
pub(crate) fn layout(ranks: &[i32], edges: &[(usize, usize)]) -> Vec<Place> {
    let columns: BTreeMap<i32, Vec<usize>> =
        ranks.iter().enumerate().fold(BTreeMap::new(), |mut m, (i, &r)| {
            m.entry(r).or_default().push(i);
            m
        });
    let mut layers: Vec<Vec<usize>> = columns.into_values().collect();
    let mut column_of = vec![0; ranks.len()];
    for (c, layer) in layers.iter().enumerate() {
        for &n in layer {
            column_of[n] = c;
        }
    }
    // Neighbours of each node, either direction: a picture edge may point either way.
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); ranks.len()];
    for &(a, b) in edges {
        if a != b && a < ranks.len() && b < ranks.len() {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
    }
    let mut best = layers.clone();
    let mut best_crossings = crossings(&layers, &column_of, edges);
    for sweep in 0..SWEEPS * 2 {
        let forward = sweep % 2 == 0;
        let order: Vec<usize> = if forward {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for c in order {
            let fixed = if forward { c - 1 } else { c + 1 };
            let pos: BTreeMap<usize, usize> =
                layers[fixed].iter().enumerate().map(|(p, &n)| (n, p)).collect();
            let mut keyed: Vec<(f64, usize, usize)> = layers[c]
                .iter()
                .enumerate()
                .map(|(p, &n)| {
                    let near: Vec<usize> =
                        neighbours[n].iter().filter_map(|m| pos.get(m).copied()).collect();
                    let key = if near.is_empty() {
                        p as f64
                    } else {
                        near.iter().sum::<usize>() as f64 / near.len() as f64
                    };
                    (key, p, n)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[c] = keyed.into_iter().map(|(_, _, n)| n).collect();
        }
        let n = crossings(&layers, &column_of, edges);
        if n < best_crossings {
            best_crossings = n;
            best = layers.clone();
        }
    }
    let mut places = vec![Place { column: 0, row: 0 }; ranks.len()];
    for (c, layer) in best.iter().enumerate() {
        for (r, &n) in layer.iter().enumerate() {
            places[n] = Place { column: c, row: r };
        }
    }
    places
}

/// Crossings between edges of adjacent columns.
fn crossings(layers: &[Vec<usize>], column_of: &[usize], edges: &[(usize, usize)]) -> usize {
    let mut row = vec![0; column_of.len()];
    for layer in layers {
        for (r, &n) in layer.iter().enumerate() {
            row[n] = r;
        }
    }
    // Each edge between adjacent columns as (left row, right row), grouped by column.
    let mut spans: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for &(a, b) in edges {
        let (ca, cb) = (column_of[a], column_of[b]);
        if ca + 1 == cb {
            spans.entry(ca).or_default().push((row[a], row[b]));
        } else if cb + 1 == ca {
            spans.entry(cb).or_default().push((row[b], row[a]));
        }
    }
    let mut n = 0;
    for list in spans.values() {
        for (i, &(a1, b1)) in list.iter().enumerate() {
            for &(a2, b2) in &list[i + 1..] {
                if (a1 < a2 && b1 > b2) || (a1 > a2 && b1 < b2) {
                    n += 1;
                }
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_become_columns_and_crossings_are_removed() {
        // Column 0: a b; column 1: c d, with a-d and b-c: crossed in input order.
        let ranks = [0, 0, 1, 1];
        let edges = [(0, 3), (1, 2)];
        let column_of = [0, 0, 1, 1];
        assert_eq!(crossings(&[vec![0, 1], vec![2, 3]], &column_of, &edges), 1);
        let places = layout(&ranks, &edges);
        assert_eq!(places[0].column, 0);
        assert_eq!(places[3].column, 1);
        let rows: Vec<Vec<usize>> = vec![
            {
                let mut l = vec![0, 1];
                l.sort_by_key(|&n| places[n].row);
                l
            },
            {
                let mut l = vec![2, 3];
                l.sort_by_key(|&n| places[n].row);
                l
            },
        ];
        assert_eq!(crossings(&rows, &column_of, &edges), 0);
        // Negative ranks (callers) come first.
        let places = layout(&[-1, 0, 2], &[(0, 1), (1, 2)]);
        assert_eq!(places.iter().map(|p| p.column).collect::<Vec<_>>(), vec![0, 1, 2]);
    }
}
