//! Integration tests: one binary (real sled in temp dirs, real corpora from
//! `../shared/corpora`, organisations from `../shared/tools/gen-org`).

mod changes;
mod cli;
mod context;
mod corpora;
mod crash;
mod gen_org;
mod hardening;
mod http;
mod identity;
mod mcp;
mod notes;
mod openapi;
mod portal;
mod projections;
mod props;
mod queries;
mod reingest;
mod search;
mod semantic;
mod snapshot;
mod support;
mod tool_choice;
mod traces;
mod unseen;
