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
use serde_json::{Value, json};

use super::ops::{self, Op};

/// The type of a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// true or false.
    Boolean,
    /// A time: RFC 3339, a date, unix seconds, or a duration before now (`2h`); bound as
    /// unix seconds.
    Time,
    /// A length of time (`90s`, `30m`, `6h`, `1d`) or bare seconds; bound as seconds.
    Duration,
    /// An object of string values (alert labels).
    Labels,
}

/// One declared parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// What it means, for the caller (and the LLM choosing arguments).
    pub description: String,
    /// Whether the caller must give it.
    #[serde(default)]
    pub required: bool,
    /// The value when the caller gives none.
    pub default: Option<toml::Value>,
    /// Smallest integer allowed.
    pub min: Option<i64>,
    /// Largest integer allowed.
    pub max: Option<i64>,
    /// The only strings allowed.
    pub values: Option<Vec<String>>,
    /// Longest string allowed (256 by default).
    pub max_length: Option<usize>,
}

/// Longest string parameter unless a query says otherwise.
const MAX_LENGTH: usize = 256;

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
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for (name, p) in &self.params {
            let mut schema = match p.ty {
                ParamType::String => json!({"type": "string"}),
                ParamType::Integer => json!({"type": "integer"}),
                ParamType::Boolean => json!({"type": "boolean"}),
                ParamType::Time => json!({"type": ["string", "integer"],
                    "description": "RFC 3339, YYYY-MM-DD, unix seconds, or a duration before now (2h, 30m, 1d)"}),
                ParamType::Duration => json!({"type": ["string", "integer"],
                    "description": "a length of time: 90s, 30m, 6h, 1d, or seconds"}),
                ParamType::Labels => {
                    json!({"type": "object", "additionalProperties": {"type": "string"}})
                }
            };
            let obj = schema.as_object_mut().expect("schemas are objects");
            let described = match obj.get("description").and_then(Value::as_str) {
                Some(format) => format!("{} ({format})", p.description),
                None => p.description.clone(),
            };
            obj.insert("description".into(), described.into());
            if let Some(min) = p.min {
                obj.insert("minimum".into(), min.into());
            }
            if let Some(max) = p.max {
                obj.insert("maximum".into(), max.into());
            }
            if let Some(values) = &p.values {
                obj.insert("enum".into(), json!(values));
            }
            if p.ty == ParamType::String {
                obj.insert("maxLength".into(), p.max_length.unwrap_or(MAX_LENGTH).into());
            }
            if let Some(default) = &p.default {
                obj.insert("default".into(), toml_to_json(default));
            }
            if p.required {
                required.push(name.clone());
            }
            properties.insert(name.clone(), schema);
        }
        json!({"type": "object", "properties": properties, "required": required,
               "additionalProperties": false})
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

fn check_param(name: &str, p: &Param) -> Result<(), String> {
    if p.description.trim().is_empty() {
        return Err("description: is empty".into());
    }
    if (p.min.is_some() || p.max.is_some()) && p.ty != ParamType::Integer {
        return Err("min/max: only integer parameters have limits".into());
    }
    if p.values.is_some() && p.ty != ParamType::String {
        return Err("values: only string parameters have a set of values".into());
    }
    if p.required && p.default.is_some() {
        return Err("default: a required parameter has no default".into());
    }
    if let Some(d) = &p.default {
        typed_value(p, &toml_to_json(d)).map_err(|r| format!("default: {r}"))?;
    }
    let _ = name;
    Ok(())
}

/// The value of parameter `p` given `value`, checked against its type and limits.
fn typed_value(p: &Param, value: &Value) -> Result<Value, String> {
    match (p.ty, value) {
        (ParamType::String, Value::String(s)) => {
            let max = p.max_length.unwrap_or(MAX_LENGTH);
            if s.chars().count() > max {
                return Err(format!("longer than {max} characters"));
            }
            if let Some(values) = &p.values
                && !values.contains(s)
            {
                return Err(format!("`{s}` is not one of: {}", values.join(", ")));
            }
            Ok(Value::String(s.clone()))
        }
        (ParamType::Integer, v) => {
            let n = match v {
                Value::Number(n) => n.as_i64().ok_or("expected a whole number")?,
                Value::String(s) => {
                    s.trim().parse::<i64>().map_err(|_| format!("`{s}` is not a whole number"))?
                }
                _ => return Err("expected a whole number".into()),
            };
            if let Some(min) = p.min
                && n < min
            {
                return Err(format!("{n} is below the minimum {min}"));
            }
            if let Some(max) = p.max
                && n > max
            {
                return Err(format!("{n} is above the maximum {max}"));
            }
            Ok(n.into())
        }
        (ParamType::Boolean, Value::Bool(b)) => Ok((*b).into()),
        (ParamType::Boolean, Value::String(s)) => match s.as_str() {
            "true" | "yes" | "1" => Ok(true.into()),
            "false" | "no" | "0" => Ok(false.into()),
            _ => Err(format!("`{s}` is not true or false")),
        },
        (ParamType::Time, Value::Number(n)) => {
            n.as_i64().map(Value::from).ok_or_else(|| "expected unix seconds".into())
        }
        (ParamType::Time, Value::String(s)) => crate::time::parse(s).map(Value::from),
        (ParamType::Duration, Value::Number(n)) => match n.as_i64() {
            Some(secs) if secs >= 0 => Ok(secs.into()),
            _ => Err("expected a positive number of seconds".into()),
        },
        (ParamType::Duration, Value::String(s)) => crate::time::parse_span(s).map(Value::from),
        (ParamType::Labels, Value::Object(map)) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(format!("label `{k}`: expected a string")),
                };
                out.insert(k.clone(), text.into());
            }
            Ok(Value::Object(out))
        }
        (ty, v) => Err(format!("expected {}, got {}", type_name(ty), json_type(v))),
    }
}

fn type_name(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String => "a string",
        ParamType::Integer => "a whole number",
        ParamType::Boolean => "true or false",
        ParamType::Time => "a time",
        ParamType::Duration => "a duration",
        ParamType::Labels => "an object of strings",
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A plausible value of each parameter, to type-check steps when a file is loaded.
fn sample_params(params: &BTreeMap<String, Param>) -> BTreeMap<String, Value> {
    params
        .iter()
        .map(|(name, p)| {
            let value = match (&p.default, p.ty) {
                (Some(d), _) => typed_value(p, &toml_to_json(d)).unwrap_or(Value::Null),
                (None, ParamType::String) => p
                    .values
                    .as_ref()
                    .and_then(|v| v.first())
                    .cloned()
                    .unwrap_or_else(|| "x".into())
                    .into(),
                (None, ParamType::Integer) => p.min.unwrap_or(1).into(),
                (None, ParamType::Boolean) => false.into(),
                (None, ParamType::Time) => 0.into(),
                (None, ParamType::Duration) => 3600.into(),
                (None, ParamType::Labels) => json!({}),
            };
            (name.clone(), value)
        })
        .collect()
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

pub(super) fn toml_to_json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
