//! HAProxy configuration: the `server` (and `server-template`) lines of `backend` and
//! `listen` sections are the upstreams the proxy forwards to. `${VAR}` placeholders are
//! interpolated with the `.env` variables; `unix@` sockets, `peers` and `resolvers`
//! sections (other HAProxy instances and DNS servers, not upstreams) are left out.

use super::{Route, emit_routes};
use crate::util::dotenv;
use crate::{Emitter, Input, Severity, Stability};

/// Ingestor name.
pub const NAME: &str = "haproxy";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Keywords that open a section.
const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "peers",
    "resolvers",
    "userlist",
    "mailers",
    "program",
    "cache",
    "ring",
    "http-errors",
];

/// Whether `text` reads as an HAProxy config: a `backend` or `listen` section with a
/// `server` line.
pub fn looks_like_haproxy(text: &str) -> bool {
    let mut section = false;
    for line in text.lines() {
        let word = line.split_whitespace().next().unwrap_or("");
        if !line.starts_with(char::is_whitespace) && matches!(word, "backend" | "listen") {
            section = true;
        } else if section && matches!(word, "server" | "server-template") {
            return true;
        }
    }
    false
}

/// Parses an HAProxy config.
pub fn ingest_haproxy(input: &Input<'_>, out: &mut Emitter) {
    let mut section: Option<(String, String)> = None;
    let mut routes = Vec::new();
    for (i, raw) in input.text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&first) = words.first() else { continue };
        if SECTIONS.contains(&first) {
            let name = words.get(1).unwrap_or(&"").to_string();
            section = Some((first.to_string(), name));
            continue;
        }
        let Some((kind, name)) = &section else { continue };
        if !matches!(kind.as_str(), "backend" | "listen") {
            continue;
        }
        let address = match (first, &words[..]) {
            ("server", [_, _, address, ..]) => address,
            ("server-template", [_, _, _, address, ..]) => address,
            ("server" | "server-template", _) => {
                let msg = format!("`{}` without an address; skipped", line.trim());
                out.diagnostic(Severity::Warning, i + 1, msg);
                continue;
            }
            _ => continue,
        };
        let address = dotenv::interpolate(address.trim_matches('"'), input.env);
        if address.starts_with("unix@") || address.starts_with('/') {
            continue;
        }
        let address = address.split_once('@').map_or(address.as_str(), |(_, a)| a).to_string();
        let note = format!("haproxy {kind} {name} server {}", words[1]);
        routes.push(Route { address, line: i + 1, note });
    }
    emit_routes(input, NAME, routes, out);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::emitter::render;

    #[test]
    fn backend_and_listen_servers_are_routes() {
        let text = "global\n  maxconn 100\nresolvers dns\n  nameserver dns1 10.0.0.2:53\nfrontend web\n  bind *:80\n  default_backend api\nbackend api\n  balance roundrobin\n  server api1 api:8080 check # primary\n  server api2 ipv4@api-canary:8080 check\n  server sock unix@/run/app.sock\nlisten stats\n  bind *:8404\n  server-template cart 3 cart:7070 check\n  server broken\n";
        let env = BTreeMap::new();
        let input = Input { path: "lb/haproxy.cfg", text, env: &env };
        assert!(looks_like_haproxy(text));
        let mut out = Emitter::new(input.path);
        ingest_haproxy(&input, &mut out);
        let lines = render::lines(&out.finish(), render::record);
        assert_eq!(
            lines,
            [
                "lb calls host:api @lb/haproxy.cfg:10 route: haproxy backend api server api1",
                "lb calls host:api-canary @lb/haproxy.cfg:11 route: haproxy backend api server api2",
                "lb calls host:cart @lb/haproxy.cfg:15 route: haproxy listen stats server cart",
                "warning lb/haproxy.cfg:16 `server broken` without an address; skipped",
            ]
        );
    }
}
