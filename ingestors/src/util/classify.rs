//! Recognises datastores and plumbing (telemetry, discovery, feature flags) by image,
//! name, URL scheme and port.

use lore_schema::{DatastoreType, Role};

/// Datastore technology named by a container image (`redis:7`, `bitnami/postgresql`).
pub fn datastore_from_image(image: &str) -> Option<DatastoreType> {
    let repo = image_repo(image);
    datastore_from_word(&repo)
}

/// Datastore technology named by a URL scheme.
pub fn datastore_from_scheme(scheme: &str) -> Option<DatastoreType> {
    use DatastoreType::*;
    Some(match scheme {
        "postgres" | "postgresql" | "pgsql" => Postgres,
        "mysql" | "mariadb" => Mysql,
        "redis" | "rediss" | "valkey" => Redis,
        "mongodb" | "mongodb+srv" | "mongo" => Mongo,
        "memcached" | "memcache" => Memcached,
        "kafka" => Kafka,
        "amqp" | "amqps" => Rabbitmq,
        "nats" => Nats,
        "cassandra" => Cassandra,
        "sqlserver" | "mssql" => SqlServer,
        "oracle" => Oracle,
        "couchdb" | "couchbase" => CouchDb,
        "clickhouse" => ClickHouse,
        "s3" | "gs" | "minio" => Bucket,
        _ => return None,
    })
}

/// Datastore technology conventionally served on `port`.
pub fn datastore_from_port(port: u16) -> Option<DatastoreType> {
    use DatastoreType::*;
    Some(match port {
        5432 => Postgres,
        3306 => Mysql,
        6379 => Redis,
        27017 => Mongo,
        11211 => Memcached,
        9092 => Kafka,
        5672 => Rabbitmq,
        4222 => Nats,
        9200 => Elasticsearch,
        9042 => Cassandra,
        1433 => SqlServer,
        1521 => Oracle,
        5984 => CouchDb,
        8123 => ClickHouse,
        _ => return None,
    })
}

/// Datastore technology suggested by a service name (`orders-db`, `redis-cart`,
/// `mongodb-profile`, `user-db`); not a tool of one (`mongo-express`, `kafka-ui`,
/// `redis-exporter`, `orders-db-migrator`: see [`COMPANIONS`]).
pub fn datastore_from_name(name: &str) -> Option<DatastoreType> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['-', '_', '.']).collect();
    if words.iter().any(|w| datastore_from_word_exact(w).is_some()) {
        return datastore_of_words(&words);
    }
    let generic = |w: &str| ["db", "database", "cache", "mongo", "sql"].contains(&w);
    (words.iter().any(|w| generic(w)) && !companion_after(&words, generic))
        .then_some(DatastoreType::Other)
}

/// Words that, after a datastore's word, name a tool of that datastore rather than the
/// datastore: its admin UIs, exporters, clients and jobs. Not `svc` or `service`:
/// `redis-svc` is the Kubernetes Service in front of the datastore.
const COMPANIONS: [&str; 31] = [
    "exporter",
    "commander",
    "express",
    "ui",
    "gui",
    "web",
    "admin",
    "insight",
    "console",
    "dashboard",
    "consumer",
    "producer",
    "worker",
    "sync",
    "syncer",
    "connect",
    "connector",
    "client",
    "bridge",
    "adapter",
    "api",
    "migrator",
    "migrate",
    "migration",
    "migrations",
    "init",
    "setup",
    "seed",
    "seeder",
    "backup",
    "operator",
];

/// Whether a [`COMPANIONS`] word follows the last word that `is_store` accepts.
fn companion_after(words: &[&str], is_store: impl Fn(&str) -> bool) -> bool {
    let Some(last) = words.iter().rposition(|w| is_store(w)) else { return false };
    words[last + 1..].iter().any(|w| COMPANIONS.contains(w))
}

/// Whether an image's last path segment or a service name is a Prometheus exporter of a
/// datastore or of infrastructure (`redis_exporter`, `postgres-exporter`,
/// `node-exporter`), which is telemetry, not a caller. (Datastores' own words come from
/// the datastore table.)
fn is_metrics_exporter(word: &str) -> bool {
    let words: Vec<&str> = word.split(['-', '_']).collect();
    let [subject @ .., "exporter"] = words.as_slice() else { return false };
    let infra = [
        "node",
        "blackbox",
        "process",
        "mysqld",
        "nginx",
        "haproxy",
        "jmx",
        "snmp",
        "windows",
        "json",
        "pushgateway",
        "pg",
        "consul",
        "apache",
        "bind",
        "varnish",
        "cloudwatch",
    ];
    subject.iter().any(|w| infra.contains(w) || datastore_from_word_exact(w).is_some())
}

/// Plumbing role of an image or a well-known product name.
pub fn role(image: Option<&str>, name: &str) -> Option<Role> {
    let name = name.to_ascii_lowercase();
    let repo = image.map(image_repo).unwrap_or_default();
    let last = repo.rsplit('/').next().unwrap_or("").to_string();
    let is = |words: &[&str]| {
        words.iter().any(|w| name == *w || last == *w || last.starts_with(&format!("{w}-")))
    };
    if is_metrics_exporter(&name) || is_metrics_exporter(&last) || is(&["cadvisor"]) {
        return Some(Role::Telemetry);
    }
    if is(&[
        "otel-collector",
        "otelcol",
        "opentelemetry-collector",
        "opentelemetry-collector-contrib",
        "jaeger",
        "all-in-one",
        "zipkin",
        "prometheus",
        "grafana",
        "tempo",
        "loki",
        "alertmanager",
        "statsd",
        "statsd-exporter",
        "fluentd",
        "fluent-bit",
        "datadog-agent",
        "otel-ebpf-profiler",
    ]) || repo.contains("jaegertracing/")
        || repo.contains("openzipkin/")
        || repo.contains("opentelemetry-collector")
    {
        return Some(Role::Telemetry);
    }
    if is(&["consul", "eureka", "eureka-server"]) || repo.starts_with("hashicorp/consul") {
        return Some(Role::Discovery);
    }
    if is(&["flagd", "flagd-ui", "unleash", "unleash-server", "flipt", "ld-relay"])
        || repo.contains("open-feature/flagd")
    {
        return Some(Role::FeatureFlags);
    }
    None
}

/// `docker.io/bitnami/redis:7.2@sha256:...` → `bitnami/redis`.
fn image_repo(image: &str) -> String {
    let image = image.split('@').next().unwrap_or(image);
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    let without_tag = match image[last_slash..].find(':') {
        Some(i) => &image[..last_slash + i],
        None => image,
    };
    without_tag.to_ascii_lowercase()
}

fn datastore_from_word(repo: &str) -> Option<DatastoreType> {
    // Vendor paths whose last segment is generic (`mcr.microsoft.com/mssql/server`,
    // `container-registry.oracle.com/database/free`, `amazon/dynamodb-local`).
    if repo.contains("mssql/") || repo.contains("azure-sql-edge") {
        return Some(DatastoreType::SqlServer);
    }
    if repo.contains("oracle.com/database/") {
        return Some(DatastoreType::Oracle);
    }
    if repo.contains("azure-storage/azurite") {
        return Some(DatastoreType::Bucket);
    }
    let last = repo.rsplit('/').next().unwrap_or(repo);
    if let Some(t) = datastore_from_word_exact(last) {
        return Some(t);
    }
    datastore_of_words(&last.split(['-', '_']).collect::<Vec<_>>())
}

/// The datastore the first of `words` that names one names, unless a tool's word follows
/// (`mongo-express`).
fn datastore_of_words(words: &[&str]) -> Option<DatastoreType> {
    let t = words.iter().find_map(|w| datastore_from_word_exact(w))?;
    (!companion_after(words, |w| datastore_from_word_exact(w).is_some())).then_some(t)
}

fn datastore_from_word_exact(word: &str) -> Option<DatastoreType> {
    use DatastoreType::*;
    Some(match word {
        "postgres" | "postgresql" | "postgis" | "pgvector" | "cockroach" | "cockroachdb" => {
            Postgres
        }
        "mysql" | "mariadb" | "percona" => Mysql,
        "redis" | "valkey" | "keydb" | "dragonfly" | "redis-stack" => Redis,
        "mongo" | "mongodb" => Mongo,
        "memcached" => Memcached,
        "kafka" | "cp-kafka" | "redpanda" => Kafka,
        "rabbitmq" => Rabbitmq,
        "nats" => Nats,
        "elasticsearch" | "opensearch" => Elasticsearch,
        "cassandra" | "scylla" | "scylladb" => Cassandra,
        "mssql" | "sqlserver" | "mssql-server" | "azure-sql-edge" => SqlServer,
        "oracle" | "oracle-xe" | "oracle-free" => Oracle,
        "couchdb" | "couchbase" => CouchDb,
        "clickhouse" | "clickhouse-server" => ClickHouse,
        "minio" | "azurite" | "localstack" | "fake-gcs-server" | "s3mock" => Bucket,
        "dynamodb-local" | "cosmosdb" | "neo4j" | "influxdb" | "etcd" | "questdb" => Other,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datastores_and_roles_are_recognised() {
        assert_eq!(datastore_from_image("redis:alpine"), Some(DatastoreType::Redis));
        assert_eq!(
            datastore_from_image("docker.io/bitnami/postgresql:16"),
            Some(DatastoreType::Postgres)
        );
        assert_eq!(datastore_from_image("valkey/valkey:8.1-alpine"), Some(DatastoreType::Redis));
        assert_eq!(datastore_from_image("weaveworksdemos/catalogue:0.3.5"), None);
        assert_eq!(datastore_from_image("confluentinc/cp-kafka:7"), Some(DatastoreType::Kafka));
        assert_eq!(datastore_from_name("catalogue-db"), Some(DatastoreType::Other));
        assert_eq!(
            datastore_from_image("mcr.microsoft.com/mssql/server:2022-latest"),
            Some(DatastoreType::SqlServer)
        );
        assert_eq!(datastore_from_image("gvenzl/oracle-xe:21"), Some(DatastoreType::Oracle));
        assert_eq!(datastore_from_image("couchdb:3"), Some(DatastoreType::CouchDb));
        assert_eq!(
            datastore_from_image("clickhouse/clickhouse-server:24"),
            Some(DatastoreType::ClickHouse)
        );
        assert_eq!(datastore_from_image("minio/minio:latest"), Some(DatastoreType::Bucket));
        assert_eq!(
            datastore_from_image("mcr.microsoft.com/azure-storage/azurite"),
            Some(DatastoreType::Bucket)
        );
        assert_eq!(datastore_from_image("cassandra:4"), Some(DatastoreType::Cassandra));
        assert_eq!(datastore_from_port(1433), Some(DatastoreType::SqlServer));
        assert_eq!(datastore_from_scheme("sqlserver"), Some(DatastoreType::SqlServer));
        assert_eq!(datastore_from_name("mongodb-profile"), Some(DatastoreType::Mongo));
        assert_eq!(datastore_from_name("checkout"), None);
        assert_eq!(
            role(Some("otel/opentelemetry-collector-contrib:0.1"), "x"),
            Some(Role::Telemetry)
        );
        assert_eq!(
            role(Some("ghcr.io/open-feature/flagd:v0.12"), "flagd"),
            Some(Role::FeatureFlags)
        );
        assert_eq!(
            role(Some("registry.acme.example/platform/feature-flags:1"), "feature-flags"),
            None
        );
        assert_eq!(role(Some("hashicorp/consul:1.15"), "consul"), Some(Role::Discovery));
        assert_eq!(role(None, "jaeger"), Some(Role::Telemetry));
    }

    #[test]
    fn a_datastores_tools_are_not_the_datastore() {
        for image in ["mongo-express:1.0", "provectuslabs/kafka-ui", "oliver006/redis_exporter"] {
            assert_eq!(datastore_from_image(image), None, "{image}");
        }
        for name in ["mongo-express", "redis-commander", "kafka-consumer", "orders-db-migrator"] {
            assert_eq!(datastore_from_name(name), None, "{name}");
        }
        // The datastore's word last, or followed by what it stores, is the datastore.
        assert_eq!(datastore_from_name("redis-cart"), Some(DatastoreType::Redis));
        assert_eq!(datastore_from_name("sync-db"), Some(DatastoreType::Other));
        assert_eq!(datastore_from_name("redis-leader"), Some(DatastoreType::Redis));
        assert_eq!(datastore_from_name("mysql-svc"), Some(DatastoreType::Mysql));
        assert_eq!(datastore_from_image("bitnami/redis-sentinel:7"), Some(DatastoreType::Redis));
        for (image, name) in [
            (Some("oliver006/redis_exporter:v1"), "redis-exporter"),
            (Some("quay.io/prometheuscommunity/postgres-exporter"), "db-metrics"),
            (Some("prom/node-exporter"), "node-exporter"),
            (Some("gcr.io/cadvisor/cadvisor:v0.47"), "cadvisor"),
        ] {
            assert_eq!(role(image, name), Some(Role::Telemetry), "{name}");
        }
        assert_eq!(role(Some("acme/report-exporter:1"), "report-exporter"), None);
    }
}
