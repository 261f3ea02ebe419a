//! HTTP API (axum): the engine's queries under `/v1`, health, metrics and OpenAPI. The
//! routes are declared once, in `routes.rs`.
//!
//! Handlers are thin: parse, run the engine on the blocking pool, serialize the same
//! objects the CLI prints with `--json`. Every error is `{"error": {"code", "message"}}`.

mod api;
mod changes;
mod context;
mod error;
mod limits;
mod metrics;
mod notes;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::sync::oneshot;

use crate::Engine;
pub use error::ApiError;
pub use limits::{MAX_BODY_BYTES, MAX_URI_BYTES};
pub use routes::{ROUTES, Route};

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    engine: Arc<Engine>,
    metrics: Arc<metrics::Metrics>,
}

/// The router over an engine: the routes of [`ROUTES`], JSON errors for unknown routes,
/// methods and the limits of `limits.rs`, metrics and tracing.
pub fn router(engine: Arc<Engine>) -> Router {
    let state = AppState { engine, metrics: Arc::default() };
    routes::method_routers()
        .into_iter()
        .fold(Router::new(), |app, (path, methods)| app.route(path, methods))
        // After the routes: it applies to the routes added so far.
        .method_not_allowed_fallback(api::method_not_allowed)
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(limits::uri_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on `bind` until Ctrl-C (or until `shutdown` fires).
pub fn serve(
    engine: Engine,
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
        tracing::info!(%addr, "serving");
        let app = router(engine);
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                match shutdown {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            })
            .await
            .map_err(|e| ServeError(e.to_string()))
    })
}

/// The server could not start or failed.
#[derive(Debug, thiserror::Error)]
#[error("server: {0}")]
pub struct ServeError(String);
