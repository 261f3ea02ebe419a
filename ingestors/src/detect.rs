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
    let is_nginx = name == "nginx.conf"
        || name.ends_with(".conf") && (text.contains("proxy_pass") || text.contains("upstream "));
    if is_nginx && (text.contains("proxy_pass") || text.contains("upstream ")) {
        return Detection::Ingest(Format::Nginx);
    }
    Detection::Unknown
}

fn has_top_level_key(text: &str, key: &str) -> bool {
    text.lines()
        .any(|line| line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')))
}

fn is_helm_template(path: &str, text: &str) -> bool {
    let in_templates = path.split(['/', '\\']).any(|part| part == "templates");
    let has_actions = text.contains("{{");
    has_actions && (in_templates || text.contains(".Values") || text.contains("{{-"))
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
        check("README.md", "# hi", Detection::Unknown);
        check("values.yaml", "replicas: 2\n", Detection::Unknown);
        assert!(matches!(
            detect("chart/templates/dep.yaml", "apiVersion: v1\nkind: {{ .Values.kind }}\n"),
            Detection::Skip(_)
        ));
    }
}
