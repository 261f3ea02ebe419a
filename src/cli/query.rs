//! `lore query [NAME] [--param k=v]... [--json]`: run a named query, or list them.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use lore::queries::{ParamType, Registry};
use serde_json::{Map, Value};

/// Arguments of `lore query`.
#[derive(Debug, Parser)]
pub(crate) struct QueryArgs {
    /// The query to run; without it, lists the queries with their parameters.
    name: Option<String>,
    /// A parameter as NAME=VALUE (repeatable). Labels take `k=v,k2=v2` or a JSON object.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Print JSON (`GET /v1/queries` or `POST /v1/queries/{name}` objects).
    #[arg(long)]
    json: bool,
}

fn labels(text: &str) -> anyhow::Result<Value> {
    if text.trim_start().starts_with('{') {
        return Ok(serde_json::from_str(text)?);
    }
    let mut map = Map::new();
    for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("label `{pair}`: expected key=value"))?;
        map.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    Ok(Value::Object(map))
}

pub(crate) fn run(
    backend: impl FnOnce() -> anyhow::Result<super::backend::Backend>,
    registry: &Registry,
    args: QueryArgs,
) -> anyhow::Result<ExitCode> {
    for d in &registry.diagnostics {
        eprintln!("warning: query file not loaded: {d}");
    }
    let Some(name) = args.name else {
        if args.json {
            let diagnostics: Vec<String> =
                registry.diagnostics.iter().map(ToString::to_string).collect();
            super::output::json(
                &serde_json::json!({ "queries": registry.infos(), "diagnostics": diagnostics }),
            )?;
        } else {
            let mut out = std::io::stdout().lock();
            for q in registry.iter() {
                let params: Vec<String> = q
                    .params
                    .iter()
                    .map(|(n, p)| if p.required { n.clone() } else { format!("[{n}]") })
                    .collect();
                writeln!(
                    out,
                    "{} {}\n    {}",
                    q.name,
                    params.join(" "),
                    q.description.replace('\n', " ")
                )?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let query = registry.get(&name).ok_or_else(|| {
        let names: Vec<&str> = registry.iter().map(|q| q.name.as_str()).collect();
        anyhow::anyhow!("no query named `{name}` (known: {})", names.join(", "))
    })?;
    let mut given = Map::new();
    for pair in &args.params {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--param `{pair}`: expected NAME=VALUE"))?;
        let value = match query.params.get(k).map(|p| p.ty) {
            Some(ParamType::Labels) => labels(v)?,
            _ => Value::String(v.to_string()),
        };
        given.insert(k.to_string(), value);
    }
    let answer = backend()?.query(registry, &query.name, &given)?;
    if args.json {
        super::output::json(&answer)?;
    } else {
        writeln!(std::io::stdout().lock(), "{}", answer.text)?;
    }
    Ok(ExitCode::SUCCESS)
}
