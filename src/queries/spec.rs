//! A named query file: `version`, `name`, `description`, typed `params` and `steps`.
//!
//! ```toml
//! version = 1
//! name = "blast_radius"
//! description = "What breaks if SERVICE fails: ..."
//!
//! [params.service]
//! type = "string"
//! description = "The failing service or datastore."
//! required = true
//!
//! [params.depth]
//! type = "integer"
//! description = "Maximum hops."
//! default = 4
//! min = 1
//! max = 12
//!
//! [[steps]]
//! op = "resolve"
//! node = "{service}"
//!
//! [[steps]]
//! op = "traverse"
//! direction = "upstream"
//! depth = "{depth}"
//! ```
//!
//! A string that is exactly `"{param}"` takes the parameter's typed value; a string with
//! `{param}` inside it takes its text. Every file is checked when it is loaded: unknown
//! keys, unknown operations, references to undeclared parameters and arguments of the
//! wrong type are errors naming the file, the line and the field.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::ops::{self, Op};
use super::params::{self, Param, check_param, sample_params, toml_to_json, typed_value};

/// A query as written in its file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    version: u32,
    name: toml::Spanned<String>,
    description: String,
    #[serde(default)]
    params: BTreeMap<String, toml::Spanned<Param>>,
    steps: Vec<toml::Spanned<toml::Table>>,
}

/// A checked named query.
#[derive(Debug, Clone)]
pub struct Query {
    /// Version of the query (bump when its answer changes shape).
    pub version: u32,
    /// Name (the tool name over MCP).
    pub name: String,
    /// What it answers, written for an LLM choosing a tool.
    pub description: String,
    /// Parameters, by name.
    pub params: BTreeMap<String, Param>,
    /// Steps, run in order.
    pub steps: Vec<Step>,
    /// Where it was read: a file path, or `builtin:<file>`.
    pub origin: String,
}

/// One step: an operation and its arguments (templates over the parameters).
#[derive(Debug, Clone)]
pub struct Step {
    /// The operation.
    pub op: Op,
    /// Its arguments as written.
    pub args: toml::Table,
    /// Line in the file.
    pub line: usize,
}

/// A query file that cannot be used: `origin:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}: {reason}")]
pub struct SpecError {
    /// The file.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong, naming the field.
    pub reason: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Query {
    /// Reads and checks a query file's text.
    pub fn parse(text: &str, origin: &str) -> Result<Query, SpecError> {
        let err = |offset: usize, reason: String| SpecError {
            origin: origin.to_string(),
            line: line_of(text, offset),
            reason,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            err(offset, e.message().trim().to_string())
        })?;
        if raw.version != 1 {
            return Err(err(0, format!("version: {} is not supported (expected 1)", raw.version)));
        }
        if !is_name(raw.name.get_ref()) {
            return Err(err(
                raw.name.span().start,
                format!("name: `{}` must be lowercase letters, digits and _", raw.name.get_ref()),
            ));
        }
        let mut params = BTreeMap::new();
        for (name, spanned) in raw.params {
            let at = spanned.span().start;
            let param = spanned.into_inner();
            if !is_name(&name) {
                return Err(err(
                    at,
                    format!("params.{name}: names are lowercase letters, digits and _"),
                ));
            }
            check_param(&name, &param).map_err(|r| err(at, format!("params.{name}: {r}")))?;
            params.insert(name, param);
        }
        if raw.steps.is_empty() {
            return Err(err(0, "steps: a query needs at least one step".into()));
        }
        let mut steps = Vec::new();
        let mut has_node = false;
        for (i, spanned) in raw.steps.into_iter().enumerate() {
            let at = spanned.span().start;
            let field = |r: String| err(at, format!("steps[{i}]: {r}"));
            let mut args = spanned.into_inner();
            let op = match args.remove("op") {
                Some(toml::Value::String(op)) => op.parse::<Op>().map_err(field)?,
                Some(_) => return Err(field("op: expected a string".into())),
                None => return Err(field("op: missing".into())),
            };
            for value in args.values() {
                check_refs(value, &params).map_err(field)?;
            }
            // Bind sample values to check the arguments' names and types now.
            let bound = bind(&args, &sample_params(&params)).map_err(field)?;
            ops::check(op, &bound, has_node).map_err(field)?;
            has_node |= op.sets_node();
            steps.push(Step { op, args, line: line_of(text, at) });
        }
        Ok(Query {
            version: raw.version,
            name: raw.name.into_inner(),
            description: raw.description.trim().to_string(),
            params,
            steps,
            origin: origin.to_string(),
        })
    }

    /// JSON Schema of the parameters (the MCP tool's input schema).
    pub fn input_schema(&self) -> Value {
        params::schema(&self.params)
    }

    /// Checks caller-given parameters and fills defaults: the typed values the steps bind.
    pub fn bind_params(
        &self,
        given: &serde_json::Map<String, Value>,
    ) -> crate::error::Result<BTreeMap<String, Value>> {
        let bad =
            |name: &str, reason: String| crate::Error::InvalidParam { name: name.into(), reason };
        if let Some(unknown) = given.keys().find(|k| !self.params.contains_key(*k)) {
            let known: Vec<&str> = self.params.keys().map(String::as_str).collect();
            return Err(bad(
                unknown,
                format!(
                    "unknown parameter of `{}` (expected one of: {})",
                    self.name,
                    known.join(", ")
                ),
            ));
        }
        let mut out = BTreeMap::new();
        for (name, p) in &self.params {
            let value = match given.get(name) {
                Some(Value::Null) | None => match &p.default {
                    Some(d) => toml_to_json(d),
                    None if p.required => {
                        return Err(bad(name, format!("is required: {}", p.description)));
                    }
                    None => continue,
                },
                Some(v) => v.clone(),
            };
            let typed = typed_value(p, &value).map_err(|r| bad(name, r))?;
            out.insert(name.clone(), typed);
        }
        Ok(out)
    }
}

/// Every `{name}` in templates names a declared parameter.
fn check_refs(value: &toml::Value, params: &BTreeMap<String, Param>) -> Result<(), String> {
    match value {
        toml::Value::String(s) => {
            for name in refs(s) {
                if !params.contains_key(name) {
                    return Err(format!("`{{{name}}}` names no declared parameter"));
                }
            }
            Ok(())
        }
        toml::Value::Array(items) => items.iter().try_for_each(|v| check_refs(v, params)),
        toml::Value::Table(t) => t.values().try_for_each(|v| check_refs(v, params)),
        _ => Ok(()),
    }
}

/// Names referenced as `{name}` in a template.
fn refs(template: &str) -> impl Iterator<Item = &str> {
    template.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Arguments with parameter values substituted: `"{p}"` takes the typed value (and an
/// argument whose parameter was not given is left out); `"..{p}.."` takes its text.
pub(super) fn bind(
    args: &toml::Table,
    params: &BTreeMap<String, Value>,
) -> Result<serde_json::Map<String, Value>, String> {
    let mut out = serde_json::Map::new();
    for (key, value) in args {
        if let Some(v) = bind_value(value, params)? {
            out.insert(key.clone(), v);
        }
    }
    Ok(out)
}

fn bind_value(
    value: &toml::Value,
    params: &BTreeMap<String, Value>,
) -> Result<Option<Value>, String> {
    Ok(match value {
        toml::Value::String(s) => {
            if let Some(name) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}'))
                && !name.contains(['{', '}'])
            {
                return Ok(params.get(name).cloned());
            }
            let mut text = s.clone();
            for name in refs(s).collect::<Vec<_>>() {
                let v = match params.get(name) {
                    Some(Value::String(v)) => v.clone(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                };
                text = text.replace(&format!("{{{name}}}"), &v);
            }
            Some(Value::String(text))
        }
        toml::Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|v| bind_value(v, params).transpose())
                .collect::<Result<_, _>>()?,
        )),
        toml::Value::Table(t) => Some(Value::Object(bind(t, params)?)),
        other => Some(toml_to_json(other)),
    })
}
