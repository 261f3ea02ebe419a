//! `lore demo`: ingest the example organisation and serve it.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use lore::{Engine, time};

pub(crate) fn run(
    engine: Engine,
    queries: lore::queries::Registry,
    policy: lore::auth::Policy,
    org: &Path,
    bind: &str,
) -> anyhow::Result<ExitCode> {
    let data_dir = engine.data_dir().to_path_buf();
    let mut paths = Vec::new();
    // Each part of the organisation is its own source, so re-ingesting one replaces only it.
    for sub in ["k8s", "compose", "catalog", "alerts", "runbooks", "postmortems", "deploys"] {
        let p = org.join(sub);
        if p.is_dir() {
            paths.push(p);
        }
    }
    anyhow::ensure!(!paths.is_empty(), "no example organisation under {}", org.display());
    let reports = engine.ingest(&paths, time::now())?;
    let embedded = engine.embed_pending()?;
    super::output::ingest_summary(&reports, &embedded, false)?;
    let mut out = std::io::stdout().lock();
    let graph = engine.graph(None)?;
    writeln!(
        out,
        "\nLore demo: {} nodes, {} edges from {}",
        graph.nodes().len(),
        graph.edge_count(),
        org.display()
    )?;
    let base = format!("http://{bind}");
    writeln!(
        out,
        "Open {base}/ in a browser: search \"the card processor is slow to answer\", open the \
         runbook, then its service; {base}/services lists every node. Or try:"
    )?;
    writeln!(out, "  curl '{base}/v1/search?q=payment+timeouts&kind=runbook'")?;
    writeln!(out, "  curl '{base}/v1/impact?node=orders-db&direction=upstream'")?;
    writeln!(out, "  curl '{base}/v1/impact?node=checkout&direction=downstream'")?;
    writeln!(out, "  curl '{base}/v1/path?from=frontend&to=orders-db'")?;
    writeln!(out, "  curl '{base}/v1/nodes/checkout'")?;
    writeln!(
        out,
        "  curl '{base}/v1/changes?node=checkout&depth=1&since=2026-10-27T12:00:00Z&until=2026-10-27T14:30:00Z'"
    )?;
    writeln!(
        out,
        "  curl -XPOST '{base}/v1/context?format=markdown' -H 'content-type: application/json' -d '{{\"alert\":\"CheckoutHighErrorRate\",\"labels\":{{\"service\":\"checkout\"}},\"at\":\"2026-10-27T13:55:00Z\"}}'"
    )?;
    // The binary the user just ran, so the commands work without `lore` on PATH.
    let bin =
        std::env::current_exe().map_or_else(|_| "lore".to_string(), |p| p.display().to_string());
    // The CLI forwards to this server while it holds the data dir (`cli/backend.rs`).
    let env = format!("LORE_DATA_DIR={}", data_dir.display());
    writeln!(out, "  {env} {bin} show checkout")?;
    writeln!(out, "  {env} {bin} search 'payment timeouts' --kind runbook --json")?;
    writeln!(out, "  {env} {bin} impact orders-db --direction upstream")?;
    writeln!(
        out,
        "  LORE_DATA_DIR={} {bin} changes checkout --since 2026-10-26 --until 2026-10-27T14:30:00Z",
        data_dir.display()
    )?;
    writeln!(
        out,
        "  LORE_DATA_DIR={} {bin} context --alert CheckoutHighErrorRate --label service=checkout --at 2026-10-27T13:55:00Z",
        data_dir.display()
    )?;
    writeln!(
        out,
        "  curl -XPOST '{base}/v1/queries/blast_radius' -H 'content-type: application/json' -d '{{\"service\":\"orders-db\"}}'"
    )?;
    writeln!(
        out,
        "MCP for agents: streamable HTTP at {base}/mcp (`{bin} mcp` serves stdio when no server \
         holds the data dir)"
    )?;
    writeln!(out, "  .venv/bin/python examples/mcp_agent.py --url {base}/mcp")?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    drop(out);
    lore::server::serve(engine, queries, policy, bind, None)?;
    Ok(ExitCode::SUCCESS)
}
