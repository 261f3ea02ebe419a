//! Picks the format of a file from its path and content.

/// A format Lore can ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Kubernetes manifests (YAML, multi-document, Lists).
    Kubernetes,
    /// docker-compose files.
    Compose,
    /// Backstage `catalog-info.yaml`.
    Backstage,
    /// A service catalog listing services with their dependencies (GitLab style).
    ServiceCatalog,
    /// Envoy static configuration.
    Envoy,
    /// nginx configuration.
    Nginx,
    /// A Dockerfile (the `ENV` of the image it builds).
    Dockerfile,
    /// An env file compose services read (`env_file:`).
    EnvFile,
    /// HAProxy configuration.
    Haproxy,
    /// A Caddyfile.
    Caddy,
    /// Change events as JSON lines (`deploys.ndjson`).
    DeployEvents,
    /// Markdown runbooks, postmortems and other pages.
    Markdown,
    /// Prometheus alert rules: PrometheusRule resources, rule files, awesome-prometheus-alerts.
    AlertRules,
}

impl Format {
    /// Ingestor name, used in provenance.
    pub fn name(self) -> &'static str {
        match self {
            Format::Kubernetes => "kubernetes",
            Format::Compose => "compose",
            Format::Backstage => "backstage",
            Format::ServiceCatalog => "service_catalog",
            Format::Envoy => "envoy",
            Format::Nginx => "nginx",
            Format::Dockerfile => "dockerfile",
            Format::EnvFile => "env_file",
            Format::Haproxy => "haproxy",
            Format::Caddy => "caddy",
            Format::DeployEvents => "deploy_events",
            Format::Markdown => "markdown",
            Format::AlertRules => "alert_rules",
        }
    }
}

/// What [`detect`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    /// Ingest with this format.
    Ingest(Format),
    /// A file Lore recognises but does not ingest, with the reason (Helm template).
    Skip(String),
    /// Not a format Lore knows.
    Unknown,
}

/// Detects the format of the file at `path` with content `text`.
pub fn detect(path: &str, text: &str) -> Detection {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
    if name.ends_with(".md") || name.ends_with(".markdown") {
        return Detection::Ingest(Format::Markdown);
    }
    if (name.ends_with(".ndjson") || name.ends_with(".jsonl"))
        && crate::deploy_events::looks_like_events(text)
    {
        return Detection::Ingest(Format::DeployEvents);
    }
    if name == "dockerfile" || name == "containerfile" {
        return Detection::Ingest(Format::Dockerfile);
    }
    if crate::env_file::is_env_file(&name) {
        return Detection::Ingest(Format::EnvFile);
    }
    if crate::proxy::caddy::is_caddyfile(&name) {
        return Detection::Ingest(Format::Caddy);
    }
    if name.ends_with(".cfg") && crate::proxy::haproxy::looks_like_haproxy(text) {
        return Detection::Ingest(Format::Haproxy);
    }
    let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if is_yaml {
        if (name.starts_with("compose") || name.starts_with("docker-compose"))
            && has_top_level_key(text, "services")
        {
            return Detection::Ingest(Format::Compose);
        }
        if is_helm_template(path, text) {
            return Detection::Skip(
                "helm template (not YAML until rendered); render it with `helm template` and ingest the output"
                    .to_string(),
            );
        }
        if is_alert_rules(text) {
            return Detection::Ingest(Format::AlertRules);
        }
        if text.contains("apiVersion: backstage.io/") {
            return Detection::Ingest(Format::Backstage);
        }
        if has_top_level_key(text, "static_resources") {
            return Detection::Ingest(Format::Envoy);
        }
        if has_top_level_key(text, "apiVersion") && has_top_level_key(text, "kind") {
            return Detection::Ingest(Format::Kubernetes);
        }
        if has_top_level_key(text, "services") && text.contains("technical:") {
            return Detection::Ingest(Format::ServiceCatalog);
        }
        return Detection::Unknown;
    }
    // Envoy also reads JSON (`envoy.json`, `front-envoy.json`): JSON is YAML to the parser.
    if name.ends_with(".json") && is_envoy_json(text) {
        return Detection::Ingest(Format::Envoy);
    }
    if name.ends_with(".rules") && is_alert_rules(text) {
        return Detection::Ingest(Format::AlertRules);
    }
    // An `envsubst` template (`default.conf.template`, as the nginx image renders them)
    // is the config it becomes.
    let conf = name.strip_suffix(".template").unwrap_or(&name);
    let is_nginx = conf == "nginx.conf"
        || conf.ends_with(".conf") && (text.contains("proxy_pass") || text.contains("upstream "));
    if is_nginx && (text.contains("proxy_pass") || text.contains("upstream ")) {
        return Detection::Ingest(Format::Nginx);
    }
    Detection::Unknown
}

/// A JSON object whose keys include `static_resources`, as Envoy bootstrap configs have.
fn is_envoy_json(text: &str) -> bool {
    let key = "\"static_resources\"";
    text.trim_start().starts_with('{')
        && text
            .match_indices(key)
            .any(|(at, _)| text[at + key.len()..].trim_start().starts_with(':'))
}

fn has_top_level_key(text: &str, key: &str) -> bool {
    text.lines()
        .any(|line| line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')))
}

/// A `PrometheusRule` resource, a Prometheus rule file (top-level `groups:` holding
/// `rules:` with `alert:`), or the awesome-prometheus-alerts catalogue (`groups:` of
/// `services:` of `exporters:` with `query:`).
fn is_alert_rules(text: &str) -> bool {
    let trimmed = || text.lines().map(str::trim);
    if trimmed().any(|l| l == "kind: PrometheusRule") {
        return true;
    }
    if !has_top_level_key(text, "groups") {
        return false;
    }
    let has_rules = trimmed().any(|l| l.starts_with("rules:") || l.starts_with("- rules:"));
    let has_alert = trimmed().any(|l| l.starts_with("- alert:") || l.starts_with("alert:"));
    let has_exporters = trimmed().any(|l| l.starts_with("exporters:"));
    let has_query = trimmed().any(|l| l.starts_with("query:") || l.starts_with("- query:"));
    has_rules && (has_alert || (has_exporters && has_query))
}

/// Helm templates use chart objects (`.Values`, `.Release`, `include`); `{{ $labels }}`
/// in a Prometheus rule's annotations is not a Helm action.
fn is_helm_template(path: &str, text: &str) -> bool {
    let in_templates = path.split(['/', '\\']).any(|part| part == "templates");
    let chart_objects = [".Values", ".Release.", ".Chart.", "include \"", "template \""];
    let uses_chart = chart_objects.iter().any(|o| text.contains(o));
    text.contains("{{") && (uses_chart || (in_templates && !text.contains("kind: PrometheusRule")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, text: &str, expected: Detection) {
        assert_eq!(detect(path, text), expected, "{path}");
    }

    #[test]
    fn formats_are_detected_from_path_and_content() {
        check("a/compose.yaml", "services:\n  a: {}\n", Detection::Ingest(Format::Compose));
        check(
            "docker-compose.yml",
            "version: '2'\nservices:\n",
            Detection::Ingest(Format::Compose),
        );
        check(
            "x/dep.yaml",
            "apiVersion: v1\nkind: Service\n",
            Detection::Ingest(Format::Kubernetes),
        );
        check(
            "catalog-info.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n",
            Detection::Ingest(Format::Backstage),
        );
        check(
            "envoy.yaml",
            "static_resources:\n  clusters: []\n",
            Detection::Ingest(Format::Envoy),
        );
        check(
            "nginx.conf",
            "http { upstream a { server b:80; } }",
            Detection::Ingest(Format::Nginx),
        );
        check(
            "web/default.conf.template",
            "server { location /api/ { proxy_pass http://${API_HOST}:8080/; } }",
            Detection::Ingest(Format::Nginx),
        );
        check("config/cart.env", "CART_ADDR=cart:7070\n", Detection::Ingest(Format::EnvFile));
        check(".env", "TAG=1\n", Detection::Ingest(Format::EnvFile));
        check("shop/.env.production", "API=api:80\n", Detection::Ingest(Format::EnvFile));
        check(
            "lb/haproxy.cfg",
            "backend api\n  server a api:8080\n",
            Detection::Ingest(Format::Haproxy),
        );
        check("edge/Caddyfile", "a.com {\n  reverse_proxy api:80\n}\n", {
            Detection::Ingest(Format::Caddy)
        });
        check("shipping/Dockerfile", "FROM openjdk\nENV DB_HOST=mysql\n", {
            Detection::Ingest(Format::Dockerfile)
        });
        check(
            "front-envoy.json",
            "{\"static_resources\": {\"clusters\": []}}",
            Detection::Ingest(Format::Envoy),
        );
        check("package.json", "{\"name\": \"static_resources\"}", Detection::Unknown);
        check("docs/README.md", "# hi", Detection::Ingest(Format::Markdown));
        check("a/Notes.MARKDOWN", "", Detection::Ingest(Format::Markdown));
        check(
            "m/x-prometheusRule.yaml",
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups: []\n",
            Detection::Ingest(Format::AlertRules),
        );
        check(
            "rules/node.rules.yml",
            "groups:\n- name: node\n  rules:\n  - alert: NodeDown\n    expr: up == 0\n",
            Detection::Ingest(Format::AlertRules),
        );
        check(
            "_data/rules.yml",
            "groups:\n  - name: Basic\n    services:\n      - name: Host\n        exporters:\n          - slug: node\n            rules:\n              - name: Host down\n                query: up == 0\n",
            Detection::Ingest(Format::AlertRules),
        );
        check(
            "deploy/alert.rules",
            "# c\ngroups:\n- name: shop\n  rules:\n  - alert: HighErrorRate\n",
            Detection::Ingest(Format::AlertRules),
        );
        check("recording.yml", "groups:\n- name: r\n  rules:\n  - record: a\n", Detection::Unknown);
        check("values.yaml", "replicas: 2\n", Detection::Unknown);
        check(
            "deploys/deploys.ndjson",
            "{\"id\": \"c1\", \"ts\": \"2026-11-01T00:00:00Z\", \"service\": \"cart\"}\n",
            Detection::Ingest(Format::DeployEvents),
        );
        check("neutral/nodes.jsonl", "{\"id\": \"service:a\"}\n", Detection::Unknown);
        assert!(matches!(
            detect("chart/templates/dep.yaml", "apiVersion: v1\nkind: {{ .Values.kind }}\n"),
            Detection::Skip(_)
        ));
    }
}
