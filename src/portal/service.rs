//! Entity pages (`/services/{name}`, any node kind): what it is, who owns it and how to
//! reach them, why its aliases are one node, its dependency picture (callers and
//! dependencies to `?depth=`, default 2), which entry points break when it fails, recent
//! changes, and the runbooks, postmortems, alerts and notes about it.

use std::collections::BTreeMap;
use std::fmt::Write;

use lore_schema::{EdgeKind, NodeId, NodeKind};

use super::html::{self, badge, esc};
use super::svg::{PicEdge, PicNode};
use crate::Engine;
use crate::changes::ChangesRequest;
use crate::error::{Error, Result};
use crate::graph::{Direction, EdgeFilter, Graph, ImpactHit};
use crate::model::Node;

/// Hops drawn each way when the URL gives none.
pub(crate) const DEFAULT_DEPTH: usize = 2;
/// Most hops a picture may ask for.
const MAX_DEPTH: usize = 4;
/// Most nodes drawn; the rest are counted under the picture.
const MAX_PICTURE: usize = 80;
/// Changes listed on the timeline.
const TIMELINE: usize = 15;

/// The page of the node `name`, its picture `depth` hops each way.
pub(crate) fn page(engine: &Engine, name: &str, depth: Option<usize>) -> Result<String> {
    let graph = engine.graph(None)?;
    let node = match graph.lookup(name) {
        Ok(n) => n.clone(),
        Err(Error::NodeNotFound(_)) => return gone(engine, name),
        Err(e) => return Err(e),
    };
    if html::is_document(node.kind) && graph.has_document(&node.id) {
        return super::document::page(engine, node.id.as_str());
    }
    let depth = depth.unwrap_or(DEFAULT_DEPTH).clamp(1, MAX_DEPTH);
    let owners = engine.owners(node.id.as_str(), None)?;
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"crumbs\"><a href=\"/services\">Catalog</a> › {}</p><h1>{} {}</h1>",
        esc(node.kind.as_str()),
        badge(node.kind.as_str()),
        esc(&node.name)
    );
    if let Some(d) = node.attrs.get("description") {
        let _ = write!(body, "<p class=\"lead\">{}</p>", esc(d));
    }
    body.push_str("<div class=\"grid\">");
    body.push_str(&about(&graph, &node));
    body.push_str(&owners_card(&graph, &owners));
    body.push_str("</div>");
    body.push_str(&picture(&graph, &node, depth));
    body.push_str(&blast(&graph, &node));
    body.push_str(&timeline(engine, &graph, &node)?);
    body.push_str(&documents(engine, &graph, &node)?);
    body.push_str(&identity(engine, &node)?);
    Ok(html::page(&node.name, &body))
}

/// A node known only from history.
fn gone(engine: &Engine, name: &str) -> Result<String> {
    let show = engine.show(name, None)?;
    let mut body = format!(
        "<h1>{} {}</h1><p class=\"banner stale\" role=\"status\"><strong>Gone:</strong> no \
         source declares this node any more; what it was is shown from history.</p>",
        badge(show.node.kind.as_str()),
        esc(&show.node.name)
    );
    body.push_str("<h2>Past edges</h2><ul>");
    for e in &show.history {
        let _ = write!(
            body,
            "<li><code>{}</code> {} <code>{}</code> <span class=\"muted\">{}</span></li>",
            esc(e.from.as_str()),
            esc(e.kind.as_str()),
            esc(e.to.as_str()),
            esc(&e.evidence.first().map(|v| v.locator.clone()).unwrap_or_default())
        );
    }
    body.push_str("</ul>");
    Ok(html::page(&show.node.name, &body))
}

fn about(graph: &Graph, node: &Node) -> String {
    let names = |v: &[String]| -> String {
        v.iter().map(|n| html::link_name(graph, n)).collect::<Vec<_>>().join(", ")
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("Kind", esc(node.kind.as_str())),
        ("Team", names(&node.owners)),
        ("System", names(&node.systems)),
        ("Tier", node.attrs.get("tier").map(|t| esc(t)).unwrap_or_default()),
        ("Namespace", node.namespace.as_deref().map(esc).unwrap_or_default()),
        ("Datastore", node.datastore.map(|d| esc(d.as_str())).unwrap_or_default()),
        ("Role", node.role.map(|r| esc(r.as_str())).unwrap_or_default()),
        ("Aliases", esc(&node.aliases.join(", "))),
    ];
    if let Some(reason) = crate::context::entry_reason(graph, node) {
        rows.push(("Entry point", format!("yes: {}", esc(&reason))));
    }
    for (k, v) in &node.attrs {
        if !matches!(k.as_str(), "tier" | "description") {
            rows.push((k.as_str(), esc(v)));
        }
    }
    format!(
        "<section class=\"card\" aria-labelledby=\"about-h\"><h2 id=\"about-h\">About</h2>{}</section>",
        html::facts(&rows)
    )
}

fn owners_card(graph: &Graph, owners: &crate::context::OwnersView) -> String {
    let mut out = String::from(
        "<section class=\"card\" aria-labelledby=\"owners-h\"><h2 id=\"owners-h\">Owners and escalation</h2>",
    );
    if owners.owners.is_empty() {
        out.push_str("<p class=\"muted\">No source names an owner.</p>");
    } else {
        out.push_str("<ul>");
        for o in &owners.owners {
            let _ = write!(out, "<li class=\"team\">{}</li>", html::link_name(graph, o));
        }
        out.push_str("</ul>");
    }
    if owners.escalation.is_empty() {
        out.push_str("<p class=\"muted\">No on-call or chat annotation in the catalog.</p>");
    } else {
        out.push_str("<dl class=\"facts\">");
        for e in &owners.escalation {
            let value = if e.value.starts_with("https://") || e.value.starts_with("http://") {
                format!("<a href=\"{0}\" rel=\"noopener noreferrer\">{0}</a>", esc(&e.value))
            } else {
                esc(&e.value)
            };
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{value} <span class=\"muted\">{}</span></dd>",
                esc(&e.kind),
                esc(&e.cite.locator)
            );
        }
        out.push_str("</dl>");
    }
    out.push_str("</section>");
    out
}

/// Callers (left) and dependencies (right) to `depth` hops, as SVG, and as lists.
fn picture(graph: &Graph, node: &Node, depth: usize) -> String {
    let filter = EdgeFilter::request_path();
    let down = graph.impact(&node.id, Direction::Downstream, Some(depth), &filter);
    let up = graph.impact(&node.id, Direction::Upstream, Some(depth), &filter);
    let mut index: BTreeMap<NodeId, usize> = BTreeMap::new();
    let mut nodes: Vec<PicNode> = Vec::new();
    let mut left_out = 0;
    let mut add = |n: &Node, rank: i32, nodes: &mut Vec<PicNode>| {
        if index.contains_key(&n.id) {
            return;
        }
        if nodes.len() >= MAX_PICTURE {
            left_out += 1;
            return;
        }
        let entry = crate::context::entry_reason(graph, n).is_some();
        let mut class = format!("n-{}", n.kind.as_str());
        let mut title = format!("{} {}", n.kind.as_str(), n.name);
        if rank == 0 {
            class.push_str(" n-focus");
        }
        if matches!(n.kind, NodeKind::Datastore) {
            class.push_str(" n-datastore");
            if let Some(d) = n.datastore {
                let _ = write!(title, " ({})", d.as_str());
            }
        }
        if entry {
            class.push_str(" n-entry");
            title.push_str(", user-facing entry point");
        }
        index.insert(n.id.clone(), nodes.len());
        nodes.push(PicNode {
            label: n.name.clone(),
            href: html::href(graph, n),
            title,
            class,
            rank,
        });
    };
    add(node, 0, &mut nodes);
    let sorted = |hits: &[ImpactHit]| -> Vec<(usize, NodeId)> {
        let mut v: Vec<(usize, NodeId)> = hits.iter().map(|h| (h.depth, h.id.clone())).collect();
        v.sort();
        v
    };
    let (down_sorted, up_sorted) = (sorted(&down), sorted(&up));
    // Nearest first, alternating sides, so a cut keeps both directions.
    for d in 1..=depth {
        for (h_depth, id) in &down_sorted {
            if *h_depth == d
                && let Some(n) = graph.node(id)
            {
                add(n, d as i32, &mut nodes);
            }
        }
        for (h_depth, id) in &up_sorted {
            if *h_depth == d
                && let Some(n) = graph.node(id)
            {
                add(n, -(d as i32), &mut nodes);
            }
        }
    }
    let mut edges = Vec::new();
    for (id, &from) in &index {
        let (out, _) = graph.edges_of(id);
        for e in out.into_iter().filter(|e| e.kind.is_request_path()) {
            if let Some(&to) = index.get(&e.to) {
                edges.push(PicEdge { from, to, kind: e.kind.as_str(), optional: e.optional });
            }
        }
    }
    let mut out = format!(
        "<section class=\"card wide\" aria-labelledby=\"deps-h\"><h2 id=\"deps-h\">Dependencies</h2>\
         <form class=\"inline\" action=\"{}\" method=\"get\"><label for=\"depth\">Hops each way</label> \
         <select id=\"depth\" name=\"depth\">",
        esc(&html::href(graph, node))
    );
    for d in 1..=MAX_DEPTH {
        let sel = if d == depth { " selected" } else { "" };
        let _ = write!(out, "<option{sel}>{d}</option>");
    }
    out.push_str("</select> <button type=\"submit\">Show</button></form>");
    let caption = format!(
        "Dependency picture of {}: {} callers and {} dependencies within {depth} hops",
        node.name,
        up.len(),
        down.len()
    );
    out.push_str("<div class=\"picture\">");
    out.push_str(&super::svg::render(&nodes, &edges, &caption));
    out.push_str("</div>");
    out.push_str(
        "<p class=\"legend\"><span class=\"lg lg-calls\">calls</span> \
         <span class=\"lg lg-depends_on\">depends on</span> \
         <span class=\"lg lg-publishes\">publishes / consumes</span> \
         <span class=\"lg lg-optional\">opt-in only</span> · ◆ datastore · ▶ entry point · \
         callers on the left, dependencies on the right</p>",
    );
    if left_out > 0 {
        let _ = write!(
            out,
            "<p class=\"muted\">{left_out} more nodes are not drawn; lower the hops to see them all.</p>"
        );
    }
    out.push_str("<div class=\"two\">");
    for (label, hits) in [("Used by (upstream)", &up), ("Depends on (downstream)", &down)] {
        let _ = write!(out, "<div><h3>{label}: {}</h3><ul class=\"deplist\">", hits.len());
        for h in hits.iter() {
            let Some(n) = graph.node(&h.id) else { continue };
            let kind = h.path.first().map(|e| e.kind.as_str()).unwrap_or("");
            let _ = write!(
                out,
                "<li>{} {} <span class=\"muted\">{} hop(s) · {}</span></li>",
                badge(n.kind.as_str()),
                html::link(graph, n),
                h.depth,
                esc(kind)
            );
        }
        out.push_str("</ul></div>");
    }
    out.push_str("</div></section>");
    out
}

/// Which user-facing entry points break when this node fails.
fn blast(graph: &Graph, node: &Node) -> String {
    let items = crate::context::blast_radius(graph, node);
    let entries: Vec<_> = items.iter().filter(|i| i.entry_point).collect();
    let mut out = String::from(
        "<section class=\"card\" aria-labelledby=\"blast-h\"><h2 id=\"blast-h\">Blast radius</h2>",
    );
    let _ = write!(
        out,
        "<p>If {} fails, <strong>{} entry point(s)</strong> break, of {} upstream node(s).</p><ul>",
        esc(&node.name),
        entries.len(),
        items.len()
    );
    for i in entries {
        let id: Option<NodeId> = i.id.parse().ok();
        let name = id.map(|id| html::link_id(graph, &id)).unwrap_or_else(|| esc(&i.name));
        let _ = write!(
            out,
            "<li>{name} <span class=\"muted\">{} · {}</span></li>",
            esc(i.entry_reason.as_deref().unwrap_or("")),
            esc(&i.path)
        );
    }
    out.push_str("</ul></section>");
    out
}

/// The latest changes on the node and what it calls directly, newest first.
fn timeline(engine: &Engine, graph: &Graph, node: &Node) -> Result<String> {
    let req = ChangesRequest {
        node: node.id.to_string(),
        depth: Some(1),
        since: Some(0),
        until: None,
        at: None,
    };
    let mut hits = engine.changes(&req)?.results;
    hits.sort_by(|a, b| b.unix_ts.cmp(&a.unix_ts).then(a.id.cmp(&b.id)));
    let mut out = String::from(
        "<section class=\"card wide\" aria-labelledby=\"changes-h\" id=\"changes\"><h2 id=\"changes-h\">Recent changes</h2>",
    );
    if hits.is_empty() {
        out.push_str("<p class=\"muted\">No change events on it or on what it calls.</p>");
    }
    out.push_str("<ol class=\"timeline changes\">");
    for c in hits.iter().take(TIMELINE) {
        let mut line = format!(
            "<li id=\"change-{id}\"><time datetime=\"{ts}\">{ts}</time> {kind} {on}",
            id = esc(&c.id),
            ts = esc(&c.ts),
            kind = badge(&c.kind),
            on = html::link_id(graph, &c.node),
        );
        if c.hops > 0 {
            let _ = write!(line, " <span class=\"muted\">({} hop(s) away)</span>", c.hops);
        }
        if let Some(v) = &c.version {
            let _ = write!(line, " <code>{}</code>", esc(v));
        }
        let _ = write!(line, " — {}", esc(&c.description));
        if let Some(a) = &c.author {
            let _ = write!(line, " <span class=\"muted\">by {}</span>", esc(a));
        }
        let _ = write!(
            line,
            " <span class=\"evidence\"><code>{}</code> {}</span>",
            esc(&c.id),
            esc(&c.evidence.locator)
        );
        if let Some(u) =
            c.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        {
            let _ = write!(line, " <a href=\"{}\" rel=\"noopener noreferrer\">link</a>", esc(u));
        }
        line.push_str("</li>");
        out.push_str(&line);
    }
    out.push_str("</ol></section>");
    Ok(out)
}

/// Runbooks, postmortems, alerts and notes about the node.
fn documents(engine: &Engine, graph: &Graph, node: &Node) -> Result<String> {
    let (out_edges, in_edges) = graph.edges_of(&node.id);
    let mut groups: BTreeMap<&str, Vec<(u16, &Node)>> = BTreeMap::new();
    for e in &in_edges {
        let Some(n) = graph.node(&e.from) else { continue };
        let group = match (n.kind, e.kind) {
            (NodeKind::Runbook, _) => "Runbooks",
            (NodeKind::Postmortem, _) => "Postmortems",
            (NodeKind::Alert, _) => "Alerts",
            (NodeKind::Note, EdgeKind::Mentions) => "Mentioned in",
            _ => continue,
        };
        groups.entry(group).or_default().push((e.confidence, n));
    }
    // An alert's own page lists the services it fires for.
    for e in out_edges.iter().filter(|e| e.kind == EdgeKind::FiresFor) {
        if let Some(n) = graph.node(&e.to) {
            groups.entry("Fires for").or_default().push((e.confidence, n));
        }
    }
    let mut out = String::from("<div class=\"grid\">");
    for title in ["Runbooks", "Postmortems", "Alerts", "Fires for", "Mentioned in"] {
        let Some(list) = groups.get_mut(title) else { continue };
        list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
        list.dedup_by(|a, b| a.1.id == b.1.id);
        let _ = write!(out, "<section class=\"card\"><h2>{title}</h2><ul>");
        for (conf, n) in list.iter() {
            let label = graph.document(&n.id).map_or(n.name.as_str(), |d| d.title.as_str());
            let how = if *conf >= 1000 {
                String::new()
            } else {
                format!(" <span class=\"muted\">named in text ({}%)</span>", conf / 10)
            };
            let _ = write!(
                out,
                "<li><a href=\"{}\">{}</a>{how}</li>",
                esc(&html::href(graph, n)),
                esc(label)
            );
        }
        out.push_str("</ul></section>");
    }
    let notes = engine.notes_about(std::slice::from_ref(&node.id), crate::time::now())?;
    out.push_str("<section class=\"card\"><h2>Notes</h2>");
    if notes.is_empty() {
        out.push_str("<p class=\"muted\">No notes. Add one with <code>lore note add</code>.</p>");
    } else {
        out.push_str("<ul class=\"notes\">");
        for n in &notes {
            let _ = write!(
                out,
                "<li><blockquote>{}</blockquote><span class=\"muted\">{} · {}{}</span></li>",
                esc(&n.text),
                esc(n.author.as_deref().unwrap_or("anonymous")),
                esc(&n.created),
                n.expires.as_deref().map(|e| format!(" · expires {}", esc(e))).unwrap_or_default()
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section></div>");
    Ok(out)
}

/// The declarations merged into the node and the rule that merged each.
fn identity(engine: &Engine, node: &Node) -> Result<String> {
    let show = engine.show(node.id.as_str(), None)?;
    let mut out = format!(
        "<section class=\"card wide\" aria-labelledby=\"id-h\"><h2 id=\"id-h\">Identity</h2>\
         <p>{} declaration(s) are this one node.</p><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">Name</th><th scope=\"col\">Declared as</th><th scope=\"col\">Where</th>\
         <th scope=\"col\">Why merged</th></tr></thead><tbody>",
        show.identity.len()
    );
    for m in &show.identity {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&m.name),
            esc(&m.declared_as),
            esc(&m.locator),
            esc(&m.rule)
        );
    }
    out.push_str("</tbody></table></div></section>");
    Ok(out)
}
