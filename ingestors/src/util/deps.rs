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
                let kind = match non_call_kind(key) {
                    Some(kind) => kind,
                    None if datastore.is_some() => EdgeKind::DependsOn,
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
/// asset base URLs), and agent-management endpoints (OpAMP).
pub fn non_call_kind(key: &str) -> Option<EdgeKind> {
    let upper = key.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let last = words.iter().rev().find(|w| !w.is_empty()).copied().unwrap_or("");
    if upper.contains("HEALTHCHECK")
        || upper.contains("HEALTH_CHECK")
        || last == "HC"
        || last.ends_with("URLHC")
    {
        return Some(EdgeKind::HealthCheck);
    }
    if upper.contains("OPAMP") || upper.contains("CONTROL_PLANE") {
        return Some(EdgeKind::ControlPlane);
    }
    let reference = [
        "REDIRECT",
        "CALLBACK",
        "RETURNURL",
        "RETURN_URL",
        "POSTLOGOUT",
        "POST_LOGOUT",
        "PICTURE",
        "PICBASE",
        "PIC_BASE",
        "ASSET",
        "PUBLIC_URL",
        "PUBLICURL",
        "EXTERNAL_URL",
        "EXTERNALURL",
        "CDN",
    ];
    if reference.iter().any(|w| upper.contains(w)) {
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
