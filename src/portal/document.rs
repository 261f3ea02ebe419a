//! Document pages (`/docs/{id}`): a runbook, postmortem or note rendered from its
//! sections (Markdown, sanitised), with a table of contents, its front matter, the
//! services, datastores and alerts it names as links, a postmortem's structure, and a
//! staleness banner when a runbook names things that no longer exist.

use std::fmt::Write;

use lore_schema::{Document, DocumentKind, EdgeKind, NodeKind};

use super::html::{self, badge, esc};
use super::markdown;
use crate::Engine;
use crate::changes::ChangesRequest;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::model::Node;
use crate::resolve::{ALERT_KEYS, SERVICE_KEYS};

/// The page of the document `id` (a node id, name or alias of a document node).
pub(crate) fn page(engine: &Engine, id: &str) -> Result<String> {
    let graph = engine.graph(None)?;
    let history = engine.history_graph()?;
    let (node, doc, current) = match graph.lookup(id) {
        Ok(n) => (n.clone(), graph.document(&n.id), true),
        Err(Error::NodeNotFound(_)) => {
            let n = history.lookup(id)?;
            (n.clone(), history.document(&n.id), false)
        }
        Err(e) => return Err(e),
    };
    let Some(doc) = doc else {
        return Err(Error::NodeNotFound(format!("{id} (not a document; see /services/{id})")));
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"crumbs\"><a href=\"/search\">Search</a> › {}</p><h1>{} {}</h1>",
        esc(kind_name(doc.kind)),
        badge(kind_name(doc.kind)),
        esc(&doc.title)
    );
    if !current {
        body.push_str(
            "<p class=\"banner stale\" role=\"status\"><strong>Removed:</strong> this document \
             is no longer in its source; shown from history.</p>",
        );
    }
    if doc.kind != DocumentKind::Postmortem {
        body.push_str(&staleness(&graph, &history, &node, doc));
    }
    body.push_str("<div class=\"doc\"><aside class=\"side\">");
    body.push_str(&toc(doc));
    body.push_str(&facts(&graph, doc));
    body.push_str(&names(&graph, &node));
    body.push_str("</aside><article class=\"prose\">");
    if let Some(pm) = &doc.postmortem {
        body.push_str(&postmortem(engine, &graph, doc, pm));
    }
    for (i, s) in doc.sections.iter().enumerate() {
        let depth = s.heading_path.len().clamp(1, 5);
        let heading = s.heading_path.last().map(String::as_str).unwrap_or("");
        let _ = write!(body, "<section id=\"s-{i}\" aria-labelledby=\"h-{i}\">");
        if depth == 1 && heading == doc.title {
            let _ = write!(body, "<span id=\"h-{i}\" hidden>{}</span>", esc(heading));
        } else {
            let level = depth.max(2);
            let _ = write!(body, "<h{level} id=\"h-{i}\">{}</h{level}>", esc(heading));
        }
        body.push_str(&markdown::render(&s.text));
        body.push_str("</section>");
    }
    body.push_str("</article></div>");
    Ok(html::page(&doc.title, &body))
}

fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Runbook => "runbook",
        DocumentKind::Postmortem => "postmortem",
        DocumentKind::Other => "document",
        DocumentKind::Note => "note",
    }
}

/// Names in the front matter, and links the document once had, that no longer resolve.
fn staleness(graph: &Graph, history: &Graph, node: &Node, doc: &Document) -> String {
    let mut gone: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (k, v) in &doc.front_matter {
        let k = k.to_ascii_lowercase();
        if !SERVICE_KEYS.contains(&k.as_str()) && !ALERT_KEYS.contains(&k.as_str()) {
            continue;
        }
        for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if graph.lookup(name).is_ok() {
                continue;
            }
            match history.lookup(name) {
                Ok(n) => gone.push(format!("{} {}", n.kind.as_str(), n.name)),
                Err(_) => unknown.push(name.to_string()),
            }
        }
    }
    // Links found in the text (or front matter) when the named node still existed.
    let (out, _) = history.edges_of(&node.id);
    for e in out {
        if matches!(e.kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions)
            && graph.node(&e.to).is_none()
            && let Some(n) = history.node(&e.to)
            && matches!(n.kind, NodeKind::Service | NodeKind::Datastore | NodeKind::Alert)
        {
            gone.push(format!("{} {}", n.kind.as_str(), n.name));
        }
    }
    gone.sort();
    gone.dedup();
    unknown.retain(|u| !gone.iter().any(|g| g.ends_with(&format!(" {u}"))));
    if gone.is_empty() && unknown.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<div class=\"banner stale\" role=\"status\" id=\"stale\"><strong>Possibly stale:</strong> \
         this document names ",
    );
    let mut parts = Vec::new();
    if !gone.is_empty() {
        let list: Vec<String> = gone.iter().map(|g| format!("<code>{}</code>", esc(g))).collect();
        parts.push(format!("{} that no longer exist (found only in history)", list.join(", ")));
    }
    if !unknown.is_empty() {
        let list: Vec<String> =
            unknown.iter().map(|g| format!("<code>{}</code>", esc(g))).collect();
        parts.push(format!("{} that match nothing in the graph", list.join(", ")));
    }
    let _ = write!(out, "{}. Check its steps before following them.</div>", parts.join("; and "));
    out
}

fn toc(doc: &Document) -> String {
    let mut out = String::from("<nav class=\"toc\" aria-label=\"Contents\"><h2>Contents</h2><ol>");
    for (i, s) in doc.sections.iter().enumerate() {
        let Some(h) = s.heading_path.last() else { continue };
        if s.heading_path.len() == 1 && *h == doc.title {
            continue;
        }
        let depth = s.heading_path.len().saturating_sub(2).min(3);
        let _ = write!(out, "<li class=\"d{depth}\"><a href=\"#s-{i}\">{}</a></li>", esc(h));
    }
    out.push_str("</ol></nav>");
    out
}

fn facts(graph: &Graph, doc: &Document) -> String {
    let mut rows: Vec<(&str, String)> =
        vec![("Source", format!("<code>{}</code>", esc(&doc.path)))];
    for (k, v) in &doc.front_matter {
        if k == "title" {
            continue;
        }
        let key = k.to_ascii_lowercase();
        let names = SERVICE_KEYS.contains(&key.as_str())
            || ALERT_KEYS.contains(&key.as_str())
            || matches!(key.as_str(), "owner" | "team" | "culprit" | "node");
        let value = if names {
            v.split(',').map(|n| html::link_name(graph, n.trim())).collect::<Vec<_>>().join(", ")
        } else {
            esc(v)
        };
        rows.push((k.as_str(), value));
    }
    format!(
        "<section class=\"card\" aria-label=\"Facts\"><h2>Facts</h2>{}</section>",
        html::facts(&rows)
    )
}

/// The nodes the document names (its links in the graph), strongest first.
fn names(graph: &Graph, node: &Node) -> String {
    let (out, _) = graph.edges_of(&node.id);
    let mut links: Vec<(u16, &Node, EdgeKind)> = out
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EdgeKind::Documents | EdgeKind::About | EdgeKind::Mentions | EdgeKind::Annotates
            )
        })
        .filter_map(|e| graph.node(&e.to).map(|n| (e.confidence, n, e.kind)))
        .collect();
    links.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    links.dedup_by(|a, b| a.1.id == b.1.id);
    if links.is_empty() {
        return String::new();
    }
    let mut html_out = String::from(
        "<section class=\"card\" aria-label=\"Names\"><h2>Names</h2><ul class=\"names\">",
    );
    for (conf, n, kind) in links {
        let how =
            if conf >= 1000 { "declared".to_string() } else { format!("{}% (text)", conf / 10) };
        let _ = write!(
            html_out,
            "<li>{} {} <span class=\"muted\">{} · {}</span></li>",
            badge(n.kind.as_str()),
            html::link(graph, n),
            kind.as_str(),
            esc(&how)
        );
    }
    html_out.push_str("</ul></section>");
    html_out
}

/// A postmortem's structure: what the document states, each part linked where it can be.
fn postmortem(
    engine: &Engine,
    graph: &Graph,
    doc: &Document,
    pm: &lore_schema::Postmortem,
) -> String {
    let mut out = String::from(
        "<section class=\"card pm\" aria-labelledby=\"pm-h\"><h2 id=\"pm-h\">Incident</h2>",
    );
    let mut rows: Vec<(&str, String)> = Vec::new();
    for (label, v) in [
        ("Summary", &pm.summary),
        ("Impact", &pm.impact),
        ("Root cause", &pm.root_cause),
        ("Trigger", &pm.trigger),
        ("Detection", &pm.detection),
        ("Resolution", &pm.resolution),
    ] {
        if let Some(v) = v {
            rows.push((label, markdown::render(v)));
        }
    }
    if let Some(change) = doc.front_matter.get("change") {
        rows.push(("Change", change_links(engine, graph, doc, change)));
    }
    out.push_str(&html::facts(&rows));
    if !pm.timeline.is_empty() {
        out.push_str("<h3>Timeline</h3><ol class=\"timeline\">");
        for t in &pm.timeline {
            let _ = write!(out, "<li><time>{}</time> {}</li>", esc(&t.when), esc(&t.text));
        }
        out.push_str("</ol>");
    }
    if !pm.action_items.is_empty() {
        out.push_str("<h3>Action items</h3><ul class=\"actions\">");
        for a in &pm.action_items {
            let _ = write!(out, "<li>{}</li>", esc(a));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    out
}

/// Each change id the postmortem names, linked to the change on its service's timeline
/// (and to the change's own URL when the event has one).
fn change_links(engine: &Engine, graph: &Graph, doc: &Document, ids: &str) -> String {
    let service = ["culprit", "service", "services", "affected"]
        .iter()
        .filter_map(|k| doc.front_matter.get(*k))
        .flat_map(|v| v.split(','))
        .find_map(|n| graph.lookup(n.trim()).ok());
    let mut parts = Vec::new();
    for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let hit = service.and_then(|s| {
            let req = ChangesRequest {
                node: s.id.to_string(),
                depth: Some(1),
                since: Some(0),
                until: None,
                at: None,
            };
            engine.changes(&req).ok()?.results.into_iter().find(|c| c.id == id)
        });
        match (hit, service) {
            (Some(c), Some(s)) => {
                let mut text = format!(
                    "<a href=\"{}#change-{}\"><code>{}</code></a> {} of {} at {}",
                    esc(&html::href(graph, s)),
                    esc(id),
                    esc(id),
                    esc(&c.kind),
                    html::link_id(graph, &c.node),
                    esc(&c.ts)
                );
                if let Some(v) = &c.version {
                    let _ = write!(text, " (version {})", esc(v));
                }
                if let Some(u) = c
                    .url
                    .as_deref()
                    .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                {
                    let _ = write!(
                        text,
                        " · <a href=\"{}\" rel=\"noopener noreferrer\">change</a>",
                        esc(u)
                    );
                }
                parts.push(text);
            }
            _ => parts.push(format!("<code>{}</code>", esc(id))),
        }
    }
    parts.join("<br>")
}
