//! `lore changes` (what changed near a node), `lore diff` (topology added and removed in a
//! window) and `lore ingest-git` (a repository's commits as change events).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use lore::changes::{ChangesRequest, ChangesView, DiffView, GitReport};
use lore::{Engine, time};
use lore_ingestors::git_history;

use super::backend::Backend;

/// Options of `lore changes`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChangesArgs {
    /// Node id, name or alias.
    node: String,
    /// Hops downstream over request-path edges (calls, datastores, topics); 0 = the node
    /// alone.
    #[arg(long, default_value_t = lore::changes::DEFAULT_DEPTH)]
    depth: usize,
    /// Window start, inclusive (RFC 3339, date or unix seconds); 24 hours before
    /// --until by default.
    #[arg(long)]
    since: Option<String>,
    /// Window end, exclusive, and the incident time the ranking is for; now by default.
    #[arg(long)]
    until: Option<String>,
    /// Walk the topology as it was at this time (the current topology by default).
    #[arg(long)]
    at: Option<String>,
    /// Print JSON (the object `GET /v1/changes` returns).
    #[arg(long)]
    json: bool,
}

/// Options of `lore diff`.
#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// Window start, inclusive (RFC 3339, date or unix seconds).
    #[arg(long)]
    since: String,
    /// Window end, exclusive; now by default.
    #[arg(long)]
    until: Option<String>,
    /// Print JSON (the object `GET /v1/diff` returns).
    #[arg(long)]
    json: bool,
}

/// Options of `lore ingest-git`.
#[derive(Debug, clap::Args)]
pub(crate) struct IngestGitArgs {
    /// Path of a git repository (its working tree or .git directory).
    repo: PathBuf,
    /// A path-to-service rule `PREFIX=SERVICE`, tried before the defaults; PREFIX may
    /// capture one directory as `<service>`: `--rule 'deploy/<service>/=<service>'`,
    /// `--rule 'billing/=payment'`. Repeatable.
    #[arg(long = "rule", value_name = "PREFIX=SERVICE")]
    rules: Vec<String>,
    /// Use only the --rule rules, not the defaults (src/, services/, apps/, cmd/ +
    /// <service>/).
    #[arg(long)]
    no_default_rules: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_time(flag: &str, text: Option<String>) -> anyhow::Result<Option<i64>> {
    text.map(|t| time::parse(&t).map_err(anyhow::Error::msg).with_context(|| format!("--{flag}")))
        .transpose()
}

pub(crate) fn changes(backend: &Backend, args: ChangesArgs) -> anyhow::Result<ExitCode> {
    let req = ChangesRequest {
        node: args.node,
        depth: Some(args.depth),
        since: parse_time("since", args.since)?,
        until: parse_time("until", args.until)?,
        at: parse_time("at", args.at)?,
    };
    let view = backend.changes(&req)?;
    if args.json {
        super::output::json(&view)?;
    } else {
        print_changes(&view)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_changes(view: &ChangesView) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} changes on {} and its dependencies within {} hops, {} .. {}",
        view.results.len(),
        view.node.id,
        view.depth,
        view.since,
        view.until
    )?;
    for hit in &view.results {
        let version = hit.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
        writeln!(
            out,
            "  {:.3}  {}  {:<12} {}{}  {}",
            hit.score, hit.ts, hit.kind, hit.service, version, hit.id
        )?;
        if !hit.description.is_empty() {
            writeln!(out, "         {}", hit.description)?;
        }
        if let Some(first) = hit.path.first() {
            let chain: Vec<String> = std::iter::once(first.from.to_string())
                .chain(hit.path.iter().map(|e| format!("-{}-> {}", e.kind, e.to)))
                .collect();
            writeln!(out, "         via {} ({} hops)", chain.join(" "), hit.hops)?;
        }
        writeln!(out, "         evidence: {} ({})", hit.evidence.locator, hit.evidence.source)?;
    }
    if view.unresolved.count > 0 {
        writeln!(
            out,
            "{} events in the window name services lore does not know: {}",
            view.unresolved.count,
            view.unresolved.services.join(", ")
        )?;
    }
    Ok(())
}

pub(crate) fn diff(backend: &Backend, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let since = time::parse(&args.since).map_err(anyhow::Error::msg).context("--since")?;
    let view = backend.diff(since, parse_time("until", args.until)?)?;
    if args.json {
        super::output::json(&view)?;
    } else {
        print_diff(&view)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_diff(view: &DiffView) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "topology changes {} .. {}", view.since, view.until)?;
    for n in &view.nodes_added {
        writeln!(out, "  + node {}", n.id)?;
    }
    for n in &view.nodes_removed {
        writeln!(out, "  - node {}", n.id)?;
    }
    for (sign, edges) in [("+", &view.edges_added), ("-", &view.edges_removed)] {
        for e in edges {
            let at: Vec<&str> = e.evidence.iter().map(|ev| ev.locator.as_str()).collect();
            writeln!(out, "  {sign} edge {} -{}-> {}  ({})", e.from, e.kind, e.to, at.join(", "))?;
        }
    }
    let total = view.nodes_added.len()
        + view.nodes_removed.len()
        + view.edges_added.len()
        + view.edges_removed.len();
    if total == 0 {
        writeln!(out, "  no nodes or edges added or removed")?;
    }
    Ok(())
}

pub(crate) fn ingest_git(engine: &Engine, args: IngestGitArgs) -> anyhow::Result<ExitCode> {
    let mut config = git_history::Config::default();
    let mut rules = Vec::new();
    for rule in &args.rules {
        let (prefix, service) = rule
            .split_once('=')
            .with_context(|| format!("--rule `{rule}`: expected PREFIX=SERVICE"))?;
        rules.push((prefix.trim().to_string(), service.trim().to_string()));
    }
    if !args.no_default_rules {
        rules.extend(config.rules);
    }
    config.rules = rules;
    let report = engine.ingest_git(&args.repo, &config, time::now())?;
    if args.json {
        super::output::json(&report)?;
    } else {
        print_git(&report)?;
    }
    Ok(if report.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_git(r: &GitReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} commits, {} change events, {} commits touch no service path",
        r.repo, r.commits, r.events, r.skipped_commits
    )?;
    writeln!(
        out,
        "  facts: {} added, {} updated, {} closed, {} unchanged",
        r.added, r.updated, r.closed, r.unchanged
    )?;
    for d in r.diagnostics.iter().filter(|d| d.severity != "info") {
        writeln!(out, "  {}: {}: {}", d.severity, d.locator, d.message)?;
    }
    Ok(())
}
