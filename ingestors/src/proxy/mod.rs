//! Reverse proxies: Envoy static configuration, nginx and HAProxy configuration and
//! Caddyfiles.
//!
//! A proxy config names the upstreams a proxy forwards to: every Envoy cluster endpoint and
//! every nginx `proxy_pass` (or `upstream` server) becomes a `calls` relation from the
//! service that runs the proxy to a [`NodeRef::Host`]. Which service that is, the file
//! does not say; it is the nearest meaningful directory above the file
//! (`src/frontend-proxy/envoy.tmpl.yaml` → `frontend-proxy`), see [`owner`].
//!
//! Proxy edges are routes: a request to the proxy is forwarded to the target, so they stay
//! on the request path even when the target is a feature-flag or telemetry UI (an Envoy
//! route to flagd or Grafana). Their note starts with [`ROUTE_NOTE_PREFIX`], which the main
//! crate keys on to keep them `calls`.

pub mod caddy;
pub mod envoy;
pub mod haproxy;
pub mod nginx;

pub use caddy::ingest_caddy;
pub use envoy::ingest_envoy;
pub use haproxy::ingest_haproxy;
pub use nginx::ingest_nginx;

use std::collections::BTreeSet;

use lore_schema::{EdgeKind, NodeRef, Provenance, Record, Relation};

use crate::util::hosts::{Reference, references};
use crate::{Emitter, Input};

/// Prefix of the note of every proxy route.
pub const ROUTE_NOTE_PREFIX: &str = Provenance::ROUTE_PREFIX;

/// Directory names that hold configuration rather than name a service.
const GENERIC_DIRS: &[&str] = &[
    "config",
    "configs",
    "conf",
    "conf.d",
    "etc",
    "envoy",
    "nginx",
    "deploy",
    "deployment",
    "src",
    "templates",
    "sites-enabled",
    "sites-available",
    "docker",
    ".",
    "..",
];

/// The service that runs the proxy configured at `path`: the nearest ancestor directory
/// whose name is not generic (`conf`, `nginx`, `src`, ...), else the file name up to its
/// first dot.
pub fn owner(path: &str) -> String {
    let mut parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let file = parts.pop().unwrap_or(path);
    let dir = parts.iter().rev().find(|d| !GENERIC_DIRS.contains(&d.to_ascii_lowercase().as_str()));
    match dir {
        Some(dir) => dir.to_string(),
        None => file.split('.').next().filter(|s| !s.is_empty()).unwrap_or(file).to_string(),
    }
}

/// One forwarding target found in a proxy config.
#[derive(Debug, Clone)]
struct Route {
    /// Address as written after interpolation (`frontend`, `ts-travel-service:12346`).
    address: String,
    /// Line of the evidence.
    line: usize,
    /// Note after the route prefix (`envoy cluster frontend`).
    note: String,
}

/// Emits routes from the owner of `input` to the hosts the routes name: the first route
/// to a host wins, local and IP addresses and the proxy itself are skipped.
fn emit_routes(input: &Input<'_>, ingestor: &str, routes: Vec<Route>, out: &mut Emitter) {
    let owner = owner(input.path);
    let from = NodeRef::name(None, owner.as_str(), None);
    let mut seen = BTreeSet::new();
    for route in routes {
        for reference in references("ADDRESS", &route.address) {
            let Reference::Host { host, .. } = reference else { continue };
            if host == owner.to_ascii_lowercase() || !seen.insert(host.clone()) {
                continue;
            }
            let note = format!("{ROUTE_NOTE_PREFIX} {}", route.note);
            out.record(Record::Relation(Relation {
                from: from.clone(),
                to: NodeRef::Host { host, namespace: None },
                kind: EdgeKind::Calls,
                provenance: Provenance::declared(ingestor, input.locator(route.line), note),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_come_from_meaningful_directories() {
        assert_eq!(owner("src/frontend-proxy/envoy.tmpl.yaml"), "frontend-proxy");
        assert_eq!(owner("ts-ui-dashboard/nginx.conf"), "ts-ui-dashboard");
        assert_eq!(owner("socialNetwork/nginx-web-server/conf/nginx.conf"), "nginx-web-server");
        assert_eq!(owner("gateway/deploy/envoy/envoy.yaml"), "gateway");
        assert_eq!(owner("src/envoy/front-envoy.yaml"), "front-envoy");
        assert_eq!(owner("nginx.conf"), "nginx");
    }
}
