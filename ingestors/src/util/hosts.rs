//! Finds references to other services in configuration values.
//!
//! A value can name a service in many ways: `cart:7070`, `http://cart:7070/x`,
//! `postgres://user:pw@orders-db:5432/orders`, `jdbc:mysql://db:3306/x`,
//! `dns:///auth.platform:50051`, broker lists `k-0.kafka.kafka.svc.cluster.local:9092,...`,
//! ADO.NET `Host=db;Username=..`, java options `-Dzipkin.url=http://zipkin:9411`, or a
//! bare host name in a variable whose name says it holds a host (`REDIS_HOST=cache`).
//! Topic and bucket variables name topics and buckets.

/// What a configuration value refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// A network host.
    Host {
        /// Host name, lowercase, without port or user info.
        host: String,
        /// Port, when written.
        port: Option<u16>,
        /// URL scheme, when written (`postgres`, `redis`, `amqp`, `http`).
        scheme: Option<String>,
    },
    /// A message topic or queue name.
    Topic {
        /// Topic name.
        name: String,
        /// Whether the variable says it is consumed (`INPUT`, `CONSUMER`) or produced
        /// (`OUTPUT`, `PRODUCER`); `None` when it does not say.
        consumes: Option<bool>,
    },
    /// An object-store bucket.
    Bucket {
        /// Bucket name.
        name: String,
    },
}

/// Variable names whose values are never dependencies, even when they look like hosts.
const NOT_DEPENDENCIES: &[&str] = &[
    "SERVICE_NAME",
    "OTEL_SERVICE_NAME",
    "HOSTNAME",
    "POD_NAME",
    "NODE_NAME",
    "GROUP_ID",
    "CLIENT_ID",
    "OTEL_RESOURCE_ATTRIBUTES",
    "PUBLIC_URL",
    "BASE_PATH",
];

/// Suffixes of variable names that hold a host.
const HOST_KEY_HINTS: &[&str] = &[
    "HOST",
    "HOSTS",
    "HOSTNAME",
    "ADDR",
    "ADDRESS",
    "SERVER",
    "SERVERS",
    "ENDPOINT",
    "URL",
    "URI",
    "TARGET",
    "BROKERS",
    "BROKER",
    "BOOTSTRAP_SERVERS",
    "DSN",
    "SERVICE",
    "NODES",
];

/// The references in `value` of the variable (or config key) `key`.
pub fn references(key: &str, value: &str) -> Vec<Reference> {
    let upper = key.to_ascii_uppercase();
    if NOT_DEPENDENCIES.iter().any(|k| upper == *k || upper.ends_with(&format!("_{k}"))) {
        return Vec::new();
    }
    if let Some(consumes) = topic_key(&upper) {
        return value
            .split([',', ' ', ';'])
            .map(str::trim)
            .filter(|t| is_name(t))
            .map(|t| Reference::Topic { name: t.to_string(), consumes })
            .collect();
    }
    if upper.ends_with("BUCKET") || upper.ends_with("BUCKET_NAME") {
        let name = value.trim().trim_start_matches("s3://").trim_end_matches('/');
        if is_name(name) {
            return vec![Reference::Bucket { name: name.to_string() }];
        }
        return Vec::new();
    }
    let host_key = HOST_KEY_HINTS.iter().any(|h| upper == *h || upper.ends_with(&format!("_{h}")))
        || upper.contains("HOST");
    let mut refs = Vec::new();
    let shape = connection_string_scheme(value);
    for token in tokens(value) {
        if let Some(mut r) = parse_token(token, host_key) {
            if let (Reference::Host { scheme: scheme @ None, .. }, Some(s)) = (&mut r, shape) {
                *scheme = Some(s.to_string());
            }
            refs.push(r);
        }
    }
    refs.sort();
    refs.dedup();
    refs
}

/// The technology an ADO.NET-style connection string implies: `Server=…;Database=…` (or
/// `Data Source=…;Initial Catalog=…`) is SQL Server, `Host=…;Database=…` is PostgreSQL
/// (Npgsql).
fn connection_string_scheme(value: &str) -> Option<&'static str> {
    let lower = value.to_ascii_lowercase();
    let pairs: Vec<&str> = lower.split(';').map(str::trim).collect();
    let has = |k: &str| pairs.iter().any(|p| p.split_once('=').is_some_and(|(a, _)| a.trim() == k));
    if !(has("database") || has("initial catalog")) {
        return None;
    }
    if has("server") || has("data source") {
        Some("sqlserver")
    } else if has("host") {
        Some("postgres")
    } else {
        None
    }
}

/// `Some(consumes)` when `key` names topics.
fn topic_key(upper: &str) -> Option<Option<bool>> {
    if !(upper.ends_with("TOPIC") || upper.ends_with("TOPICS") || upper.ends_with("QUEUE")) {
        return None;
    }
    if ["INPUT", "CONSUMER", "SUBSCRIBE", "SOURCE", "IN_"].iter().any(|w| upper.contains(w)) {
        Some(Some(true))
    } else if ["OUTPUT", "PRODUCER", "PUBLISH", "SINK", "OUT_"].iter().any(|w| upper.contains(w)) {
        Some(Some(false))
    } else {
        Some(None)
    }
}

fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '(' | ')' | '[' | ']')
        })
        .filter(|t| !t.is_empty())
}

fn parse_token(token: &str, host_key: bool) -> Option<Reference> {
    // `-Dkey=value` java options and `Host=db` connection-string pairs.
    if let Some((k, v)) = token.split_once('=')
        && !k.contains("://")
    {
        let k = k.trim_start_matches('-').to_ascii_lowercase();
        let hosty = matches!(k.as_str(), "host" | "server" | "data source" | "address" | "addr")
            || k.ends_with("host")
            || k.ends_with("url")
            || k.ends_with("uri")
            || k.ends_with("addr")
            || k.ends_with("address")
            || k.ends_with("endpoint")
            || k.ends_with("baseurl");
        return parse_token(v, hosty);
    }
    let token = token.trim_start_matches("jdbc:");
    // `oracle:thin:@//host:port/service` and `oracle:thin:@host:port:sid`.
    if let Some(rest) = token.strip_prefix("oracle:").and_then(|r| r.split_once('@')) {
        let authority = rest.1.trim_start_matches('/').split('/').next().unwrap_or("");
        let mut parts = authority.split(':');
        let host = parts.next().unwrap_or("");
        let port = parts.next().and_then(|p| p.parse().ok());
        return host_ref(host, port, Some("oracle".to_string()));
    }
    // `tcp:host,1433` (SQL Server's protocol prefix).
    let token = token.strip_prefix("tcp:").unwrap_or(token);
    if let Some((scheme, rest)) = token.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if !scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')) {
            return None;
        }
        // `dns:///host:port` has the host in the path.
        let rest = rest.trim_start_matches('/');
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        // Several hosts in one URL (`mongodb://a:1,b:2/x`) were split on commas already.
        let (host, port) = split_port(authority);
        return host_ref(host, port, Some(scheme));
    }
    let (host, port) = split_port(token);
    if port.is_some() || host_key {
        return host_ref(host, port, None);
    }
    None
}

fn split_port(authority: &str) -> (&str, Option<u16>) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
            (host, port.parse().ok())
        }
        Some((host, "")) => (host, None),
        _ => (authority, None),
    }
}

fn host_ref(host: &str, port: Option<u16>, scheme: Option<String>) -> Option<Reference> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let is_ip = host.split('.').all(|p| p.chars().all(|c| c.is_ascii_digit()));
    let local =
        matches!(host.as_str(), "localhost" | "0.0.0.0" | "true" | "false" | "none" | "null");
    if host.is_empty()
        || is_ip
        || local
        || !is_name(&host)
        || !host.chars().any(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    Some(Reference::Host { host, port, scheme })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Splits a Kubernetes DNS name into candidate `(service, namespace)` pairs, most
/// specific first: `a.b.svc.cluster.local` → `(a, b)`; pod DNS under a headless Service
/// `p.a.b.svc.cluster.local` → `(a, b)`; `a.b` → `(a, b)` then `(a.b, -)`; `a` → `(a, -)`;
/// anything longer only as a whole.
pub fn dns_candidates(host: &str) -> Vec<(String, Option<String>)> {
    let trimmed = host
        .strip_suffix(".svc.cluster.local")
        .or_else(|| host.strip_suffix(".svc"))
        .map(|h| (h, true))
        .unwrap_or((host, false));
    let parts: Vec<&str> = trimmed.0.split('.').collect();
    let mut out = Vec::new();
    match parts.as_slice() {
        [name] => out.push((name.to_string(), None)),
        [name, ns] => {
            out.push((name.to_string(), Some(ns.to_string())));
            if !trimmed.1 {
                out.push((trimmed.0.to_string(), None));
            }
        }
        [_pod, name, ns] if trimmed.1 => out.push((name.to_string(), Some(ns.to_string()))),
        // Longer names outside the cluster domain (`partner.acme.example`) are external
        // hosts: only the whole name can match (a compose alias, a catalog name).
        _ => out.push((trimmed.0.to_string(), None)),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(key: &str, value: &str) -> Vec<String> {
        references(key, value)
            .into_iter()
            .map(|r| match r {
                Reference::Host { host, scheme, .. } => {
                    format!("{}{}", scheme.map(|s| format!("{s}:")).unwrap_or_default(), host)
                }
                Reference::Topic { name, .. } => format!("topic:{name}"),
                Reference::Bucket { name } => format!("bucket:{name}"),
            })
            .collect()
    }

    #[test]
    fn values_name_hosts_in_many_styles() {
        assert_eq!(hosts("CART_ADDR", "cart:7070"), ["cart"]);
        assert_eq!(hosts("X", "http://cart:7070/api"), ["http:cart"]);
        assert_eq!(
            hosts("DATABASE_URL", "postgres://u:p@orders-db.shop:5432/o"),
            ["postgres:orders-db.shop"]
        );
        assert_eq!(hosts("DB", "jdbc:mysql://db:3306/x?a=b"), ["mysql:db"]);
        assert_eq!(
            hosts("AUTH_GRPC_TARGET", "dns:///auth-service.platform:50051"),
            ["dns:auth-service.platform"]
        );
        assert_eq!(
            hosts(
                "KAFKA_BROKERS",
                "k-0.kafka.kafka.svc.cluster.local:9092,k-1.kafka.kafka.svc.cluster.local:9092"
            ),
            ["k-0.kafka.kafka.svc.cluster.local", "k-1.kafka.kafka.svc.cluster.local"]
        );
        assert_eq!(
            hosts("DB_CONNECTION_STRING", "Host=astronomy-db;Username=u;Password=p"),
            ["astronomy-db"]
        );
        assert_eq!(
            hosts("JAVA_OPTS", "-Xms64m -Dspring.zipkin.baseUrl=http://zipkin:9411"),
            ["http:zipkin"]
        );
        assert_eq!(hosts("REDIS_HOST", "cache"), ["cache"]);
        assert_eq!(hosts("LOG_LEVEL", "debug"), Vec::<String>::new());
        assert_eq!(hosts("OTEL_SERVICE_NAME", "cart"), Vec::<String>::new());
        assert_eq!(hosts("PORT", "8080"), Vec::<String>::new());
        assert_eq!(hosts("X_ADDR", "localhost:8080"), Vec::<String>::new());
        assert_eq!(hosts("KAFKA_TOPIC", "orders"), ["topic:orders"]);
        assert_eq!(hosts("S3_BUCKET", "acme-reports"), ["bucket:acme-reports"]);
    }

    #[test]
    fn kubernetes_dns_names() {
        assert_eq!(dns_candidates("cart"), [("cart".into(), None)]);
        assert_eq!(
            dns_candidates("cart.shop.svc.cluster.local"),
            [("cart".into(), Some("shop".into()))]
        );
        assert_eq!(
            dns_candidates("kafka-0.kafka.kafka.svc.cluster.local"),
            [("kafka".into(), Some("kafka".into()))]
        );
        assert_eq!(
            dns_candidates("cart.shop"),
            [("cart".into(), Some("shop".into())), ("cart.shop".into(), None)]
        );
    }
}
