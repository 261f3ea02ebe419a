//! The dependency picture as SVG, drawn server-side so it needs no script: boxes placed by
//! `layout.rs`, each a link to its page; edges as curves styled by kind (classes from
//! `assets/style.css`); datastores, entry points and the focus told apart by shape and
//! class, not by colour alone (a marker glyph and a legend go with them).

use std::fmt::Write;

use super::html::esc;
use super::layout::{Place, layout};

const BOX_W: usize = 176;
const BOX_H: usize = 28;
const COL_GAP: usize = 72;
const ROW_GAP: usize = 12;
const PAD: usize = 8;
/// Characters of a label drawn in a box (the full name is in its tooltip).
const LABEL_CHARS: usize = 22;

/// A node of the picture.
#[derive(Debug, Clone)]
pub(crate) struct PicNode {
    /// Name drawn in the box.
    pub(crate) label: String,
    /// Its page.
    pub(crate) href: String,
    /// Tooltip and accessible name (`service payment, entry point`).
    pub(crate) title: String,
    /// CSS classes: `n-focus`, `n-datastore`, `n-entry`, `n-<kind>`.
    pub(crate) class: String,
    /// Hops from the focus: negative for callers, positive for dependencies.
    pub(crate) rank: i32,
}

/// An edge of the picture, between node indices, in call direction.
#[derive(Debug, Clone)]
pub(crate) struct PicEdge {
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// Edge kind, as a CSS class `e-<kind>`.
    pub(crate) kind: &'static str,
    /// Declared only by an opt-in layer: dashed.
    pub(crate) optional: bool,
}

/// The picture, titled `caption`.
pub(crate) fn render(nodes: &[PicNode], edges: &[PicEdge], caption: &str) -> String {
    let ranks: Vec<i32> = nodes.iter().map(|n| n.rank).collect();
    let pairs: Vec<(usize, usize)> = edges.iter().map(|e| (e.from, e.to)).collect();
    let places = layout(&ranks, &pairs);
    let columns = places.iter().map(|p| p.column + 1).max().unwrap_or(1);
    let mut per_column = vec![0usize; columns];
    for p in &places {
        per_column[p.column] = per_column[p.column].max(p.row + 1);
    }
    let tallest = per_column.iter().copied().max().unwrap_or(1);
    let width = PAD * 2 + columns * BOX_W + (columns - 1) * COL_GAP;
    let height = PAD * 2 + tallest * BOX_H + tallest.saturating_sub(1) * ROW_GAP;
    // Each column is centred vertically.
    let xy = |p: &Place| -> (usize, usize) {
        let used = per_column[p.column] * (BOX_H + ROW_GAP);
        let offset = (tallest * (BOX_H + ROW_GAP)).saturating_sub(used) / 2;
        (PAD + p.column * (BOX_W + COL_GAP), PAD + offset + p.row * (BOX_H + ROW_GAP))
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"deps\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" aria-labelledby=\"deps-title\">\
         <title id=\"deps-title\">{}</title>\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0L10,5L0,10z\" class=\"arrowhead\"/></marker></defs><g class=\"edges\">",
        esc(caption)
    );
    for e in edges {
        let (Some(a), Some(b)) = (places.get(e.from), places.get(e.to)) else { continue };
        let ((ax, ay), (bx, by)) = (xy(a), xy(b));
        let (x1, y1) = (ax + BOX_W, ay + BOX_H / 2);
        let (x2, y2) = (bx, by + BOX_H / 2);
        let bend = (COL_GAP / 2 + x1.abs_diff(x2) / 4) as i64;
        let (c1, c2) = (x1 as i64 + bend, x2 as i64 - bend);
        let dashed = if e.optional { " e-optional" } else { "" };
        let _ = write!(
            out,
            "<path class=\"edge e-{}{dashed}\" d=\"M{x1},{y1} C{c1},{y1} {c2},{y2} {x2},{y2}\" \
             marker-end=\"url(#arrow)\"><title>{}</title></path>",
            e.kind,
            esc(&format!("{} {} {}", nodes[e.from].label, e.kind, nodes[e.to].label))
        );
    }
    out.push_str("</g><g class=\"nodes\">");
    for (n, p) in nodes.iter().zip(&places) {
        let (x, y) = xy(p);
        let label: String = if n.label.chars().count() > LABEL_CHARS {
            n.label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            n.label.clone()
        };
        let glyph = if n.class.contains("n-datastore") {
            "◆ "
        } else if n.class.contains("n-entry") {
            "▶ "
        } else {
            ""
        };
        let rx = if n.class.contains("n-datastore") { 12 } else { 4 };
        let _ = write!(
            out,
            "<a href=\"{href}\" class=\"node {class}\" aria-label=\"{title}\"><title>{title}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"{rx}\"/>\
             <text x=\"{tx}\" y=\"{ty}\">{glyph}{label}</text></a>",
            href = esc(&n.href),
            class = esc(&n.class),
            title = esc(&n.title),
            tx = x + 8,
            ty = y + BOX_H / 2 + 5,
            label = esc(&label),
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_linked_boxes_and_escapes_names() {
        let node = |label: &str, rank| PicNode {
            label: label.into(),
            href: format!("/services/{label}"),
            title: label.into(),
            class: "n-service".into(),
            rank,
        };
        let nodes = [node("frontend", -1), node("<checkout>", 0), node("orders-db", 1)];
        let edges = [
            PicEdge { from: 0, to: 1, kind: "calls", optional: false },
            PicEdge { from: 1, to: 2, kind: "depends_on", optional: true },
        ];
        let svg = render(&nodes, &edges, "deps");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert_eq!(svg.matches("class=\"edge ").count(), 2);
        assert!(svg.contains("&lt;checkout&gt;") && !svg.contains("<checkout>"), "{svg}");
        assert!(svg.contains("e-depends_on e-optional"), "{svg}");
    }
}
