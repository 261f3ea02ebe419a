//! Typed query parameters: their declaration, JSON Schema and checked values.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

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
pub(super) const MAX_LENGTH: usize = 256;

/// JSON Schema of `params`.
pub(super) fn schema(params: &BTreeMap<String, Param>) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for (name, p) in params {
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

pub(super) fn check_param(name: &str, p: &Param) -> Result<(), String> {
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
pub(super) fn typed_value(p: &Param, value: &Value) -> Result<Value, String> {
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
pub(super) fn sample_params(params: &BTreeMap<String, Param>) -> BTreeMap<String, Value> {
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

pub(super) fn toml_to_json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
