//! Kubernetes manifests: workloads, Services, ConfigMaps, Ingresses, NetworkPolicies and
//! Strimzi Kafka topics, from multi-document files and `List`s.
//!
//! Dependencies come from container env vars (plain, `$(VAR)` expansion, ConfigMap and
//! Secret refs), container args, mounted ConfigMap contents, Ingress backends and
//! NetworkPolicy allow-lists. Selectors, DNS names and ConfigMaps or Secrets of other
//! files are emitted as references and resolved across files by the main crate
//! ([`crate::util::config_ref`]).

use std::collections::BTreeMap;

use lore_schema::{EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Provenance, Record, Relation};
use serde_yaml::Value;

use crate::util::classify;
use crate::util::config_ref::Store;
use crate::util::deps::{VarSite, emit_args_refs, emit_var_relations};
use crate::util::yaml::{
    YamlDoc, at, parse_documents, scalar_text, seq, split_documents, str_at, string_map,
};
use crate::{Emitter, Input, Severity, Stability};

mod config;
mod env;
mod routes;

/// Ingestor name.
pub const NAME: &str = "kubernetes";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "DeploymentConfig",
];

/// Label and annotation keys that name the owning team.
const OWNER_KEYS: &[&str] =
    &["team", "owner", "app.kubernetes.io/team", "app.kubernetes.io/owner", "backstage.io/owner"];

struct Object<'d, 'a> {
    value: Value,
    doc: &'d YamlDoc<'a>,
    line: usize,
}

/// Parses one manifest file.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    let docs = split_documents(input.text);
    let mut objects = Vec::new();
    for (doc, value) in parse_documents(&docs, out) {
        if str_at(&value, "kind").is_some_and(|k| k.ends_with("List")) {
            for item in seq(value.get("items")) {
                let name =
                    str_at(item.get("metadata").unwrap_or(&Value::Null), "name").unwrap_or("");
                let line = doc.line_of(&format!("name: {name}"), doc.start_line);
                objects.push(Object { value: item.clone(), doc, line });
            }
        } else {
            objects.push(Object { value, doc, line: doc.start_line });
        }
    }
    let configmaps = config::collect(&objects);
    config::emit_held_relations(input, &objects, out);
    for obj in &objects {
        let Some(kind) = str_at(&obj.value, "kind") else {
            out.diagnostic(Severity::Warning, obj.line, "object has no `kind`; skipped");
            continue;
        };
        let meta = obj.value.get("metadata").unwrap_or(&Value::Null);
        let handled = WORKLOADS.contains(&kind)
            || routes::ROUTE_KINDS.contains(&kind)
            || matches!(kind, "Service" | "NetworkPolicy" | "KafkaTopic" | "Kafka");
        if !handled {
            continue;
        }
        let Some(name) = str_at(meta, "name") else {
            out.diagnostic(
                Severity::Warning,
                obj.line,
                format!("{kind} has no metadata.name; skipped"),
            );
            continue;
        };
        let ctx = Ctx { input, obj, kind, name, namespace: str_at(meta, "namespace"), meta };
        match kind {
            k if WORKLOADS.contains(&k) => workload(&ctx, &configmaps, out),
            "Service" => service(&ctx, out),
            k if routes::ROUTE_KINDS.contains(&k) => routes::entrypoint(&ctx, out),
            "NetworkPolicy" => network_policy(&ctx, out),
            "KafkaTopic" => kafka_topic(&ctx, out),
            "Kafka" => kafka_cluster(&ctx, out),
            _ => {}
        }
    }
}

struct Ctx<'c, 'd, 'a> {
    input: &'c Input<'a>,
    obj: &'c Object<'d, 'a>,
    kind: &'c str,
    name: &'c str,
    namespace: Option<&'c str>,
    meta: &'c Value,
}

impl Ctx<'_, '_, '_> {
    fn line(&self) -> usize {
        self.obj.doc.line_of(&format!("name: {}", self.name), self.obj.line)
    }

    fn line_of(&self, needle: &str) -> usize {
        self.obj.doc.line_of(needle, self.line())
    }

    fn provenance(&self, line: usize, note: impl Into<String>) -> Provenance {
        Provenance::declared(NAME, self.input.locator(line), note)
    }

    fn entity(&self, kind: NodeKind, name: &str, class: EntityClass) -> Entity {
        let prov = self.provenance(self.line(), format!("{} {}", self.kind, self.name));
        let mut entity = Entity::new(kind, name, class, prov);
        entity.namespace = self.namespace.map(str::to_string);
        let labels = string_map(self.meta.get("labels"));
        let annotations = string_map(self.meta.get("annotations"));
        entity.owner = OWNER_KEYS
            .iter()
            .find_map(|k| annotations.get(*k).or_else(|| labels.get(*k)))
            .map(|o| o.trim_start_matches("group:").to_string());
        entity.system =
            labels.get("app.kubernetes.io/part-of").or_else(|| annotations.get("system")).cloned();
        for key in ["tier", "description"] {
            if let Some(v) = annotations.get(key).or_else(|| labels.get(key)) {
                entity.attrs.insert(key.to_string(), v.clone());
            }
        }
        entity.attrs.insert("k8s_kind".to_string(), self.kind.to_string());
        entity
    }

    fn me(&self) -> NodeRef {
        NodeRef::name(None, self.name, self.namespace)
    }
}

fn workload(ctx: &Ctx<'_, '_, '_>, configmaps: &config::ConfigMaps, out: &mut Emitter) {
    let spec = ctx.obj.value.get("spec").unwrap_or(&Value::Null);
    let (template_meta, pod_spec) = match ctx.kind {
        "Pod" => (Some(ctx.meta), Some(spec)),
        "CronJob" => (
            at(spec, &["jobTemplate", "spec", "template", "metadata"]),
            at(spec, &["jobTemplate", "spec", "template", "spec"]),
        ),
        _ => (at(spec, &["template", "metadata"]), at(spec, &["template", "spec"])),
    };
    let Some(pod_spec) = pod_spec else {
        out.diagnostic(
            Severity::Warning,
            ctx.line(),
            format!("{} {} has no pod template", ctx.kind, ctx.name),
        );
        return;
    };
    for field in ["containers", "initContainers"] {
        if let Some(value) = pod_spec.get(field).filter(|v| !v.is_sequence() && !v.is_null()) {
            let msg = format!(
                "{} {}: `{field}` is {}, expected a list of containers",
                ctx.kind,
                ctx.name,
                crate::util::yaml::type_name(value)
            );
            out.diagnostic(Severity::Error, ctx.line_of(&format!("{field}:")), msg);
        }
    }
    let containers: Vec<&Value> =
        seq(pod_spec.get("containers")).iter().chain(seq(pod_spec.get("initContainers"))).collect();
    let images: Vec<&str> =
        seq(pod_spec.get("containers")).iter().filter_map(|c| str_at(c, "image")).collect();
    let datastore = images
        .iter()
        .find_map(|i| classify::datastore_from_image(i))
        .or_else(|| classify::datastore_from_name(ctx.name));
    let kind = if datastore.is_some() { NodeKind::Datastore } else { NodeKind::Service };
    let mut entity = ctx.entity(kind, ctx.name, EntityClass::Workload);
    entity.datastore = datastore;
    entity.role = classify::role(images.first().copied(), ctx.name);
    entity.labels = string_map(template_meta.and_then(|m| m.get("labels")));
    if let Some(image) = images.first() {
        entity.attrs.insert("image".to_string(), image.to_string());
    }
    out.record(Record::Entity(entity));

    let me = ctx.me();
    for container in containers {
        let env = env::container_env(ctx, container, configmaps, out);
        for (key, value, line) in &env {
            let locator = ctx.input.locator(*line);
            let site = VarSite { ingestor: NAME, locator: &locator, holder: "env" };
            emit_var_relations(&me, ctx.namespace, key, value, site, out);
        }
        let vars: BTreeMap<String, String> =
            env.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect();
        let args: Vec<String> = seq(container.get("command"))
            .iter()
            .chain(seq(container.get("args")))
            .filter_map(scalar_text)
            .map(|a| env::expand_kube_vars(&a, &vars))
            .collect();
        emit_args(&me, ctx, &args, out);
    }
    for volume in seq(pod_spec.get("volumes")) {
        let Some(cm) = at(volume, &["configMap", "name"]).and_then(Value::as_str) else { continue };
        let line = ctx.line_of(&format!("name: {cm}"));
        let key = (Store::ConfigMap, ctx.namespace.map(str::to_string), cm.to_string());
        let Some(data) = configmaps.get(&key) else {
            env::link(ctx, Store::ConfigMap, cm, None, line, format!("volume configmap {cm}"), out);
            continue;
        };
        let locator = ctx.input.locator(line);
        let holder = format!("configmap {cm}");
        for (file, content) in data {
            for (key, value) in config::key_values(file, content) {
                let site = VarSite { ingestor: NAME, locator: &locator, holder: &holder };
                emit_var_relations(&me, ctx.namespace, &key, &value, site, out);
            }
        }
    }
}

fn emit_args(me: &NodeRef, ctx: &Ctx<'_, '_, '_>, args: &[String], out: &mut Emitter) {
    if args.is_empty() {
        return;
    }
    let line = ctx.line_of("args:").max(ctx.line_of("command:"));
    let locator = ctx.input.locator(line);
    let site = VarSite { ingestor: NAME, locator: &locator, holder: "args" };
    emit_args_refs(me, ctx.namespace, args, site, out);
}

fn service(ctx: &Ctx<'_, '_, '_>, out: &mut Emitter) {
    let spec = ctx.obj.value.get("spec").unwrap_or(&Value::Null);
    let mut entity = ctx.entity(NodeKind::Service, ctx.name, EntityClass::Endpoint);
    entity.selector = string_map(spec.get("selector"));
    let ports: Vec<u16> = seq(spec.get("ports"))
        .iter()
        .filter_map(|p| p.get("port").and_then(Value::as_u64))
        .filter_map(|p| u16::try_from(p).ok())
        .collect();
    if let Some(t) = ports.iter().find_map(|p| classify::datastore_from_port(*p)) {
        entity.datastore = Some(t);
    }
    if !ports.is_empty() {
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        entity.attrs.insert("ports".to_string(), list.join(","));
    }
    if let Some(t) = str_at(spec, "type") {
        entity.attrs.insert("service_type".to_string(), t.to_string());
    }
    if let Some(ext) = str_at(spec, "externalName") {
        entity.attrs.insert("external_name".to_string(), ext.to_string());
    }
    out.record(Record::Entity(entity));
}

fn selector_of(peer: &Value) -> BTreeMap<String, String> {
    string_map(at(peer, &["podSelector", "matchLabels"]))
}

fn network_policy(ctx: &Ctx<'_, '_, '_>, out: &mut Emitter) {
    let spec = ctx.obj.value.get("spec").unwrap_or(&Value::Null);
    let target = string_map(at(spec, &["podSelector", "matchLabels"]));
    if target.is_empty() {
        return;
    }
    let ns = ctx.namespace.map(str::to_string);
    let target_ref = NodeRef::Selector { namespace: ns.clone(), labels: target };
    let peer_ns = |peer: &Value| {
        let ns_labels = string_map(at(peer, &["namespaceSelector", "matchLabels"]));
        ns_labels
            .get("kubernetes.io/metadata.name")
            .or_else(|| ns_labels.get("name"))
            .cloned()
            .or_else(|| ns.clone())
    };
    for rule in seq(spec.get("ingress")) {
        for peer in seq(rule.get("from")) {
            let labels = selector_of(peer);
            if labels.is_empty() {
                continue;
            }
            let rules_line = ctx.line_of("ingress:");
            let line =
                ctx.obj.doc.line_of(labels.values().next().map_or("", String::as_str), rules_line);
            out.record(Record::Relation(Relation {
                from: NodeRef::Selector { namespace: peer_ns(peer), labels },
                to: target_ref.clone(),
                kind: EdgeKind::Calls,
                provenance: ctx
                    .provenance(line, format!("networkpolicy {} allows ingress", ctx.name)),
            }));
        }
    }
    for rule in seq(spec.get("egress")) {
        for peer in seq(rule.get("to")) {
            let labels = selector_of(peer);
            if labels.is_empty() {
                continue;
            }
            let rules_line = ctx.line_of("egress:");
            let line =
                ctx.obj.doc.line_of(labels.values().next().map_or("", String::as_str), rules_line);
            out.record(Record::Relation(Relation {
                from: target_ref.clone(),
                to: NodeRef::Selector { namespace: peer_ns(peer), labels },
                kind: EdgeKind::Calls,
                provenance: ctx
                    .provenance(line, format!("networkpolicy {} allows egress", ctx.name)),
            }));
        }
    }
}

fn kafka_topic(ctx: &Ctx<'_, '_, '_>, out: &mut Emitter) {
    let spec = ctx.obj.value.get("spec").unwrap_or(&Value::Null);
    let name = str_at(spec, "topicName").unwrap_or(ctx.name);
    let mut entity = ctx.entity(NodeKind::Datastore, name, EntityClass::Workload);
    entity.datastore = Some(lore_schema::DatastoreType::KafkaTopic);
    out.record(Record::Entity(entity));
    let labels = string_map(ctx.meta.get("labels"));
    if let Some(cluster) = labels.get("strimzi.io/cluster") {
        out.record(Record::Relation(Relation {
            from: NodeRef::name(Some(NodeKind::Datastore), name, ctx.namespace),
            to: NodeRef::Host {
                host: cluster.clone(),
                namespace: ctx.namespace.map(str::to_string),
            },
            kind: EdgeKind::DependsOn,
            provenance: ctx.provenance(
                ctx.line_of("strimzi.io/cluster"),
                format!("topic {name} lives on cluster {cluster}"),
            ),
        }));
    }
}

fn kafka_cluster(ctx: &Ctx<'_, '_, '_>, out: &mut Emitter) {
    let mut entity = ctx.entity(NodeKind::Datastore, ctx.name, EntityClass::Workload);
    entity.datastore = Some(lore_schema::DatastoreType::Kafka);
    out.record(Record::Entity(entity));
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn check(text: &str) -> crate::Output {
        let env = BTreeMap::new();
        let input = Input { path: "m.yaml", text, env: &env };
        crate::ingest(crate::Format::Kubernetes, &input)
    }

    #[test]
    fn deployments_services_and_env_dependencies() {
        let out = check(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: checkout\n    namespace: shop\n    labels: {team: payments}\n  spec:\n    template:\n      metadata:\n        labels: {app: checkout}\n      spec:\n        containers:\n        - name: c\n          image: shop/checkout:1\n          env:\n          - name: CART_ADDR\n            value: cart:7070\n          - name: PW\n            valueFrom: {secretKeyRef: {name: s, key: pw}}\n          - name: DATABASE_URL\n            value: postgres://u:$(PW)@orders-db:5432/o\n          - name: REDIS_URL\n            value: redis://:hunter2@cache:6379\n---\napiVersion: v1\nkind: Service\nmetadata: {name: checkout, namespace: shop}\nspec:\n  selector: {app: checkout}\n  ports: [{port: 80}]\n---\n: bad: [\n",
        );
        let rels: Vec<String> = out
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Relation(r) => Some(format!(
                    "{} {} {} @{}",
                    r.from.key(),
                    r.kind,
                    r.to.key(),
                    r.provenance.locator
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            rels,
            [
                "shop/checkout calls shop/secret/s#pw @m.yaml:21",
                "shop/checkout depends_on host:shop/cache @m.yaml:25",
                "shop/checkout calls host:shop/cart @m.yaml:19",
                "shop/checkout depends_on host:shop/orders-db @m.yaml:23",
            ]
        );
        let dump = format!("{:?}", out.records);
        assert!(!dump.contains("hunter2") && !dump.contains("$(PW)"), "values are not stored");
        let entities = out.records.iter().filter(|r| matches!(r, Record::Entity(_))).count();
        assert_eq!(entities, 2);
        assert_eq!(out.diagnostics.len(), 1);
        assert!(out.diagnostics[0].locator.starts_with("m.yaml:3"), "{:?}", out.diagnostics);
    }

    #[test]
    fn configmap_and_secret_indirection_resolve_like_inline_env() {
        // DB_HOST=orders-db, DB_PASSWORD=hunter2-s3cret (base64), and a stringData URL.
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n  CART_ADDR: cart:7070\n  FLAGS_KEY: x\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  DB_HOST: b3JkZXJzLWRi\n  DB_PASSWORD: aHVudGVyMi1zM2NyZXQ=\nstringData:\n  CACHE_URL: redis://:pw-in-url@cache:6379\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: shop/checkout:1\n        envFrom:\n        - configMapRef: {name: cfg}\n        - secretRef: {name: db}\n        env:\n        - name: SHIP_ADDR\n          valueFrom: {configMapKeyRef: {name: cfg, key: CART_ADDR}}\n        - name: PGHOST\n          valueFrom: {secretKeyRef: {name: db, key: DB_HOST}}\n";
        let out = check(text);
        let rels: BTreeSet<String> = out
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Relation(r) => Some(format!("{} {} {}", r.from.key(), r.kind, r.to.key())),
                _ => None,
            })
            .collect();
        for want in [
            "checkout calls host:cart",
            "checkout calls host:orders-db",
            "checkout depends_on host:cache",
        ] {
            assert!(rels.contains(want), "{want} in {rels:?}");
        }
        let dump = format!("{:?}", out.records);
        for secret in ["hunter2", "s3cret", "pw-in-url", "aHVudGVy", "b3JkZXJz"] {
            assert!(!dump.contains(secret), "{secret} stored: {dump}");
        }
    }

    #[test]
    fn configmaps_of_other_files_are_linked_and_every_configmap_holds_its_keys() {
        let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: shop/web:1\n        envFrom:\n        - configMapRef: {name: apis}\n        env:\n        - name: DB_HOST\n          valueFrom: {secretKeyRef: {name: db, key: host}}\n        - name: DB_PASSWORD\n          valueFrom: {secretKeyRef: {name: db, key: password}}\n      volumes:\n      - name: conf\n        configMap: {name: proxy-conf}\n";
        let rels = |out: &crate::Output| -> Vec<String> {
            out.records
                .iter()
                .filter_map(|r| match r {
                    Record::Relation(r) => Some(crate::emitter::render::relation(r)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            rels(&check(app)),
            [
                "shop/web calls shop/configmap/apis @m.yaml:11 envFrom configmap apis",
                "shop/web calls shop/configmap/proxy-conf @m.yaml:19 volume configmap proxy-conf",
                "shop/web calls shop/secret/db#host @m.yaml:13 env DB_HOST from secret db key host",
            ],
            "credential keys are not linked"
        );
        let config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: apis, namespace: shop}\ndata:\n  CART_ADDR: cart:7070\n  LOG_LEVEL: info\n  nginx.conf: |\n    upstream_host: orders:80\n    worker_processes: 2\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData:\n  host: orders-db\n  password: hunter2\n";
        let out = check(config);
        assert_eq!(
            rels(&out),
            [
                "shop/configmap/apis#CART_ADDR calls host:shop/cart @m.yaml:5 configmap apis CART_ADDR -> cart:7070",
                "shop/configmap/apis#nginx.conf calls host:shop/orders @m.yaml:7 configmap apis nginx.conf_upstream_host -> orders:80",
                "shop/secret/db#host calls host:shop/orders-db @m.yaml:15 secret db host -> orders-db",
            ]
        );
        assert!(!format!("{:?}", out.records).contains("hunter2"), "no secret value is held");
    }
}
