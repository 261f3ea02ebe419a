//! Who may do what: bearer tokens with scopes, and the `Host` names the server answers.
//!
//! A token has a name (who, in the audit log) and scopes: `read` (queries), `write`
//! (events, notes, feedback, and the MCP write tools), `admin` (everything). `admin`
//! grants `write`, which grants `read`. Tokens come from `lore.toml`:
//!
//! ```toml
//! [auth]
//! allowed_hosts = ["lore.internal"]   # Host names answered besides loopback ones
//! [[auth.tokens]]
//! name = "ci"
//! scopes = ["write"]
//! token_blake3 = "…"                  # blake3 hex of the token (`b3sum`); or `token = "…"`
//! ```
//!
//! and from `LORE_TOKENS` (`name:scope+scope:token`, separated by whitespace). Only the
//! blake3 hash of a token is kept in memory; a presented token is hashed and compared
//! with every configured hash in constant time (`blake3::Hash` equality), all of them
//! compared whatever matches first.
//!
//! The rules ([`Policy::required`]): a write always needs `write`; a read needs `read`
//! when a token with the `read` scope is configured, and always when the server listens
//! beyond loopback. Health probes and the OpenAPI document need nothing. The library
//! router ([`Policy::open`]) needs no token at all: it is for in-process use.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::error::{Error, Result};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Queries.
    Read,
    /// Events, notes, feedback (and reads).
    Write,
    /// Everything.
    Admin,
}

impl Scope {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// `[auth]` of `lore.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// `Host` names answered besides `localhost`, `127.0.0.1` and `[::1]`; `"*"`: any.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

/// One `[[auth.tokens]]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who: the name the audit log records.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The token itself (prefer `token_blake3`).
    pub token: Option<String>,
    /// The blake3 hash of the token, hex.
    pub token_blake3: Option<String>,
}

/// A configured token: name, hash, scopes.
#[derive(Debug, Clone)]
pub struct Token {
    /// Who.
    pub name: String,
    hash: blake3::Hash,
    scopes: Vec<Scope>,
}

impl Token {
    /// A token named `name` granting `scopes`, from its secret.
    pub fn new(name: &str, scopes: &[Scope], secret: &str) -> Token {
        Token {
            name: name.to_string(),
            hash: blake3::hash(secret.as_bytes()),
            scopes: scopes.to_vec(),
        }
    }

    /// Whether the token grants `needed`.
    pub fn grants(&self, needed: Scope) -> bool {
        self.scopes.iter().any(|s| *s >= needed)
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No token, or an unknown one (401).
    Unauthorized(String),
    /// A known token without the scope (403).
    Forbidden(String),
}

/// The access rules of one server.
#[derive(Debug, Clone)]
pub struct Policy {
    tokens: Vec<Token>,
    hosts: Vec<String>,
    any_host: bool,
    reads_need_token: bool,
    writes_need_token: bool,
}

/// `Host` names always answered.
pub const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "[::1]", "::1"];

impl Policy {
    /// No token needed (the library router, in process); loopback `Host` names only.
    pub fn open() -> Policy {
        Policy {
            tokens: Vec::new(),
            hosts: LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect(),
            any_host: false,
            reads_need_token: false,
            writes_need_token: false,
        }
    }

    /// The rules for a server on `bind` with `tokens` and extra `allowed_hosts`.
    pub fn new(tokens: Vec<Token>, allowed_hosts: &[String], bind: Option<SocketAddr>) -> Policy {
        let beyond_loopback = bind.is_some_and(|a| !a.ip().is_loopback());
        let mut policy = Policy::open();
        policy.any_host = allowed_hosts.iter().any(|h| h == "*");
        policy.hosts.extend(allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
        if let Some(addr) = bind.filter(|a| !a.ip().is_unspecified()) {
            policy.hosts.push(match addr.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                ip => ip.to_string(),
            });
        }
        policy.reads_need_token =
            beyond_loopback || tokens.iter().any(|t| t.scopes.contains(&Scope::Read));
        policy.writes_need_token = true;
        policy.tokens = tokens;
        policy
    }

    /// The rules `lore.toml`'s `[auth]` and `LORE_TOKENS` (`env`) give a server on `bind`.
    pub fn from_config(
        config: &AuthConfig,
        env: Option<&str>,
        bind: Option<SocketAddr>,
    ) -> Result<Policy> {
        let mut tokens = Vec::new();
        for (i, t) in config.tokens.iter().enumerate() {
            let field = |f: &str| format!("auth.tokens[{i}].{f}");
            let bad = |f: &str, reason: &str| Error::InvalidParam {
                name: field(f),
                reason: reason.into(),
            };
            if t.name.trim().is_empty() {
                return Err(bad("name", "is empty"));
            }
            if t.scopes.is_empty() {
                return Err(bad("scopes", "is empty (read, write or admin)"));
            }
            let hash = match (&t.token, &t.token_blake3) {
                (Some(secret), None) if !secret.is_empty() => blake3::hash(secret.as_bytes()),
                (None, Some(hex)) => blake3::Hash::from_hex(hex.trim())
                    .map_err(|e| bad("token_blake3", &format!("not a blake3 hex hash: {e}")))?,
                _ => return Err(bad("token", "give exactly one of token and token_blake3")),
            };
            tokens.push(Token { name: t.name.clone(), hash, scopes: t.scopes.clone() });
        }
        if let Some(env) = env {
            tokens.extend(parse_env_tokens(env)?);
        }
        Ok(Policy::new(tokens, &config.allowed_hosts, bind))
    }

    /// Whether a request with this `Host` header (none: an in-process or HTTP/1.0 client,
    /// which a browser never is) is answered.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return true };
        if self.any_host {
            return true;
        }
        let name = strip_port(host.trim()).to_ascii_lowercase();
        self.hosts.contains(&name)
    }

    /// Whether a request from a page of this `Origin` is answered: none (not a browser, or
    /// a same-origin navigation), or one whose host is answered. An opaque origin (`null`)
    /// is not: a page on another site must not drive the API of a local server.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin.map(str::trim) else { return true };
        let Some((scheme, rest)) = origin.split_once("://") else { return false };
        matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
            && !rest.contains('/')
            && self.host_allowed(Some(rest))
    }

    /// The scope a request needs: `None` for health probes and the API document.
    pub fn required(&self, needed: Scope) -> Option<Scope> {
        match needed {
            Scope::Read if !self.reads_need_token => None,
            Scope::Write | Scope::Admin if !self.writes_need_token => None,
            s => Some(s),
        }
    }

    /// Checks the bearer token of a request needing `needed`: the token that allowed it
    /// (`None` when no token was needed), or why not.
    pub fn authorize(&self, bearer: Option<&str>, needed: Scope) -> Result<Option<&Token>, Denied> {
        let presented = bearer.map(|b| blake3::hash(b.as_bytes()));
        let mut found = None;
        if let Some(hash) = &presented {
            for token in &self.tokens {
                // `blake3::Hash` compares in constant time; every token is compared.
                if token.hash == *hash && found.is_none() {
                    found = Some(token);
                }
            }
        }
        let Some(needed) = self.required(needed) else { return Ok(found) };
        match (bearer, found) {
            (None, _) => Err(Denied::Unauthorized(format!(
                "this request needs a token with the `{}` scope: send `Authorization: Bearer <token>`",
                needed.as_str()
            ))),
            (Some(_), None) => Err(Denied::Unauthorized("unknown token".to_string())),
            (Some(_), Some(token)) if !token.grants(needed) => Err(Denied::Forbidden(format!(
                "token `{}` lacks the `{}` scope",
                token.name,
                needed.as_str()
            ))),
            (Some(_), Some(token)) => Ok(Some(token)),
        }
    }

    /// These rules plus one more token, which changes no rule: the local token of
    /// `lore serve` (`server::local`) grants `read` without making reads need a token.
    pub fn with_token(mut self, token: Token) -> Policy {
        self.tokens.push(token);
        self
    }

    /// Whether every request (reads too) needs a token.
    pub fn reads_need_token(&self) -> bool {
        self.reads_need_token
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// Tokens of `LORE_TOKENS`: `name:scope+scope:token` entries separated by whitespace.
pub fn parse_env_tokens(env: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    for (i, entry) in env.split_whitespace().enumerate() {
        let bad =
            |reason: String| Error::InvalidParam { name: format!("LORE_TOKENS[{i}]"), reason };
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(scopes), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected name:scope[+scope]:token".to_string()));
        };
        if name.is_empty() || secret.is_empty() {
            return Err(bad("expected name:scope[+scope]:token".to_string()));
        }
        let scopes = scopes
            .split('+')
            .map(|s| {
                Scope::parse(s)
                    .ok_or_else(|| bad(format!("scope `{s}`: expected read, write or admin")))
            })
            .collect::<Result<Vec<_>>>()?;
        tokens.push(Token::new(name, &scopes, secret));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let tokens = vec![
            Token::new("agent", &[Scope::Read], "r-secret"),
            Token::new("ci", &[Scope::Write], "w-secret"),
        ];
        Policy::new(tokens, &["lore.internal".to_string()], "127.0.0.1:7474".parse().ok())
    }

    #[test]
    fn scopes_are_checked_and_missing_tokens_are_unauthorized() {
        let p = policy();
        assert!(matches!(p.authorize(None, Scope::Write), Err(Denied::Unauthorized(_))));
        assert!(matches!(p.authorize(Some("nope"), Scope::Read), Err(Denied::Unauthorized(_))));
        assert!(matches!(p.authorize(Some("r-secret"), Scope::Write), Err(Denied::Forbidden(_))));
        assert_eq!(p.authorize(Some("w-secret"), Scope::Write).unwrap().unwrap().name, "ci");
        assert_eq!(p.authorize(Some("w-secret"), Scope::Read).unwrap().unwrap().name, "ci");
        let writes_only = Policy::new(vec![Token::new("ci", &[Scope::Write], "w")], &[], None);
        assert!(writes_only.authorize(None, Scope::Read).unwrap().is_none(), "reads stay open");
        let wide = Policy::new(Vec::new(), &[], "0.0.0.0:7474".parse().ok());
        assert!(wide.authorize(None, Scope::Read).is_err(), "beyond loopback reads need a token");
    }

    #[test]
    fn hosts_are_loopback_names_and_configured_ones() {
        let p = policy();
        for ok in ["localhost:7474", "127.0.0.1", "[::1]:7474", "LORE.internal:80"] {
            assert!(p.host_allowed(Some(ok)), "{ok}");
        }
        assert!(!p.host_allowed(Some("evil.example")));
        assert!(!p.host_allowed(Some("evil.example:7474")));
        assert!(p.host_allowed(None));
    }

    #[test]
    fn origins_are_pages_of_answered_hosts() {
        let p = policy();
        for ok in ["http://127.0.0.1:7474", "https://localhost", "http://lore.internal:8080"] {
            assert!(p.origin_allowed(Some(ok)), "{ok}");
        }
        for bad in ["https://evil.example", "null", "http://127.0.0.1.evil.example", "file://x"] {
            assert!(!p.origin_allowed(Some(bad)), "{bad}");
        }
        assert!(p.origin_allowed(None));
    }

    #[test]
    fn env_tokens_and_config_errors_name_the_entry() {
        let t = parse_env_tokens("ci:write+read:abc agent:read:x:y").unwrap();
        assert_eq!(t.len(), 2);
        assert!(t[1].grants(Scope::Read) && !t[1].grants(Scope::Write));
        let err = parse_env_tokens("ci:wrte:abc").unwrap_err().to_string();
        assert!(err.contains("LORE_TOKENS[0]") && err.contains("wrte"), "{err}");
        let config = AuthConfig {
            tokens: vec![TokenConfig {
                name: "x".into(),
                scopes: vec![Scope::Read],
                ..Default::default()
            }],
            allowed_hosts: Vec::new(),
        };
        let err = Policy::from_config(&config, None, None).unwrap_err().to_string();
        assert!(err.contains("auth.tokens[0].token"), "{err}");
    }
}
