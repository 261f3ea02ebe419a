//! The first telemetry queries to run, with selectors taken from the sources.
//!
//! The selector comes, in order of preference, from the alert rule's own expression
//! (its label matchers that name the focus), from the workload's pod labels in its
//! manifest (`app.kubernetes.io/name`, `app`, `k8s-app`, `name`, as Prometheus'
//! Kubernetes relabelling spells them), and otherwise from the focus's name as a
//! `service` label, said to be a guess. Golden signals use OpenTelemetry's HTTP server
//! metrics (`http_server_request_duration_seconds`) and the kubelet's and
//! kube-state-metrics' container metrics, which every cluster has; kubectl commands use
//! the manifest's namespace, kind and labels; log and trace filters use OpenTelemetry
//! resource attributes (`service.name`, `k8s.namespace.name`).

use std::sync::LazyLock;

use lore_schema::{NodeId, NodeKind};
use regex::Regex;

use super::items::{Cite, TelemetryItem};
use crate::graph::Graph;
use crate::model::{Member, Node};

/// Pod labels that name an app, best first.
const APP_LABELS: &[&str] = &["app.kubernetes.io/name", "app", "k8s-app", "name", "component"];

static MATCHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|=)\s*"([^"]*)""#).expect("valid regex")
});

/// A PromQL selector and where it came from.
struct Selector {
    matchers: String,
    why: String,
    cite: Cite,
}

fn prom_label(k8s_label: &str) -> String {
    k8s_label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// The workload declaration (Deployment, StatefulSet, DaemonSet) merged into `focus`.
fn workload<'g>(graph: &'g Graph, focus: &Node) -> Option<&'g Member> {
    graph.members(&focus.id).iter().find(|m| {
        ["Deployment", "StatefulSet", "DaemonSet"].iter().any(|k| m.declared_as.starts_with(k))
    })
}

/// The selector of the module docs.
fn selector(graph: &Graph, focus: &Node, alert: Option<&Node>) -> Selector {
    let names: Vec<&str> = std::iter::once(focus.name.as_str())
        .chain(focus.aliases.iter().map(String::as_str))
        .collect();
    if let Some(alert) = alert
        && let Some(expr) = alert.attrs.get("expr")
    {
        let found: Vec<String> = MATCHER
            .captures_iter(expr)
            .filter(|c| &c[2] == "=" && names.contains(&&c[3]))
            .map(|c| format!("{}=\"{}\"", &c[1], &c[3]))
            .collect();
        if let Some(first) = found.first() {
            return Selector {
                matchers: first.clone(),
                why: format!("selector from alert rule {}", alert.name),
                cite: Cite::of(graph.members(&alert.id).first()),
            };
        }
    }
    let cite = Cite::of(workload(graph, focus).or_else(|| graph.members(&focus.id).first()));
    let ns = focus.namespace.as_ref().map(|ns| format!("namespace=\"{ns}\","));
    if let Some((key, value)) =
        APP_LABELS.iter().find_map(|k| focus.labels.get(*k).map(|v| (*k, v)))
    {
        return Selector {
            matchers: format!("{}{}=\"{value}\"", ns.unwrap_or_default(), prom_label(key)),
            why: format!(
                "selector from pod label {key}={value} in the manifest (Prometheus relabelling spells it {})",
                prom_label(key)
            ),
            cite,
        };
    }
    Selector {
        matchers: format!("{}service=\"{}\"", ns.unwrap_or_default(), focus.name),
        why: "no selector in the sources: guessed from the node's name".into(),
        cite,
    }
}

/// Queries for `focus`, best first.
pub(crate) fn queries(graph: &Graph, focus: &Node, alert: Option<&str>) -> Vec<TelemetryItem> {
    let alert_node = alert.and_then(|a| graph.node(&NodeId::new(NodeKind::Alert, a)));
    let sel = selector(graph, focus, alert_node);
    let s = &sel.matchers;
    let item = |kind: &str, query: String, what: &str, cite: &Cite, why: &str| TelemetryItem {
        kind: kind.into(),
        query,
        why: format!("{what}; {why}"),
        cite: cite.clone(),
    };
    let mut out = Vec::new();
    if let Some(a) = alert_node
        && let Some(expr) = a.attrs.get("expr")
    {
        let cite = Cite::of(graph.members(&a.id).first());
        let expr = expr.split("\n\n").next().unwrap_or(expr).trim().to_string();
        out.push(item("promql", expr, "the alert's own expression", &cite, "from the alert rule"));
    }
    let is_service = focus.kind == NodeKind::Service;
    if is_service {
        out.push(item(
            "promql",
            format!("sum(rate(http_server_request_duration_seconds_count{{{s},http_response_status_code=~\"5..\"}}[5m])) / sum(rate(http_server_request_duration_seconds_count{{{s}}}[5m]))"),
            "errors: share of 5xx responses",
            &sel.cite,
            &sel.why,
        ));
        out.push(item(
            "promql",
            format!("histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{{{s}}}[5m])))"),
            "latency: p99 of server requests",
            &sel.cite,
            &sel.why,
        ));
        out.push(item(
            "promql",
            format!("sum(rate(http_server_request_duration_seconds_count{{{s}}}[5m]))"),
            "traffic: requests per second",
            &sel.cite,
            &sel.why,
        ));
    }
    let manifest = workload(graph, focus).map_or(sel.cite.clone(), |m| Cite::of(Some(m)));
    let kube_kind = focus.attrs.get("k8s_kind").map(|k| k.to_ascii_lowercase());
    if let (Some(ns), Some(kind)) = (&focus.namespace, &kube_kind) {
        let name = graph
            .members(&focus.id)
            .iter()
            .find(|m| m.declared_as.to_ascii_lowercase().starts_with(kind.as_str()))
            .map_or(focus.name.clone(), |m| m.name.clone());
        let pods = format!("namespace=\"{ns}\",pod=~\"{name}-.*\"");
        let why = "namespace and workload from the manifest";
        out.push(item(
            "promql",
            format!("sum by (pod) (rate(container_cpu_usage_seconds_total{{{pods},container!=\"\"}}[5m]))"),
            "saturation: CPU per pod",
            &manifest,
            why,
        ));
        out.push(item(
            "promql",
            format!(
                "sum by (pod) (increase(kube_pod_container_status_restarts_total{{{pods}}}[1h]))"
            ),
            "saturation: restarts per pod in the last hour",
            &manifest,
            why,
        ));
        let label =
            APP_LABELS.iter().find_map(|k| focus.labels.get(*k).map(|v| format!("{k}={v}")));
        if let Some(l) = &label {
            out.push(item(
                "kubectl",
                format!("kubectl -n {ns} get pods -l {l} -o wide"),
                "pods, restarts and nodes",
                &manifest,
                "label from the manifest",
            ));
            out.push(item("kubectl", format!("kubectl -n {ns} logs -l {l} --since=1h --all-containers --prefix | grep -iE 'error|exception|timeout' | tail -n 200"), "recent errors in the logs", &manifest, "label from the manifest"));
        }
        out.push(item(
            "kubectl",
            format!("kubectl -n {ns} rollout history {kind}/{name}"),
            "what was rolled out, and when",
            &manifest,
            why,
        ));
        out.push(item("kubectl", format!("kubectl -n {ns} get events --field-selector involvedObject.name={name} --sort-by=.lastTimestamp"), "Kubernetes events for the workload", &manifest, why));
    }
    let ns = focus
        .namespace
        .as_ref()
        .map(|ns| format!(" && resource.k8s.namespace.name = \"{ns}\""))
        .unwrap_or_default();
    if is_service {
        out.push(item(
            "traces",
            format!("{{ resource.service.name = \"{}\"{ns} && status = error }}", focus.name),
            "failing spans (TraceQL)",
            &sel.cite,
            "OpenTelemetry resource attributes named after the node",
        ));
        out.push(item(
            "logs",
            format!(
                "service.name = \"{}\"{} AND severity_number >= 17",
                focus.name,
                ns.replace(" && resource.", " AND ")
            ),
            "error logs (OpenTelemetry log attributes)",
            &sel.cite,
            "OpenTelemetry resource attributes named after the node",
        ));
    }
    out
}
