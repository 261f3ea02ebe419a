//! Printing query answers: JSON (the HTTP API's objects) or text for people.

use std::io::Write;

use lore::engine::{ImpactView, PathView, ShowView};
use lore::ingest::SourceReport;
use lore::model::Edge;
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout: what every `--json` prints.
pub(crate) fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn evidence(edge: &Edge) -> String {
    edge.evidence.iter().map(|e| e.locator.as_str()).collect::<Vec<_>>().join(", ")
}

pub(crate) fn ingest_summary(
    reports: &[SourceReport],
    embedded: &lore::retrieval::EmbedReport,
    as_json: bool,
) -> anyhow::Result<()> {
    if as_json {
        return json(&serde_json::json!({ "sources": reports, "embeddings": embedded }));
    }
    let mut out = std::io::stdout().lock();
    for r in reports {
        writeln!(
            out,
            "{}: {} files read, {} skipped, {} records",
            r.root,
            r.files_read,
            r.skipped.len(),
            r.records
        )?;
        writeln!(
            out,
            "  facts: {} added, {} updated, {} closed, {} unchanged",
            r.added, r.updated, r.closed, r.unchanged
        )?;
        if r.redacted > 0 {
            writeln!(out, "  secrets redacted from free text: {}", r.redacted)?;
        }
        for d in r.diagnostics.iter().filter(|d| d.severity != "info") {
            writeln!(out, "  {}: {}: {}", d.severity, d.locator, d.message)?;
        }
        let helm = r.skipped.iter().filter(|s| s.reason.starts_with("helm")).count();
        if helm > 0 {
            writeln!(
                out,
                "  skipped {helm} helm templates (render them with `helm template` to ingest)"
            )?;
        }
        // Files that could not be read are problems, named one by one.
        for s in r
            .skipped
            .iter()
            .filter(|s| !s.reason.starts_with("helm") && s.reason != "not a format lore ingests")
        {
            writeln!(out, "  skipped {}: {}", s.path, s.reason)?;
        }
        let unknown = r.skipped.iter().filter(|s| s.reason == "not a format lore ingests").count();
        if unknown > 0 {
            writeln!(
                out,
                "  skipped {unknown} files in formats lore does not ingest (use --json for the list)"
            )?;
        }
    }
    drop(out);
    embed_summary(embedded)
}

pub(crate) fn show(view: &ShowView, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(view);
    }
    let mut out = std::io::stdout().lock();
    let n = &view.node;
    writeln!(
        out,
        "{} ({}){}",
        n.id,
        n.kind,
        if view.current { "" } else { " [no longer present; history only]" }
    )?;
    if !n.aliases.is_empty() {
        writeln!(out, "  aliases: {}", n.aliases.join(", "))?;
    }
    if !n.owners.is_empty() {
        writeln!(out, "  owners: {}", n.owners.join(", "))?;
    }
    if let Some(d) = n.datastore {
        writeln!(out, "  datastore: {d}")?;
    }
    if let Some(r) = n.role {
        writeln!(out, "  role: {r}")?;
    }
    writeln!(out, "  identity:")?;
    for m in &view.identity {
        writeln!(out, "    {} at {} [{}]: {}", m.name, m.locator, m.declared_as, m.rule)?;
    }
    let seen = |e: &Edge| {
        let traffic = view.traffic.as_ref().filter(|_| e.kind.is_request_path() && !e.observed);
        observed_mark(traffic, &e.from, &e.to)
    };
    writeln!(out, "  depends on:")?;
    for e in &view.edges_out {
        writeln!(out, "    --{}--> {}{}{}  ({})", e.kind, e.to, marks(e), seen(e), evidence(e))?;
    }
    writeln!(out, "  used by:")?;
    for e in &view.edges_in {
        writeln!(out, "    {} --{}-->{}{}  ({})", e.from, e.kind, marks(e), seen(e), evidence(e))?;
    }
    if let Some(t) = &view.traffic {
        writeln!(out, "  traffic {} .. {}:", t.since, t.until)?;
        if let Some(r) = &t.red {
            writeln!(
                out,
                "    served {} requests, {} errors, p50 {} ms, p99 {} ms",
                r.requests,
                r.errors,
                ms(r.p50_ms),
                ms(r.p99_ms)
            )?;
        }
        for e in t.edges.iter().filter(|e| !e.declared) {
            writeln!(
                out,
                "    {} --{}--> {} [observed only: {} requests, {} errors, p99 {} ms; trace {}]",
                e.from,
                e.kind,
                e.to,
                e.requests,
                e.errors,
                ms(e.p99_ms),
                e.evidence.last_trace
            )?;
        }
    }
    if !view.history.is_empty() {
        writeln!(out, "  history (no longer declared):")?;
        for e in &view.history {
            let until = e
                .evidence
                .iter()
                .filter_map(|v| v.valid_to)
                .max()
                .map(lore::time::format)
                .unwrap_or_default();
            writeln!(
                out,
                "    {} --{}--> {} until {until}  ({})",
                e.from,
                e.kind,
                e.to,
                evidence(e)
            )?;
        }
    }
    if !view.notes.is_empty() {
        writeln!(out, "  notes:")?;
        for n in &view.notes {
            writeln!(out, "    {}: {}", n.id, n.text.replace('\n', " "))?;
        }
    }
    Ok(())
}

pub(crate) fn impact(view: &ImpactView, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(view);
    }
    let mut out = std::io::stdout().lock();
    let verb = match view.direction {
        lore::graph::Direction::Upstream => "affected if it fails",
        lore::graph::Direction::Downstream => "needed by it",
    };
    writeln!(out, "{}: {} nodes {verb}", view.node.id, view.results.len())?;
    for hit in &view.results {
        let via: Vec<String> = hit
            .path
            .iter()
            .map(|e| format!("{} -{}-> {}", e.from.name(), e.kind, e.to.name()))
            .collect();
        writeln!(out, "  [{}] {}  via {}", hit.depth, hit.id, via.join(", "))?;
        if let Some(first) = hit.path.first() {
            writeln!(out, "       evidence: {}", evidence(first))?;
        }
    }
    Ok(())
}

pub(crate) fn path(view: &PathView, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        return json(view);
    }
    let mut out = std::io::stdout().lock();
    if !view.found {
        writeln!(out, "no dependency path from {} to {}", view.from.id, view.to.id)?;
        return Ok(());
    }
    writeln!(out, "{} hops from {} to {}", view.hops, view.from.id, view.to.id)?;
    for e in &view.path {
        writeln!(out, "  {} --{}--> {}  ({})", e.from, e.kind, e.to, evidence(e))?;
    }
    Ok(())
}

pub(crate) fn embed_summary(report: &lore::retrieval::EmbedReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match &report.notice {
        Some(notice) => writeln!(out, "embeddings: {notice}")?,
        None => writeln!(
            out,
            "embeddings: {} chunks embedded in {:.1} s ({:.1} chunks/s), {} unchanged",
            report.embedded,
            report.seconds,
            report.embedded as f64 / report.seconds.max(1e-9),
            report.unchanged
        )?,
    }
    Ok(())
}

/// ` [optional]` and ` [start order only]` marks of an edge.
fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}"))
}

/// ` [observed: …]` when traces saw the declared edge `from → to` in the window, ` [not
/// observed …]` when its caller reports traces but not this edge.
fn observed_mark(
    traffic: Option<&lore::traces::view::Traffic>,
    from: &lore_schema::NodeId,
    to: &lore_schema::NodeId,
) -> String {
    let Some(t) = traffic else { return String::new() };
    match t.edges.iter().find(|e| &e.from == from && &e.to == to) {
        Some(e) => format!(
            " [observed: {} requests, {} errors, p99 {} ms; trace {}]",
            e.requests,
            e.errors,
            ms(e.p99_ms),
            e.evidence.last_trace
        ),
        // Only a caller that reports traces says anything about its edges.
        None if t.edges.iter().any(|e| &e.from == from) => " [not observed in the window]".into(),
        None => String::new(),
    }
}

fn marks(e: &Edge) -> String {
    let mut s = String::new();
    if e.optional {
        s.push_str(" [optional]");
    }
    if e.start_order {
        s.push_str(" [start order only]");
    }
    s
}
