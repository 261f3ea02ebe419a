//! The local endpoint file: how a CLI on the same machine finds the `lore serve` that
//! holds a data dir, and proves it may use it.
//!
//! While it serves, the server keeps `<data dir>/serve.json` (mode 0600, so only its
//! user reads it): the loopback address to reach it and a fresh random token with the
//! `read` and `write` scopes, named [`LOCAL_TOKEN_NAME`] in the audit log. The file is
//! written after the listener is bound (so `--bind 127.0.0.1:0` writes the real port) and
//! removed when the server stops cleanly. A server killed with SIGKILL leaves it behind;
//! a stale file is harmless: the CLI only reads it when the store is locked, and removes
//! it when it holds the store lock itself (no server can then be running on it).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::auth::{Scope, Token};

/// File name of the endpoint file inside the data dir.
pub const FILE_NAME: &str = "serve.json";
/// Name of the local token in the audit log.
pub const LOCAL_TOKEN_NAME: &str = "local-cli";

/// What the endpoint file holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LocalEndpoint {
    /// Where to connect (loopback when the server listens on every address).
    pub addr: SocketAddr,
    /// The bearer token (`read` and `write`).
    pub token: String,
    /// The server's process id (for people reading the file).
    pub pid: u32,
}

impl LocalEndpoint {
    /// A fresh endpoint for a server listening on `bound`: a 256-bit random token.
    pub fn generate(bound: SocketAddr) -> std::io::Result<LocalEndpoint> {
        let mut addr = bound;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            });
        }
        let mut seed = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
        let token = blake3::Hasher::new().update(&seed).finalize().to_hex().to_string();
        Ok(LocalEndpoint { addr, token, pid: std::process::id() })
    }

    /// The token the server's policy accepts for it.
    pub fn policy_token(&self) -> Token {
        Token::new(LOCAL_TOKEN_NAME, &[Scope::Read, Scope::Write], &self.token)
    }

    /// The endpoint file of `data_dir`, if there is one that parses.
    pub fn read(data_dir: &Path) -> Option<LocalEndpoint> {
        let text = std::fs::read_to_string(path(data_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the endpoint file, readable and writable by its owner only, atomically
    /// (a temporary file renamed over it).
    pub fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        let tmp = data_dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path(data_dir))
    }
}

/// The path of the endpoint file of `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Removes the endpoint file of `data_dir` when dropped: on a clean stop, and when
/// serving fails after the file was written.
#[derive(Debug)]
pub(super) struct Written {
    data_dir: PathBuf,
    token: String,
}

impl Written {
    pub(super) fn new(data_dir: &Path, endpoint: &LocalEndpoint) -> Written {
        Written { data_dir: data_dir.to_path_buf(), token: endpoint.token.clone() }
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        // Only our own file: another server may have taken the data dir over since.
        if LocalEndpoint::read(&self.data_dir).is_some_and(|e| e.token == self.token) {
            let _ = std::fs::remove_file(path(&self.data_dir));
        }
    }
}
