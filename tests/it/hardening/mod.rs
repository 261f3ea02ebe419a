//! Hardening (issue 13): secrets in free text are redacted before they are stored,
//! writes need a token with the right scope, ingest never drops good facts.

mod auth;
mod ingest;
mod secrets;
