//! `deploy_events`: change events as JSON lines (`deploys.ndjson`, `*.jsonl`), one
//! event object per line: `id`, `ts` (RFC 3339, or unix seconds), `service`, `kind`
//! (deploy, config, feature_flag, migration, scale, rollback, commit; any other name is
//! kept as an other kind; deploy when absent), and optionally `version`, `commit`,
//! `author`, `description` and `url`. Unknown fields are ignored.
//!
//! [`parse_event`] is the one validation of an event: the NDJSON ingestor uses it per
//! line (a bad line is an error diagnostic with its line number, the other lines are
//! kept) and the HTTP API uses it for `POST /v1/events`.

use std::collections::HashMap;
use std::fmt;

use lore_schema::{ChangeEvent, ChangeKind, Provenance, Record};
use serde_json::{Map, Value};

use crate::util::timestamp;
use crate::{Emitter, Input, Severity};

/// Ingestor name, used in provenance.
pub const NAME: &str = "deploy_events";

/// Why a JSON value is not a change event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// The field at fault; `None` when the value is not an object at all.
    pub field: Option<&'static str>,
    /// What is wrong, lowercase.
    pub reason: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for EventError {}

fn invalid(field: &'static str, reason: impl Into<String>) -> EventError {
    EventError { field: Some(field), reason: reason.into() }
}

/// Whether `text` looks like change events: its first non-empty line is a JSON object
/// with `ts` and `service`.
pub fn looks_like_events(text: &str) -> bool {
    let Some(first) =
        text.lines().map(|l| l.trim_start_matches('\u{feff}').trim()).find(|l| !l.is_empty())
    else {
        return false;
    };
    serde_json::from_str::<Map<String, Value>>(first)
        .is_ok_and(|obj| obj.contains_key("ts") && obj.contains_key("service"))
}

/// Reads one change event from a JSON value; `provenance` says where it was read.
pub fn parse_event(value: &Value, provenance: Provenance) -> Result<ChangeEvent, EventError> {
    let Some(obj) = value.as_object() else {
        return Err(EventError {
            field: None,
            reason: format!("expected a JSON object, found {}", type_name(value)),
        });
    };
    let id = required_text(obj, "id")?;
    let ts = match obj.get("ts") {
        None | Some(Value::Null) => return Err(invalid("ts", "missing")),
        Some(Value::String(s)) => timestamp::parse_rfc3339(s).map_err(|e| invalid("ts", e))?,
        Some(Value::Number(n)) => {
            n.as_i64().ok_or_else(|| invalid("ts", format!("`{n}` is not whole unix seconds")))?
        }
        Some(other) => {
            return Err(invalid(
                "ts",
                format!("expected an RFC 3339 string or unix seconds, found {}", type_name(other)),
            ));
        }
    };
    let service = required_text(obj, "service")?;
    let kind = match optional_text(obj, "kind")? {
        None => ChangeKind::Deploy,
        Some(k) => parse_kind(&k).ok_or_else(|| {
            invalid("kind", format!("`{k}` is not a change kind (expected deploy, config, feature_flag, migration, scale, rollback, commit or another snake_case name)"))
        })?,
    };
    Ok(ChangeEvent {
        id,
        ts,
        service,
        kind,
        version: optional_text(obj, "version")?,
        commit: optional_text(obj, "commit")?,
        author: optional_text(obj, "author")?,
        description: optional_text(obj, "description")?.unwrap_or_default(),
        url: optional_text(obj, "url")?,
        provenance,
    })
}

/// A kind name folded to snake_case (`Feature-Flag` is `feature_flag`); `None` unless it
/// is a short word of letters, digits and separators starting with a letter.
fn parse_kind(text: &str) -> Option<ChangeKind> {
    let name: String = text
        .trim()
        .chars()
        .map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_lowercase() })
        .collect();
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    valid.then(|| ChangeKind::from_name(&name))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required_text(obj: &Map<String, Value>, field: &'static str) -> Result<String, EventError> {
    match optional_text(obj, field)? {
        Some(text) if !text.is_empty() => Ok(text),
        Some(_) => Err(invalid(field, "empty")),
        None => Err(invalid(field, "missing")),
    }
}

/// A string field (numbers are taken as their text: `"version": 2`); null is absent.
fn optional_text(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, EventError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => {
            Err(invalid(field, format!("expected a string, found {}", type_name(other))))
        }
    }
}

/// Reads every line of an NDJSON file; blank lines are skipped, a bad line is an error
/// naming its line, and a repeated id keeps the first line with a warning.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    let mut lines = EventLines::default();
    for (idx, raw) in input.text.lines().enumerate() {
        lines.line(input.path, idx + 1, raw, out);
    }
}

/// The lines of one NDJSON file read so far, for a caller that reads a long file a
/// chunk at a time: [`EventLines::line`] per line, in order, with its 1-based number.
/// It remembers the ids seen, so a repeated id keeps the first line whatever chunk it
/// was in.
#[derive(Debug, Default)]
pub struct EventLines {
    first_line: HashMap<String, usize>,
}

impl EventLines {
    /// Reads line `n` of the file at `path` into `out`: an event, nothing (a blank
    /// line), or a diagnostic naming line `n`.
    pub fn line(&mut self, path: &str, n: usize, raw: &str, out: &mut Emitter) {
        let line = raw.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                out.diagnostic(Severity::Error, n, format!("not a JSON event: {e}"));
                return;
            }
        };
        let provenance = Provenance::declared(NAME, format!("{path}:{n}"), "");
        match parse_event(&value, provenance) {
            Ok(event) => {
                if let Some(first) = self.first_line.get(&event.id) {
                    out.diagnostic(
                        Severity::Warning,
                        n,
                        format!(
                            "duplicate event id `{}` (first at line {first}); kept the first",
                            event.id
                        ),
                    );
                    return;
                }
                self.first_line.insert(event.id.clone(), n);
                out.record(Record::Change(event));
            }
            Err(e) => out.diagnostic(Severity::Error, n, format!("invalid event: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Output;

    fn run(text: &str) -> Output {
        let env = BTreeMap::new();
        let input = Input { path: "deploys.ndjson", text, env: &env };
        let mut out = Emitter::new(input.path);
        ingest(&input, &mut out);
        out.finish()
    }

    fn events(out: &Output) -> Vec<&ChangeEvent> {
        out.records
            .iter()
            .filter_map(|r| if let Record::Change(c) = r { Some(c) } else { None })
            .collect()
    }

    #[test]
    fn gen_org_lines_become_events() {
        let out = run(concat!(
            r#"{"id": "chg-000001", "ts": "2026-08-03T05:51:50Z", "service": "rider-planner", "kind": "feature_flag", "version": "4.25.3", "commit": "ddc47e3a", "author": "arjun.santos", "description": "Enable x for 50% of traffic"}"#,
            "\n\n",
            r#"{"id": "chg-2", "ts": 1700000000, "service": "cart", "kind": "Canary-Release", "url": "https://ci.example/run/7", "env": "prod"}"#,
            "\n",
        ));
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let evs = events(&out);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].ts, 1_785_736_310);
        assert_eq!(evs[0].kind, ChangeKind::FeatureFlag);
        assert_eq!(evs[0].author.as_deref(), Some("arjun.santos"));
        assert_eq!(evs[0].provenance.locator, "deploys.ndjson:1");
        assert_eq!(evs[1].kind, ChangeKind::Other("canary_release".into()));
        assert_eq!(evs[1].url.as_deref(), Some("https://ci.example/run/7"));
        assert_eq!(evs[1].provenance.locator, "deploys.ndjson:3");
    }

    #[test]
    fn bad_lines_are_errors_with_their_line_and_the_rest_is_kept() {
        let out = run(concat!(
            r#"{"id": "a", "ts": "2026-08-03T05:51:50Z", "service": "cart"}"#,
            "\n",
            r#"{"id": "b", "ts": "2026-08-03T05:51:50Z", "service": "cart""#,
            "\n",
            r#"{"id": "c", "ts": "yesterday", "service": "cart"}"#,
            "\n",
            r#"{"id": "d", "ts": "2026-08-03T05:51:50Z"}"#,
            "\n",
            r#"{"id": "e", "ts": "2026-08-03T05:51:50Z", "service": "cart", "kind": "!!"}"#,
            "\n",
            r#"[1, 2]"#,
            "\n",
            r#"{"id": "a", "ts": "2026-08-04T05:51:50Z", "service": "cart"}"#,
            "\n",
            r#"{"id": "f", "ts": "2026-08-03T05:51:50Z", "service": "cart", "version": [1]}"#,
            "\n",
        ));
        let ids: Vec<&str> = events(&out).iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        let diags: Vec<(String, Severity, &str)> = out
            .diagnostics
            .iter()
            .map(|d| (d.locator.clone(), d.severity, d.message.as_str()))
            .collect();
        let at = |line: usize| {
            diags.iter().find(|d| d.0 == format!("deploys.ndjson:{line}")).cloned().unwrap()
        };
        assert_eq!(at(2).1, Severity::Error);
        assert!(at(2).2.starts_with("not a JSON event"), "{:?}", at(2));
        assert!(at(3).2.contains("field `ts`") && at(3).2.contains("yesterday"));
        assert_eq!(at(4).2, "invalid event: field `service`: missing");
        assert!(at(5).2.contains("field `kind`"));
        assert!(at(6).2.contains("expected a JSON object, found an array"));
        assert_eq!(at(7).1, Severity::Warning);
        assert!(at(8).2.contains("field `version`"));
        assert_eq!(events(&out)[0].ts, 1_785_736_310, "the first line of a repeated id wins");
    }

    #[test]
    fn event_files_are_recognised_by_their_first_line() {
        assert!(looks_like_events("\n{\"ts\": \"x\", \"service\": \"a\"}\nnot json"));
        assert!(!looks_like_events("{\"id\": \"service:a\", \"kind\": \"service\"}\n"));
        assert!(!looks_like_events("ts,service\n"));
        assert!(!looks_like_events(""));
    }
}
