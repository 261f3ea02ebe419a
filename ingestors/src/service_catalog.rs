//! Service catalogs in GitLab's style (`services/service-catalog.yml`): a top-level
//! `services:` list of `{name, tier, teams, label, technical: {dependencies: [{service}]}}`.
//!
//! Each service is a catalog entity; each declared dependency is a `calls` relation whose
//! note starts with `route:`, so the main crate keeps it on the request path whatever the
//! target turns out to be (GitLab declares `consul` as a dependency, and it is one). A
//! dependency that names no catalog service (`postgres`, `prometheus`, `elasticsearch`)
//! still becomes a node, as a mention. Self-dependencies are skipped.

use std::collections::BTreeSet;

use lore_schema::{EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Provenance, Record, Relation};
use serde_yaml::Value;

use crate::backstage::line_where;
use crate::util::classify;
use crate::util::yaml::{YamlDoc, at, scalar_text, seq, split_documents, str_at};
use crate::{Emitter, Input, Severity, Stability};

/// Ingestor name.
pub const NAME: &str = "service_catalog";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Declared dependencies are routes: they stay calls whatever the target's role.
const ROUTE_NOTE_PREFIX: &str = Provenance::ROUTE_PREFIX;

/// Scalar attributes copied from a service entry: attribute name, then key path.
const ATTRS: &[(&str, &[&str])] = &[
    ("tier", &["tier"]),
    ("label", &["label"]),
    ("title", &["friendly_name"]),
    ("sla_weighting", &["business", "SLA", "overall_sla_weighting"]),
    ("provider", &["infrastructure", "provider"]),
    ("architecture", &["infrastructure", "architecture"]),
    ("provisioning", &["infrastructure", "provisioning"]),
    ("grafana_dashboard", &["observability", "monitors", "primary_grafana_dashboard"]),
];

/// Parses one catalog file.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    for doc in split_documents(input.text) {
        let value = match doc.parse() {
            Ok(v) => v,
            Err((line, msg)) => {
                out.diagnostic(Severity::Error, line, format!("invalid YAML: {msg}"));
                continue;
            }
        };
        let Some(services) = value.get("services").and_then(Value::as_sequence) else {
            out.diagnostic(
                Severity::Warning,
                doc.start_line,
                "no top-level `services` list; nothing read",
            );
            continue;
        };
        let names: BTreeSet<&str> = services.iter().filter_map(service_name).collect();
        let list_line = line_where(&doc, doc.start_line, |l| l.starts_with("services:"));
        let mut cursor = list_line.unwrap_or(doc.start_line);
        let item_indent = line_where(&doc, cursor + 1, |l| l.trim_start().starts_with("- "))
            .and_then(|line| doc.text.lines().nth(line - doc.start_line))
            .map_or(0, indent);
        for (idx, svc) in services.iter().enumerate() {
            let Some(name) = service_name(svc) else {
                let msg = format!("services[{idx}] has no name; skipped");
                out.diagnostic(Severity::Warning, cursor, msg);
                continue;
            };
            let line = line_where(&doc, cursor, |l| {
                let at_item = indent(l) == item_indent && l.trim_start().starts_with("- ");
                (at_item || indent(l) == item_indent + 2) && is_key_line(l, "name", name)
            })
            .unwrap_or_else(|| doc.line_of(&format!("name: {name}"), cursor));
            cursor = line;
            let ctx = Ctx { input, doc: &doc, svc, name, line, names: &names };
            service(&ctx, out);
        }
    }
}

struct Ctx<'c, 'a> {
    input: &'c Input<'a>,
    doc: &'c YamlDoc<'a>,
    svc: &'c Value,
    name: &'c str,
    /// Line of `- name: <name>`.
    line: usize,
    /// Every service the catalog lists.
    names: &'c BTreeSet<&'c str>,
}

impl Ctx<'_, '_> {
    fn provenance(&self, line: usize, note: impl Into<String>) -> Provenance {
        Provenance::declared(NAME, self.input.locator(line), note)
    }
}

fn service_name(svc: &Value) -> Option<&str> {
    str_at(svc, "name").map(str::trim).filter(|n| !n.is_empty())
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether `line` is `key: value` (optionally a list item, quoted, or with a comment).
fn is_key_line(line: &str, key: &str, value: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line).trim_start();
    let code = code.strip_prefix("- ").unwrap_or(code).trim_start();
    code.strip_prefix(key)
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|rest| rest.trim().trim_matches(['"', '\'']) == value)
}

/// Kind and classification of a node known by name only.
fn classified(name: &str, class: EntityClass, prov: Provenance) -> Entity {
    let datastore = classify::datastore_from_name(name);
    let kind = if datastore.is_some() { NodeKind::Datastore } else { NodeKind::Service };
    let mut entity = Entity::new(kind, name, class, prov);
    entity.datastore = datastore;
    entity.role = classify::role(None, name);
    entity
}

fn service(ctx: &Ctx<'_, '_>, out: &mut Emitter) {
    let prov = ctx.provenance(ctx.line, format!("service catalog entry {}", ctx.name));
    let mut entity = classified(ctx.name, EntityClass::Catalog, prov);
    for (attr, path) in ATTRS {
        if let Some(v) = at(ctx.svc, path).and_then(scalar_text).filter(|v| !v.trim().is_empty()) {
            entity.attrs.insert(attr.to_string(), v.trim().to_string());
        }
    }
    let texts = |path: &[&str]| -> Vec<String> {
        match at(ctx.svc, path) {
            Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(v) => scalar_text(v).into_iter().collect(),
            None => Vec::new(),
        }
    };
    for (attr, path) in
        [("runbooks", &["operations", "runbooks"][..]), ("project", &["technical", "project"])]
    {
        let values = texts(path);
        if !values.is_empty() {
            entity.attrs.insert(attr.to_string(), values.join(","));
        }
    }
    let teams: Vec<String> = ["teams", "team", "owner", "infra_owner"]
        .iter()
        .flat_map(|key| texts(&[key]))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    entity.owner = teams.first().cloned();
    if teams.len() > 1 {
        entity.attrs.insert("teams".to_string(), teams.join(","));
    }
    let me = NodeRef::name(None, ctx.name, None);
    for team in &teams {
        let line = line_where(ctx.doc, ctx.line, |l| {
            let code = l.split(" #").next().unwrap_or(l).trim();
            code.trim_start_matches("- ") == team || code.ends_with(&format!(": {team}"))
        })
        .unwrap_or(ctx.line);
        out.record(Record::Relation(Relation {
            from: me.clone(),
            to: NodeRef::name(Some(NodeKind::Team), team, None),
            kind: EdgeKind::OwnedBy,
            provenance: ctx.provenance(line, format!("{} is owned by {team}", ctx.name)),
        }));
    }
    dependencies(ctx, &me, out);
    out.record(Record::Entity(entity));
}

fn dependencies(ctx: &Ctx<'_, '_>, me: &NodeRef, out: &mut Emitter) {
    let deps = seq(at(ctx.svc, &["technical", "dependencies"]));
    if deps.is_empty() {
        return;
    }
    let mut cursor = line_where(ctx.doc, ctx.line, |l| l.trim_start().starts_with("dependencies:"))
        .unwrap_or(ctx.line);
    for dep in deps {
        let target = match dep {
            Value::Mapping(_) => dep.get("service"),
            other => Some(other),
        };
        let name = match target {
            None | Some(Value::Null) => continue,
            Some(v) => scalar_text(v).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        };
        let Some(name) = name else {
            let msg = format!("{}: dependency is not a service name; skipped", ctx.name);
            out.diagnostic(Severity::Warning, cursor, msg);
            continue;
        };
        let line = line_where(ctx.doc, cursor, |l| {
            is_key_line(l, "service", &name) || l.trim().trim_start_matches("- ").trim() == name
        })
        .unwrap_or(cursor);
        cursor = line;
        if name == ctx.name {
            continue;
        }
        let comment = ctx
            .doc
            .text
            .lines()
            .nth(line.saturating_sub(ctx.doc.start_line))
            .and_then(|l| l.split_once(" #"))
            .map(|(_, c)| c.trim())
            .filter(|c| !c.is_empty());
        let note = match comment {
            Some(c) => format!("{ROUTE_NOTE_PREFIX} {} depends on {name} ({c})", ctx.name),
            None => format!("{ROUTE_NOTE_PREFIX} {} depends on {name}", ctx.name),
        };
        if !ctx.names.contains(name.as_str()) {
            let prov = ctx.provenance(
                line,
                format!("dependency of {} named by no catalog service", ctx.name),
            );
            out.record(Record::Entity(classified(&name, EntityClass::Mention, prov)));
        }
        out.record(Record::Relation(Relation {
            from: me.clone(),
            to: NodeRef::name(None, name, None),
            kind: EdgeKind::Calls,
            provenance: ctx.provenance(line, note),
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Records as one line each, then diagnostics.
    fn check(text: &str) -> Vec<String> {
        let env = BTreeMap::new();
        let input = Input { path: "s.yml", text, env: &env };
        let output = crate::ingest(crate::Format::ServiceCatalog, &input);
        crate::emitter::render::lines(&output, |r| match r {
            Record::Entity(e) => format!(
                "{} {}:{} owner={} ds={} role={} attrs={:?} @{}",
                e.class.as_str(),
                e.kind,
                e.name,
                e.owner.as_deref().unwrap_or("-"),
                e.datastore.map_or("-", |d| d.as_str()),
                e.role.map_or("-", |d| d.as_str()),
                e.attrs,
                e.provenance.locator,
            ),
            Record::Relation(r) => crate::emitter::render::relation(r),
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn services_dependencies_and_mentions() {
        let lines = check(
            "tiers:\n- name: sv\nservices:\n- name: api\n  tier: sv\n  teams:\n    - create\n    - plan\n  technical:\n    configurations:\n      - name: web\n    dependencies:\n      - service: consul\n      - service: postgres\n      - service: api\n      - service: web # for auth\n- name: web\n  friendly_name: Web\n  infra_owner: sre\n  technical:\n    dependencies:\n      - service:\n      - service: prometheus\n      - service: [1]\n- tier: lb\n- name: consul\n",
        );
        let expected = [
            "catalog service:api owner=create ds=- role=- attrs={\"teams\": \"create,plan\", \"tier\": \"sv\"} @s.yml:4",
            "catalog service:consul owner=- ds=- role=discovery attrs={} @s.yml:26",
            "mention service:prometheus owner=- ds=- role=telemetry attrs={} @s.yml:23",
            "catalog service:web owner=sre ds=- role=- attrs={\"title\": \"Web\"} @s.yml:17",
            "mention datastore:postgres owner=- ds=postgres role=- attrs={} @s.yml:14",
            "api calls consul @s.yml:13 route: api depends on consul",
            "api calls postgres @s.yml:14 route: api depends on postgres",
            "api calls web @s.yml:16 route: api depends on web (for auth)",
            "api owned_by team:create @s.yml:7 api is owned by create",
            "api owned_by team:plan @s.yml:8 api is owned by plan",
            "web calls prometheus @s.yml:23 route: web depends on prometheus",
            "web owned_by team:sre @s.yml:19 web is owned by sre",
            "warning s.yml:17 services[2] has no name; skipped",
            "warning s.yml:23 web: dependency is not a service name; skipped",
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn files_without_services_are_reported() {
        assert_eq!(
            check("tiers: []\n"),
            ["warning s.yml:1 no top-level `services` list; nothing read"]
        );
        assert_eq!(
            check("services: [\n"),
            ["error s.yml:2 invalid YAML: did not find expected node content"]
        );
    }
}
