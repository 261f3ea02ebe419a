//! `lore observed` and `lore drift`: the call graph traces show, and where it disagrees
//! with what the sources declare.

use std::process::ExitCode;

use clap::Parser;
use lore::Engine;

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

pub(crate) fn observed(engine: &Engine, a: ObservedArgs) -> anyhow::Result<ExitCode> {
    let view =
        engine.observed(a.node.as_deref(), super::parse_at(a.since)?, super::parse_at(a.until)?)?;
    if a.json {
        super::output::json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    for e in &view.edges {
        let declared = if e.declared { "declared" } else { "UNDECLARED" };
        println!(
            "{} -{}-> {}  {} req, {} err, p50 {} ms, p99 {} ms, {declared}",
            e.from,
            e.kind,
            e.to,
            e.requests,
            e.errors,
            ms(e.p50_ms),
            ms(e.p99_ms)
        );
    }
    println!("{} observed edges", view.edges.len());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn drift(engine: &Engine, a: DriftArgs) -> anyhow::Result<ExitCode> {
    let view = engine.drift(super::parse_at(a.since)?)?;
    if a.json {
        super::output::json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Observed, declared nowhere ({}):", view.observed_only.len());
    for e in &view.observed_only {
        println!(
            "  {} -{}-> {}  {} req  trace {}",
            e.from, e.kind, e.to, e.requests, e.evidence.last_trace
        );
    }
    println!("Declared, not observed ({}):", view.declared_only.len());
    for e in &view.declared_only {
        let at = e.evidence.first().map(|v| v.locator.as_str()).unwrap_or("");
        println!("  {} -{}-> {}  [{at}]", e.from, e.kind, e.to);
    }
    Ok(ExitCode::SUCCESS)
}
