//! Lore's vocabulary: the typed records every ingestor emits and the store keeps.
//!
//! This crate is a leaf: it knows nothing about sled, petgraph, HTTP or file formats.
//! Ingestors produce [`Record`]s; the main crate resolves identity across sources and
//! projects the records into a graph.
#![warn(missing_docs)]

mod change;
mod document;
mod edge;
mod feedback;
mod id;
mod node;
mod provenance;
mod record;

pub use change::{ChangeEvent, ChangeKind};
pub use document::{Document, DocumentKind, Postmortem, Section, TimelineEntry};
pub use edge::EdgeKind;
pub use feedback::{Feedback, Verdict};
pub use id::{NodeId, ParseIdError};
pub use node::{DatastoreType, NodeKind, Role};
pub use provenance::{Origin, Provenance};
pub use record::{Entity, EntityClass, NodeRef, Record, Relation};

/// Version of the record encoding; bumped whenever a stored record changes shape.
pub const FORMAT_VERSION: u32 = 1;
