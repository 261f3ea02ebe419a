//! Rendering a bundle: compact JSON (the contract) or compact prompt-ready markdown.

use super::items::Markdown;
use super::{Bundle, Format};

/// The text a caller asking for `format` receives.
pub(crate) fn render(bundle: &Bundle, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string(bundle).unwrap_or_default(),
        Format::Markdown => markdown(bundle),
    }
}

fn section<T: Markdown>(out: &mut String, title: &str, items: &[T]) {
    if items.is_empty() {
        return;
    }
    out.push_str(&format!("\n## {title}\n"));
    for i in items {
        out.push_str(&i.markdown());
    }
}

fn markdown(b: &Bundle) -> String {
    let f = &b.focus;
    let mut out = format!(
        "# Incident context: {} ({}) at {}\nbundle `{}` · {} of {} tokens (o200k_base) · changes since {}\n",
        f.node.name, f.node.kind, b.at, b.bundle_id, b.tokens, b.budget_tokens, b.since
    );
    out.push_str(&format!("Focus: {} [{}]\n", f.how.rule, f.cite.locator));
    if !f.how.candidates.is_empty() {
        out.push_str(&format!("Ambiguous; candidates: {}\n", f.how.candidates.join(", ")));
    }
    let mut facts = Vec::new();
    if !f.node.owners.is_empty() {
        facts.push(format!("owners {}", f.node.owners.join(", ")));
    }
    if !f.node.systems.is_empty() {
        facts.push(format!("system {}", f.node.systems.join(", ")));
    }
    if let Some(t) = &f.tier {
        facts.push(format!("tier {t}"));
    }
    if let Some(ns) = &f.node.namespace {
        facts.push(format!("namespace {ns}"));
    }
    for e in &f.escalation {
        facts.push(format!("{} {}", e.kind, e.value));
    }
    if !facts.is_empty() {
        out.push_str(&format!("{}\n", facts.join(" · ")));
    }
    section(&mut out, "Suspects", &b.suspects);
    section(&mut out, "Changes", &b.changes);
    section(&mut out, "Runbooks", &b.runbooks);
    section(&mut out, "Notes", &b.notes);
    section(&mut out, "Blast radius", &b.blast_radius);
    section(&mut out, "Past incidents", &b.incidents);
    section(&mut out, "Telemetry", &b.telemetry);
    if !b.more.is_empty() {
        out.push_str("\n## Not shown\n");
        for (name, m) in &b.more {
            out.push_str(&format!("- {name}: {} more (cursor `{}`)\n", m.count, m.cursor));
        }
    }
    for n in &b.notices {
        out.push_str(&format!("\nNote: {n}\n"));
    }
    out
}
