//! The MCP tools that are not named queries: the writes `add_note` and `feedback`.

use serde_json::{Value, json};

use crate::Engine;
use crate::error::{Error, Result};
use crate::feedback::FeedbackRequest;
use crate::notes::NoteRequest;

/// A write tool: name, description, input schema.
pub(super) struct WriteTool {
    pub name: &'static str,
    pub description: &'static str,
    pub schema: fn() -> Value,
}

pub(super) const WRITE_TOOLS: &[WriteTool] = &[
    WriteTool {
        name: "add_note",
        description: "Remember something for later: save a note of tribal knowledge about a \
            service for the next on-call engineers (a workaround, a temporary state, a \
            known quirk), optionally expiring. Notes are searchable and shown with the \
            service.",
        schema: note_schema,
    },
    WriteTool {
        name: "feedback",
        description: "Rate a suspect or other bundle item: tell Lore that an item of an \
            incident-context bundle (a suspect deploy or change, a runbook, a past \
            incident) was useful, or wrong and not the cause, so later bundles for the \
            same focus rank it higher or lower.",
        schema: feedback_schema,
    },
];

fn note_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "node": {"type": "string", "maxLength": 256, "description": "The service or datastore the note is about: name, alias or id."},
            "text": {"type": "string", "maxLength": 4000, "description": "What the next person should know."},
            "author": {"type": "string", "maxLength": 256, "description": "Who writes it."},
            "expires": {"type": "string", "maxLength": 64, "description": "When it stops applying: RFC 3339, a date, or a duration from now (2h, 1d, 1w)."},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 20, "description": "Free-form tags."}
        },
        "required": ["node", "text"],
        "additionalProperties": false
    })
}

fn feedback_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "bundle_id": {"type": "string", "maxLength": 512, "description": "The bundle the item was in (bundle_id of incident_context); gives the focus."},
            "focus": {"type": "string", "maxLength": 256, "description": "The bundle's focus node, when no bundle_id is given."},
            "item": {"type": "string", "maxLength": 512, "description": "Id of the item (a change id, a document id, a node id)."},
            "verdict": {"type": "string", "enum": ["useful", "wrong"], "description": "Whether the item helped."},
            "author": {"type": "string", "maxLength": 256, "description": "Who says so."},
            "comment": {"type": "string", "maxLength": 2000, "description": "Why."}
        },
        "required": ["item", "verdict"],
        "additionalProperties": false
    })
}

fn args<T: serde::de::DeserializeOwned>(tool: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::InvalidParam { name: tool.into(), reason: e.to_string() })
}

/// Runs write tool `name`; `None` when there is no such write tool.
pub(super) fn run(engine: &Engine, name: &str, value: Value) -> Option<Result<(Value, String)>> {
    let now = crate::time::now();
    let run = || -> Result<(Value, String)> {
        match name {
            "add_note" => {
                let req: NoteRequest = args(name, value)?;
                let note = engine.add_note(&req, now)?;
                let text = format!("note {} added on {}", note.id, note.node);
                Ok((serde_json::to_value(&note).unwrap_or_default(), text))
            }
            _ => {
                let req: FeedbackRequest = args(name, value)?;
                let fb = engine.add_feedback(&req, now)?;
                let text = format!(
                    "feedback {} recorded: {} is {} for {}",
                    fb.id, fb.item, fb.verdict, fb.focus
                );
                Ok((serde_json::to_value(&fb).unwrap_or_default(), text))
            }
        }
    };
    WRITE_TOOLS.iter().any(|t| t.name == name).then(run)
}
