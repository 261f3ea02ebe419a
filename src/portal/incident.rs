//! The incident page (`/incident?service=…|alert=…&at=…`): the incident-context bundle
//! (`Engine::context`) for a human: focus and owners, blast radius, suspects, changes,
//! runbooks, past incidents, first queries and notes, every item cited.

use std::fmt::Write;

use serde::Deserialize;

use super::html::{self, badge, esc};
use crate::Engine;
use crate::context::ContextRequest;
use crate::error::Result;
use crate::graph::Graph;

/// Token budget of the bundle the page shows (larger than an agent's default: a page
/// can scroll).
const BUDGET: usize = 12_000;

/// The incident page's parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct IncidentParams {
    service: Option<String>,
    alert: Option<String>,
    at: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn form(p: &IncidentParams) -> String {
    format!(
        "<form class=\"filters\" action=\"/incident\" method=\"get\">\
         <label>Service <input name=\"service\" value=\"{}\"></label> \
         <label>Alert <input name=\"alert\" value=\"{}\"></label> \
         <label>At <input name=\"at\" value=\"{}\" placeholder=\"2026-10-27T13:55:00Z, 2h\"></label> \
         <button type=\"submit\">Gather context</button></form>",
        esc(filled(&p.service).unwrap_or("")),
        esc(filled(&p.alert).unwrap_or("")),
        esc(filled(&p.at).unwrap_or(""))
    )
}

/// The page.
pub(crate) fn page(engine: &Engine, p: &IncidentParams) -> Result<String> {
    let mut body = String::from("<h1>Incident context</h1>");
    body.push_str(&form(p));
    if filled(&p.service).is_none() && filled(&p.alert).is_none() {
        body.push_str("<p class=\"empty\">Name the paged service or the alert that fired.</p>");
        return Ok(html::page("Incident", &body));
    }
    let at = filled(&p.at)
        .map(crate::time::parse)
        .transpose()
        .map_err(|e| crate::Error::InvalidParam { name: "at".into(), reason: e.to_string() })?;
    let req = ContextRequest {
        service: filled(&p.service).map(String::from),
        alert: filled(&p.alert).map(String::from),
        at,
        budget_tokens: Some(BUDGET),
        ..ContextRequest::default()
    };
    let (bundle, _) = engine.context(&req)?;
    let graph = engine.graph(None)?;
    let g: &Graph = &graph;
    let f = &bundle.focus;
    let _ = write!(
        body,
        "<section class=\"card wide\"><h2>Focus: {}</h2><p>{} at <time>{}</time> (changes since {}).</p>",
        html::link_id(g, &f.node.id),
        esc(&f.how.rule),
        esc(&bundle.at),
        esc(&bundle.since)
    );
    let owners: Vec<String> = f.node.owners.iter().map(|o| html::link_name(g, o)).collect();
    let _ = write!(
        body,
        "<p>Owners: {}</p>",
        if owners.is_empty() { "unknown".into() } else { owners.join(", ") }
    );
    for e in &f.escalation {
        let _ = write!(body, "<p>{}: {}</p>", esc(&e.kind), esc(&e.value));
    }
    body.push_str("</section>");
    let list = |body: &mut String, title: &str, items: Vec<String>| {
        let _ = write!(body, "<section class=\"card wide\"><h2>{title}</h2>");
        if items.is_empty() {
            body.push_str("<p class=\"muted\">None.</p>");
        } else {
            body.push_str("<ol>");
            for i in items {
                let _ = write!(body, "<li>{i}</li>");
            }
            body.push_str("</ol>");
        }
        body.push_str("</section>");
    };
    let link = |id: &str, name: &str| -> String {
        id.parse().map(|id| html::link_id(g, &id)).unwrap_or_else(|_| esc(name))
    };
    let cite = |c: &crate::context::items::Cite| {
        format!("<span class=\"evidence\">{}</span>", esc(&c.locator))
    };
    list(
        &mut body,
        "Suspects",
        bundle
            .suspects
            .iter()
            .map(|s| {
                format!(
                    "{} {} — {} {}",
                    badge(&s.kind),
                    link(&s.id, &s.name),
                    esc(&s.why),
                    cite(&s.cite)
                )
            })
            .collect(),
    );
    list(
        &mut body,
        "Changes",
        bundle
            .changes
            .iter()
            .map(|c| {
                format!(
                    "<time>{}</time> {} {} — {} <span class=\"muted\">{}</span>",
                    esc(&c.ts),
                    badge(&c.kind),
                    html::link_id(g, &c.node),
                    esc(&c.description),
                    esc(&c.why)
                )
            })
            .collect(),
    );
    list(
        &mut body,
        "Blast radius",
        bundle
            .blast_radius
            .iter()
            .map(|b| {
                format!(
                    "{}{} — {} {}",
                    if b.entry_point { "▶ " } else { "" },
                    link(&b.id, &b.name),
                    esc(&b.why),
                    cite(&b.cite)
                )
            })
            .collect(),
    );
    list(
        &mut body,
        "Runbooks",
        bundle
            .runbooks
            .iter()
            .map(|r| {
                format!(
                    "{} — § {} <span class=\"muted\">{}</span>",
                    link(&r.id, &r.title),
                    esc(&r.section),
                    esc(&r.why)
                )
            })
            .collect(),
    );
    list(
        &mut body,
        "Past incidents",
        bundle
            .incidents
            .iter()
            .map(|i| {
                format!(
                    "{} {} — {}",
                    link(&i.id, &i.title),
                    esc(i.date.as_deref().unwrap_or("")),
                    esc(i.root_cause.as_deref().unwrap_or(&i.why))
                )
            })
            .collect(),
    );
    list(
        &mut body,
        "First queries",
        bundle
            .telemetry
            .iter()
            .map(|t| {
                format!(
                    "{} <pre><code>{}</code></pre><span class=\"muted\">{}</span>",
                    badge(&t.kind),
                    esc(&t.query),
                    esc(&t.why)
                )
            })
            .collect(),
    );
    list(
        &mut body,
        "Notes",
        bundle
            .notes
            .iter()
            .map(|n| {
                format!(
                    "<blockquote>{}</blockquote> <span class=\"muted\">{} on {}</span>",
                    esc(&n.text),
                    esc(n.author.as_deref().unwrap_or("anonymous")),
                    link(&n.node, &n.node)
                )
            })
            .collect(),
    );
    for n in &bundle.notices {
        let _ = write!(body, "<p class=\"notice\">{}</p>", esc(n));
    }
    Ok(html::page(&format!("Incident: {}", f.node.name), &body))
}
