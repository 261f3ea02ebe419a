//! Edge kinds and which of them are on the request path.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::node::string_enum;

string_enum! {
    /// What an edge means. Edges point from the dependent to the dependency
    /// (`frontend --calls--> cart`, `cart --depends_on--> redis-cart`).
    EdgeKind {
        /// A request from one service to another.
        Calls => "calls",
        /// Use of a datastore.
        DependsOn => "depends_on",
        /// Producing to a queue or topic.
        Publishes => "publishes",
        /// Consuming from a queue or topic.
        Consumes => "consumes",
        /// Service provides an API.
        ProvidesApi => "provides_api",
        /// Service consumes an API.
        ConsumesApi => "consumes_api",
        /// Owned by a team.
        OwnedBy => "owned_by",
        /// Part of a system, or a team part of a parent team.
        PartOf => "part_of",
        /// Runs in a namespace or environment.
        RunsIn => "runs_in",
        /// Export of telemetry, or a telemetry component scraping or querying a target.
        Telemetry => "telemetry",
        /// Lookup in service discovery.
        Discovery => "discovery",
        /// Reading feature flags.
        FeatureFlag => "feature_flag",
        /// A health-check dashboard or probe polling a service (`HealthChecks` UIs,
        /// `*_HC` settings).
        HealthCheck => "health_check",
        /// A URL handed to a browser or another system to follow (login redirects,
        /// callback URLs, public asset or picture base URLs); the holder sends no request.
        UrlReference => "url_reference",
        /// Agent management and control planes (OpAMP and similar).
        ControlPlane => "control_plane",
        /// A runbook documents a service or an alert.
        Documents => "documents",
        /// A document mentions a node.
        Mentions => "mentions",
        /// A postmortem is about a service.
        About => "about",
        /// A change changed a service.
        Changed => "changed",
        /// An alert fires for a service.
        FiresFor => "fires_for",
        /// A note annotates a node.
        Annotates => "annotates",
    }
}

impl EdgeKind {
    /// Whether a failure propagates along this edge: request-path edges are followed by
    /// impact queries by default. API edges are not: a consumed API reaches its provider
    /// only through a call edge, which the sources declare separately.
    pub fn is_request_path(self) -> bool {
        matches!(
            self,
            EdgeKind::Calls | EdgeKind::DependsOn | EdgeKind::Publishes | EdgeKind::Consumes
        )
    }

    /// Plumbing edges: recorded and shown, left out of impact unless asked for.
    pub fn is_plumbing(self) -> bool {
        matches!(
            self,
            EdgeKind::Telemetry
                | EdgeKind::Discovery
                | EdgeKind::FeatureFlag
                | EdgeKind::HealthCheck
                | EdgeKind::UrlReference
                | EdgeKind::ControlPlane
        )
    }

    /// Edges between services and their dependencies (request path or plumbing), the ones
    /// a dependency query may follow.
    pub fn is_dependency(self) -> bool {
        self.is_request_path() || self.is_plumbing()
    }
}
