//! The route table: every route the server answers, declared once. [`super::router`] is
//! built from it and [`ROUTES`] lists it, so the OpenAPI test can check that
//! `openapi.json` documents exactly these paths and methods. A route is one line:
//! `"/v1/path/{param}" => get(module::handler), post(module::other);`.

use axum::routing::MethodRouter;

use super::{AppState, api, changes, context, ingest, metrics, notes, queries, traces};
use crate::portal;

/// A route: its path (axum's `{param}` syntax, which is also OpenAPI's) and its methods,
/// lower case as OpenAPI spells them (`get` also answers `HEAD`, as axum does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The path.
    pub path: &'static str,
    /// The methods, lower case.
    pub methods: &'static [&'static str],
}

macro_rules! route_table {
    ($($path:literal => $($method:ident($handler:path)),+;)+) => {
        /// Every route the router serves, in declaration order.
        pub const ROUTES: &[Route] =
            &[$(Route { path: $path, methods: &[$(stringify!($method)),+] }),+];

        /// Each route's path with its handlers.
        pub(super) fn method_routers() -> Vec<(&'static str, MethodRouter<AppState>)> {
            vec![$(($path, MethodRouter::new()$(.$method($handler))+)),+]
        }
    };
}

route_table! {
    "/" => get(portal::search);
    "/search" => get(portal::search);
    "/docs/{id}" => get(portal::document);
    "/services" => get(portal::catalog);
    "/services/{name}" => get(portal::service);
    "/incident" => get(portal::incident);
    "/portal/style.css" => get(portal::style);
    "/portal/app.js" => get(portal::script);
    "/favicon.svg" => get(portal::favicon);
    "/healthz" => get(api::healthz);
    "/readyz" => get(api::readyz);
    "/metrics" => get(metrics::render);
    "/v1/openapi.json" => get(api::openapi);
    "/v1/nodes" => get(api::nodes);
    "/v1/nodes/{node}" => get(api::show);
    "/v1/impact" => get(api::impact);
    "/v1/path" => get(api::path);
    "/v1/changes" => get(changes::changes);
    "/v1/diff" => get(changes::diff);
    "/v1/events" => post(changes::post_events);
    "/v1/ingest" => post(ingest::ingest);
    "/v1/search" => get(api::search);
    "/v1/context" => post(context::context);
    "/v1/context/{bundle_id}/more" => get(context::more);
    "/v1/notes" => get(notes::list_notes), post(notes::add_note);
    "/v1/notes/{id}" => delete(notes::remove_note);
    "/v1/feedback" => get(notes::list_feedback), post(notes::add_feedback);
    "/v1/feedback/{id}" => delete(notes::remove_feedback);
    "/v1/queries" => get(queries::list);
    "/v1/queries/{name}" => post(queries::run);
    "/v1/traces" => post(traces::receive);
    "/v1/observed" => get(traces::observed);
    "/v1/drift" => get(traces::drift);
}

/// Services mounted whole rather than by method: MCP's streamable HTTP transport
/// (JSON-RPC over `POST`; stateless, so no `GET` stream or `DELETE` of a session).
pub const MOUNTED: &[Route] = &[Route { path: "/mcp", methods: &["post"] }];
