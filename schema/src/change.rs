//! Change events: deploys, config changes, flags, migrations.

use serde::{Deserialize, Serialize};

use crate::Provenance;

/// What kind of change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new version rolled out.
    Deploy,
    /// Configuration changed.
    Config,
    /// A feature flag flipped.
    FeatureFlag,
    /// A schema or data migration.
    Migration,
    /// Replicas or resources changed.
    Scale,
    /// A rollback.
    Rollback,
    /// A commit to source.
    Commit,
    /// Anything else, by name.
    Other(String),
}

/// A change event on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// The event's own id.
    pub id: String,
    /// Unix time in seconds.
    pub ts: i64,
    /// Service name as the source writes it.
    pub service: String,
    /// Kind.
    pub kind: ChangeKind,
    /// Version deployed, if any.
    pub version: Option<String>,
    /// Commit, if any.
    pub commit: Option<String>,
    /// Author, if any.
    pub author: Option<String>,
    /// Free text.
    pub description: String,
    /// Where it was read.
    pub provenance: Provenance,
}
