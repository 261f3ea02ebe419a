//! Backstage catalog files (`catalog-info.yaml`, `org.yaml`): Components, Resources, APIs,
//! Systems, Domains and Groups, from multi-document files.
//!
//! Entity references follow Backstage's `[kind:][namespace/]name` syntax, with the kind a
//! field implies when the reference leaves it out (`spec.owner` a group, `spec.system` a
//! system, `dependsOn` a component, `providesApis` an API). Backstage namespaces are not
//! Kubernetes namespaces, so references keep only the kind and the name; the
//! `backstage.io/kubernetes-id` annotation becomes an alias, which is how a catalog name
//! such as `checkout-service` meets the `checkout` Deployment.

use lore_schema::{
    DatastoreType, EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Provenance, Record, Relation,
};
use serde_yaml::Value;

use crate::util::classify;
use crate::util::yaml::{
    YamlDoc, at, parse_documents, scalar_text, seq, split_documents, str_at, string_map,
};
use crate::{Emitter, Input, Severity, Stability};

/// Ingestor name.
pub const NAME: &str = "backstage";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// The annotation naming the Kubernetes objects of a catalog entity.
const KUBERNETES_ID: &str = "backstage.io/kubernetes-id";

/// Annotations kept as attributes, with the attribute name.
const ANNOTATION_ATTRS: &[(&str, &str)] = &[
    ("github.com/project-slug", "repo"),
    ("pagerduty.com/service-id", "pagerduty"),
    ("opsgenie.com/team", "opsgenie_team"),
    ("opsgenie.com/component-selector", "opsgenie_selector"),
    ("backstage.io/kubernetes-namespace", "kubernetes_namespace"),
    ("backstage.io/kubernetes-label-selector", "kubernetes_selector"),
];

/// Parses one catalog file.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    let docs = split_documents(input.text);
    for (doc, value) in parse_documents(&docs, out) {
        let api_version = str_at(&value, "apiVersion").unwrap_or("");
        if !api_version.starts_with("backstage.io/") {
            let msg = format!("apiVersion `{api_version}` is not backstage.io; document skipped");
            out.diagnostic(Severity::Info, doc.start_line, msg);
            continue;
        }
        let Some(kind) = str_at(&value, "kind") else {
            out.diagnostic(Severity::Warning, doc.start_line, "entity has no `kind`; skipped");
            continue;
        };
        let meta = value.get("metadata").unwrap_or(&Value::Null);
        let Some(name) = str_at(meta, "name").map(str::trim).filter(|n| !n.is_empty()) else {
            let msg = format!("{kind} has no metadata.name; skipped");
            out.diagnostic(Severity::Warning, doc.start_line, msg);
            continue;
        };
        let node_kind = match kind.to_ascii_lowercase().as_str() {
            "component" => NodeKind::Service,
            "resource" => NodeKind::Datastore,
            "api" => NodeKind::Api,
            "system" | "domain" => NodeKind::System,
            "group" => NodeKind::Team,
            "user" | "location" | "template" => continue,
            _ => {
                let msg = format!("{kind} {name}: kind not modelled by lore; skipped");
                out.diagnostic(Severity::Info, doc.start_line, msg);
                continue;
            }
        };
        let line = doc.line_of(&format!("name: {name}"), doc.start_line);
        let spec = value.get("spec").unwrap_or(&Value::Null);
        let ctx = Ctx { input, doc, kind, name, node_kind, meta, spec, line };
        entity(&ctx, out);
    }
}

struct Ctx<'c, 'a> {
    input: &'c Input<'a>,
    doc: &'c YamlDoc<'a>,
    /// Backstage kind as written (`Component`).
    kind: &'c str,
    name: &'c str,
    node_kind: NodeKind,
    meta: &'c Value,
    spec: &'c Value,
    /// Line of `name: <name>`.
    line: usize,
}

/// A parsed entity reference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EntityRef {
    /// Lowercase kind, explicit or the field's default.
    kind: String,
    name: String,
    /// The reference as written, for notes and line lookup.
    raw: String,
    line: usize,
}

impl Ctx<'_, '_> {
    fn provenance(&self, line: usize, note: impl Into<String>) -> Provenance {
        Provenance::declared(NAME, self.input.locator(line), note)
    }

    fn me(&self) -> NodeRef {
        NodeRef::name(Some(self.node_kind), self.name, None)
    }

    /// A relation `from -> to` declared by reference `r` in `spec.<field>`.
    fn relation(
        &self,
        (from, to): (NodeRef, NodeRef),
        kind: EdgeKind,
        r: &EntityRef,
        field: &str,
    ) -> Record {
        let note = format!("{} {} {} {}", self.kind, self.name, field, r.raw);
        Record::Relation(Relation { from, to, kind, provenance: self.provenance(r.line, note) })
    }

    /// The references in `spec.<field>` (a list or a single string), parsed with
    /// `default_kind` for those without a kind.
    fn refs(&self, field: &str, default_kind: &str, out: &mut Emitter) -> Vec<EntityRef> {
        let Some(value) = self.spec.get(field) else { return Vec::new() };
        let key_line = line_where(self.doc, self.line, |l| {
            l.trim_start().trim_start_matches("- ").starts_with(&format!("{field}:"))
        })
        .unwrap_or(self.line);
        let items: Vec<&Value> = match value {
            Value::Sequence(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            Value::String(_) => vec![value],
            other => {
                let msg = format!(
                    "{} {}: `{field}` is {}, expected a list of entity references",
                    self.kind,
                    self.name,
                    crate::util::yaml::type_name(other)
                );
                out.diagnostic(Severity::Error, key_line, msg);
                return Vec::new();
            }
        };
        let mut refs = Vec::new();
        for item in items {
            let Some(raw) =
                scalar_text(item).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
            else {
                let msg = format!(
                    "{} {}: {field} entry is not a reference; skipped",
                    self.kind, self.name
                );
                out.diagnostic(Severity::Warning, key_line, msg);
                continue;
            };
            let line = line_where(self.doc, key_line, |l| has_token(l, &raw))
                .unwrap_or_else(|| self.doc.line_of(&raw, key_line));
            let (kind, name) = parse_ref(&raw, default_kind);
            refs.push(EntityRef { kind, name, raw, line });
        }
        refs
    }
}

/// `[kind:][namespace/]name` → lowercase kind (or `default_kind`) and name; the
/// namespace is dropped.
fn parse_ref(raw: &str, default_kind: &str) -> (String, String) {
    let (kind, rest) = match raw.split_once(':') {
        Some((k, rest)) if !k.is_empty() && !k.contains('/') => (k.to_ascii_lowercase(), rest),
        _ => (default_kind.to_string(), raw),
    };
    let name = rest.rsplit_once('/').map_or(rest, |(_, name)| name);
    (kind, name.to_string())
}

/// The node kind a Backstage reference kind stands for.
fn node_kind_of(ref_kind: &str) -> Option<NodeKind> {
    Some(match ref_kind {
        "component" => NodeKind::Service,
        "resource" => NodeKind::Datastore,
        "api" => NodeKind::Api,
        "system" | "domain" => NodeKind::System,
        "group" => NodeKind::Team,
        _ => return None,
    })
}

/// File line of the first line at or after `from` that satisfies `pred`.
pub(crate) fn line_where(
    doc: &YamlDoc<'_>,
    from: usize,
    pred: impl Fn(&str) -> bool,
) -> Option<usize> {
    let skip = from.saturating_sub(doc.start_line);
    doc.text
        .lines()
        .enumerate()
        .skip(skip)
        .find(|(_, l)| pred(l))
        .map(|(idx, _)| doc.start_line + idx)
}

/// Whether `line` holds `token` as a whole YAML scalar (list item, flow item or value).
fn has_token(line: &str, token: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line);
    code.split([' ', ',', '[', ']', '"', '\'']).any(|t| t == token)
}

fn entity(ctx: &Ctx<'_, '_>, out: &mut Emitter) {
    let prov = ctx.provenance(ctx.line, format!("{} {}", ctx.kind, ctx.name));
    let mut entity = Entity::new(ctx.node_kind, ctx.name, EntityClass::Catalog, prov);
    let annotations = string_map(ctx.meta.get("annotations"));
    if let Some(id) = annotations.get(KUBERNETES_ID).map(|s| s.trim()).filter(|s| !s.is_empty())
        && id != ctx.name
    {
        entity.aliases.push(id.to_string());
    }
    let attrs = &mut entity.attrs;
    attrs.insert("backstage_kind".to_string(), ctx.kind.to_string());
    let title =
        str_at(ctx.meta, "title").or_else(|| at(ctx.spec, &["profile", "displayName"])?.as_str());
    for (key, value) in [
        ("title", title),
        ("description", str_at(ctx.meta, "description")),
        ("lifecycle", str_at(ctx.spec, "lifecycle")),
        ("backstage_type", str_at(ctx.spec, "type")),
        ("tier", str_at(ctx.spec, "tier")),
        ("email", at(ctx.spec, &["profile", "email"]).and_then(Value::as_str)),
        ("backstage_namespace", str_at(ctx.meta, "namespace").filter(|ns| *ns != "default")),
    ] {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            attrs.insert(key.to_string(), v.to_string());
        }
    }
    for (annotation, key) in ANNOTATION_ATTRS {
        if let Some(v) = annotations.get(*annotation).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            attrs.insert(key.to_string(), v.to_string());
        }
    }
    let tags: Vec<String> = seq(ctx.meta.get("tags")).iter().filter_map(scalar_text).collect();
    if !tags.is_empty() {
        attrs.insert("tags".to_string(), tags.join(","));
    }
    let runbook = seq(ctx.meta.get("links"))
        .iter()
        .find(|l| str_at(l, "title").is_some_and(|t| t.to_ascii_lowercase().contains("runbook")));
    if let Some(url) = runbook.and_then(|l| str_at(l, "url")) {
        attrs.insert("runbook_url".to_string(), url.to_string());
    }
    if ctx.node_kind == NodeKind::Datastore {
        entity.datastore = Some(resource_datastore(str_at(ctx.spec, "type"), &tags, ctx.name));
    }

    let me = ctx.me();
    for r in ctx.refs("owner", "group", out) {
        if r.kind == "group" {
            entity.owner = Some(r.name.clone());
            let to = NodeRef::name(Some(NodeKind::Team), &r.name, None);
            out.record(ctx.relation((me.clone(), to), EdgeKind::OwnedBy, &r, "owner"));
        } else {
            entity.attrs.insert("owner".to_string(), r.raw.clone());
        }
    }
    for (field, default) in [("system", "system"), ("domain", "domain"), ("subdomainOf", "domain")]
    {
        for r in ctx.refs(field, default, out) {
            if field == "system" {
                entity.system = Some(r.name.clone());
            }
            let to = NodeRef::name(Some(NodeKind::System), &r.name, None);
            out.record(ctx.relation((me.clone(), to), EdgeKind::PartOf, &r, field));
        }
    }
    if ctx.node_kind == NodeKind::Team {
        for r in ctx.refs("parent", "group", out) {
            let to = NodeRef::name(Some(NodeKind::Team), &r.name, None);
            out.record(ctx.relation((me.clone(), to), EdgeKind::PartOf, &r, "parent"));
        }
        for r in ctx.refs("children", "group", out) {
            let child = NodeRef::name(Some(NodeKind::Team), &r.name, None);
            out.record(ctx.relation((child, me.clone()), EdgeKind::PartOf, &r, "children"));
        }
    }
    for (field, kind) in
        [("providesApis", EdgeKind::ProvidesApi), ("consumesApis", EdgeKind::ConsumesApi)]
    {
        for r in ctx.refs(field, "api", out) {
            let to = NodeRef::name(Some(NodeKind::Api), &r.name, None);
            out.record(ctx.relation((me.clone(), to), kind, &r, field));
        }
    }
    dependencies(ctx, &me, out);
    out.record(Record::Entity(entity));
}

/// `dependsOn` (this entity needs the target) and `dependencyOf` (the target needs it).
fn dependencies(ctx: &Ctx<'_, '_>, me: &NodeRef, out: &mut Emitter) {
    let mine =
        if ctx.node_kind == NodeKind::Datastore { EdgeKind::DependsOn } else { EdgeKind::Calls };
    for (field, reverse) in [("dependsOn", false), ("dependencyOf", true)] {
        for r in ctx.refs(field, "component", out) {
            let edge = match (r.kind.as_str(), reverse) {
                ("component" | "resource", true) => mine,
                ("component", false) => EdgeKind::Calls,
                ("resource", false) => EdgeKind::DependsOn,
                ("api", false) => EdgeKind::ConsumesApi,
                _ => {
                    let msg = format!(
                        "{} {}: {field} {} is not a component, resource or API; skipped",
                        ctx.kind, ctx.name, r.raw
                    );
                    out.diagnostic(Severity::Warning, r.line, msg);
                    continue;
                }
            };
            let other = NodeRef::name(node_kind_of(&r.kind), &r.name, None);
            let ends = if reverse { (other, me.clone()) } else { (me.clone(), other) };
            out.record(ctx.relation(ends, edge, &r, field));
        }
    }
}

/// Technology of a Resource from its `spec.type`, then its tags, then its name.
fn resource_datastore(spec_type: Option<&str>, tags: &[String], name: &str) -> DatastoreType {
    let spec_type = spec_type.unwrap_or("").trim().to_ascii_lowercase();
    let explicit = match spec_type.as_str() {
        "kafka-topic" | "topic" => Some(DatastoreType::KafkaTopic),
        "kafka-cluster" | "kafka" => Some(DatastoreType::Kafka),
        "s3-bucket" | "bucket" | "gcs-bucket" | "storage-bucket" | "object-storage" => {
            Some(DatastoreType::Bucket)
        }
        "search-index" | "search" => Some(DatastoreType::Elasticsearch),
        _ => None,
    };
    let specific = |word: &str| {
        classify::datastore_from_name(word)
            .filter(|t| *t != DatastoreType::Other)
            .or_else(|| classify::datastore_from_scheme(&word.to_ascii_lowercase()))
    };
    explicit
        .or_else(|| specific(&spec_type))
        .or_else(|| tags.iter().find_map(|t| specific(t)))
        .or_else(|| specific(name))
        .unwrap_or(DatastoreType::Other)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Records as one line each (`entity ...` or `from kind to @line`), then diagnostics.
    fn check(text: &str) -> Vec<String> {
        let env = BTreeMap::new();
        let input = Input { path: "c.yaml", text, env: &env };
        let output = crate::ingest(crate::Format::Backstage, &input);
        crate::emitter::render::lines(&output, |r| match r {
            Record::Entity(e) => format!(
                "entity {}:{} owner={} system={} aliases={} ds={} attrs={:?} @{}",
                e.kind,
                e.name,
                e.owner.as_deref().unwrap_or("-"),
                e.system.as_deref().unwrap_or("-"),
                e.aliases.join(","),
                e.datastore.map_or("-", |d| d.as_str()),
                e.attrs,
                e.provenance.locator,
            ),
            Record::Relation(r) => {
                format!("{} {} {} @{}", r.from.key(), r.kind, r.to.key(), r.provenance.locator)
            }
            other => format!("{other:?}"),
        })
    }

    const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-service
  title: Checkout
  annotations:
    backstage.io/kubernetes-id: checkout
  tags: [go, grpc]
spec:
  type: service
  lifecycle: production
  owner: group:default/team-storefront
  system: shop
  providesApis: [checkout-grpc]
  consumesApis:
    - api:cart-grpc
  dependsOn:
    - component:cart
    - resource:orders-db
    - orders-events
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-db
  tags: [postgres]
spec:
  type: database
  owner: team-fulfilment
  dependsOn: [resource:kafka]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-storefront
spec:
  type: team
  parent: engineering
  children: [web-squad]
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata:
  name: commerce
spec:
  owner: user:ada
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: ada
";

    #[test]
    fn components_resources_groups_and_domains() {
        let lines = check(CATALOG);
        let expected = [
            "entity service:checkout-service owner=team-storefront system=shop aliases=checkout ds=- attrs={\"backstage_kind\": \"Component\", \"backstage_type\": \"service\", \"lifecycle\": \"production\", \"tags\": \"go,grpc\", \"title\": \"Checkout\"} @c.yaml:4",
            "entity datastore:orders-db owner=team-fulfilment system=- aliases= ds=postgres attrs={\"backstage_kind\": \"Resource\", \"backstage_type\": \"database\", \"tags\": \"postgres\"} @c.yaml:25",
            "entity team:team-storefront owner=- system=- aliases= ds=- attrs={\"backstage_kind\": \"Group\", \"backstage_type\": \"team\"} @c.yaml:35",
            "entity system:commerce owner=- system=- aliases= ds=- attrs={\"backstage_kind\": \"Domain\", \"owner\": \"user:ada\"} @c.yaml:44",
            "service:checkout-service calls service:cart @c.yaml:18",
            "service:checkout-service calls service:orders-events @c.yaml:20",
            "service:checkout-service depends_on datastore:orders-db @c.yaml:19",
            "service:checkout-service consumes_api api:cart-grpc @c.yaml:16",
            "service:checkout-service provides_api api:checkout-grpc @c.yaml:14",
            "service:checkout-service owned_by team:team-storefront @c.yaml:12",
            "service:checkout-service part_of system:shop @c.yaml:13",
            "datastore:orders-db depends_on datastore:kafka @c.yaml:30",
            "datastore:orders-db owned_by team:team-fulfilment @c.yaml:29",
            "team:team-storefront part_of team:engineering @c.yaml:38",
            "team:web-squad part_of team:team-storefront @c.yaml:39",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn bad_documents_and_references_do_not_lose_the_others() {
        let lines = check(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec:\n  dependsOn: [group:x, {a: 1}, component:b]\n---\nkind: [\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {title: no name}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: k}\n---\napiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: shop}\nspec: {domain: commerce}\n",
        );
        let expected = [
            "entity service:a owner=- system=- aliases= ds=- attrs={\"backstage_kind\": \"Component\"} @c.yaml:3",
            "entity system:shop owner=- system=- aliases= ds=- attrs={\"backstage_kind\": \"System\"} @c.yaml:19",
            "service:a calls service:b @c.yaml:5",
            "system:shop part_of system:commerce @c.yaml:20",
            "info c.yaml:13 apiVersion `v1` is not backstage.io; document skipped",
            "warning c.yaml:5 Component a: dependsOn entry is not a reference; skipped",
            "warning c.yaml:5 Component a: dependsOn group:x is not a component, resource or API; skipped",
            "error c.yaml:8 invalid YAML: did not find expected node content",
            "warning c.yaml:9 Component has no metadata.name; skipped",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn references_and_resource_types() {
        let r = |raw: &str| parse_ref(raw, "component");
        assert_eq!(r("cart"), ("component".into(), "cart".into()));
        assert_eq!(r("Resource:default/orders-db"), ("resource".into(), "orders-db".into()));
        assert_eq!(r("ns/cart"), ("component".into(), "cart".into()));
        let ds = |t: &str, tags: &[&str], name: &str| {
            let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
            resource_datastore(Some(t), &tags, name).as_str()
        };
        assert_eq!(ds("kafka-topic", &[], "orders.v1"), "kafka_topic");
        assert_eq!(ds("kafka-cluster", &[], "kafka"), "kafka");
        assert_eq!(ds("s3-bucket", &["s3"], "acme-media"), "bucket");
        assert_eq!(ds("cache", &["redis"], "x-cache"), "redis");
        assert_eq!(ds("postgres", &[], "x"), "postgres");
        assert_eq!(ds("database", &[], "orders-db"), "other");
        assert_eq!(ds("queue", &[], "jobs"), "other");
    }
}
