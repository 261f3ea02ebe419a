//! Lore: a knowledge graph of production topology and tribal knowledge.
//!
//! Reading order: [`store`] keeps every fact in sled; [`ingest`] runs the ingestors over
//! files and applies their records to the store per source; [`resolve`] turns all
//! sources' records into one graph of nodes and edges; [`graph`] holds it with a compact adjacency and
//! answers traversals; [`engine::Engine`] is the façade the CLI and HTTP server use.

pub mod auth;
pub mod changes;
pub mod config;
pub mod context;
pub mod engine;
pub mod error;
pub mod eval;
pub mod feedback;
pub mod graph;
pub mod ingest;
pub mod mcp;
pub mod model;
pub mod notes;
pub(crate) mod portal;
pub mod projections;
pub mod queries;
pub mod redact;
pub mod resolve;
pub mod retrieval;
pub mod search;
pub mod server;
pub mod store;
pub mod time;
pub mod traces;

pub use engine::Engine;
pub use error::{Error, ErrorCode};
