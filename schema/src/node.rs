//! Node kinds, datastore types and plumbing roles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The snake_case name used in ids, JSON and the CLI.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(format!(
                        "unknown {} `{}` (expected one of: {})",
                        stringify!($name), s, [$($text),*].join(", ")
                    )),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// What a node is.
    NodeKind {
        /// A deployed unit that serves requests or runs jobs.
        Service => "service",
        /// A database, cache, queue, topic, bucket or search cluster.
        Datastore => "datastore",
        /// An API a service provides.
        Api => "api",
        /// A team or group of people.
        Team => "team",
        /// A system or domain grouping services.
        System => "system",
        /// A Kubernetes namespace, cluster or environment.
        Environment => "environment",
        /// A Prometheus alert.
        Alert => "alert",
        /// A service level objective.
        Slo => "slo",
        /// A runbook document.
        Runbook => "runbook",
        /// A postmortem document.
        Postmortem => "postmortem",
        /// A change event: deploy, config, flag, migration.
        Change => "change",
        /// A note left by a human or an agent.
        Note => "note",
    }
}

string_enum! {
    /// The technology behind a datastore node.
    DatastoreType {
        /// PostgreSQL.
        Postgres => "postgres",
        /// MySQL or MariaDB.
        Mysql => "mysql",
        /// Redis, Valkey, KeyDB.
        Redis => "redis",
        /// MongoDB.
        Mongo => "mongo",
        /// Memcached.
        Memcached => "memcached",
        /// A Kafka cluster.
        Kafka => "kafka",
        /// A Kafka topic.
        KafkaTopic => "kafka_topic",
        /// RabbitMQ.
        Rabbitmq => "rabbitmq",
        /// NATS.
        Nats => "nats",
        /// Elasticsearch or OpenSearch.
        Elasticsearch => "elasticsearch",
        /// Cassandra or ScyllaDB.
        Cassandra => "cassandra",
        /// Microsoft SQL Server or Azure SQL Edge.
        SqlServer => "sqlserver",
        /// Oracle Database.
        Oracle => "oracle",
        /// CouchDB or Couchbase.
        CouchDb => "couchdb",
        /// ClickHouse.
        ClickHouse => "clickhouse",
        /// An object-store bucket.
        Bucket => "bucket",
        /// A datastore whose technology is not known.
        Other => "other",
    }
}

string_enum! {
    /// Plumbing roles: nodes that services reach through configuration but that are not
    /// on the request path. Edges to (or from) them get their own edge kinds.
    Role {
        /// Telemetry: OpenTelemetry collector, Jaeger, Zipkin, Prometheus, Grafana, statsd.
        Telemetry => "telemetry",
        /// Service discovery: consul, etcd used as registry, eureka.
        Discovery => "discovery",
        /// Feature-flag services: flagd, unleash, flipt.
        FeatureFlags => "feature_flags",
    }
}
