//! What a context request may say: a service, an alert with labels, or an Alertmanager
//! webhook payload exactly as Alertmanager POSTs it (`version: "4"`, `alerts[]` with
//! `labels`, `annotations`, `startsAt`).

use std::collections::BTreeMap;

use lore_schema::{NodeId, NodeKind};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::graph::Graph;

/// How the bundle is rendered (and its tokens counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// The JSON contract (compact).
    #[default]
    Json,
    /// Compact prompt-ready text.
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Format, String> {
        match s {
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            _ => Err(format!("unknown format `{s}` (expected json or markdown)")),
        }
    }
}

/// A context request.
#[derive(Debug, Clone, Default)]
pub struct ContextRequest {
    /// The focus by node name, alias or id.
    pub service: Option<String>,
    /// Alert name.
    pub alert: Option<String>,
    /// Alert labels.
    pub labels: BTreeMap<String, String>,
    /// Alert annotations (summary, description).
    pub annotations: BTreeMap<String, String>,
    /// Incident time (unix seconds); the alert's `startsAt`, else now.
    pub at: Option<i64>,
    /// Seconds of changes looked at before `at`; 6 hours by default.
    pub window_secs: Option<i64>,
    /// Token budget; 4,000 by default.
    pub budget_tokens: Option<usize>,
    /// Rendering.
    pub format: Format,
}

fn bad(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidParam { name: name.into(), reason: reason.into() }
}

fn string_map(value: Option<&Value>, field: &str) -> Result<BTreeMap<String, String>> {
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(n) => Ok((k.clone(), n.to_string())),
                Value::Bool(b) => Ok((k.clone(), b.to_string())),
                _ => Err(bad(&format!("{field}.{k}"), "expected a string")),
            })
            .collect(),
        Some(_) => Err(bad(field, "expected an object of strings")),
    }
}

fn time_field(value: Option<&Value>, field: &str) -> Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| bad(field, "expected whole unix seconds"))
        }
        Some(Value::String(s)) => crate::time::parse(s).map(Some).map_err(|e| bad(field, e)),
        Some(_) => Err(bad(field, "expected a time")),
    }
}

fn str_field(body: &Value, field: &str) -> Result<Option<String>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(bad(field, "is empty")),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field, "expected a string")),
    }
}

impl ContextRequest {
    /// Reads a `POST /v1/context` body: `{"service"|"alert"+"labels", "at", "window",
    /// "budget_tokens", "format"}` or an Alertmanager webhook payload (it has `alerts`);
    /// `budget_tokens`, `format`, `window` and `at` may also come from the query string
    /// and win over the payload.
    pub fn from_json(body: &Value) -> Result<ContextRequest> {
        if !body.is_object() {
            return Err(bad("body", "expected a JSON object"));
        }
        let mut req = if body.get("alerts").is_some() {
            ContextRequest::from_alertmanager(body)?
        } else {
            ContextRequest {
                service: str_field(body, "service")?,
                alert: str_field(body, "alert")?,
                labels: string_map(body.get("labels"), "labels")?,
                annotations: string_map(body.get("annotations"), "annotations")?,
                at: time_field(body.get("at"), "at")?,
                ..ContextRequest::default()
            }
        };
        if req.alert.is_none() {
            req.alert = req.labels.get("alertname").cloned();
        }
        if let Some(w) = body.get("window") {
            req.window_secs = Some(match w {
                Value::Number(n) => n.as_i64().ok_or_else(|| bad("window", "expected seconds"))?,
                Value::String(s) => crate::time::parse_span(s).map_err(|e| bad("window", e))?,
                _ => return Err(bad("window", "expected a duration such as 6h")),
            });
        }
        if let Some(b) = body.get("budget_tokens") {
            req.budget_tokens = Some(
                b.as_u64().ok_or_else(|| bad("budget_tokens", "expected a positive integer"))?
                    as usize,
            );
        }
        if let Some(f) = body.get("format") {
            req.format = f
                .as_str()
                .ok_or_else(|| bad("format", "expected a string"))?
                .parse()
                .map_err(|e: String| bad("format", e))?;
        }
        if req.service.is_none() && req.alert.is_none() && req.labels.is_empty() {
            return Err(bad(
                "service",
                "give a service, an alert with labels, or an Alertmanager payload",
            ));
        }
        Ok(req)
    }

    /// The JSON body [`ContextRequest::from_json`] reads back into this request (how the
    /// CLI forwards `lore context` to a running server).
    pub fn to_json(&self) -> Value {
        let mut body = serde_json::Map::new();
        let mut put = |key: &str, value: Value| {
            if !value.is_null() {
                body.insert(key.to_string(), value);
            }
        };
        put("service", self.service.clone().into());
        put("alert", self.alert.clone().into());
        put("labels", serde_json::to_value(&self.labels).unwrap_or_default());
        put("annotations", serde_json::to_value(&self.annotations).unwrap_or_default());
        put("at", self.at.into());
        put("window", self.window_secs.into());
        put("budget_tokens", self.budget_tokens.into());
        let format = match self.format {
            Format::Json => "json",
            Format::Markdown => "markdown",
        };
        put("format", format.into());
        Value::Object(body)
    }

    /// The first firing alert of an Alertmanager webhook payload (the group's common
    /// labels and annotations under each alert's own).
    pub fn from_alertmanager(body: &Value) -> Result<ContextRequest> {
        let alerts = body
            .get("alerts")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("alerts", "expected an array of alerts"))?;
        if alerts.is_empty() {
            return Err(bad("alerts", "no alerts in the payload"));
        }
        let pick = alerts
            .iter()
            .position(|a| a.get("status").and_then(Value::as_str) != Some("resolved"))
            .unwrap_or(0);
        let alert = &alerts[pick];
        let field = |f: &str| format!("alerts[{pick}].{f}");
        let mut labels = string_map(body.get("commonLabels"), "commonLabels")?;
        labels.extend(string_map(alert.get("labels"), &field("labels"))?);
        let mut annotations = string_map(body.get("commonAnnotations"), "commonAnnotations")?;
        annotations.extend(string_map(alert.get("annotations"), &field("annotations"))?);
        // Alertmanager writes the zero time for an unset startsAt.
        let at = match alert.get("startsAt").and_then(Value::as_str) {
            Some(s) if !s.starts_with("0001-") => {
                time_field(alert.get("startsAt"), &field("startsAt"))?
            }
            _ => None,
        };
        Ok(ContextRequest {
            alert: labels.get("alertname").cloned(),
            labels,
            annotations,
            at,
            ..ContextRequest::default()
        })
    }

    /// The alert's name, summary and description (from the request, else from the rule).
    pub(crate) fn alert_text(&self, graph: &Graph) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(a) = &self.alert {
            parts.push(crate::search::text::humanize(a));
        }
        let rule = self.alert.as_ref().and_then(|a| graph.node(&NodeId::new(NodeKind::Alert, a)));
        for key in ["summary", "description", "message"] {
            if let Some(v) =
                self.annotations.get(key).or_else(|| rule.and_then(|r| r.attrs.get(key)))
            {
                parts.push(v.clone());
            }
        }
        let text = parts.join(". ");
        super::untrusted::sanitize(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_payloads_are_read_as_alertmanager_sends_them() {
        let body = serde_json::json!({
            "version": "4", "status": "firing", "receiver": "lore",
            "commonLabels": {"severity": "critical"},
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "CheckoutHighErrorRate", "service": "checkout", "namespace": "shop"},
                "annotations": {"summary": "more than 2% of checkout requests fail"},
                "startsAt": "2026-10-27T13:55:00Z", "endsAt": "0001-01-01T00:00:00Z"
            }]
        });
        let req = ContextRequest::from_json(&body).unwrap();
        assert_eq!(req.alert.as_deref(), Some("CheckoutHighErrorRate"));
        assert_eq!(req.labels["service"], "checkout");
        assert_eq!(req.labels["severity"], "critical");
        assert_eq!(req.at, Some(crate::time::parse("2026-10-27T13:55:00Z").unwrap()));
        let err = ContextRequest::from_json(
            &serde_json::json!({"alerts": [{"labels": {"x": 1.5}, "startsAt": "soon"}]}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("alerts[0].startsAt"), "{err}");
        assert!(ContextRequest::from_json(&serde_json::json!({})).is_err());
        assert!(
            ContextRequest::from_json(&serde_json::json!({"service": "x", "window": "soon"}))
                .is_err()
        );
    }
}
