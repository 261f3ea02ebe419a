//! The catalog (`/services?kind=…&team=…&system=…&q=…`): every node, grouped by system
//! and team, with filters and their counts.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

use super::html::{self, badge, esc};
use crate::Engine;
use crate::error::Result;
use crate::model::Node;

/// Nodes listed at most; a narrower filter shows the rest.
const LISTED: usize = 600;
/// Kinds listed by default: the things an on-call engineer looks up.
const DEFAULT_KINDS: [&str; 3] = ["service", "datastore", "api"];

/// The catalog's filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct CatalogParams {
    kind: Option<String>,
    team: Option<String>,
    system: Option<String>,
    q: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The catalog page.
pub(crate) fn page(engine: &Engine, p: &CatalogParams) -> Result<String> {
    let graph = engine.graph(None)?;
    let kind = filled(&p.kind);
    let team = filled(&p.team);
    let system = filled(&p.system);
    let needle = filled(&p.q).map(str::to_lowercase);
    let kind_ok = |n: &Node| match kind {
        Some("all") => true,
        Some(k) => n.kind.as_str() == k,
        None => DEFAULT_KINDS.contains(&n.kind.as_str()),
    };
    let rest_ok = |n: &Node| {
        team.is_none_or(|t| n.owners.iter().any(|o| o == t))
            && system.is_none_or(|s| n.systems.iter().any(|x| x == s))
            && needle.as_deref().is_none_or(|q| {
                n.name.contains(q) || n.aliases.iter().any(|a| a.to_lowercase().contains(q))
            })
    };
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut teams: BTreeMap<&str, usize> = BTreeMap::new();
    let mut systems: BTreeMap<&str, usize> = BTreeMap::new();
    let mut groups: BTreeMap<(&str, &str), Vec<&Node>> = BTreeMap::new();
    let mut total = 0;
    for n in graph.nodes() {
        if !rest_ok(n) {
            continue;
        }
        *kinds.entry(n.kind.as_str()).or_default() += 1;
        if !kind_ok(n) {
            continue;
        }
        for t in &n.owners {
            *teams.entry(t.as_str()).or_default() += 1;
        }
        for s in &n.systems {
            *systems.entry(s.as_str()).or_default() += 1;
        }
        total += 1;
        let s = n.systems.first().map_or("(no system)", String::as_str);
        let t = n.owners.first().map_or("(no team)", String::as_str);
        groups.entry((s, t)).or_default().push(n);
    }
    let mut body = String::from(
        "<h1>Catalog</h1><form class=\"filters\" action=\"/services\" method=\"get\">",
    );
    let select = |body: &mut String,
                  name: &str,
                  label: &str,
                  counts: &BTreeMap<&str, usize>,
                  current: Option<&str>,
                  any: &str| {
        let _ = write!(
            body,
            "<label>{label} <select name=\"{name}\"><option value=\"\">{any}</option>"
        );
        for (v, n) in counts {
            let sel = if current == Some(*v) { " selected" } else { "" };
            let _ = write!(body, "<option value=\"{0}\"{sel}>{0} ({n})</option>", esc(v));
        }
        body.push_str("</select></label> ");
    };
    let mut kind_counts = kinds.clone();
    kind_counts.insert("all", kinds.values().sum());
    select(&mut body, "kind", "Kind", &kind_counts, kind, "services, datastores, APIs");
    select(&mut body, "team", "Team", &teams, team, "any team");
    select(&mut body, "system", "System", &systems, system, "any system");
    let _ = write!(
        body,
        "<label>Name <input name=\"q\" type=\"search\" value=\"{}\"></label> \
         <button type=\"submit\">Filter</button></form><p>{total} node(s).</p>",
        esc(filled(&p.q).unwrap_or(""))
    );
    let mut listed = 0;
    let mut current_system = "";
    for ((s, t), nodes) in &groups {
        if listed >= LISTED {
            break;
        }
        if *s != current_system {
            if !current_system.is_empty() {
                body.push_str("</section>");
            }
            let _ = write!(
                body,
                "<section class=\"group\"><h2>{}</h2>",
                if s.starts_with('(') { esc(s) } else { html::link_name(&graph, s) }
            );
            current_system = s;
        }
        let _ = write!(
            body,
            "<h3>{}</h3><ul class=\"catalog\">",
            if t.starts_with('(') { esc(t) } else { html::link_name(&graph, t) }
        );
        for n in nodes.iter().take(LISTED - listed) {
            let tier = n
                .attrs
                .get("tier")
                .map(|t| format!(" <span class=\"muted\">tier {}</span>", esc(t)))
                .unwrap_or_default();
            let _ =
                write!(body, "<li>{} {}{tier}</li>", badge(n.kind.as_str()), html::link(&graph, n));
            listed += 1;
        }
        body.push_str("</ul>");
    }
    if !current_system.is_empty() {
        body.push_str("</section>");
    }
    if listed < total {
        let _ = write!(
            body,
            "<p class=\"notice\">{} more not listed: narrow the filters.</p>",
            total - listed
        );
    }
    Ok(html::page("Catalog", &body))
}
