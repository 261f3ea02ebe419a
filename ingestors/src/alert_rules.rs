//! Prometheus alert rules: `PrometheusRule` resources, plain rule files (`groups:` of
//! `rules:` with `alert:`) and the awesome-prometheus-alerts catalogue (`groups` →
//! `services` → `exporters` → `rules` with `name`/`query`), one alert entity each.
//!
//! Attributes are named after the rule: `expr`, `for`, `keep_firing_for`, `group`,
//! `severity` (label), `summary`, `description`, `runbook_url`, `message` (annotations);
//! other labels and annotations become `label.<key>` and `annotation.<key>`. Rules that
//! share a name in one file (one alert at several thresholds) are one entity: each
//! attribute keeps its distinct values in file order, joined by `", "` for short values
//! and a blank line for text (`expr`, `summary`, `description`), and `rules` counts them. A `service`, `job` or `app` label also
//! yields a `fires_for` relation. Recording rules are not alerts and are skipped; other
//! Kubernetes objects in the same file are handed to the Kubernetes ingestor.

use std::collections::{BTreeMap, BTreeSet};

use lore_schema::{EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Provenance, Record, Relation};
use serde_yaml::Value;

use crate::util::yaml::{YamlDoc, at, parse_documents, scalar_text, seq, split_documents, str_at};
use crate::{Emitter, Input, Severity, Stability};

/// Ingestor name.
pub const NAME: &str = "alert_rules";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Labels that name what an alert fires for.
const TARGET_LABELS: &[&str] = &["service", "job", "app"];

/// Attributes whose values are text (or URLs, which may hold commas): variants are
/// joined by a blank line, not commas.
const TEXT_ATTRS: &[&str] =
    &["expr", "summary", "description", "message", "comments", "runbook_url"];

/// One rule as read, before rules sharing a name are merged.
struct Rule {
    name: String,
    line: usize,
    attrs: Vec<(String, String)>,
    targets: Vec<(String, String)>,
}

/// Parses one rule file.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    let docs = split_documents(input.text);
    let mut rules = Vec::new();
    let mut other_objects = false;
    for (doc, value) in parse_documents(&docs, out) {
        let mut cursor = doc.start_line;
        match str_at(&value, "kind") {
            Some("PrometheusRule") => {
                let groups = seq(at(&value, &["spec", "groups"]));
                prometheus_groups(doc, groups, &mut cursor, &mut rules, out);
            }
            Some(_) if value.get("apiVersion").is_some() => other_objects = true,
            _ => {
                let groups = seq(value.get("groups"));
                if groups.iter().any(|g| g.get("services").is_some()) {
                    awesome_groups(doc, groups, &mut cursor, &mut rules, out);
                } else if value.get("groups").is_some() {
                    prometheus_groups(doc, groups, &mut cursor, &mut rules, out);
                } else {
                    out.diagnostic(Severity::Warning, doc.start_line, "no rule `groups`; skipped");
                }
            }
        }
    }
    if other_objects {
        crate::kubernetes::ingest(input, out);
    }
    emit(input, merge(rules), out);
}

fn prometheus_groups(
    doc: &YamlDoc<'_>,
    groups: &[Value],
    cursor: &mut usize,
    rules: &mut Vec<Rule>,
    out: &mut Emitter,
) {
    for group in groups {
        let group_name = group.get("name").and_then(scalar_text).unwrap_or_default();
        advance(doc, "name", &group_name, cursor);
        for rule in seq(group.get("rules")) {
            let Some(name) = rule.get("alert").and_then(scalar_text) else {
                if rule.get("record").is_none() {
                    out.diagnostic(
                        Severity::Warning,
                        *cursor,
                        format!(
                            "rule in group `{group_name}` has neither `alert` nor `record`; skipped"
                        ),
                    );
                }
                continue;
            };
            advance(doc, "alert", &name, cursor);
            let mut attrs = Vec::new();
            let mut push = |key: &str, value: Option<String>| {
                if let Some(v) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
                    attrs.push((key.to_string(), v));
                }
            };
            let expr = rule.get("expr").and_then(scalar_text);
            if expr.is_none() {
                out.diagnostic(Severity::Warning, *cursor, format!("alert `{name}` has no `expr`"));
            }
            push("expr", expr);
            push("for", rule.get("for").and_then(scalar_text));
            push("keep_firing_for", rule.get("keep_firing_for").and_then(scalar_text));
            push("group", Some(group_name.clone()));
            let mut targets = Vec::new();
            for (key, value) in scalar_pairs(rule.get("labels")) {
                if TARGET_LABELS.contains(&key.as_str()) && !value.contains("{{") {
                    targets.push((key.clone(), value.clone()));
                }
                let key = if key == "severity" { key } else { format!("label.{key}") };
                push(&key, Some(value));
            }
            for (key, value) in scalar_pairs(rule.get("annotations")) {
                let known = ["summary", "description", "runbook_url", "message"];
                let key =
                    if known.contains(&key.as_str()) { key } else { format!("annotation.{key}") };
                push(&key, Some(value));
            }
            rules.push(Rule { name, line: *cursor, attrs, targets });
        }
    }
}

fn awesome_groups(
    doc: &YamlDoc<'_>,
    groups: &[Value],
    cursor: &mut usize,
    rules: &mut Vec<Rule>,
    out: &mut Emitter,
) {
    // Names are made up from titles, so two entries may collide: the exporter, then a
    // number, tells them apart.
    let mut taken: BTreeSet<String> = rules.iter().map(|r| r.name.clone()).collect();
    for group in groups {
        let group_name = group.get("name").and_then(scalar_text).unwrap_or_default();
        advance(doc, "name", &group_name, cursor);
        for service in seq(group.get("services")) {
            let service_name = service.get("name").and_then(scalar_text).unwrap_or_default();
            advance(doc, "name", &service_name, cursor);
            for exporter in seq(service.get("exporters")) {
                let slug = exporter.get("slug").and_then(scalar_text).unwrap_or_default();
                advance(doc, "slug", &slug, cursor);
                for rule in seq(exporter.get("rules")) {
                    let Some(title) = rule.get("name").and_then(scalar_text) else {
                        let msg = format!("rule of `{service_name}` has no `name`; skipped");
                        out.diagnostic(Severity::Warning, *cursor, msg);
                        continue;
                    };
                    advance(doc, "name", &title, cursor);
                    let mut attrs = vec![("summary".to_string(), title.trim().to_string())];
                    for (key, from) in [
                        ("expr", "query"),
                        ("severity", "severity"),
                        ("description", "description"),
                        ("for", "for"),
                        ("comments", "comments"),
                    ] {
                        if let Some(v) = rule.get(from).and_then(scalar_text) {
                            attrs.push((key.to_string(), v.trim().to_string()));
                        }
                    }
                    attrs.push(("group".to_string(), group_name.clone()));
                    attrs.push(("service".to_string(), service_name.clone()));
                    attrs.push(("exporter".to_string(), slug.clone()));
                    attrs.retain(|(_, v)| !v.is_empty());
                    let mut name = camel_case(&title);
                    if taken.contains(&name) {
                        name = format!("{name}{}", camel_case(&slug));
                    }
                    let base = name.clone();
                    let mut n = 2;
                    while taken.contains(&name) {
                        name = format!("{base}{n}");
                        n += 1;
                    }
                    taken.insert(name.clone());
                    rules.push(Rule { name, line: *cursor, attrs, targets: Vec::new() });
                }
            }
        }
    }
}

/// An alert: the rules of one name, with each attribute's distinct values in file order.
struct Alert {
    name: String,
    line: usize,
    n_rules: usize,
    attrs: Vec<(String, Vec<String>)>,
    targets: Vec<(String, String)>,
}

/// Merges rules that share a name, keeping the first one's line.
fn merge(rules: Vec<Rule>) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for rule in rules {
        let idx = *index.entry(rule.name.clone()).or_insert_with(|| {
            alerts.push(Alert {
                name: rule.name.clone(),
                line: rule.line,
                n_rules: 0,
                attrs: Vec::new(),
                targets: Vec::new(),
            });
            alerts.len() - 1
        });
        let alert = &mut alerts[idx];
        alert.n_rules += 1;
        for (key, value) in rule.attrs {
            match alert.attrs.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) if values.contains(&value) => {}
                Some((_, values)) => values.push(value),
                None => alert.attrs.push((key, vec![value])),
            }
        }
        for target in rule.targets {
            if !alert.targets.contains(&target) {
                alert.targets.push(target);
            }
        }
    }
    alerts
}

fn emit(input: &Input<'_>, alerts: Vec<Alert>, out: &mut Emitter) {
    for alert in alerts {
        let mut attrs = BTreeMap::new();
        for (key, values) in alert.attrs {
            let sep = if TEXT_ATTRS.contains(&key.as_str()) { "\n\n" } else { ", " };
            attrs.insert(key, values.join(sep));
        }
        if alert.n_rules > 1 {
            attrs.insert("rules".to_string(), alert.n_rules.to_string());
        }
        let group = attrs.get("group").map_or("", String::as_str);
        let note = format!("alert {} in group {group}", alert.name);
        let prov = Provenance::declared(NAME, input.locator(alert.line), note);
        for (key, value) in alert.targets {
            out.record(Record::Relation(Relation {
                from: NodeRef::name(Some(NodeKind::Alert), alert.name.clone(), None),
                to: NodeRef::name(None, value.clone(), None),
                kind: EdgeKind::FiresFor,
                provenance: Provenance::declared(
                    NAME,
                    input.locator(alert.line),
                    format!("label {key}={value}"),
                ),
            }));
        }
        let mut entity = Entity::new(NodeKind::Alert, alert.name, EntityClass::Catalog, prov);
        entity.attrs = attrs;
        out.record(Record::Entity(entity));
    }
}

/// Scalar key/value pairs of a mapping, in file order.
fn scalar_pairs(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Mapping(map)) = value else { return Vec::new() };
    map.iter().filter_map(|(k, v)| Some((scalar_text(k)?, scalar_text(v)?))).collect()
}

/// Moves `cursor` to the first line at or after it that reads `key: value` (optionally as
/// a `- ` item, optionally quoted); leaves it where it is when there is none.
fn advance(doc: &YamlDoc<'_>, key: &str, value: &str, cursor: &mut usize) {
    if value.is_empty() {
        return;
    }
    let skip = cursor.saturating_sub(doc.start_line);
    let found = doc.text.lines().enumerate().skip(skip).find(|(_, line)| {
        let t = line.trim_start();
        let t = t.strip_prefix("- ").map_or(t, str::trim_start);
        t.strip_prefix(key).and_then(|r| r.strip_prefix(':')).is_some_and(|rest| {
            let rest = rest.trim();
            let rest = rest.split_once(" #").map_or(rest, |(v, _)| v.trim_end());
            rest == value || unquote(rest) == value
        })
    });
    if let Some((idx, _)) = found {
        *cursor = doc.start_line + idx;
    }
}

fn unquote(text: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    text
}

/// A stable alert name from a title: `Host out of memory` → `HostOutOfMemory`.
pub fn camel_case(title: &str) -> String {
    title
        .replace(['\'', '’'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |first| first.to_uppercase().chain(chars).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ingests `text` and renders records and diagnostics as lines: entities as
    /// `line name key=value ...`, relations as `from -kind-> to`.
    fn check(text: &str) -> Vec<String> {
        let env = BTreeMap::new();
        let input = Input { path: "r.yaml", text, env: &env };
        let mut out = Emitter::new(input.path);
        ingest(&input, &mut out);
        let out = out.finish();
        let mut res = Vec::new();
        for record in &out.records {
            match record {
                Record::Entity(e) if e.kind == NodeKind::Alert => {
                    let attrs: Vec<String> = e
                        .attrs
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.replace('\n', "/")))
                        .collect();
                    res.push(format!("{} {} {}", e.provenance.locator, e.name, attrs.join(" ")));
                }
                Record::Entity(e) => res.push(format!("{} {}", e.kind, e.name)),
                Record::Relation(r) => {
                    res.push(format!("{} -{}-> {}", r.from.key(), r.kind, r.to.key()));
                }
                other => res.push(format!("{other:?}")),
            }
        }
        res.extend(
            out.diagnostics
                .iter()
                .map(|d| format!("{} {}: {}", d.severity.as_str(), d.locator, d.message)),
        );
        res
    }

    #[test]
    fn prometheus_rule_resource() {
        let text = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: x\nspec:\n  groups:\n  - name: node\n    rules:\n    - record: a:b\n      expr: sum(a)\n    - alert: DiskFull\n      annotations:\n        runbook_url: https://r/diskfull\n        summary: Disk full.\n        dashboard: d\n      expr: |\n        disk > 0.9\n      for: 5m\n      labels:\n        severity: critical\n        job: node-exporter\n";
        assert_eq!(
            check(text),
            [
                "r.yaml:11 DiskFull annotation.dashboard=d expr=disk > 0.9 for=5m group=node label.job=node-exporter runbook_url=https://r/diskfull severity=critical summary=Disk full.",
                "alert:DiskFull -fires_for-> node-exporter",
            ]
        );
    }

    #[test]
    fn plain_rule_file_with_repeated_names() {
        let text = "groups:\n- name: api\n  rules:\n  - alert: Burn\n    expr: a > 1\n    labels: {severity: critical, long: 1h}\n  - alert: 'Burn'\n    expr: a > 2\n    labels: {severity: warning, long: 6h}\n  - alert: Other\n    expr: b\n  - expr: c\n";
        assert_eq!(
            check(text),
            [
                "r.yaml:4 Burn expr=a > 1//a > 2 group=api label.long=1h, 6h rules=2 severity=critical, warning",
                "r.yaml:10 Other expr=b group=api",
                "warning r.yaml:10: rule in group `api` has neither `alert` nor `record`; skipped",
            ]
        );
    }

    #[test]
    fn awesome_catalogue() {
        let text = "# c\ngroups:\n  - name: Basic\n    services:\n      - name: Host\n        exporters:\n          - slug: node-exporter\n            rules:\n              - name: Host out of memory\n                description: Node memory is filling up\n                query: \"node_memory < 10\"\n                severity: warning\n                for: 2m\n              - name: Host's OOM kill detected\n                query: x\n                severity: warning\n          - slug: other\n            rules:\n              - name: Host out of memory\n                query: y\n                severity: info\n";
        assert_eq!(
            check(text),
            [
                "r.yaml:9 HostOutOfMemory description=Node memory is filling up exporter=node-exporter expr=node_memory < 10 for=2m group=Basic service=Host severity=warning summary=Host out of memory",
                "r.yaml:19 HostOutOfMemoryOther exporter=other expr=y group=Basic service=Host severity=info summary=Host out of memory",
                "r.yaml:14 HostsOOMKillDetected exporter=node-exporter expr=x group=Basic service=Host severity=warning summary=Host's OOM kill detected",
            ]
        );
    }

    #[test]
    fn malformed_yaml_is_an_error_with_its_line() {
        let res = check("groups:\n- name: a\n  rules:\n  - alert: X\n    expr: [\n");
        assert_eq!(res.len(), 1, "{res:?}");
        assert!(res[0].starts_with("error r.yaml:"), "{res:?}");
    }

    #[test]
    fn other_kubernetes_objects_are_kept() {
        let text = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: up == 0\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n";
        let res = check(text);
        assert!(res.contains(&"r.yaml:8 A expr=up == 0 group=g".to_string()), "{res:?}");
        assert!(res.contains(&"service web".to_string()), "{res:?}");
    }

    #[test]
    fn camel_case_names() {
        assert_eq!(camel_case("Host out of memory"), "HostOutOfMemory");
        assert_eq!(camel_case("MySQL  too many connections (> 80%)"), "MySQLTooManyConnections80");
        assert_eq!(camel_case(""), "");
    }
}
