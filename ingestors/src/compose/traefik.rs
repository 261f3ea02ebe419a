//! Traefik's Docker provider: a compose service labelled for Traefik (`traefik.enable=true`,
//! or `traefik.http.*` / `traefik.tcp.*` / `traefik.udp.*` routers and services) is
//! routed to by the Traefik service of the same file (image `traefik`), so those labels are
//! the proxy's routes. A service labelled `traefik.enable=false` is not routed; one without
//! Traefik labels is left out (real setups turn `exposedByDefault` off).

use lore_schema::{EdgeKind, Provenance, Record, Relation};
use serde_yaml::Value;

use super::{NAME, Service};
use crate::Emitter;
use crate::util::yaml::scalar_text;

/// The `key=value` labels of a service (mapping or list form).
fn labels(body: &Value) -> Vec<(String, String)> {
    match body.get("labels") {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((scalar_text(k)?, scalar_text(v).unwrap_or_default())))
            .collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(scalar_text)
            .map(|t| match t.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                None => (t.trim().to_string(), String::new()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether the service runs Traefik (image `traefik[:tag]`, any registry).
fn is_traefik(svc: &Service<'_, '_>) -> bool {
    svc.text("image").is_some_and(|image| {
        let repo = image.rsplit('/').next().unwrap_or(&image);
        repo.split([':', '@']).next() == Some("traefik")
    })
}

/// Whether Traefik routes to the service these labels describe.
fn routed(labels: &[(String, String)]) -> bool {
    let enable = labels.iter().find(|(k, _)| k == "traefik.enable");
    match enable {
        Some((_, v)) => v.eq_ignore_ascii_case("true"),
        None => labels.iter().any(|(k, _)| {
            ["traefik.http.", "traefik.tcp.", "traefik.udp."].iter().any(|p| k.starts_with(p))
        }),
    }
}

/// Routes from each Traefik service of `services` (one compose document) to the services
/// labelled for it.
pub(super) fn routes(services: &[Service<'_, '_>], out: &mut Emitter) {
    let proxies: Vec<&Service<'_, '_>> = services.iter().filter(|s| is_traefik(s)).collect();
    if proxies.is_empty() {
        return;
    }
    for svc in services.iter().filter(|s| !is_traefik(s)) {
        if !routed(&labels(svc.body)) {
            continue;
        }
        let locator = svc.locator(svc.key_line("labels"));
        for proxy in &proxies {
            let note = format!("{} traefik labels of {}", Provenance::ROUTE_PREFIX, svc.name);
            out.record(Record::Relation(Relation {
                from: proxy.me(),
                to: svc.me(),
                kind: EdgeKind::Calls,
                provenance: Provenance::declared(NAME, locator.clone(), note),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::emitter::render;
    use crate::{Emitter, Input};

    #[test]
    fn traefik_routes_to_the_services_labelled_for_it() {
        let text = "services:\n  proxy:\n    image: traefik:v3.0\n    command: [--providers.docker.exposedbydefault=false]\n  whoami:\n    image: traefik/whoami\n    labels:\n      - traefik.enable=true\n      - traefik.http.routers.whoami.rule=Host(`whoami.localhost`)\n  api:\n    image: shop/api:1\n    labels:\n      traefik.http.services.api.loadbalancer.server.port: \"8080\"\n  db:\n    image: postgres:16\n    labels: [traefik.enable=false, traefik.http.routers.db.rule=Host(`db`)]\n  worker:\n    image: shop/worker:1\n";
        let env = BTreeMap::new();
        let input = Input { path: "edge/docker-compose.yaml", text, env: &env };
        let mut out = Emitter::new(input.path);
        super::super::ingest(&input, &mut out);
        let lines = render::lines(&out.finish(), render::record);
        let routes: Vec<&String> = lines.iter().filter(|l| l.contains("traefik labels")).collect();
        assert_eq!(
            routes,
            [
                "proxy calls api @edge/docker-compose.yaml:12 route: traefik labels of api",
                "proxy calls whoami @edge/docker-compose.yaml:7 route: traefik labels of whoami",
            ]
        );
    }
}
