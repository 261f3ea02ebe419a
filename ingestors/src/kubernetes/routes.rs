//! Resources that route requests from outside the cluster to Services: an Ingress, the
//! Gateway API's `HTTPRoute` (and `GRPCRoute`, `TCPRoute`, `TLSRoute`, `UDPRoute`) and
//! Traefik's `IngressRoute` (and its TCP and UDP forms). Each becomes an entrypoint
//! service (`<name>-ingress`, or its own name when that says `ingress`) that calls the
//! Services its rules send traffic to.

use lore_schema::{EdgeKind, EntityClass, NodeKind, NodeRef, Record, Relation};
use serde_yaml::Value;

use super::Ctx;
use crate::Emitter;
use crate::util::yaml::{at, seq};

/// Kinds read here.
pub(super) const ROUTE_KINDS: &[&str] = &[
    "Ingress",
    "HTTPRoute",
    "GRPCRoute",
    "TCPRoute",
    "TLSRoute",
    "UDPRoute",
    "IngressRoute",
    "IngressRouteTCP",
    "IngressRouteUDP",
];

/// The Services the rules of `spec` send traffic to.
fn targets<'v>(kind: &str, spec: &'v Value) -> Vec<&'v str> {
    let mut backends: Vec<&Value> = Vec::new();
    match kind {
        "Ingress" => {
            backends.extend(spec.get("defaultBackend").or_else(|| spec.get("backend")));
            for rule in seq(spec.get("rules")) {
                backends.extend(
                    seq(at(rule, &["http", "paths"])).iter().filter_map(|p| p.get("backend")),
                );
            }
            let name = |b: &'v Value| {
                at(b, &["service", "name"]).or_else(|| b.get("serviceName")).and_then(Value::as_str)
            };
            return backends.into_iter().filter_map(name).collect();
        }
        // Gateway API: rules[].backendRefs[] (kind Service unless said otherwise).
        k if k.ends_with("Route") && !k.starts_with("IngressRoute") => {
            for rule in seq(spec.get("rules")) {
                backends.extend(seq(rule.get("backendRefs")));
            }
        }
        // Traefik: routes[].services[] (kind Service unless TraefikService).
        _ => {
            for route in seq(spec.get("routes")) {
                backends.extend(seq(route.get("services")));
            }
        }
    }
    backends
        .into_iter()
        .filter(|b| b.get("kind").and_then(Value::as_str).is_none_or(|k| k == "Service"))
        .filter_map(|b| b.get("name").and_then(Value::as_str))
        .collect()
}

/// The entrypoint service of a routing resource and its calls.
pub(super) fn entrypoint(ctx: &Ctx<'_, '_, '_>, out: &mut Emitter) {
    let spec = ctx.obj.value.get("spec").unwrap_or(&Value::Null);
    let name = if ctx.name.contains("ingress") {
        ctx.name.to_string()
    } else {
        format!("{}-ingress", ctx.name)
    };
    let mut entity = ctx.entity(NodeKind::Service, &name, EntityClass::Workload);
    entity.attrs.insert("entrypoint".to_string(), "true".to_string());
    out.record(Record::Entity(entity));
    let me = NodeRef::name(Some(NodeKind::Service), name, ctx.namespace);
    let word = if ctx.kind == "Ingress" { "ingress".to_string() } else { ctx.kind.to_string() };
    for target in targets(ctx.kind, spec) {
        // Ingress backends also spell `serviceName: x`; route backends are `name: x`.
        let line = match ctx.kind {
            "Ingress" => ctx.line_of(target),
            _ => [
                format!("- name: {target}"),
                format!("name: {target},"),
                format!("name: {target}}}"),
            ]
            .iter()
            .map(|needle| ctx.line_of(needle))
            .find(|&l| l != ctx.line())
            .unwrap_or_else(|| ctx.line_of(target)),
        };
        out.record(Record::Relation(Relation {
            from: me.clone(),
            to: NodeRef::name(None, target, ctx.namespace),
            kind: EdgeKind::Calls,
            provenance: ctx.provenance(line, format!("{word} {} routes to {target}", ctx.name)),
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::emitter::render;
    use crate::{Format, Input};

    #[test]
    fn gateway_api_and_traefik_routes_are_entrypoints_calling_their_services() {
        let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: shop}\nspec:\n  parentRefs: [{name: public}]\n  rules:\n  - backendRefs:\n    - name: frontend\n      port: 80\n    - {kind: ServiceImport, name: remote}\n---\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: api-ingress}\nspec:\n  routes:\n  - match: PathPrefix(`/api`)\n    services:\n    - name: api\n      port: 8080\n    - {name: mirror, kind: TraefikService}\n";
        let env = BTreeMap::new();
        let input = Input { path: "k8s/routes.yaml", text, env: &env };
        let lines = render::lines(&crate::ingest(Format::Kubernetes, &input), render::record);
        let calls: Vec<&String> = lines.iter().filter(|l| l.contains(" calls ")).collect();
        assert_eq!(
            calls,
            [
                "service:api-ingress calls api @k8s/routes.yaml:19 IngressRoute api-ingress routes to api",
                "service:shop-ingress calls frontend @k8s/routes.yaml:8 HTTPRoute shop routes to frontend",
            ]
        );
    }
}
