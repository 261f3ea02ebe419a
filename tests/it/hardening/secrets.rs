//! Planted secrets: every token format the redactor knows, planted in every kind of free
//! text Lore reads (runbook, postmortem, alert annotation and `runbook_url` query string,
//! deploy NDJSON, `POST /v1/events`, a note), must come back from no surface: CLI
//! (`search`, `show`, `changes` with `--json`), HTTP (search, nodes, changes, context,
//! notes), MCP tools, and the raw files of the data dir (sled and tantivy).
//!
//! The secrets are generated here (deterministic pseudo-random bodies), so no literal
//! credential sits in the repository.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lore::Engine;
use serde_json::{Value, json};

use crate::support::{call, lore_bin};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGITS: &[u8] = b"0123456789";

/// `n` characters of `alphabet`, pseudo-random from `seed` (xorshift).
fn chars_of(alphabet: &[u8], n: usize, seed: &mut u64) -> String {
    (0..n)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            alphabet[(*seed % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

/// One planted secret: the line of text it sits in and the bytes that must never come
/// back (the secret part only; the context around it may).
#[derive(Debug, Clone)]
pub(crate) struct Planted {
    pub(crate) kind: &'static str,
    pub(crate) line: String,
    pub(crate) needle: String,
}

/// Every format, with fresh bodies for `input` (so a leak names its input type).
pub(crate) fn secrets(input: u64) -> Vec<Planted> {
    let mut s = 0x9E37_79B9_7F4A_7C15 ^ (input + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut out = Vec::new();
    let mut add = |kind: &'static str, line: String, needle: String| {
        out.push(Planted { kind, line, needle });
    };
    let v = format!("AKIA{}", chars_of(UPPER, 16, &mut s));
    add("aws_access_key", format!("Deploy user key id {v} (rotate quarterly)."), v);
    let v = chars_of(B64, 40, &mut s);
    add("aws_secret_key", format!("aws_secret_access_key = {v}"), v);
    let v = format!("AIza{}", chars_of(ALNUM, 35, &mut s));
    add("gcp_api_key", format!("Maps API key {v} is used by the store locator."), v);
    let v = format!("{}==", chars_of(B64, 86, &mut s));
    add(
        "azure_storage_key",
        format!(
            "DefaultEndpointsProtocol=https;AccountName=shopblobs;AccountKey={v};EndpointSuffix=core.windows.net"
        ),
        v[..40].to_string(),
    );
    let v = format!("ghp_{}", chars_of(ALNUM, 36, &mut s));
    add("github_token", format!("The release bot pushes with {v} from CI."), v);
    let v = format!("glpat-{}", chars_of(ALNUM, 20, &mut s));
    add("gitlab_token", format!("Mirror job uses {v} to pull."), v);
    let v = format!(
        "xoxb-{}-{}-{}",
        chars_of(DIGITS, 12, &mut s),
        chars_of(DIGITS, 13, &mut s),
        chars_of(ALNUM, 24, &mut s)
    );
    add("slack_token", format!("Pager bot posts to #incidents as {v}."), v);
    let v = format!("sk_live_{}", chars_of(ALNUM, 24, &mut s));
    add("stripe_key", format!("Refunds can be issued by hand with {v} in the dashboard."), v);
    let v = format!("hvs.{}", chars_of(ALNUM, 26, &mut s));
    add("vault_token", format!("Break-glass: export VAULT_ADDR and use {v} to unseal."), v);
    let v = format!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib3Qi{}.{}",
        chars_of(ALNUM, 20, &mut s),
        chars_of(ALNUM, 43, &mut s)
    );
    add("jwt", format!("Call the admin API with the header carrying {v} for now."), v);
    let body = chars_of(B64, 64, &mut s);
    add(
        "private_key",
        format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{body}\n{}\n-----END RSA PRIVATE KEY-----",
            chars_of(B64, 64, &mut s)
        ),
        body,
    );
    let v = format!("Pw{}", chars_of(ALNUM, 14, &mut s));
    add(
        "url_password",
        format!("Connect with psql postgres://orders:{v}@orders-db:5432/orders to check."),
        v,
    );
    let v = format!("hunter{}", chars_of(ALNUM, 8, &mut s));
    add(
        "assignment",
        format!("The legacy admin console login is password={v} until SSO lands."),
        v,
    );
    let v = chars_of(ALNUM, 24, &mut s);
    add("assignment", format!("client_secret: {v}"), v);
    let v = chars_of(ALNUM, 28, &mut s);
    add("assignment", format!("webhook token: {v}"), v);
    let v = chars_of(ALNUM, 32, &mut s);
    add("high_entropy", format!("The signing key for receipts is {v} (old one revoked)."), v);
    let v = chars_of(ALNUM, 30, &mut s);
    add("assignment", format!("https://grafana.example/d/checkout?orgId=1&access_token={v}"), v);
    let v = format!(
        "https://hooks.slack.com/services/T0{}/B0{}/{}",
        chars_of(UPPER, 8, &mut s),
        chars_of(UPPER, 8, &mut s),
        chars_of(ALNUM, 24, &mut s)
    );
    add("slack_webhook", format!("Alerts mirror to {v} as well."), v[v.len() - 24..].to_string());
    out
}

/// A distinct label per planted secret, in [`secrets`] order.
const KINDS: &[&str] = &[
    "aws_access_key",
    "aws_secret_key",
    "gcp_api_key",
    "azure_storage_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "vault_token",
    "jwt",
    "private_key",
    "url_password",
    "password=",
    "client_secret:",
    "token:",
    "high_entropy",
    "url_query_token",
    "slack_webhook",
];

/// The input types, in the order their seeds are given.
pub(crate) const INPUTS: &[&str] =
    &["runbook", "postmortem", "alert", "alert_url", "ndjson", "api_event", "note"];

fn text_block(planted: &[Planted]) -> String {
    planted.iter().map(|p| p.line.clone()).collect::<Vec<_>>().join("\n\n")
}

/// Writes the file inputs of the corpus under `root`.
fn write_corpus(root: &Path) {
    let docs = root.join("docs");
    std::fs::create_dir_all(docs.join("runbooks")).unwrap();
    std::fs::create_dir_all(docs.join("postmortems")).unwrap();
    std::fs::create_dir_all(root.join("alerts")).unwrap();
    std::fs::create_dir_all(root.join("deploys")).unwrap();
    let runbook = format!(
        "---\ntitle: Checkout credentials\nservice: checkout\nalerts: CheckoutSecretsLeak\n---\n\
         # Checkout credentials\n\n## Diagnosis\n\nCheck the credentials below.\n\n```\n{}\n```\n\n## Mitigation\n\n{}\n",
        text_block(&secrets(0)[..9]),
        text_block(&secrets(0)[9..]),
    );
    std::fs::write(docs.join("runbooks/checkout-credentials.md"), runbook).unwrap();
    let postmortem = format!(
        "---\ntitle: Checkout credential leak\nservice: checkout\n---\n# Postmortem: checkout credential leak\n\n\
         ## Summary\n\nCredentials were pasted in chat.\n\n## Timeline\n\n- 14:05 UTC {}\n\n## Root cause\n\n{}\n\n## Action items\n\n- rotate\n",
        secrets(1)[0].line,
        text_block(&secrets(1)[1..]),
    );
    std::fs::write(docs.join("postmortems/2026-10-30-credential-leak.md"), postmortem).unwrap();
    let annotation: String = secrets(2)
        .iter()
        .map(|p| format!("              {}\n", p.line.replace('\n', "\n              ")))
        .collect();
    let urls: String = secrets(3)
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let q = p.needle.replace('+', "-").replace('/', "_");
            format!(
                "        - alert: CheckoutSecretsLeak{i}\n          expr: up == 0\n          labels:\n            service: checkout\n\
                 \x20         annotations:\n            summary: leak {i}\n            runbook_url: https://runbooks.example/runbooks/checkout-credentials?access_token={q}\n"
            )
        })
        .collect();
    let alerts = format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: leaks\nspec:\n  groups:\n    - name: leaks\n      rules:\n\
         \x20       - alert: CheckoutSecretsLeak\n          expr: up == 0\n          labels:\n            service: checkout\n\
         \x20         annotations:\n            summary: secrets\n            description: |\n{annotation}{urls}"
    );
    std::fs::write(root.join("alerts/leaks.yaml"), alerts).unwrap();
    let events: String = secrets(4)
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({"id": format!("leak-{i}"), "ts": "2026-10-30T10:00:00Z", "service": "checkout",
                   "kind": "deploy", "description": p.line})
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(root.join("deploys/leaks.ndjson"), events).unwrap();
}

/// The needles of every input type, with their input and kind.
fn all_needles() -> Vec<(&'static str, Planted)> {
    let mut out = Vec::new();
    for (i, input) in INPUTS.iter().enumerate() {
        for (n, mut p) in secrets(i as u64).into_iter().enumerate() {
            p.kind = KINDS[n];
            if *input == "alert_url" {
                p.needle = p.needle.replace('+', "-").replace('/', "_");
            }
            out.push((*input, p));
        }
    }
    out
}

/// Planted secrets found in `text`, as `input/kind`.
fn leaks(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    all_needles()
        .into_iter()
        .filter(|(_, p)| text.contains(&p.needle) || lower.contains(&p.needle.to_lowercase()))
        .map(|(input, p)| format!("{input}/{}", p.kind))
        .collect()
}

fn lore(data: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(lore_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Queries that reach the planted text: its context words and each secret itself.
fn queries() -> Vec<String> {
    let mut q: Vec<String> = [
        "credentials",
        "key",
        "token",
        "password",
        "secret",
        "rotate",
        "signing key receipts",
        "deploy user key",
        "postgres orders",
        "slack hooks",
        "private key",
        "admin api header",
    ]
    .map(str::to_string)
    .into();
    q.extend(all_needles().into_iter().map(|(_, p)| p.needle.chars().take(60).collect()));
    q
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn report(surface: &str, found: &[String], total: usize) -> String {
    let mut found = found.to_vec();
    found.sort();
    found.dedup();
    eprintln!("planted secrets returned by {surface}: {} of {total}", found.len());
    if found.is_empty() { String::new() } else { format!("{surface}: {found:?}\n") }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_surface_returns_a_planted_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let corpus = dir.path().join("corpus");
    write_corpus(&corpus);
    let total = all_needles().len();
    let k8s = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org/k8s");
    let mut failures = String::new();
    let mut ingest_out = String::new();
    for (sub, planted) in [("docs", 36), ("alerts", 36), ("deploys", 18)] {
        let path = corpus.join(sub);
        let out = lore(&data, &["ingest", "--no-embed", "--json", path.to_str().unwrap()]);
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let redacted = report["sources"][0]["redacted"].as_u64().unwrap_or(0);
        assert!(redacted >= planted, "{sub}: {redacted} redactions counted, {planted} planted");
        ingest_out += &out;
    }
    ingest_out += &lore(&data, &["ingest", "--no-embed", k8s.to_str().unwrap()]);
    failures += &report("CLI ingest", &leaks(&ingest_out), total);

    // HTTP and MCP, in process, over the same data dir.
    let mut http = String::new();
    let mut mcp_out = String::new();
    {
        let engine = Arc::new(Engine::open(&data).unwrap());
        let app = lore::server::router(engine.clone());
        let events: Vec<Value> = secrets(5)
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({"id": format!("api-leak-{i}"), "ts": "2026-10-30T11:00:00Z",
                                 "service": "checkout", "kind": "config", "description": p.line})
            })
            .collect();
        let (status, body) = call(&app, "POST", "/v1/events", Some(Value::Array(events))).await;
        assert!(status.is_success(), "{status} {body}");
        assert!(body["redacted"].as_u64().unwrap_or(0) >= 18, "{body}");
        http += &body.to_string();
        let note = json!({"node": "checkout", "text": text_block(&secrets(6))});
        let (status, body) = call(&app, "POST", "/v1/notes", Some(note)).await;
        assert!(status.is_success(), "{status} {body}");
        http += &body.to_string();
        for q in queries() {
            for mode in ["bm25", "hybrid"] {
                let uri = format!("/v1/search?q={}&limit=50&mode={mode}", urlencode(&q));
                // The answer echoes the query, which is the asker's own text.
                http += &call(&app, "GET", &uri, None).await.1.to_string().replace(&q, "");
            }
        }
        let (_, nodes) = call(&app, "GET", "/v1/nodes", None).await;
        http += &nodes.to_string();
        for node in nodes["nodes"].as_array().cloned().unwrap_or_default() {
            let id = node["id"].as_str().unwrap_or_default();
            http += &call(&app, "GET", &format!("/v1/nodes/{}", urlencode(id)), None)
                .await
                .1
                .to_string();
        }
        let changes =
            "/v1/changes?node=checkout&since=2026-10-29T00:00:00Z&until=2026-10-31T00:00:00Z";
        http += &call(&app, "GET", changes, None).await.1.to_string();
        let ctx = json!({"alert": "CheckoutSecretsLeak", "labels": {"service": "checkout"},
                         "at": "2026-10-30T12:00:00Z", "budget_tokens": 20000});
        http += &call(&app, "POST", "/v1/context", Some(ctx)).await.1.to_string();
        http += &call(&app, "GET", "/v1/notes", None).await.1.to_string();

        let mcp =
            lore::mcp::LoreMcp::new(engine.clone(), Arc::new(lore::queries::Registry::builtin()));
        let args = |v: Value| v.as_object().cloned().unwrap();
        let mut calls = vec![
            ("show", args(json!({"node": "checkout"}))),
            (
                "what_changed",
                args(
                    json!({"service": "checkout", "window": "2d", "until": "2026-10-31T00:00:00Z"}),
                ),
            ),
            (
                "incident_context",
                args(
                    json!({"alert": "CheckoutSecretsLeak", "service": "checkout", "at": "2026-10-30T12:00:00Z"}),
                ),
            ),
            ("runbook_for_alert", args(json!({"alert": "CheckoutSecretsLeak"}))),
        ];
        for q in queries() {
            calls.push(("search", args(json!({"query": q, "limit": 50}))));
        }
        for (tool, a) in calls {
            let asked = a.get("query").and_then(Value::as_str).unwrap_or("\u{0}").to_string();
            match mcp.call(tool, a) {
                Some(Ok((json, text))) => {
                    mcp_out += &format!("{json}{text}").replace(&asked, "");
                }
                Some(Err(e)) => mcp_out += &e,
                None => panic!("no tool {tool}"),
            }
        }
    }
    failures += &report("HTTP", &leaks(&http), total);
    failures += &report("MCP", &leaks(&mcp_out), total);

    let mut cli = String::new();
    for q in queries().iter().take(12) {
        cli += &lore(&data, &["search", q, "--mode", "bm25", "--limit", "50", "--json"]);
    }
    for node in ["checkout", "runbook:checkout-credentials", "alert:CheckoutSecretsLeak"] {
        cli += &lore(&data, &["show", node, "--json"]);
    }
    let graph_docs = lore(&data, &["search", "credentials", "--mode", "bm25", "--json"]);
    cli += &graph_docs;
    cli += &lore(
        &data,
        &["changes", "checkout", "--since", "2026-10-29", "--until", "2026-10-31", "--json"],
    );
    failures += &report("CLI", &leaks(&cli), total);
    assert!(cli.contains("[redacted:"), "the redacted text is still served, marked");

    let mut files = Vec::new();
    files_under(&data, &mut files);
    let mut raw = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for leak in leaks(&text) {
            raw.push(format!("{leak} in {}", file.strip_prefix(&data).unwrap().display()));
        }
    }
    failures += &report(
        "store files",
        &raw.iter().map(|r| r.split(' ').next().unwrap().to_string()).collect::<Vec<_>>(),
        total,
    );
    assert!(failures.is_empty(), "planted secrets returned:\n{failures}\nraw: {raw:?}");
}
