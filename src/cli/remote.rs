//! The HTTP client the CLI forwards to a running `lore serve` with (see `backend.rs`):
//! loopback only, the local token of the data dir's endpoint file, no proxy.
//!
//! An answer of the server is read into the same type the engine returns, so the CLI
//! prints it with the same code; an error answer (`{"error": {"code", "message"}}`)
//! becomes its message, as the engine's error would have read.

use std::time::Duration;

use anyhow::Context;
use lore::server::local::LocalEndpoint;
use serde::de::DeserializeOwned;

/// Largest answer read (a search or a bundle is far smaller).
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// A query string: names and values, `None` values left out.
pub(crate) type Params<'a> = &'a [(&'a str, Option<String>)];

/// A server on this machine, and the token to use it.
pub(crate) struct Remote {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Remote {
    pub(crate) fn new(endpoint: &LocalEndpoint) -> Remote {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            // The token goes to this machine only, never through a proxy.
            .proxy(None)
            .build()
            .into();
        Remote { agent, base: format!("http://{}", endpoint.addr), token: endpoint.token.clone() }
    }

    /// Where it listens.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Whether the server answers its health probe (a stale endpoint file names a server
    /// that is gone).
    pub(crate) fn answers(&self) -> bool {
        let res = self
            .agent
            .get(format!("{}/healthz", self.base))
            .config()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .call();
        res.is_ok_and(|r| r.status().is_success())
    }

    /// `GET path?params`, read as `T`.
    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str, params: Params) -> anyhow::Result<T> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (name, value) in params {
            if let Some(v) = value {
                req = req.query(*name, v);
            }
        }
        let res = req.header("authorization", format!("Bearer {}", self.token)).call();
        let text = self.answer(path, res)?;
        serde_json::from_str(&text).with_context(|| format!("reading the answer of {path}"))
    }

    /// `POST path?params` with a JSON body: the answer's text.
    pub(crate) fn post_text(
        &self,
        path: &str,
        params: Params,
        body: &serde_json::Value,
    ) -> anyhow::Result<String> {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        for (name, value) in params {
            if let Some(v) = value {
                req = req.query(*name, v);
            }
        }
        let res = req
            .header("authorization", format!("Bearer {}", self.token))
            .content_type("application/json")
            .send(serde_json::to_vec(body)?);
        self.answer(path, res)
    }

    /// `POST path` with a JSON body, read as `T`.
    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<T> {
        let text = self.post_text(path, &[], body)?;
        serde_json::from_str(&text).with_context(|| format!("reading the answer of {path}"))
    }

    fn answer(
        &self,
        path: &str,
        res: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<String> {
        let mut res = res.map_err(|e| {
            anyhow::anyhow!("the server at {} did not answer {path}: {e}", self.base)
        })?;
        let status = res.status();
        let text = res
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| anyhow::anyhow!("reading the answer of {path}: {e}"))?;
        if status.is_success() {
            return Ok(text);
        }
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{path}: HTTP {status}"));
        anyhow::bail!(message)
    }
}

/// `text` as one path segment: unreserved characters kept, every other byte `%XX`.
pub(crate) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
