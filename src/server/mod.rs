//! HTTP API (axum): the engine's queries under `/v1`, health, metrics and OpenAPI, and
//! the portal's pages (`crate::portal`). The routes are declared once, in `routes.rs`.
//!
//! Handlers are thin: parse, run the engine on the blocking pool, serialize the same
//! objects the CLI prints with `--json`. Every error is `{"error": {"code", "message"}}`.

mod api;
mod auth;
mod changes;
mod context;
mod error;
mod framework;
mod ingest;
mod limits;
pub mod local;
mod metrics;
mod notes;
mod queries;
mod routes;
mod traces;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::Engine;
use crate::auth::Policy;
use crate::queries::Registry;
pub use error::ApiError;
pub use ingest::{IngestAnswer, IngestRequest};
pub use limits::{MAX_BODY_BYTES, MAX_URI_BYTES};
pub use routes::{MOUNTED, ROUTES, Route};

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    engine: Arc<Engine>,
    metrics: Arc<metrics::Metrics>,
    queries: Arc<Registry>,
    receiver: traces::Shared,
    auth: Arc<Policy>,
}

impl AppState {
    /// The engine (for the portal's handlers).
    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

/// The router over an engine, with the built-in named queries, for in-process use: no
/// token is needed ([`Policy::open`]); `Host` must be a loopback name when given.
pub fn router(engine: Arc<Engine>) -> Router {
    router_with(engine, Arc::new(Registry::builtin()))
}

/// The router over an engine and a set of named queries, without tokens.
pub fn router_with(engine: Arc<Engine>, queries: Arc<Registry>) -> Router {
    router_with_policy(engine, queries, Policy::open())
}

/// The router with the access rules of `policy` (tokens, scopes, `Host` names), as
/// [`serve`] runs it.
pub fn router_with_policy(engine: Arc<Engine>, queries: Arc<Registry>, policy: Policy) -> Router {
    app(engine, queries, Arc::new(policy), &[], CancellationToken::new())
}

/// The routes of [`ROUTES`] and the MCP service at `/mcp` ([`MOUNTED`]); JSON errors for
/// unknown routes, methods, framework rejections and the limits of `limits.rs`; metrics
/// and tracing. `/mcp` also answers `Host: <extra_hosts>` and stops when `stop` fires.
fn app(
    engine: Arc<Engine>,
    queries: Arc<Registry>,
    auth: Arc<Policy>,
    extra_hosts: &[String],
    stop: CancellationToken,
) -> Router {
    let mcp = crate::mcp::http_service(engine.clone(), queries.clone(), extra_hosts, stop);
    let state =
        AppState { engine, metrics: Arc::default(), queries, receiver: Arc::default(), auth };
    routes::method_routers()
        .into_iter()
        .fold(Router::new(), |app, (path, methods)| app.route(path, methods))
        // After the routes: it applies to the routes added so far.
        .method_not_allowed_fallback(api::method_not_allowed)
        .nest_service("/mcp", mcp)
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn(framework::json_errors))
        .layer(DefaultBodyLimit::max(state.engine.limits().max_request_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(axum::middleware::from_fn(limits::uri_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on `bind` with the access rules of `policy` until Ctrl-C (or until `shutdown`
/// fires). While it serves, the data dir holds the endpoint file of `local.rs`, so the
/// CLI forwards its commands here.
pub fn serve(
    engine: Engine,
    queries: Registry,
    policy: Policy,
    bind: &str,
    shutdown: Option<oneshot::Receiver<()>>,
) -> Result<(), ServeError> {
    let addr: SocketAddr = bind
        .parse()
        .map_err(|_| ServeError(format!("`{bind}` is not an address (expected host:port)")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError(e.to_string()))?;
    let engine = Arc::new(engine);
    runtime.block_on(async move {
        // Build the graph before accepting traffic so the first query is fast.
        let warm = engine.clone();
        let _ = tokio::task::spawn_blocking(move || warm.graph(None)).await;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ServeError(format!("cannot listen on {addr}: {e}")))?;
        let bound = listener.local_addr().map_err(|e| ServeError(e.to_string()))?;
        // Without the endpoint file the server still serves; only the CLI cannot forward.
        let data_dir = engine.data_dir().to_path_buf();
        let endpoint = local::LocalEndpoint::generate(bound)
            .and_then(|endpoint| endpoint.write(&data_dir).map(|()| endpoint));
        let (policy, _written) = match endpoint {
            Ok(endpoint) => {
                let written = local::Written::new(&data_dir, &endpoint);
                (policy.with_token(endpoint.policy_token()), Some(written))
            }
            Err(e) => {
                let file = local::path(&data_dir);
                tracing::warn!(file = %file.display(), error = %e,
                    "cannot write the endpoint file: the CLI will not forward to this server");
                (policy, None)
            }
        };
        tracing::info!(addr = %bound, "serving");
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "listening beyond loopback: every request needs a token");
        }
        let stop = CancellationToken::new();
        let hosts = vec![addr.ip().to_string()];
        let app = app(engine, Arc::new(queries), Arc::new(policy), &hosts, stop.clone());
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                match shutdown {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => stop_signal().await,
                }
                stop.cancel();
            })
            .await
            .map_err(|e| ServeError(e.to_string()))
    })
}

/// Ctrl-C, or SIGTERM on Unix: both stop the server cleanly (the endpoint file of
/// `local.rs` is removed).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The server could not start or failed.
#[derive(Debug, thiserror::Error)]
#[error("server: {0}")]
pub struct ServeError(String);
