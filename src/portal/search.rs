//! The search page (`/search?q=…&kind=…&service=…&team=…`): hybrid search over runbooks,
//! postmortems, alert rules and notes, with filters and their counts, highlighted
//! snippets, the section of each hit, and a "no close match" state. The same handler
//! answers the results alone (`fragment=1`) for the as-you-type script.

use std::collections::BTreeMap;
use std::fmt::Write;

use lore_schema::{EdgeKind, NodeId, NodeKind};
use serde::Deserialize;

use super::html::{self, badge, enc, esc};
use super::snippet;
use crate::Engine;
use crate::engine::SearchRequest;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::search::SearchHit;

/// Hits asked of the engine, over which filters are counted.
const CANDIDATES: usize = 50;
/// Hits shown.
const SHOWN: usize = 10;
/// Values listed per filter.
const FACET_VALUES: usize = 8;
/// Result kinds, in the order the filter lists them.
const KINDS: [&str; 4] = ["runbook", "postmortem", "alert", "note"];

/// The search page's parameters (all optional: `/search` alone is the empty form).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: String,
    kind: Option<String>,
    service: Option<String>,
    team: Option<String>,
    /// `1`: the results alone, for the script.
    fragment: Option<String>,
}

impl SearchParams {
    pub(crate) fn is_fragment(&self) -> bool {
        self.fragment.as_deref() == Some("1")
    }

    fn filled(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// The page URL with `key` set to `value` (removed when `None`).
    fn url_with(&self, key: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("q", self.q.as_str())];
        for (k, v) in [("kind", &self.kind), ("service", &self.service), ("team", &self.team)] {
            if k != key
                && let Some(v) = Self::filled(v)
            {
                pairs.push((k, v));
            }
        }
        if let Some(v) = value {
            pairs.push((key, v));
        }
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        format!("/search?{}", query.join("&"))
    }
}

/// The whole page, or the results alone for `fragment=1`.
pub(crate) fn page(engine: &Engine, p: &SearchParams) -> Result<String> {
    let results = results(engine, p)?;
    if p.is_fragment() {
        return Ok(results);
    }
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Search</h1><form id=\"search\" role=\"search\" action=\"/search\" method=\"get\">\
         <label for=\"q\">Search runbooks, postmortems, alerts and notes by symptom, alert or \
         service</label><div class=\"searchbar\"><input id=\"q\" name=\"q\" type=\"search\" \
         value=\"{}\" autocomplete=\"off\" spellcheck=\"false\" aria-controls=\"results\" \
         aria-describedby=\"q-help\"><button type=\"submit\">Search</button></div>",
        esc(&p.q)
    );
    for (k, v) in [("kind", &p.kind), ("service", &p.service), ("team", &p.team)] {
        if let Some(v) = SearchParams::filled(v) {
            let _ = write!(body, "<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v));
        }
    }
    body.push_str(
        "<p id=\"q-help\" class=\"help\">Results update as you type. Press <kbd>/</kbd> to \
         search, <kbd>↓</kbd> <kbd>↑</kbd> to move through results, <kbd>Enter</kbd> to open.</p>\
         </form>",
    );
    let _ = write!(body, "<div id=\"results\" aria-live=\"polite\">{results}</div>");
    let title =
        if p.q.trim().is_empty() { "Search".to_string() } else { format!("{} – search", p.q) };
    Ok(html::page(&title, &body))
}

fn results(engine: &Engine, p: &SearchParams) -> Result<String> {
    let q = p.q.trim();
    if q.is_empty() {
        return Ok("<p class=\"empty\">Type a symptom (\"pods keep restarting\"), an alert name \
                   or a service. Or browse the <a href=\"/services\">catalog</a>.</p>"
            .into());
    }
    let graph = engine.graph(None)?;
    let req = SearchRequest {
        query: q.to_string(),
        kinds: Vec::new(),
        service: SearchParams::filled(&p.service).map(String::from),
        team: SearchParams::filled(&p.team).map(String::from),
        alert: None,
        limit: CANDIDATES,
        mode: "hybrid".into(),
    };
    let view = match engine.search(&req) {
        Ok(v) => v,
        Err(Error::NodeNotFound(name)) => {
            return Ok(format!(
                "<p class=\"empty\">No service or datastore is called <strong>{}</strong>. \
                 <a href=\"{}\">Search without it</a>.</p>",
                esc(&name),
                esc(&p.url_with("service", None))
            ));
        }
        Err(e) => return Err(e),
    };
    let kind = SearchParams::filled(&p.kind);
    let shown: Vec<&SearchHit> =
        view.results.iter().filter(|h| kind.is_none_or(|k| h.kind == k)).take(SHOWN).collect();
    let mut out = String::new();
    out.push_str(&facets(&graph, p, &view.results));
    if let Some(notice) = &view.notice {
        let _ = write!(out, "<p class=\"notice\">{}</p>", esc(notice));
    }
    if shown.is_empty() {
        let _ = write!(
            out,
            "<p class=\"empty nomatch\"><strong>No good match</strong> for “{}”{}. Try other \
             words, an alert name, or fewer filters.</p>",
            esc(q),
            if kind.is_some() || p.service.is_some() || p.team.is_some() {
                " with these filters"
            } else {
                ""
            }
        );
        return Ok(out);
    }
    // No word of the query in any shown snippet or title: these are only the nearest by
    // meaning, and the page says so rather than presenting them as answers.
    let words: Vec<String> =
        q.split_whitespace().filter(|w| w.len() > 3).map(str::to_lowercase).collect();
    let echoed = shown.iter().any(|h| {
        snippet::has_marks(&h.snippet) || {
            let t = h.title.to_lowercase();
            words.iter().any(|w| t.contains(w.as_str()))
        }
    });
    if !echoed {
        out.push_str(
            "<p class=\"notice nomatch\"><strong>No good match</strong>: nothing uses these \
             words; the nearest documents by meaning follow.</p>",
        );
    }
    let _ = write!(out, "<ol class=\"hits\" aria-label=\"Results\">");
    for h in shown {
        out.push_str(&hit(&graph, h));
    }
    out.push_str("</ol>");
    Ok(out)
}

/// One result: kind, title (the link), section, snippet, what it is about.
fn hit(graph: &Graph, h: &SearchHit) -> String {
    let id: Option<NodeId> = h.id.parse().ok();
    let node = id.as_ref().and_then(|id| graph.node(id));
    let mut href = node.map(|n| html::href(graph, n)).unwrap_or_else(|| "/search".into());
    if let Some(doc) = id.as_ref().and_then(|id| graph.document(id))
        && let Some(i) = doc.sections.iter().position(|s| u64::from(s.line) == h.line)
        && i > 0
    {
        let _ = write!(href, "#s-{i}");
    }
    let about = node.map(|n| about(graph, &n.id)).unwrap_or_default();
    let about: Vec<String> = about.iter().map(|id| html::link_id(graph, id)).collect();
    format!(
        "<li class=\"hit k-{kind}\"><a class=\"hit-link\" href=\"{href}\">{badge} \
         <span class=\"hit-title\">{title}</span></a>\
         <div class=\"hit-section\">§ {section}</div><p class=\"snippet\">{snippet}</p>\
         <div class=\"hit-meta\"><span class=\"src\">{source}</span>{about}</div></li>",
        kind = esc(&h.kind),
        href = esc(&href),
        badge = badge(&h.kind),
        title = esc(&h.title),
        section = esc(&h.section),
        snippet = snippet::to_html(&h.snippet),
        source = esc(&h.source),
        about = if about.is_empty() { String::new() } else { format!(" · {}", about.join(", ")) },
    )
}

/// Services, datastores and alerts a document or alert is about.
fn about(graph: &Graph, id: &NodeId) -> Vec<NodeId> {
    let (out, _) = graph.edges_of(id);
    let mut ids: Vec<NodeId> = out
        .iter()
        .filter(|e| {
            matches!(e.kind, EdgeKind::Documents | EdgeKind::About | EdgeKind::FiresFor)
                || (e.kind == EdgeKind::Mentions && e.confidence >= 800)
        })
        .filter(|e| {
            graph.node(&e.to).is_some_and(|n| {
                matches!(n.kind, NodeKind::Service | NodeKind::Datastore | NodeKind::Alert)
            })
        })
        .map(|e| e.to.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Filters with counts over the candidate hits: kind, service, team.
fn facets(graph: &Graph, p: &SearchParams, hits: &[SearchHit]) -> String {
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut services: BTreeMap<String, usize> = BTreeMap::new();
    let mut teams: BTreeMap<String, usize> = BTreeMap::new();
    for h in hits {
        *kinds.entry(h.kind.as_str()).or_default() += 1;
        let Ok(id) = h.id.parse::<NodeId>() else { continue };
        let mut hit_teams = Vec::new();
        for about in about(graph, &id) {
            let Some(n) = graph.node(&about) else { continue };
            if n.kind != NodeKind::Alert {
                *services.entry(n.name.clone()).or_default() += 1;
            }
            hit_teams.extend(n.owners.iter().cloned());
        }
        hit_teams.sort();
        hit_teams.dedup();
        for t in hit_teams {
            *teams.entry(t).or_default() += 1;
        }
    }
    let mut out = String::from("<nav class=\"facets\" aria-label=\"Filters\">");
    let group = |out: &mut String, key: &str, label: &str, values: Vec<(String, usize)>| {
        let current = match key {
            "kind" => SearchParams::filled(&p.kind),
            "service" => SearchParams::filled(&p.service),
            _ => SearchParams::filled(&p.team),
        };
        let _ = write!(out, "<div class=\"facet\"><span class=\"facet-name\">{label}</span><ul>");
        let all_cls = if current.is_none() { " aria-current=\"true\"" } else { "" };
        let _ = write!(
            out,
            "<li><a class=\"filter\" href=\"{}\"{all_cls}>any</a></li>",
            esc(&p.url_with(key, None))
        );
        if let Some(c) = current
            && !values.iter().any(|(v, _)| v == c)
        {
            let _ = write!(
                out,
                "<li><a class=\"filter\" href=\"{}\" aria-current=\"true\">{}</a></li>",
                esc(&p.url_with(key, Some(c))),
                esc(c)
            );
        }
        for (v, n) in values {
            let cur = if current == Some(v.as_str()) { " aria-current=\"true\"" } else { "" };
            let _ = write!(
                out,
                "<li><a class=\"filter\" href=\"{}\"{cur}>{} <span class=\"count\">{n}</span></a></li>",
                esc(&p.url_with(key, Some(&v))),
                esc(&v)
            );
        }
        out.push_str("</ul></div>");
    };
    let kind_values =
        KINDS.iter().filter_map(|k| kinds.get(k).map(|&n| (k.to_string(), n))).collect();
    group(&mut out, "kind", "Kind", kind_values);
    group(&mut out, "service", "Service", top(services));
    group(&mut out, "team", "Team", top(teams));
    out.push_str("</nav>");
    out
}

fn top(counts: BTreeMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(FACET_VALUES);
    v
}
