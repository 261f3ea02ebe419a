//! Where a CLI command runs: on the store itself, or, while `lore serve` holds the data
//! dir (sled allows one process), on that server over loopback HTTP.
//!
//! The CLI opens the store first. When the store is locked it reads the data dir's
//! endpoint file (`lore::server::local`) and, if that server answers, forwards the
//! command with the file's token; each call returns the type the engine returns, so the
//! output is printed by the same code. When the store opens, an endpoint file left by a
//! killed server is removed (holding the lock proves no server runs on it). When nothing
//! works the error is one line saying why.

use std::path::{Path, PathBuf};

use anyhow::Context;
use lore::changes::{ChangesRequest, ChangesView, DiffView};
use lore::context::ContextRequest;
use lore::engine::{ImpactRequest, ImpactView, PathView, SearchRequest, SearchView, ShowView};
use lore::graph::Direction;
use lore::server::IngestAnswer;
use lore::server::local::{self, LocalEndpoint};
use lore::traces::{DriftView, ObservedView};
use lore::{Engine, Error};

use super::remote::{Remote, segment};

/// The store, or the server that holds it.
pub(crate) enum Backend {
    /// This process opened the store (boxed: an engine is large, the client small).
    Local(Box<Engine>),
    /// A `lore serve` holds the store; commands are forwarded to it.
    Remote(Remote),
}

fn sides_name(sides: lore::graph::Sides) -> &'static str {
    match sides {
        lore::graph::Sides::Both => "both",
        lore::graph::Sides::Declared => "declared",
        lore::graph::Sides::Observed => "observed",
    }
}

fn secs(t: Option<i64>) -> Option<String> {
    t.map(|t| t.to_string())
}

impl Backend {
    /// Opens the store in `data_dir`, or finds the server holding it.
    pub(crate) fn open(data_dir: &Path, config: &lore::config::Config) -> anyhow::Result<Backend> {
        match open_store(data_dir, config)? {
            Ok(engine) => Ok(Backend::Local(Box::new(engine))),
            Err(locked) => match LocalEndpoint::read(data_dir) {
                Some(endpoint) => {
                    let remote = Remote::new(&endpoint);
                    if remote.answers() {
                        tracing::debug!(server = remote.base(), "forwarding to lore serve");
                        return Ok(Backend::Remote(remote));
                    }
                    anyhow::bail!(
                        "{locked}, and the server that {} names ({}) does not answer",
                        local::path(data_dir).display(),
                        endpoint.addr
                    )
                }
                None => {
                    anyhow::bail!("{locked} (no `lore serve` to forward to); retry when it ends")
                }
            },
        }
    }

    /// The engine, for commands that are not forwarded: `what` names the command in the
    /// error when a server holds the store.
    pub(crate) fn into_engine(self, what: &str) -> anyhow::Result<Engine> {
        match self {
            Backend::Local(engine) => Ok(*engine),
            Backend::Remote(remote) => anyhow::bail!(
                "the data dir is held by `lore serve` at {}; `lore {what}` does not go through \
                 the server: stop it first, or use its HTTP API",
                remote.base()
            ),
        }
    }

    pub(crate) fn show(
        &self,
        node: &str,
        at: Option<i64>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> anyhow::Result<ShowView> {
        match self {
            Backend::Local(e) => Ok(e.show_in(node, at, since, until)?),
            Backend::Remote(r) => r.get(
                &format!("/v1/nodes/{}", segment(node)),
                &[("at", secs(at)), ("since", secs(since)), ("until", secs(until))],
            ),
        }
    }

    pub(crate) fn impact(&self, req: &ImpactRequest) -> anyhow::Result<ImpactView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.impact(req)?),
            Backend::Remote(r) => r,
        };
        let direction = match req.direction {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
        };
        let kinds: Vec<&str> = req.edge_kinds.iter().map(|k| k.as_str()).collect();
        r.get(
            "/v1/impact",
            &[
                ("node", Some(req.node.clone())),
                ("direction", Some(direction.to_string())),
                ("depth", req.depth.map(|d| d.to_string())),
                ("edge_kinds", (!kinds.is_empty()).then(|| kinds.join(","))),
                ("include_plumbing", Some(req.include_plumbing.to_string())),
                ("include_optional", Some(req.include_optional.to_string())),
                ("at", secs(req.at)),
                ("sides", Some(sides_name(req.sides).to_string())),
            ],
        )
    }

    pub(crate) fn path(
        &self,
        from: &str,
        to: &str,
        include_plumbing: bool,
        at: Option<i64>,
    ) -> anyhow::Result<PathView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.path(from, to, include_plumbing, at)?),
            Backend::Remote(r) => r,
        };
        r.get(
            "/v1/path",
            &[
                ("from", Some(from.to_string())),
                ("to", Some(to.to_string())),
                ("include_plumbing", Some(include_plumbing.to_string())),
                ("at", secs(at)),
            ],
        )
    }

    pub(crate) fn search(&self, req: &SearchRequest) -> anyhow::Result<SearchView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.search(req)?),
            Backend::Remote(r) => r,
        };
        r.get(
            "/v1/search",
            &[
                ("q", Some(req.query.clone())),
                ("kind", (!req.kinds.is_empty()).then(|| req.kinds.join(","))),
                ("service", req.service.clone()),
                ("team", req.team.clone()),
                ("alert", req.alert.clone()),
                ("mode", Some(req.mode.clone())),
                ("limit", Some(req.limit.to_string())),
            ],
        )
    }

    pub(crate) fn changes(&self, req: &ChangesRequest) -> anyhow::Result<ChangesView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.changes(req)?),
            Backend::Remote(r) => r,
        };
        r.get(
            "/v1/changes",
            &[
                ("node", Some(req.node.clone())),
                ("depth", req.depth.map(|d| d.to_string())),
                ("since", secs(req.since)),
                ("until", secs(req.until)),
                ("at", secs(req.at)),
            ],
        )
    }

    pub(crate) fn diff(&self, since: i64, until: Option<i64>) -> anyhow::Result<DiffView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.diff(since, until)?),
            Backend::Remote(r) => r,
        };
        r.get("/v1/diff", &[("since", Some(since.to_string())), ("until", secs(until))])
    }

    /// The bundle's text (JSON or markdown, as the request's format says).
    pub(crate) fn context(&self, req: &ContextRequest) -> anyhow::Result<String> {
        let r = match self {
            Backend::Local(e) => return Ok(e.context(req)?.1),
            Backend::Remote(r) => r,
        };
        r.post_text("/v1/context", &[], &req.to_json())
    }

    pub(crate) fn observed(
        &self,
        node: Option<&str>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> anyhow::Result<ObservedView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.observed(node, since, until)?),
            Backend::Remote(r) => r,
        };
        let params =
            [("node", node.map(str::to_string)), ("since", secs(since)), ("until", secs(until))];
        r.get("/v1/observed", &params)
    }

    pub(crate) fn drift(&self, since: Option<i64>) -> anyhow::Result<DriftView> {
        let r = match self {
            Backend::Local(e) => return Ok(e.drift(since)?),
            Backend::Remote(r) => r,
        };
        r.get("/v1/drift", &[("since", secs(since))])
    }

    /// Runs named query `name` (checked against `registry` by the caller) with `params`.
    pub(crate) fn query(
        &self,
        registry: &lore::queries::Registry,
        name: &str,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> anyhow::Result<lore::queries::Answer> {
        match self {
            Backend::Local(e) => Ok(registry.run(e, name, params)?),
            Backend::Remote(r) => {
                r.post(&format!("/v1/queries/{}", segment(name)), &params.clone().into())
            }
        }
    }

    /// Ingests `paths` (each shown in the report as the caller typed it).
    pub(crate) fn ingest(&self, paths: &[PathBuf], no_embed: bool) -> anyhow::Result<IngestAnswer> {
        let now = lore::time::now();
        let r = match self {
            Backend::Local(e) => {
                let roots: Vec<(PathBuf, String)> =
                    paths.iter().map(|p| (p.clone(), p.display().to_string())).collect();
                return Ok(IngestAnswer::run(e, &roots, no_embed, now)?);
            }
            Backend::Remote(r) => r,
        };
        let mut absolute = Vec::new();
        for p in paths {
            absolute.push(std::path::absolute(p).with_context(|| format!("{}", p.display()))?);
        }
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let body = serde_json::json!({ "paths": absolute, "shown": shown, "no_embed": no_embed });
        r.post("/v1/ingest", &body)
    }
}

/// The engine on `data_dir`, or, when another process holds the store, why not (one
/// line); other failures are errors.
fn open_store(
    data_dir: &Path,
    config: &lore::config::Config,
) -> anyhow::Result<Result<Engine, String>> {
    match Engine::open(data_dir) {
        Ok(engine) => {
            let stale = local::path(data_dir);
            if LocalEndpoint::read(data_dir).is_some() {
                tracing::info!(file = %stale.display(), "removing the endpoint file of a server that is gone");
                let _ = std::fs::remove_file(&stale);
            }
            Ok(Ok(engine
                .with_embedding(config.embedding.clone())
                .with_limits(config.limits.clone())))
        }
        Err(Error::Store(lore::store::StoreError::Locked { .. })) => {
            Ok(Err(format!("data dir {} is in use by another lore process", data_dir.display())))
        }
        Err(e) => Err(e).with_context(|| format!("opening data dir {}", data_dir.display())),
    }
}
