//! Stable, readable node ids such as `service:checkout`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::NodeKind;

/// A node id: `<kind>:<name>`, for example `service:checkout` or `datastore:redis-cart`.
///
/// Built only through [`NodeId::new`] or parsing, so the kind prefix is always valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

/// Why a string is not a node id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a node id (expected `<kind>:<name>`)")]
pub struct ParseIdError(pub String);

impl NodeId {
    /// The id of the node of `kind` named `name`.
    pub fn new(kind: NodeKind, name: &str) -> NodeId {
        NodeId(format!("{}:{}", kind.as_str(), name))
    }

    /// The kind named by the prefix.
    pub fn kind(&self) -> NodeKind {
        let (kind, _) = self.0.split_once(':').unwrap_or_default();
        kind.parse().unwrap_or(NodeKind::Service)
    }

    /// The part after the kind prefix.
    pub fn name(&self) -> &str {
        self.0.split_once(':').map_or(self.0.as_str(), |(_, name)| name)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lookups by `&str` in maps keyed by id: an id compares, orders and hashes as its text.
impl std::borrow::Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for NodeId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<NodeId, ParseIdError> {
        match s.split_once(':') {
            Some((kind, name)) if !name.is_empty() && kind.parse::<NodeKind>().is_ok() => {
                Ok(NodeId(s.to_string()))
            }
            _ => Err(ParseIdError(s.to_string())),
        }
    }
}

impl TryFrom<String> for NodeId {
    type Error = ParseIdError;
    fn try_from(s: String) -> Result<NodeId, ParseIdError> {
        s.parse()
    }
}

impl From<NodeId> for String {
    fn from(id: NodeId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_unknown_kinds() {
        let id = NodeId::new(NodeKind::Datastore, "redis-cart");
        assert_eq!(id.as_str(), "datastore:redis-cart");
        assert_eq!(id.kind(), NodeKind::Datastore);
        assert_eq!(id.name(), "redis-cart");
        assert_eq!("datastore:redis-cart".parse::<NodeId>(), Ok(id));
        assert!("blob:x".parse::<NodeId>().is_err());
        assert!("service:".parse::<NodeId>().is_err());
        assert!("checkout".parse::<NodeId>().is_err());
    }
}
