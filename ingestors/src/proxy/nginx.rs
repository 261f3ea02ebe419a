//! nginx configuration: `proxy_pass`, `grpc_pass`, `fastcgi_pass`, `uwsgi_pass`,
//! `scgi_pass` and `memcached_pass` targets, resolved through `upstream NAME { server
//! host:port; }` blocks, `set $var value;` variables and `${VAR}` placeholders of
//! `envsubst` templates (interpolated with the `.env` variables).
//!
//! No crate parses nginx configuration worth depending on, so a small scanner splits the
//! text into directives on `;`, `{` and `}`, honouring quotes and `#` comments and skipping
//! the Lua code of `*_by_lua_block { ... }`. An unbalanced file is reported as an error;
//! the directives read before the problem are still used.

use std::collections::{BTreeMap, BTreeSet};

use super::{Route, emit_routes};
use crate::util::dotenv;
use crate::{Emitter, Input, Severity, Stability};

/// Ingestor name.
pub const NAME: &str = "nginx";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Directives that forward a request to their first argument.
const PASS_DIRECTIVES: &[&str] =
    &["proxy_pass", "grpc_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "memcached_pass"];

/// Deepest block nesting read (real configs nest a handful of levels; the YAML readers
/// refuse past 100 too).
const MAX_DEPTH: usize = 100;

/// One directive: `name args...;` or the head of a block `name args... {`.
#[derive(Debug)]
struct Directive {
    name: String,
    args: Vec<String>,
    line: usize,
    /// Enclosing blocks, outermost first, as (name, arguments joined by spaces).
    context: Vec<(String, String)>,
}

/// Parses an nginx config.
pub fn ingest_nginx(input: &Input<'_>, out: &mut Emitter) {
    let (directives, error) = scan(input.text);
    if let Some((line, msg)) = error {
        out.diagnostic(Severity::Error, line, format!("invalid nginx config: {msg}"));
    }
    let mut vars = BTreeMap::new();
    for d in directives.iter().filter(|d| d.name == "set") {
        if let [name, value, ..] = &d.args[..] {
            vars.insert(name.trim_start_matches('$').to_string(), value.clone());
        }
    }
    let expand = |text: &str| expand(text, &vars, input);
    let mut upstreams: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for d in &directives {
        if let (Some(("upstream", name)), Some(addr)) =
            (d.context.last().map(|(n, a)| (n.as_str(), a.as_str())), d.args.first())
            && d.name == "server"
        {
            upstreams.entry(expand(name)).or_default().push((expand(addr), d.line));
        }
    }
    let mut used = BTreeSet::new();
    let mut routes = Vec::new();
    for d in directives.iter().filter(|d| PASS_DIRECTIVES.contains(&d.name.as_str())) {
        let Some(arg) = d.args.first() else { continue };
        let target = expand(arg);
        let rest = target.split_once("://").map_or(target.as_str(), |(_, rest)| rest);
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        let location = d
            .context
            .iter()
            .rev()
            .find(|(n, _)| n == "location")
            .map(|(_, path)| format!(" (location {path})"))
            .unwrap_or_default();
        if let Some(servers) = upstreams.get(host) {
            used.insert(host.to_string());
            for (address, _) in servers {
                let note = format!("nginx {} upstream {host}{location}", d.name);
                routes.push(Route { address: address.clone(), line: d.line, note });
            }
        } else if target.contains('$') {
            let msg = format!("{} {arg}: target set at run time; skipped", d.name);
            out.diagnostic(Severity::Info, d.line, msg);
        } else if !rest.starts_with("unix:") {
            let note = format!("nginx {} {host}{location}", d.name);
            routes.push(Route { address: authority.to_string(), line: d.line, note });
        }
    }
    for (name, servers) in upstreams.iter().filter(|(name, _)| !used.contains(*name)) {
        for (address, line) in servers {
            let note = format!("nginx upstream {name}");
            routes.push(Route { address: address.clone(), line: *line, note });
        }
    }
    emit_routes(input, NAME, routes, out);
}

/// `$var` and `${var}` of `set` directives, then `${VAR}` placeholders from the `.env`
/// variables (other nginx variables such as `$host` are left alone).
fn expand(text: &str, vars: &BTreeMap<String, String>, input: &Input<'_>) -> String {
    let mut text = text.to_string();
    for _ in 0..4 {
        if !text.contains('$') {
            break;
        }
        let before = text.clone();
        for (name, value) in vars {
            text = text.replace(&format!("${{{name}}}"), value);
            text = replace_var(&text, name, value);
        }
        if text == before {
            break;
        }
    }
    let escaped = text.replace('$', "$$").replace("$${", "${");
    dotenv::interpolate(&escaped, input.env)
}

/// Replaces `$name` where the variable name ends after `name`.
fn replace_var(text: &str, name: &str, value: &str) -> String {
    let needle = format!("${name}");
    let mut out = String::new();
    let mut rest = text;
    while let Some(idx) = rest.find(&needle) {
        let after = &rest[idx + needle.len()..];
        out.push_str(&rest[..idx]);
        if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            out.push_str(&needle);
        } else {
            out.push_str(value);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Splits `text` into directives; the error, if any, has the line it was found at.
fn scan(text: &str) -> (Vec<Directive>, Option<(usize, String)>) {
    let chars: Vec<char> = text.chars().collect();
    let mut s = Scanner { chars: &chars, i: 0, line: 1 };
    let mut directives = Vec::new();
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut start = 1;
    while let Some(c) = s.peek() {
        match c {
            '\n' => s.bump(),
            c if c.is_whitespace() => s.bump(),
            '#' => s.skip_line(),
            ';' | '{' => {
                s.bump();
                if words.is_empty() {
                    return (directives, Some((s.line, format!("unexpected `{c}`"))));
                }
                let name = words.remove(0);
                let args = std::mem::take(&mut words);
                if c == '{' && name.ends_with("lua_block") {
                    s.skip_lua();
                } else if c == '{' {
                    // Each directive keeps its enclosing blocks: without a bound, nesting
                    // costs quadratic time and memory (10,000 levels: seconds).
                    if stack.len() == MAX_DEPTH {
                        let msg = format!("blocks nested deeper than {MAX_DEPTH} levels");
                        return (directives, Some((start, msg)));
                    }
                    stack.push((name.clone(), args.join(" ")));
                    let context = stack[..stack.len() - 1].to_vec();
                    directives.push(Directive { name, args, line: start, context });
                } else {
                    directives.push(Directive { name, args, line: start, context: stack.clone() });
                }
            }
            '}' => {
                s.bump();
                if !words.is_empty() || stack.pop().is_none() {
                    return (directives, Some((s.line, "unexpected `}`".to_string())));
                }
            }
            _ => {
                if words.is_empty() {
                    start = s.line;
                }
                words.push(s.word());
            }
        }
    }
    let error = if !words.is_empty() {
        Some((s.line, "unexpected end of file, expecting `;`".to_string()))
    } else if !stack.is_empty() {
        Some((s.line, "unexpected end of file, expecting `}`".to_string()))
    } else {
        None
    };
    (directives, error)
}

struct Scanner<'c> {
    chars: &'c [char],
    i: usize,
    line: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some('\n') {
            self.line += 1;
        }
        self.i += 1;
    }

    fn skip_line(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    /// A quoted string (without its quotes) or a bare word, where `${...}` may hold braces.
    fn word(&mut self) -> String {
        let mut word = String::new();
        if let Some(q) = self.peek().filter(|c| matches!(c, '"' | '\'')) {
            self.bump();
            while let Some(c) = self.peek() {
                self.bump();
                match c {
                    '\\' => {
                        word.extend(self.peek());
                        self.bump();
                    }
                    c if c == q => break,
                    c => word.push(c),
                }
            }
            return word;
        }
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ';' | '{' | '}') {
                break;
            }
            word.push(c);
            self.bump();
            if c == '$' && self.peek() == Some('{') {
                while let Some(c) = self.peek().filter(|c| !matches!(c, '\n' | ';')) {
                    word.push(c);
                    self.bump();
                    if c == '}' {
                        break;
                    }
                }
            }
        }
        word
    }

    /// Lua code up to the `}` closing its block: braces counted outside strings and
    /// `--` comments.
    fn skip_lua(&mut self) {
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            match c {
                '"' | '\'' => {
                    self.word();
                    continue;
                }
                '-' if self.chars.get(self.i + 1) == Some(&'-') => {
                    self.skip_line();
                    continue;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                _ => {}
            }
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Relations (`from kind to @locator note`) and diagnostics of an nginx config.
    fn check(path: &str, text: &str, env: &str) -> Vec<String> {
        let env = dotenv::parse(env);
        let output = crate::ingest(crate::Format::Nginx, &Input { path, text, env: &env });
        crate::emitter::render::lines(&output, crate::emitter::render::record)
    }

    const CONF: &str = r#"# gateway
http {
  upstream api_pool { server api-1:8080 weight=2; server api-2:8080; }
  upstream unused { server legacy:80; }
  init_by_lua_block { local t = { a = "}" } -- }
  }
  server {
    listen 80;
    set $auth_backend "auth:9000";
    location /api/ { proxy_pass http://api_pool/v1; }
    location /auth { proxy_pass http://$auth_backend; }
    location /cart { proxy_pass http://${CART_HOST}:7070; }
    location ~ \.php$ { fastcgi_pass php-fpm:9000; }
    location /grpc { grpc_pass grpc://ts-ui-dashboard:9090; }
    location /dyn { proxy_pass http://$host$request_uri; }
    location /local { proxy_pass http://127.0.0.1:81; }
    location /sock { proxy_pass http://unix:/tmp/x.sock; }
  }
}
"#;

    #[test]
    fn upstreams_variables_and_placeholders_resolve() {
        assert_eq!(
            check("ts-ui-dashboard/nginx.conf", CONF, "CART_HOST=cart\n"),
            [
                "ts-ui-dashboard calls host:api-1 @ts-ui-dashboard/nginx.conf:10 route: nginx proxy_pass upstream api_pool (location /api/)",
                "ts-ui-dashboard calls host:api-2 @ts-ui-dashboard/nginx.conf:10 route: nginx proxy_pass upstream api_pool (location /api/)",
                "ts-ui-dashboard calls host:auth @ts-ui-dashboard/nginx.conf:11 route: nginx proxy_pass auth (location /auth)",
                "ts-ui-dashboard calls host:cart @ts-ui-dashboard/nginx.conf:12 route: nginx proxy_pass cart (location /cart)",
                "ts-ui-dashboard calls host:legacy @ts-ui-dashboard/nginx.conf:4 route: nginx upstream unused",
                "ts-ui-dashboard calls host:php-fpm @ts-ui-dashboard/nginx.conf:13 route: nginx fastcgi_pass php-fpm (location ~ \\.php$)",
                "info ts-ui-dashboard/nginx.conf:15 proxy_pass http://$host$request_uri: target set at run time; skipped",
            ]
        );
    }

    #[test]
    fn unbalanced_files_are_errors() {
        let lines = check("conf/nginx.conf", "http {\n  upstream a { server b:1; }\n", "");
        assert_eq!(
            lines,
            [
                "nginx calls host:b @conf/nginx.conf:2 route: nginx upstream a",
                "error conf/nginx.conf:3 invalid nginx config: unexpected end of file, expecting `}`",
            ]
        );
        let lines = check("nginx.conf", "}\nlocation / { proxy_pass http://x:1; }", "");
        assert_eq!(lines, ["error nginx.conf:1 invalid nginx config: unexpected `}`"]);
    }

    #[test]
    fn deep_nesting_is_refused_in_linear_time() {
        let text = format!("upstream a {{ server b:1; }}\n{}", "a {".repeat(10_000));
        let started = std::time::Instant::now();
        let lines = check("nginx.conf", &text, "");
        assert!(started.elapsed().as_secs() < 1, "{:?}", started.elapsed());
        assert_eq!(
            lines,
            [
                "nginx calls host:b @nginx.conf:1 route: nginx upstream a",
                "error nginx.conf:2 invalid nginx config: blocks nested deeper than 100 levels",
            ]
        );
    }
}
