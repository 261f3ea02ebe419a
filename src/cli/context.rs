//! `lore context`: the incident-context bundle for a service, an alert with labels, or an
//! Alertmanager webhook payload, within a token budget.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use lore::context::{ContextRequest, Format};
use lore::time;

/// Options of `lore context`.
#[derive(Debug, clap::Args)]
pub(crate) struct ContextArgs {
    /// The focus: node id, name or alias.
    #[arg(long)]
    service: Option<String>,
    /// Alert name (the `alertname` label).
    #[arg(long)]
    alert: Option<String>,
    /// Alert label `KEY=VALUE` (service, job, app, namespace, pod, instance, ...).
    /// Repeatable.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// An Alertmanager webhook payload (JSON file, or `-` for stdin).
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
    /// Incident time (RFC 3339, date, unix seconds, or a duration before now such as 2h);
    /// the alert's startsAt, else now.
    #[arg(long)]
    at: Option<String>,
    /// How far before --at changes are looked at (e.g. 6h, 90m, 1d).
    #[arg(long, default_value = "6h")]
    window: String,
    /// Token budget (o200k_base tokens of the output), never exceeded.
    #[arg(long, default_value_t = lore::context::DEFAULT_BUDGET)]
    budget_tokens: usize,
    /// Output format: json (the contract, compact) or markdown (prompt-ready text).
    #[arg(long, default_value = "markdown")]
    format: Format,
    /// Print the JSON contract (same as --format json).
    #[arg(long)]
    json: bool,
}

/// Runs `lore context`.
pub(crate) fn context(
    backend: &super::backend::Backend,
    args: ContextArgs,
) -> anyhow::Result<ExitCode> {
    let mut req = match &args.payload {
        Some(path) => {
            let mut text = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
            }
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", path.display()))?;
            ContextRequest::from_json(&value)?
        }
        None => ContextRequest::default(),
    };
    if args.service.is_some() {
        req.service = args.service;
    }
    if args.alert.is_some() {
        req.alert = args.alert;
    }
    for label in &args.labels {
        let (k, v) = label
            .split_once('=')
            .with_context(|| format!("--label `{label}`: expected KEY=VALUE"))?;
        req.labels.insert(k.trim().to_string(), v.trim().to_string());
    }
    if req.alert.is_none() {
        req.alert = req.labels.get("alertname").cloned();
    }
    if let Some(at) = &args.at {
        req.at = Some(time::parse(at).map_err(anyhow::Error::msg).context("--at")?);
    }
    req.window_secs =
        Some(time::parse_span(&args.window).map_err(anyhow::Error::msg).context("--window")?);
    req.budget_tokens = Some(args.budget_tokens);
    req.format = if args.json { Format::Json } else { args.format };
    if req.service.is_none() && req.alert.is_none() && req.labels.is_empty() {
        anyhow::bail!("give --service, --alert with --label, or --payload");
    }
    let text = backend.context(&req)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}
