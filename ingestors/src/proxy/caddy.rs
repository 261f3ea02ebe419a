//! Caddyfiles: the upstreams of `reverse_proxy` (inline, or `to` lines of its block)
//! and `php_fastcgi` are the addresses the server forwards to. `{$VAR}` and
//! `{env.VAR}` placeholders are interpolated with the `.env` variables.

use super::{Route, emit_routes};
use crate::util::dotenv;
use crate::{Emitter, Input, Stability};

/// Ingestor name.
pub const NAME: &str = "caddy";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Directives whose arguments (after a matcher) are upstreams.
const PROXY_DIRECTIVES: &[&str] = &["reverse_proxy", "php_fastcgi"];

/// Whether `path`'s file name is a Caddyfile (`Caddyfile`, `Caddyfile.prod`,
/// `site.caddyfile`).
pub fn is_caddyfile(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "caddyfile" || name.starts_with("caddyfile.") || name.ends_with(".caddyfile")
}

/// A matcher token (`/api/*`, `@api`, `*`) rather than an upstream.
fn is_matcher(word: &str) -> bool {
    word.starts_with('/') || word.starts_with('@') || word == "*"
}

/// `{$VAR}`, `{$VAR:default}` and `{env.VAR}` as `${VAR}`, `${VAR:-default}`, interpolated.
fn expand(word: &str, input: &Input<'_>) -> String {
    let word = word.replace("{env.", "{$").replace("{$", "${");
    // `${VAR:default}` (Caddy's form) as `${VAR:-default}`.
    let word = match word.find("${").and_then(|at| Some((at, at + word[at..].find('}')?))) {
        Some((at, end)) => match word[at..end].find(':') {
            Some(colon) if !word[at + colon..].starts_with(":-") => {
                let (head, tail) = word.split_at(at + colon);
                format!("{head}:-{}", &tail[1..])
            }
            _ => word,
        },
        None => word,
    };
    dotenv::interpolate(&word, input.env)
}

/// Parses a Caddyfile.
pub fn ingest_caddy(input: &Input<'_>, out: &mut Emitter) {
    let mut routes = Vec::new();
    // Depth of the `reverse_proxy { ... }` block being read, if any.
    let mut in_proxy: Option<(String, usize)> = None;
    let mut depth = 0usize;
    for (i, raw) in input.text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim();
        if line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let opens = line.ends_with('{');
        let mut push = |directive: &str, word: &str| {
            let address = expand(word, input);
            let note = format!("caddy {directive} {address}");
            routes.push(Route { address, line: i + 1, note });
        };
        match (&in_proxy, words.first()) {
            (Some((directive, _)), Some(&"to")) => {
                let directive = directive.clone();
                words[1..].iter().for_each(|w| push(&directive, w));
            }
            (None, Some(first)) if PROXY_DIRECTIVES.contains(first) => {
                let upstreams = words[1..].iter().filter(|w| **w != "{" && !is_matcher(w));
                upstreams.for_each(|w| push(first, w));
                if opens {
                    in_proxy = Some((first.to_string(), depth + 1));
                }
            }
            _ => {}
        }
        if opens {
            depth += 1;
        }
        if line == "}" || line.ends_with('}') && !opens {
            depth = depth.saturating_sub(1);
            if in_proxy.as_ref().is_some_and(|(_, d)| depth < *d) {
                in_proxy = None;
            }
        }
    }
    emit_routes(input, NAME, routes, out);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::emitter::render;

    #[test]
    fn reverse_proxy_upstreams_inline_and_in_blocks() {
        let text = "example.com {\n  # api\n  reverse_proxy /api/* api:8080\n  reverse_proxy @ws {\n    to ws-1:9000 ws-2:9000\n    lb_policy first\n  }\n  php_fastcgi {$PHP_HOST}:9000\n  reverse_proxy {env.FRONTEND}\n  file_server\n}\n";
        let env = BTreeMap::from([
            ("PHP_HOST".to_string(), "php".to_string()),
            ("FRONTEND".to_string(), "http://web:3000".to_string()),
        ]);
        let input = Input { path: "edge/Caddyfile", text, env: &env };
        assert!(is_caddyfile("Caddyfile") && is_caddyfile("site.caddyfile"));
        let mut out = Emitter::new(input.path);
        ingest_caddy(&input, &mut out);
        let lines = render::lines(&out.finish(), render::record);
        assert_eq!(
            lines,
            [
                "edge calls host:api @edge/Caddyfile:3 route: caddy reverse_proxy api:8080",
                "edge calls host:php @edge/Caddyfile:8 route: caddy php_fastcgi php:9000",
                "edge calls host:web @edge/Caddyfile:9 route: caddy reverse_proxy http://web:3000",
                "edge calls host:ws-1 @edge/Caddyfile:5 route: caddy reverse_proxy ws-1:9000",
                "edge calls host:ws-2 @edge/Caddyfile:5 route: caddy reverse_proxy ws-2:9000",
            ]
        );
    }
}
