//! Change events: deploys, config changes, flags, migrations, commits.

use std::fmt;

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

impl ChangeKind {
    /// The named kinds, in declaration order.
    pub const NAMED: &'static [ChangeKind] = &[
        ChangeKind::Deploy,
        ChangeKind::Config,
        ChangeKind::FeatureFlag,
        ChangeKind::Migration,
        ChangeKind::Scale,
        ChangeKind::Rollback,
        ChangeKind::Commit,
    ];

    /// The snake_case name (`deploy`, `feature_flag`); an other kind's own name.
    pub fn as_str(&self) -> &str {
        match self {
            ChangeKind::Deploy => "deploy",
            ChangeKind::Config => "config",
            ChangeKind::FeatureFlag => "feature_flag",
            ChangeKind::Migration => "migration",
            ChangeKind::Scale => "scale",
            ChangeKind::Rollback => "rollback",
            ChangeKind::Commit => "commit",
            ChangeKind::Other(name) => name,
        }
    }

    /// The kind named `name` (already normalised to snake_case); unknown names become
    /// [`ChangeKind::Other`].
    pub fn from_name(name: &str) -> ChangeKind {
        ChangeKind::NAMED
            .iter()
            .find(|k| k.as_str() == name)
            .cloned()
            .unwrap_or_else(|| ChangeKind::Other(name.to_string()))
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// Link to the change (pipeline run, pull request), if any. Absent in records stored
    /// before the field existed, which decode as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Where it was read.
    pub provenance: Provenance,
}
