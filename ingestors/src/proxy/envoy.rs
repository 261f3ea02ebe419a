//! Envoy static configuration: the endpoints of every cluster under
//! `static_resources.clusters`, in the `load_assignment` form (v3) and the older `hosts`
//! list (v2), written as YAML or as JSON (`front-envoy.json`; JSON is YAML to the parser).
//!
//! Configs are often templates (`envoy.tmpl.yaml`, rendered with `envsubst`) whose
//! addresses are `${FRONTEND_HOST}` placeholders: they are interpolated with the `.env`
//! variables. A template that is not valid YAML until rendered is interpolated as a whole
//! and parsed again.

use serde_yaml::Value;

use super::{Route, emit_routes};
use crate::util::dotenv;
use crate::util::yaml::{YamlDoc, at, scalar_text, seq, str_at};
use crate::{Emitter, Input, Severity, Stability};

/// Ingestor name.
pub const NAME: &str = "envoy";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Parses an Envoy config.
pub fn ingest_envoy(input: &Input<'_>, out: &mut Emitter) {
    let raw = YamlDoc { start_line: 1, text: input.text };
    let rendered;
    let (doc, value) = match raw.parse() {
        Ok(value) => (raw, value),
        Err((line, msg)) => {
            rendered = dotenv::interpolate(input.text, input.env);
            let doc = YamlDoc { start_line: 1, text: &rendered };
            match doc.parse() {
                Ok(value) => (doc, value),
                Err(_) => {
                    out.diagnostic(Severity::Error, line, format!("invalid YAML: {msg}"));
                    return;
                }
            }
        }
    };
    let clusters = seq(at(&value, &["static_resources", "clusters"]));
    if clusters.is_empty() {
        out.diagnostic(Severity::Info, 0, "no static clusters (dynamic configuration is not read)");
        return;
    }
    let lines = ClusterLines::new(&doc);
    let mut routes = Vec::new();
    for (idx, cluster) in clusters.iter().enumerate() {
        let name = str_at(cluster, "name").unwrap_or("?");
        let line = lines.line(idx);
        let mut addresses: Vec<&Value> = Vec::new();
        for endpoints in seq(at(cluster, &["load_assignment", "endpoints"])) {
            for lb in seq(endpoints.get("lb_endpoints")) {
                addresses.extend(at(lb, &["endpoint", "address", "socket_address", "address"]));
            }
        }
        for host in seq(cluster.get("hosts")) {
            addresses.extend(at(host, &["socket_address", "address"]));
        }
        if addresses.is_empty() {
            let msg = format!("cluster {name} has no socket address endpoints; skipped");
            out.diagnostic(Severity::Info, line, msg);
        }
        for address in addresses.into_iter().filter_map(scalar_text) {
            let address = dotenv::interpolate(&address, input.env);
            routes.push(Route { address, line, note: format!("envoy cluster {name}") });
        }
    }
    emit_routes(input, NAME, routes, out);
}

/// Lines of the clusters: the `cluster_name:` of a cluster's `load_assignment`, else the
/// line of its list item.
struct ClusterLines {
    lines: Vec<usize>,
    fallback: usize,
}

impl ClusterLines {
    fn new(doc: &YamlDoc<'_>) -> ClusterLines {
        let key = |parent: Option<usize>, key: &str| {
            doc.children(parent).into_iter().find(|c| !c.item && c.head == key).map(|c| c.line)
        };
        let clusters = key(None, "static_resources").and_then(|l| key(Some(l), "clusters"));
        let lines = clusters
            .map(|l| doc.children(Some(l)))
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.item)
            .map(|item| {
                let assignment = key(Some(item.line), "load_assignment");
                assignment.and_then(|l| key(Some(l), "cluster_name")).unwrap_or(item.line)
            })
            .collect();
        ClusterLines { lines, fallback: clusters.unwrap_or(1) }
    }

    fn line(&self, idx: usize) -> usize {
        self.lines.get(idx).copied().unwrap_or(self.fallback)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Relations (`from kind to @locator note`) and diagnostics of an Envoy config.
    fn check(path: &str, text: &str, env: &str) -> Vec<String> {
        let env = dotenv::parse(env);
        let output = crate::ingest(crate::Format::Envoy, &Input { path, text, env: &env });
        crate::emitter::render::lines(&output, crate::emitter::render::record)
    }

    #[test]
    fn template_clusters_become_routes() {
        let text = "\
static_resources:
  clusters:
    - name: frontend
      load_assignment:
        cluster_name: frontend
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: {address: ${FRONTEND_HOST}, port_value: ${FRONTEND_PORT}}
    - name: flags
      hosts: [{socket_address: {address: flagd.ff.svc.cluster.local, port_value: 8013}}]
    - name: admin
      load_assignment:
        cluster_name: admin
        endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1}}}}]}]
    - name: again
      load_assignment:
        cluster_name: again
        endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: frontend}}}}]}]
";
        let env = "FRONTEND_HOST=frontend\nFRONTEND_PORT=8080\n";
        assert_eq!(
            check("src/frontend-proxy/envoy.tmpl.yaml", text, env),
            [
                "frontend-proxy calls host:flagd.ff.svc.cluster.local @src/frontend-proxy/envoy.tmpl.yaml:11 route: envoy cluster flags",
                "frontend-proxy calls host:frontend @src/frontend-proxy/envoy.tmpl.yaml:5 route: envoy cluster frontend",
            ]
        );
        // `${...}` inside flow collections is not YAML until rendered; plain values are.
        let broken = "static_resources:\n  clusters:\n    - name: a\n      hosts: [{socket_address: {address: ${API}}}]\n";
        assert_eq!(
            check("envoy/envoy.yaml", broken, "API=api"),
            ["envoy calls host:api @envoy/envoy.yaml:3 route: envoy cluster a"]
        );
        // Envoy's JSON form (v2 `hosts` layout) reads the same.
        let json = "{\n  \"static_resources\": {\n    \"clusters\": [\n      {\"name\": \"service1\", \"type\": \"STRICT_DNS\",\n       \"hosts\": [{\"socket_address\": {\"address\": \"service1\", \"port_value\": 80}}]}\n    ]\n  }\n}\n";
        let out = check("front-proxy/front-envoy.json", json, "");
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].starts_with("front-proxy calls host:service1 @front-proxy/front-envoy.json:"),
            "{out:?}"
        );
        assert_eq!(
            check("e.yaml", "static_resources: [\n", ""),
            ["error e.yaml:2 invalid YAML: did not find expected node content"]
        );
    }
}
