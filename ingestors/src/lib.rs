//! Lore's ingestors: pure parsers from one source file to neutral [`Record`]s.
//!
//! The caller does the I/O: it walks directories, reads bytes, finds the `.env` that
//! applies to a file, and hands an [`Input`] to [`ingest`]. Each format is one module;
//! [`detect`] picks the format from the path and content. A parser never fails a batch:
//! what it cannot read becomes a [`Diagnostic`] naming the file and line.

mod detect;
mod emitter;
mod input;
pub mod util;

pub mod alert_rules;
pub mod backstage;
pub mod compose;
pub mod deploy_events;
pub mod dockerfile;
pub mod env_file;
pub mod git_history;
pub mod kubernetes;
pub mod markdown;
pub mod proxy;
pub mod service_catalog;

pub use detect::{Detection, Format, detect};
pub use emitter::{Diagnostic, Emitter, Output, Severity};
pub use input::Input;
pub use lore_schema as schema;

/// How settled an ingestor's output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// Output shape may still change.
    Beta,
    /// Output shape is stable.
    Stable,
}

/// Runs the ingestor for `format` over one input.
pub fn ingest(format: Format, input: &Input<'_>) -> Output {
    let mut out = Emitter::new(input.path);
    match format {
        Format::Kubernetes => kubernetes::ingest(input, &mut out),
        Format::Compose => compose::ingest(input, &mut out),
        Format::Backstage => backstage::ingest(input, &mut out),
        Format::ServiceCatalog => service_catalog::ingest(input, &mut out),
        Format::Envoy => proxy::ingest_envoy(input, &mut out),
        Format::Nginx => proxy::ingest_nginx(input, &mut out),
        Format::Dockerfile => dockerfile::ingest_dockerfile(input, &mut out),
        Format::EnvFile => env_file::ingest_env_file(input, &mut out),
        Format::Haproxy => proxy::ingest_haproxy(input, &mut out),
        Format::Caddy => proxy::ingest_caddy(input, &mut out),
        Format::DeployEvents => deploy_events::ingest(input, &mut out),
        Format::Markdown => markdown::ingest(input, &mut out),
        Format::AlertRules => alert_rules::ingest(input, &mut out),
    }
    out.finish()
}
