//! The audit log: one entry per write made through the API (and the CLI's writes), in
//! its own tree `audit`, keyed by a monotonic id so entries list in the order they were
//! written. Entries are never changed or removed; writing one leaves `generation` alone.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, keys};

/// One write: who, when, what, from where, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub ts: i64,
    /// The token's name (`anonymous` when none was needed; `cli` for the CLI).
    pub who: String,
    /// What: `POST /v1/events`, `mcp tools/call add_note`, `note add`.
    pub what: String,
    /// Where from: the peer address, `in-process` or `local`.
    pub from: String,
    /// The HTTP status answered (0 for CLI writes that succeeded).
    pub status: u16,
}

impl Store {
    /// Appends `entry` to the audit log.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let id = self.db.generate_id()?;
        let value = serde_json::to_vec(entry)
            .map_err(|e| StoreError::Corrupt { key: "audit".into(), reason: e.to_string() })?;
        self.audit.insert(id.to_be_bytes(), value)?;
        self.db.flush()?;
        Ok(())
    }

    /// Every audit entry, oldest first.
    pub fn audit(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit
            .iter()
            .map(|item| {
                let (key, value) = item?;
                serde_json::from_slice(&value).map_err(|e| StoreError::Corrupt {
                    key: format!("{}/{}", keys::AUDIT_TREE, String::from_utf8_lossy(&key)),
                    reason: e.to_string(),
                })
            })
            .collect()
    }
}
