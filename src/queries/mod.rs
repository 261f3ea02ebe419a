//! Named queries: every Lore question as a versioned, typed query in a TOML file, run by
//! `lore query`, `POST /v1/queries/{name}` and served as MCP tools.
//!
//! The built-in queries are the files of the top-level `queries/` folder, compiled in.
//! A user folder (`[queries] dir` in lore.toml) adds queries or overrides built-ins by
//! name. Each file is checked when loaded ([`spec`]); a bad file is reported as
//! `file:line: reason` and the others still load. Steps are data over a closed set of
//! engine operations ([`ops`]); answers are JSON plus a compact text ([`render`]).

pub mod ops;
pub mod params;
pub mod render;
pub mod spec;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Engine;
use crate::error::Result;
pub use params::{Param, ParamType};
pub use spec::{Query, SpecError};

/// The built-in query files.
const BUILTIN: &[(&str, &str)] = &[
    ("blast_radius.toml", include_str!("../../queries/blast_radius.toml")),
    ("dependencies.toml", include_str!("../../queries/dependencies.toml")),
    ("path.toml", include_str!("../../queries/path.toml")),
    ("what_changed.toml", include_str!("../../queries/what_changed.toml")),
    ("owners.toml", include_str!("../../queries/owners.toml")),
    ("runbook_for_alert.toml", include_str!("../../queries/runbook_for_alert.toml")),
    ("similar_incidents.toml", include_str!("../../queries/similar_incidents.toml")),
    ("incident_context.toml", include_str!("../../queries/incident_context.toml")),
    ("search.toml", include_str!("../../queries/search.toml")),
    ("show.toml", include_str!("../../queries/show.toml")),
    ("drift.toml", include_str!("../../queries/drift.toml")),
];

/// The queries a process serves.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    queries: BTreeMap<String, Query>,
    /// Files that could not be loaded.
    pub diagnostics: Vec<SpecError>,
}

/// A query as listed by `GET /v1/queries` and `lore query`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: u32,
    /// What it answers.
    pub description: String,
    /// `builtin:<file>` or the user file it came from.
    pub origin: String,
    /// JSON Schema of its parameters.
    pub params: Value,
}

/// The answer of a named query.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Answer {
    /// Query name.
    pub query: String,
    /// Query version.
    pub version: u32,
    /// Parameters as bound (defaults filled, times as unix seconds).
    pub params: BTreeMap<String, Value>,
    /// The answer of the last step.
    pub result: Value,
    /// Compact text of the answer, within [`render::TEXT_BUDGET`] tokens (a context
    /// bundle's own budget for `incident_context`).
    pub text: String,
}

impl Registry {
    /// The built-in queries only.
    pub fn builtin() -> Registry {
        let mut registry = Registry::default();
        for (file, text) in BUILTIN {
            registry.add(Query::parse(text, &format!("builtin:queries/{file}")));
        }
        registry
    }

    /// The built-ins plus every `*.toml` of `dir` (in name order; a user query replaces
    /// a built-in of the same name). A folder that cannot be read is a diagnostic.
    pub fn load(dir: Option<&Path>) -> Registry {
        let mut registry = Registry::builtin();
        let Some(dir) = dir else { return registry };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                registry.diagnostics.push(SpecError {
                    origin: dir.display().to_string(),
                    line: 0,
                    reason: format!("cannot read the queries folder: {e}"),
                });
                return registry;
            }
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let origin = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => registry.add(Query::parse(&text, &origin)),
                Err(e) => {
                    registry.diagnostics.push(SpecError { origin, line: 0, reason: e.to_string() })
                }
            }
        }
        registry
    }

    fn add(&mut self, parsed: std::result::Result<Query, SpecError>) {
        match parsed {
            Ok(q) => {
                if let Some(old) = self.queries.get(&q.name) {
                    tracing::info!(query = %q.name, replaces = %old.origin, by = %q.origin, "query overridden");
                }
                self.queries.insert(q.name.clone(), q);
            }
            Err(e) => {
                tracing::warn!(error = %e, "query file not loaded");
                self.diagnostics.push(e);
            }
        }
    }

    /// A query by name.
    pub fn get(&self, name: &str) -> Option<&Query> {
        self.queries.get(name)
    }

    /// Every query, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Query> {
        self.queries.values()
    }

    /// Names, descriptions and parameter schemas.
    pub fn infos(&self) -> Vec<QueryInfo> {
        self.iter()
            .map(|q| QueryInfo {
                name: q.name.clone(),
                version: q.version,
                description: q.description.clone(),
                origin: q.origin.clone(),
                params: q.input_schema(),
            })
            .collect()
    }

    /// Runs query `name` with `params` (JSON, checked against its declared parameters).
    pub fn run(&self, engine: &Engine, name: &str, params: &Map<String, Value>) -> Result<Answer> {
        let query = self
            .get(name)
            .ok_or_else(|| crate::Error::NotFound { what: "query", id: name.to_string() })?;
        run(engine, query, params)
    }
}

/// Runs a query's steps in order.
pub fn run(engine: &Engine, query: &Query, given: &Map<String, Value>) -> Result<Answer> {
    let params = query.bind_params(given)?;
    let mut state = ops::State::default();
    for step in &query.steps {
        let args = spec::bind(&step.args, &params).map_err(|reason| {
            crate::Error::InvalidParam { name: format!("{}:{}", query.origin, step.line), reason }
        })?;
        ops::run(engine, step.op, &args, &mut state)?;
    }
    let text = match state.markdown.take() {
        Some(markdown) => markdown,
        None => render::text(&state.value, render::TEXT_BUDGET),
    };
    Ok(Answer {
        query: query.name.clone(),
        version: query.version,
        params,
        result: state.value,
        text,
    })
}
