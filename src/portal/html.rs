//! HTML building blocks: escaping, URL encoding, the page frame and links to entities.
//!
//! Every string that reaches a page goes through [`esc`] (text and attribute values) or
//! [`enc`] (URL parts); the only raw HTML is what this module and its siblings write, and
//! rendered Markdown after `markdown.rs` sanitised it.

use lore_schema::{NodeId, NodeKind};

use crate::graph::Graph;
use crate::model::Node;

/// `s` escaped for HTML text and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` percent-encoded as one URL path segment or query value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a node is shown as a document page.
pub(crate) fn is_document(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Runbook | NodeKind::Postmortem | NodeKind::Note)
}

/// The portal URL of a node: its document page, or its entity page by name when the
/// name names it alone (by id otherwise).
pub(crate) fn href(graph: &Graph, node: &Node) -> String {
    if is_document(node.kind) && graph.has_document(&node.id) {
        return format!("/docs/{}", enc(node.id.as_str()));
    }
    let by_name = graph.lookup(&node.name).is_ok_and(|n| n.id == node.id);
    let key = if by_name { node.name.as_str() } else { node.id.as_str() };
    format!("/services/{}", enc(key))
}

/// A link to a node, labelled with its name (or `label`).
pub(crate) fn link(graph: &Graph, node: &Node) -> String {
    format!("<a href=\"{}\">{}</a>", esc(&href(graph, node)), esc(&node.name))
}

/// A link to the node with this id, or its id as text when the graph lacks it.
pub(crate) fn link_id(graph: &Graph, id: &NodeId) -> String {
    match graph.node(id) {
        Some(n) => link(graph, n),
        None => format!("<span class=\"gone\">{}</span>", esc(id.as_str())),
    }
}

/// A link to whatever `name` names (id, name or alias), or the name as text.
pub(crate) fn link_name(graph: &Graph, name: &str) -> String {
    match graph.lookup(name) {
        Ok(n) => link(graph, n),
        Err(_) => esc(name),
    }
}

/// A kind badge (`runbook`, `service`, ...).
pub(crate) fn badge(kind: &str) -> String {
    format!("<span class=\"badge k-{0}\">{0}</span>", esc(kind))
}

/// A whole page: head, navigation, `body` in `<main>`, the script.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Lore</title>\
<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
<link rel=\"stylesheet\" href=\"/portal/style.css\"></head>\
<body><a class=\"skip\" href=\"#main\">Skip to content</a>\
<header><nav aria-label=\"Portal\"><a class=\"brand\" href=\"/search\">Lore</a>\
<a href=\"/search\">Search</a><a href=\"/services\">Catalog</a>\
<a href=\"/incident\">Incident</a></nav></header>\
<main id=\"main\">{body}</main>\
<footer>API: <a href=\"/v1/openapi.json\">OpenAPI</a> · <a href=\"/metrics\">metrics</a></footer>\
<script src=\"/portal/app.js\" defer></script></body></html>\n",
        title = esc(title),
    )
}

/// A definition list of facts, values already HTML.
pub(crate) fn facts(rows: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"facts\">");
    for (k, v) in rows.iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("<dt>{}</dt><dd>{v}</dd>", esc(k)));
    }
    out.push_str("</dl>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_encodes_urls() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(enc("runbook:a/b c.md"), "runbook%3Aa%2Fb%20c.md");
    }
}
