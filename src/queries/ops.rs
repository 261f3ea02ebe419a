//! The closed set of operations a query's steps run, each over the engine.
//!
//! A query carries one value from step to step: a JSON object, most with a `results`
//! list. `resolve` picks the node later steps are about; `show`, `owners`, `traverse`,
//! `changes` and `context` default to it. `filter` and `limit` narrow the `results` of
//! the step before them.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::changes::ChangesRequest;
use crate::context::ContextRequest;
use crate::engine::{ImpactRequest, SearchRequest};
use crate::error::{Error, Result};
use crate::graph::Direction;
use crate::{Engine, time};

/// An operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Pick a node by name, alias or id.
    Resolve,
    /// A node with identity, edges, history and notes.
    Show,
    /// Owning teams, systems and escalation hints of a node.
    Owners,
    /// Transitive callers or dependencies, with paths and evidence.
    Traverse,
    /// Shortest dependency path between two nodes.
    Path,
    /// What changed on a node and what it depends on, ranked.
    Changes,
    /// Hybrid search over runbooks, postmortems, alert rules and notes.
    Search,
    /// The incident-context bundle.
    Context,
    /// Where traces and declarations disagree.
    Drift,
    /// Keep the results whose field matches.
    Filter,
    /// Keep the first N results.
    Limit,
}

impl std::str::FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Op, String> {
        Ok(match s {
            "resolve" => Op::Resolve,
            "show" => Op::Show,
            "owners" => Op::Owners,
            "traverse" => Op::Traverse,
            "path" => Op::Path,
            "changes" => Op::Changes,
            "search" => Op::Search,
            "context" => Op::Context,
            "drift" => Op::Drift,
            "filter" => Op::Filter,
            "limit" => Op::Limit,
            _ => {
                return Err(format!(
                    "op: unknown operation `{s}` (expected resolve, show, owners, traverse, \
                     path, changes, search, context, drift, filter or limit)"
                ));
            }
        })
    }
}

impl Op {
    /// Whether later steps can default to the node this step picks.
    pub(super) fn sets_node(self) -> bool {
        self == Op::Resolve
    }

    fn needs_node(self) -> bool {
        matches!(self, Op::Show | Op::Owners | Op::Traverse | Op::Changes)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resolve {
    node: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Show {
    node: Option<String>,
    at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Traverse {
    node: Option<String>,
    direction: Direction,
    depth: Option<usize>,
    #[serde(default)]
    edge_kinds: Vec<lore_schema::EdgeKind>,
    #[serde(default)]
    include_plumbing: bool,
    #[serde(default)]
    include_optional: bool,
    at: Option<i64>,
    #[serde(default)]
    sides: crate::graph::Sides,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathArgs {
    from: String,
    to: String,
    #[serde(default)]
    include_plumbing: bool,
    at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    node: Option<String>,
    depth: Option<usize>,
    since: Option<i64>,
    until: Option<i64>,
    /// Seconds before `until` (instead of `since`).
    window: Option<i64>,
    at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    query: String,
    #[serde(default)]
    kinds: Vec<String>,
    service: Option<String>,
    team: Option<String>,
    alert: Option<String>,
    mode: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    /// Dotted path into each result (`kind`, `node.kind`).
    field: String,
    /// Keep results whose field equals this.
    equals: Option<Value>,
    /// Keep results whose field is one of these.
    #[serde(rename = "in")]
    one_of: Option<Vec<Value>>,
    /// Keep results whose numeric field is at most this.
    max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Drift {
    since: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    n: usize,
}

const CONTEXT_KEYS: &[&str] =
    &["service", "alert", "labels", "annotations", "at", "window", "budget_tokens", "format"];

fn parse<T: serde::de::DeserializeOwned>(
    args: &Map<String, Value>,
) -> std::result::Result<T, String> {
    serde_json::from_value(Value::Object(args.clone())).map_err(|e| e.to_string())
}

/// Checks a step's bound arguments when its file is loaded.
pub(super) fn check(
    op: Op,
    args: &Map<String, Value>,
    has_node: bool,
) -> std::result::Result<(), String> {
    let node_given = args.contains_key("node");
    if op.needs_node() && !node_given && !has_node {
        return Err(format!(
            "{}: needs a node: give `node` or put a resolve step before it",
            name(op)
        ));
    }
    match op {
        Op::Resolve => parse::<Resolve>(args).map(drop),
        Op::Show | Op::Owners => parse::<Show>(args).map(drop),
        Op::Traverse => parse::<Traverse>(args).map(drop),
        Op::Path => parse::<PathArgs>(args).map(drop),
        Op::Changes => parse::<Changes>(args).map(drop),
        Op::Search => parse::<Search>(args).map(drop),
        Op::Filter => parse::<Filter>(args).map(drop),
        Op::Limit => parse::<Limit>(args).map(drop),
        Op::Drift => parse::<Drift>(args).map(drop),
        Op::Context => match args.keys().find(|k| !CONTEXT_KEYS.contains(&k.as_str())) {
            Some(k) => {
                Err(format!("unknown field `{k}`, expected one of {}", CONTEXT_KEYS.join(", ")))
            }
            None => Ok(()),
        },
    }
    .map_err(|e| format!("{}: {e}", name(op)))
}

fn name(op: Op) -> &'static str {
    match op {
        Op::Resolve => "resolve",
        Op::Show => "show",
        Op::Owners => "owners",
        Op::Traverse => "traverse",
        Op::Path => "path",
        Op::Changes => "changes",
        Op::Search => "search",
        Op::Context => "context",
        Op::Drift => "drift",
        Op::Filter => "filter",
        Op::Limit => "limit",
    }
}

/// What a running query carries between steps.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Id of the node `resolve` picked.
    pub node: Option<String>,
    /// The current answer.
    pub value: Value,
    /// The Markdown rendering of a context bundle, when a step made one.
    pub markdown: Option<String>,
}

fn invalid(op: Op, e: impl std::fmt::Display) -> Error {
    Error::InvalidParam { name: name(op).into(), reason: e.to_string() }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
}

/// Runs one step.
pub(super) fn run(
    engine: &Engine,
    op: Op,
    args: &Map<String, Value>,
    state: &mut State,
) -> Result<()> {
    let node = |given: Option<String>, state: &State| -> Result<String> {
        given.or_else(|| state.node.clone()).ok_or_else(|| invalid(op, "no node"))
    };
    match op {
        Op::Resolve => {
            let a: Resolve = parse(args).map_err(|e| invalid(op, e))?;
            let graph = engine.graph(None)?;
            let found = graph.lookup(&a.node)?.clone();
            state.node = Some(found.id.to_string());
            state.value = json!({ "node": found });
        }
        Op::Show => {
            let a: Show = parse(args).map_err(|e| invalid(op, e))?;
            state.value = to_json(&engine.show(&node(a.node, state)?, a.at)?)?;
        }
        Op::Owners => {
            let a: Show = parse(args).map_err(|e| invalid(op, e))?;
            state.value = to_json(&engine.owners(&node(a.node, state)?, a.at)?)?;
        }
        Op::Traverse => {
            let a: Traverse = parse(args).map_err(|e| invalid(op, e))?;
            let req = ImpactRequest {
                node: node(a.node, state)?,
                direction: a.direction,
                depth: a.depth,
                edge_kinds: a.edge_kinds,
                include_plumbing: a.include_plumbing,
                include_optional: a.include_optional,
                at: a.at,
                sides: a.sides,
            };
            state.value = to_json(&engine.impact(&req)?)?;
        }
        Op::Path => {
            let a: PathArgs = parse(args).map_err(|e| invalid(op, e))?;
            state.value = to_json(&engine.path(&a.from, &a.to, a.include_plumbing, a.at)?)?;
        }
        Op::Changes => {
            let a: Changes = parse(args).map_err(|e| invalid(op, e))?;
            let until = a.until.unwrap_or_else(time::now);
            let since = a.since.or(a.window.map(|w| until - w));
            let req = ChangesRequest {
                node: node(a.node, state)?,
                depth: a.depth,
                since,
                until: Some(until),
                at: a.at,
            };
            state.value = to_json(&engine.changes(&req)?)?;
        }
        Op::Search => {
            let a: Search = parse(args).map_err(|e| invalid(op, e))?;
            if a.query.trim().is_empty() {
                return Err(Error::InvalidParam {
                    name: "query".into(),
                    reason: "is empty".into(),
                });
            }
            let req = SearchRequest {
                query: a.query,
                kinds: a.kinds,
                service: a.service.filter(|s| !s.is_empty()),
                team: a.team.filter(|s| !s.is_empty()),
                alert: a.alert.filter(|s| !s.is_empty()),
                limit: a.limit.unwrap_or(10).min(100),
                mode: a.mode.unwrap_or_else(|| "hybrid".into()),
            };
            state.value = to_json(&engine.search(&req)?)?;
        }
        Op::Context => {
            let mut body = args.clone();
            if state.node.is_some() && !body.contains_key("service") && !body.contains_key("alert")
            {
                body.insert("service".into(), state.node.clone().into());
            }
            let mut req = ContextRequest::from_json(&Value::Object(body))?;
            req.format = crate::context::Format::Markdown;
            let (bundle, markdown) = engine.context(&req)?;
            state.value = to_json(&bundle)?;
            state.markdown = Some(markdown);
        }
        Op::Drift => {
            let a: Drift = parse(args).map_err(|e| invalid(op, e))?;
            state.value = to_json(&engine.drift(a.since)?)?;
        }
        Op::Filter => {
            let a: Filter = parse(args).map_err(|e| invalid(op, e))?;
            let keep = |item: &Value| {
                let field = a.field.split('.').try_fold(item, |v, key| v.get(key));
                let Some(field) = field else { return false };
                a.equals.as_ref().is_none_or(|e| e == field)
                    && a.one_of.as_ref().is_none_or(|set| set.contains(field))
                    && a.max.is_none_or(|m| field.as_f64().is_some_and(|f| f <= m))
            };
            if let Some(Value::Array(items)) = state.value.get_mut("results") {
                items.retain(keep);
            }
        }
        Op::Limit => {
            let a: Limit = parse(args).map_err(|e| invalid(op, e))?;
            if let Some(obj) = state.value.as_object_mut()
                && let Some(Value::Array(items)) = obj.get_mut("results")
                && items.len() > a.n
            {
                let left = items.len() - a.n;
                items.truncate(a.n);
                obj.insert("more".into(), left.into());
            }
        }
    }
    Ok(())
}
