//! `lore observed` and `lore drift`: the call graph traces show, and where it disagrees
//! with what the sources declare.

use std::io::Write;
use std::process::ExitCode;

use super::backend::Backend;
use clap::Parser;

/// Arguments of `lore observed`.
#[derive(Debug, Parser)]
pub(crate) struct ObservedArgs {
    /// Only edges in or out of this node.
    node: Option<String>,
    /// Window start (RFC 3339, date, unix seconds or a duration before now) [default: all data].
    #[arg(long)]
    since: Option<String>,
    /// Window end [default: all data].
    #[arg(long)]
    until: Option<String>,
    /// Print JSON: `{"edges": [{from, to, kind, declared, requests, errors, p50_ms, p95_ms, p99_ms, first_seen, last_seen}]}`.
    #[arg(long)]
    json: bool,
}

/// Arguments of `lore drift`.
#[derive(Debug, Parser)]
pub(crate) struct DriftArgs {
    /// Declared edges not observed since this time count as declared only [default: all data].
    #[arg(long)]
    since: Option<String>,
    /// Print JSON: `{"observed_only": [edges], "declared_only": [{from, to, kind, evidence}]}`.
    #[arg(long)]
    json: bool,
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

pub(crate) fn observed(backend: &Backend, a: ObservedArgs) -> anyhow::Result<ExitCode> {
    let view = backend.observed(
        a.node.as_deref(),
        super::parse_at(a.since)?,
        super::parse_at(a.until)?,
    )?;
    if a.json {
        super::output::json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    for e in &view.edges {
        let declared = if e.declared { "declared" } else { "UNDECLARED" };
        writeln!(
            out,
            "{} -{}-> {}  {} req, {} err, p50 {} ms, p99 {} ms, {declared}",
            e.from,
            e.kind,
            e.to,
            e.requests,
            e.errors,
            ms(e.p50_ms),
            ms(e.p99_ms)
        )?;
    }
    writeln!(out, "{} observed edges", view.edges.len())?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn drift(backend: &Backend, a: DriftArgs) -> anyhow::Result<ExitCode> {
    let view = backend.drift(super::parse_at(a.since)?)?;
    if a.json {
        super::output::json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "Observed, declared nowhere ({}):", view.observed_only.len())?;
    for e in &view.observed_only {
        writeln!(
            out,
            "  {} -{}-> {}  {} req  trace {}",
            e.from, e.kind, e.to, e.requests, e.evidence.last_trace
        )?;
    }
    writeln!(out, "Declared, not observed ({}):", view.declared_only.len())?;
    for e in &view.declared_only {
        let at = e.evidence.first().map(|v| v.locator.as_str()).unwrap_or("");
        writeln!(out, "  {} -{}-> {}  [{at}]", e.from, e.kind, e.to)?;
    }
    Ok(ExitCode::SUCCESS)
}
