//! `lore search`, `lore eval` and `lore dangling`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use lore::Engine;
use lore::engine::{SearchRequest, SearchView};

/// Options of `lore search`.
#[derive(Debug, clap::Args)]
pub(crate) struct SearchArgs {
    /// What to look for: an alert name, a symptom, a question.
    query: String,
    /// Keep only these kinds (runbook, postmortem, alert, note, other; comma-separated).
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Keep documents about this service or datastore (name, alias or id).
    #[arg(long)]
    service: Option<String>,
    /// Keep documents about services of this team.
    #[arg(long)]
    team: Option<String>,
    /// Keep documents about this alert.
    #[arg(long)]
    alert: Option<String>,
    /// Retrieval mode: bm25, vector or hybrid (BM25 and vector fused; without the model,
    /// BM25 with a notice).
    #[arg(long, default_value = "hybrid")]
    mode: String,
    /// Documents to return.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn search(
    backend: &super::backend::Backend,
    args: SearchArgs,
) -> anyhow::Result<ExitCode> {
    let req = SearchRequest {
        query: args.query,
        kinds: args.kind,
        service: args.service,
        team: args.team,
        alert: args.alert,
        limit: args.limit,
        mode: args.mode,
    };
    let view = backend.search(&req)?;
    print_search(&view, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_search(view: &SearchView, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, view)?;
        writeln!(out)?;
        return Ok(());
    }
    if let Some(notice) = &view.notice {
        writeln!(out, "note: {notice}")?;
    }
    for (i, hit) in view.results.iter().enumerate() {
        writeln!(out, "{}. [{}] {}  ({:.2})", i + 1, hit.kind, hit.title, hit.score)?;
        writeln!(out, "   {}:{}  § {}", hit.source, hit.line, hit.section)?;
        writeln!(out, "   {}", hit.snippet)?;
    }
    if view.results.is_empty() {
        writeln!(out, "no results")?;
    }
    Ok(())
}

/// Options of `lore eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct EvalArgs {
    /// Labelled cases, one JSON object per line.
    #[arg(required_unless_present = "org")]
    file: Option<PathBuf>,
    /// Instead of a case file: the search queries of a gen-org output dir
    /// (`DIR/truth/queries.jsonl`), run against the data dir it was ingested into.
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    org: Option<PathBuf>,
    /// Directory the cases' paths are relative to (for impact cases' corpora).
    #[arg(long, default_value = "../shared/corpora")]
    corpora: PathBuf,
    /// Retrieval modes to compare (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "bm25,vector,hybrid")]
    modes: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn eval(engine: &Engine, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let cases = match (&args.org, &args.file) {
        (Some(dir), _) => lore::eval::read_org_cases(dir)?,
        (None, Some(file)) => lore::eval::read_cases(file)?,
        (None, None) => anyhow::bail!("give a case file or --org DIR"),
    };
    let report = lore::eval::run(engine, &cases, &args.corpora, &args.modes)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<46} {:>5} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "mode / type / difficulty", "cases", "R@1", "R@5", "R@10", "Hit@5", "MRR"
    )?;
    for (group, s) in &report.groups {
        writeln!(
            out,
            "{group:<46} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            s.cases, s.recall_at_1, s.recall_at_5, s.recall_at_10, s.hit_at_5, s.mrr
        )?;
    }
    if !report.misses.is_empty() {
        writeln!(out, "\nmisses (recall@5 < 1):")?;
        for m in &report.misses {
            writeln!(out, "  {} [{}] {}", m.id, m.mode, m.query)?;
            writeln!(out, "    expected: {}", m.expected.join(", "))?;
            writeln!(out, "    got:      {}", m.got.join(", "))?;
        }
    }
    for (mode, l) in &report.latency_ms {
        writeln!(
            out,
            "latency {mode}: p50 {:.2} ms, p99 {:.2} ms over {} queries",
            l.p50, l.p99, l.queries
        )?;
    }
    for (id, why) in &report.skipped {
        writeln!(out, "skipped {id}: {why}")?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn dangling(engine: &Engine, json: bool) -> anyhow::Result<ExitCode> {
    let graph = engine.graph(None)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "dangling": graph.dangling() }),
        )?;
        writeln!(out)?;
    } else {
        for d in graph.dangling() {
            writeln!(out, "{}  {}  ({})", d.alert, d.runbook_url, d.locator)?;
        }
        writeln!(
            out,
            "{} alerts with a runbook_url that matches no ingested runbook",
            graph.dangling().len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
