//! Command-line interface: clap definitions and dispatch. Every query command prints
//! the same JSON object the HTTP API returns when given `--json`.

mod audit;
mod backend;
mod bench;
mod changes;
mod context;
mod demo;
mod feedback;
mod notes;
mod output;
mod query;
mod remote;
mod search;
mod traces;

use std::path::PathBuf;
use std::process::ExitCode;

use backend::Backend;
use clap::{Parser, Subcommand};
use lore::engine::ImpactRequest;
use lore::graph::Direction;
use lore::time;
use lore_schema::EdgeKind;

/// Lore: a knowledge graph of production topology and tribal knowledge.
#[derive(Debug, Parser)]
#[command(name = "lore", version, about)]
pub(crate) struct Args {
    /// Settings file (see `lore::config`); `./lore.toml` is read when present. Flags and
    /// environment variables win over it.
    #[arg(long, global = true, env = "LORE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory holding the store [default: .lore, or `data_dir` in lore.toml].
    #[arg(long, global = true, env = "LORE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Log format [default: text, or `log_format` in lore.toml].
    #[arg(long, global = true, env = "LORE_LOG_FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest files or directories; each PATH is one source.
    ///
    /// Formats are detected per file: Kubernetes YAML, docker-compose (with the .env
    /// beside it), Backstage catalog-info.yaml, service catalogs, Envoy and nginx configs.
    /// Helm templates and unknown files are skipped and listed in the summary.
    /// Re-ingesting a path replaces that source's facts: new facts are added, vanished
    /// ones are closed and kept as history.
    ///
    /// Exit status: 0 when every file was read; 1 when some file (or part of one) could
    /// not be parsed — its diagnostics name file:line, everything else was ingested and
    /// the facts previously read from a broken file are kept; 2 on a fatal error (a path
    /// that does not exist, a store that cannot be opened).
    Ingest {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Do not embed new document sections now. A later query embeds up to 256 missing
        /// texts itself; with more, vector search answers from what is embedded and says
        /// so until an ingest without this flag embeds the rest (`lore eval` embeds first).
        #[arg(long, env = "LORE_NO_EMBED")]
        no_embed: bool,
    },
    /// Show a node: kind, aliases, owners, identity, edges in and out with evidence, history.
    Show {
        /// Node id (`service:cart`), name or alias.
        node: String,
        /// Answer as the graph was at this time (RFC 3339, date or unix seconds).
        #[arg(long)]
        at: Option<String>,
        /// Traffic (RED, observed edges) from this time [default: an hour before --until].
        #[arg(long)]
        since: Option<String>,
        /// Traffic up to this time [default: --at, or the end of the newest trace data].
        #[arg(long)]
        until: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Who is affected if NODE fails (upstream), or what NODE needs (downstream).
    Impact {
        /// Node id, name or alias.
        node: String,
        /// upstream (callers, transitively) or downstream (dependencies, transitively).
        #[arg(long, short)]
        direction: Direction,
        /// Maximum hops.
        #[arg(long)]
        depth: Option<usize>,
        /// Edge kinds to follow (comma-separated); request-path kinds by default.
        #[arg(long, value_delimiter = ',')]
        edge_kinds: Vec<EdgeKind>,
        /// Also follow telemetry, service-discovery and feature-flag edges.
        #[arg(long)]
        include_plumbing: bool,
        /// Also follow edges declared only by opt-in layers (test/add-on compose overlays).
        #[arg(long)]
        include_optional: bool,
        /// Follow only edges seen in traces (default: declared and observed).
        #[arg(long, conflicts_with = "declared_only")]
        observed_only: bool,
        /// Follow only edges the sources declare.
        #[arg(long)]
        declared_only: bool,
        /// Answer as the graph was at this time.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shortest dependency path from FROM to TO.
    Path {
        /// Start node.
        from: String,
        /// End node.
        to: String,
        /// Also follow plumbing edges.
        #[arg(long)]
        include_plumbing: bool,
        /// Answer as the graph was at this time.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search runbooks, postmortems and alert rules.
    Search(search::SearchArgs),
    /// Run labelled cases (dev.jsonl format) and report recall@1/5/10 and MRR.
    Eval(search::EvalArgs),
    /// List alerts whose runbook_url points at no ingested runbook.
    Dangling {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the audit log: every write through the API (token name, time, route, peer,
    /// status) and the CLI's own writes.
    Audit {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the HTTP API on 127.0.0.1 (`/v1`, OpenAPI at /v1/openapi.json; MCP over
    /// streamable HTTP at `/mcp`; OTLP/HTTP traces at `/v1/traces`; Prometheus `/metrics`),
    /// and the portal for on-call engineers: open http://127.0.0.1:7474/ in a browser to
    /// search runbooks, postmortems, alerts and notes, read documents, and open service
    /// pages (owners, dependency picture, blast radius, changes); /services is the
    /// catalog, /incident the incident context.
    /// Tokens: `[auth]` in lore.toml, `LORE_TOKENS`.
    Serve {
        /// Address to listen on [default: 127.0.0.1:7474, or `[serve] bind` in lore.toml].
        #[arg(long, env = "LORE_BIND")]
        bind: Option<String>,
    },
    /// Ingest the example organisation and serve it.
    Demo {
        /// Address to listen on [default: 127.0.0.1:7474, or `[serve] bind` in lore.toml].
        #[arg(long, env = "LORE_BIND")]
        bind: Option<String>,
        /// Example organisation directory.
        #[arg(long, default_value = "examples/org")]
        org: PathBuf,
    },
    /// What changed on NODE and on what it depends on, ranked for an incident at --until.
    ///
    /// Change events come from NDJSON files (`ingest deploys/`), git history
    /// (`ingest-git REPO`) and `POST /v1/events`. The window is [--since, --until):
    /// by default the 24 hours before now; --depth 2 by default.
    Changes(changes::ChangesArgs),
    /// Nodes and edges added and removed between --since and --until (or now).
    Diff(changes::DiffArgs),
    /// Ingest a git repository's commits as change events (source `git:<abs path>`).
    ///
    /// Runs `git log` in REPO; each commit becomes one event per service whose directory
    /// it touches (src/<service>/, services/<service>/, apps/<service>/, cmd/<service>/
    /// and any --rule). Re-running replaces the repository's events like any source.
    IngestGit(changes::IngestGitArgs),
    /// The incident context for an alert: focus, blast radius, suspects, changes,
    /// runbooks, past incidents, telemetry queries and notes, ranked, cited and within a
    /// token budget. Give --service, or --alert with --label (service, job, app,
    /// namespace + pod, instance, ...), or an Alertmanager webhook --payload.
    Context(context::ContextArgs),
    /// Benchmark impact queries on a generated organisation.
    Bench(bench::BenchArgs),
    /// Tribal notes on nodes: add, list, rm. Notes are searchable (kind `note`), shown by
    /// `show` and kept as history when removed or expired.
    Note(notes::NoteArgs),
    /// Feedback on incident-bundle items (useful or wrong): add, list, rm. Each `wrong`
    /// halves the item's rank in later bundles of the same focus, each `useful` multiplies
    /// it by 1.5, bounded to [0.25, 2].
    Feedback(feedback::FeedbackArgs),
    /// Run a named query (built-in `queries/*.toml`, plus `[queries] dir` of lore.toml),
    /// or list them with their parameters: `lore query blast_radius -p service=orders-db`.
    Query(query::QueryArgs),
    /// Serve MCP over stdin/stdout for an agent: every named query as a tool, plus
    /// add_note and feedback; runbooks and postmortems as lore://docs/{id} resources.
    /// (`lore serve` also serves MCP over streamable HTTP at /mcp.)
    Mcp,
    /// Observed call edges from traces (ingested trace files, OTLP/HTTP), with requests,
    /// errors and latency quantiles, and whether a source declares each.
    Observed(traces::ObservedArgs),
    /// Where traces and declarations disagree: observed-but-undeclared edges and
    /// declared-but-not-observed ones (out of services that report traces).
    Drift(traces::DriftArgs),
}

/// Runs a parsed command line.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (config, _) = lore::config::Config::load(args.config.as_deref())?;
    let log_format = args.log_format.or(config.log_format.clone()).unwrap_or_else(|| "text".into());
    init_tracing(&log_format);
    let data_dir =
        args.data_dir.or(config.data_dir.clone()).unwrap_or_else(|| PathBuf::from(".lore"));
    let bind = |flag: Option<String>| {
        flag.or_else(|| config.serve.bind.clone()).unwrap_or_else(|| "127.0.0.1:7474".into())
    };
    let queries_dir =
        std::env::var_os("LORE_QUERIES_DIR").map(PathBuf::from).or(config.queries.dir.clone());
    let registry = || lore::queries::Registry::load(queries_dir.as_deref());
    // The store, or the `lore serve` holding it (`backend.rs`); commands that do not go
    // through a server ask for the engine itself.
    let backend = || Backend::open(&data_dir, &config);
    let open = |what: &str| backend()?.into_engine(what);
    match args.command {
        Command::Ingest { paths, json, no_embed } => {
            let backend = backend()?;
            let answer = backend.ingest(&paths, no_embed)?;
            // Through a server, the server's guard audits the write.
            if let Backend::Local(engine) = &backend {
                for path in &paths {
                    audit::record(engine, format!("ingest {}", path.display()))?;
                }
            }
            output::ingest_summary(&answer.sources, &answer.embeddings, json)?;
            let failed = answer.sources.iter().any(|r| r.has_errors());
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Show { node, at, since, until, json } => {
            let view = backend()?.show(&node, parse_at(at)?, parse_at(since)?, parse_at(until)?)?;
            output::show(&view, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Impact {
            node,
            direction,
            depth,
            edge_kinds,
            include_plumbing,
            include_optional,
            observed_only,
            declared_only,
            at,
            json,
        } => {
            let sides = match (observed_only, declared_only) {
                (true, _) => lore::graph::Sides::Observed,
                (_, true) => lore::graph::Sides::Declared,
                _ => lore::graph::Sides::Both,
            };
            let req = ImpactRequest {
                node,
                direction,
                depth,
                edge_kinds,
                include_plumbing,
                include_optional,
                at: parse_at(at)?,
                sides,
            };
            let view = backend()?.impact(&req)?;
            output::impact(&view, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Path { from, to, include_plumbing, at, json } => {
            let view = backend()?.path(&from, &to, include_plumbing, parse_at(at)?)?;
            output::path(&view, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Search(search_args) => search::search(&backend()?, search_args),
        Command::Eval(eval_args) => search::eval(&open("eval")?, eval_args),
        Command::Dangling { json } => search::dangling(&open("dangling")?, json),
        Command::Serve { bind: flag } => {
            let engine = open("serve")?;
            let bind = bind(flag);
            let policy = policy(&config.auth, &bind)?;
            lore::server::serve(engine, registry(), policy, &bind, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { bind: flag, org } => {
            let bind = bind(flag);
            let policy = policy(&config.auth, &bind)?;
            demo::run(open("demo")?, registry(), policy, &org, &bind)
        }
        Command::Bench(bench_args) => bench::run(&bench_args),
        Command::Changes(a) => changes::changes(&backend()?, a),
        Command::Context(a) => context::context(&backend()?, a),
        Command::Diff(a) => changes::diff(&backend()?, a),
        Command::IngestGit(a) => changes::ingest_git(&open("ingest-git")?, a),
        Command::Note(a) => notes::run(&open("note")?, a),
        Command::Feedback(a) => feedback::run(&open("feedback")?, a),
        Command::Audit { json } => audit::list(&open("audit")?, json),
        Command::Query(a) => query::run(backend, &registry(), a),
        Command::Observed(a) => traces::observed(&backend()?, a),
        Command::Drift(a) => traces::drift(&backend()?, a),
        Command::Mcp => {
            lore::mcp::serve_stdio(open("mcp")?, registry()).map_err(anyhow::Error::msg)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The access rules of `lore serve` on `bind`: `[auth]` of lore.toml and `LORE_TOKENS`.
fn policy(auth: &lore::auth::AuthConfig, bind: &str) -> anyhow::Result<lore::auth::Policy> {
    let env = std::env::var("LORE_TOKENS").ok();
    Ok(lore::auth::Policy::from_config(auth, env.as_deref(), bind.parse().ok())?)
}

fn parse_at(at: Option<String>) -> anyhow::Result<Option<i64>> {
    at.map(|t| time::parse(&t).map_err(anyhow::Error::msg)).transpose()
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LORE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}
