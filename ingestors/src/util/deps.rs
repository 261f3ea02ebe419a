//! Turns configuration variables into dependency relations, for every ingestor that
//! reads environment variables or config values (Kubernetes, compose, ConfigMaps).
//!
//! Notes name the variable and the host it points at, never the value: values carry
//! passwords (`postgres://user:secret@db`), and Lore stores no secrets in clear.

use lore_schema::{
    DatastoreType, EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Provenance, Record, Relation,
};

use crate::Emitter;
use crate::util::classify;
use crate::util::hosts::{Reference, references};

/// Where a variable was read, for provenance.
#[derive(Debug, Clone, Copy)]
pub struct VarSite<'a> {
    /// Ingestor name.
    pub ingestor: &'a str,
    /// `path:line`.
    pub locator: &'a str,
    /// What holds the variable (`env`, `configmap otel-config`, `args`).
    pub holder: &'a str,
}

/// Emits the relations that variable `key` with `value` implies for `from`.
pub fn emit_var_relations(
    from: &NodeRef,
    namespace: Option<&str>,
    key: &str,
    value: &str,
    site: VarSite<'_>,
    out: &mut Emitter,
) {
    for reference in references(key, value) {
        match reference {
            Reference::Host { host, port, scheme } => {
                let datastore = scheme
                    .as_deref()
                    .and_then(classify::datastore_from_scheme)
                    .or_else(|| port.and_then(classify::datastore_from_port));
                // A datastore URL (`s3://…`, a database port) is a dependency whatever the
                // key says; only other URLs can be references or health checks.
                let kind = match non_call_kind(key, &host) {
                    _ if datastore.is_some() => EdgeKind::DependsOn,
                    Some(kind) => kind,
                    None => EdgeKind::Calls,
                };
                let shown = match port {
                    Some(p) => format!("{host}:{p}"),
                    None => host.clone(),
                };
                let note = format!("{} {} -> {}", site.holder, key, shown);
                out.record(Record::Relation(Relation {
                    from: from.clone(),
                    to: NodeRef::Host { host, namespace: namespace.map(str::to_string) },
                    kind,
                    provenance: Provenance::declared(site.ingestor, site.locator.to_string(), note),
                }));
            }
            Reference::Topic { name, consumes } => {
                let kind = match consumes {
                    Some(true) => EdgeKind::Consumes,
                    Some(false) => EdgeKind::Publishes,
                    None => EdgeKind::DependsOn,
                };
                let note = format!("{} {} names topic {}", site.holder, key, name);
                out.record(Record::Relation(Relation {
                    from: from.clone(),
                    to: NodeRef::name(Some(NodeKind::Datastore), name, None),
                    kind,
                    provenance: Provenance::declared(site.ingestor, site.locator.to_string(), note),
                }));
            }
            Reference::Bucket { name } => {
                let prov = Provenance::declared(
                    site.ingestor,
                    site.locator.to_string(),
                    format!("{} {} names bucket {}", site.holder, key, name),
                );
                let mut bucket = Entity::new(
                    NodeKind::Datastore,
                    name.clone(),
                    EntityClass::Mention,
                    prov.clone(),
                );
                bucket.datastore = Some(DatastoreType::Bucket);
                out.record(Record::Entity(bucket));
                out.record(Record::Relation(Relation {
                    from: from.clone(),
                    to: NodeRef::name(Some(NodeKind::Datastore), name, None),
                    kind: EdgeKind::DependsOn,
                    provenance: prov,
                }));
            }
        }
    }
}

/// The kind of an edge a variable declares when it is not a request the holder sends:
/// health-check dashboards (`HealthChecksUI__…__Uri`, `ORDERING_HC`, `BasketUrlHC`), URLs
/// a browser or another system follows (login redirects, callback URLs, public picture or
/// asset base URLs), and agent-management endpoints (OpAMP). Only the key's words that
/// do not spell the target host count, so `ASSETS_WORKER_URL` pointing at
/// `assets-worker` is a call, `STATIC_ASSETS_URL` pointing at a CDN is a reference.
pub fn non_call_kind(key: &str, host: &str) -> Option<EdgeKind> {
    let upper = key.to_ascii_uppercase();
    let target: Vec<String> =
        host.split(|c: char| !c.is_ascii_alphanumeric()).map(str::to_ascii_uppercase).collect();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !target.iter().any(|t| t == w))
        .collect();
    let last = words.last().copied().unwrap_or("");
    let joined = words.concat();
    if joined.contains("HEALTHCHECK") || last == "HC" || last.ends_with("URLHC") {
        return Some(EdgeKind::HealthCheck);
    }
    if joined.contains("OPAMP") || joined.contains("CONTROLPLANE") {
        return Some(EdgeKind::ControlPlane);
    }
    let reference = [
        "REDIRECT",
        "CALLBACK",
        "RETURNURL",
        "POSTLOGOUT",
        "PICTURE",
        "PICBASE",
        "ASSET",
        "PUBLICURL",
        "EXTERNALURL",
        "CDN",
    ];
    if reference.iter().any(|r| joined.contains(r)) {
        return Some(EdgeKind::UrlReference);
    }
    None
}

/// Hosts in a container's command line: URLs, `host:port`, and `-h host` style flags.
pub fn emit_args_refs(
    me: &NodeRef,
    namespace: Option<&str>,
    args: &[String],
    site: VarSite<'_>,
    out: &mut Emitter,
) {
    let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    for (idx, word) in words.iter().enumerate() {
        let flag = word.trim_start_matches('-');
        let is_host_flag = word.starts_with('-')
            && matches!(
                flag,
                "h" | "host" | "H" | "target" | "server" | "url" | "addr" | "address"
            );
        if is_host_flag && let Some(next) = words.get(idx + 1) {
            emit_var_relations(me, namespace, "ARG_HOST", next, site, out);
        } else if let Some((flag, value)) = word.split_once('=')
            && flag.starts_with("--")
        {
            emit_var_relations(
                me,
                namespace,
                &flag.trim_start_matches('-').replace('-', "_"),
                value,
                site,
                out,
            );
        } else {
            emit_var_relations(me, namespace, "ARG", word, site, out);
        }
    }
}

#[cfg(test)]
mod non_call_tests {
    use super::*;

    #[test]
    fn words_of_the_target_do_not_make_a_call_a_reference() {
        assert_eq!(non_call_kind("ASSETS_WORKER_URL", "assets-worker"), None);
        assert_eq!(non_call_kind("CDN_GATEWAY_ADDR", "cdn-gateway.edge"), None);
        assert_eq!(non_call_kind("STATIC_ASSETS_URL", "static-host"), Some(EdgeKind::UrlReference));
        assert_eq!(non_call_kind("PicBaseUrl", "webspa"), Some(EdgeKind::UrlReference));
        assert_eq!(
            non_call_kind("IdentityUrlExternal__RedirectUri", "identity-api"),
            Some(EdgeKind::UrlReference)
        );
        assert_eq!(non_call_kind("BasketUrlHC", "basket-api"), Some(EdgeKind::HealthCheck));
        assert_eq!(non_call_kind("ORDERING_HC", "ordering-api"), Some(EdgeKind::HealthCheck));
        assert_eq!(non_call_kind("OPAMP_ENDPOINT", "collector"), Some(EdgeKind::ControlPlane));
        assert_eq!(non_call_kind("CART_SERVICE_ADDR", "cart"), None);
    }
}
