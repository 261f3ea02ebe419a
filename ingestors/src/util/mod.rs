//! Parsing helpers shared by ingestors, each written once.

pub mod classify;
pub mod config_ref;
pub mod deps;
pub mod dockerfile;
pub mod dotenv;
pub mod hosts;
pub mod mounts;
pub mod timestamp;
pub mod yaml;
