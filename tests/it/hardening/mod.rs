//! Hardening (issue 13): secrets in free text are redacted before they are stored,
//! writes need a token with the right scope, ingest never drops good facts, the CLI
//! forwards to a running server, ids do not depend on a path's spelling, broken pipes
//! end quietly.

mod auth;
mod forward;
mod ids;
mod ingest;
mod load;
mod pipe;
mod secrets;
