//! Named queries: a golden answer per shipped query over examples/org, broken user files
//! reported by file:line while the rest load, and the same answers over HTTP and the CLI.
//!
//! `LORE_BLESS=1 cargo test --test it queries` rewrites the golden files after a change
//! that is meant to alter answers; review the diff before committing it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lore::Engine;
use lore::queries::Registry;
use serde_json::{Value, json};

use crate::support::{call, engine, lore_bin};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example organisation ingested at a fixed time, so answers are reproducible.
fn example_engine() -> (tempfile::TempDir, Arc<Engine>) {
    let (dir, engine) = engine();
    let paths: Vec<PathBuf> = ["k8s", "catalog", "alerts", "runbooks", "postmortems", "deploys"]
        .map(|p| root().join("examples/org").join(p))
        .into();
    engine.ingest(&paths, 1_000).unwrap();
    (dir, Arc::new(engine))
}

/// One case per shipped query: its name and parameters.
fn cases() -> Vec<(&'static str, Value)> {
    vec![
        ("blast_radius", json!({"service": "orders-db"})),
        ("dependencies", json!({"service": "checkout", "depth": 2})),
        ("path", json!({"from": "frontend", "to": "orders-db"})),
        (
            "what_changed",
            json!({"service": "checkout", "until": "2026-10-27T14:30:00Z", "window": "1d"}),
        ),
        ("owners", json!({"service": "checkout"})),
        ("runbook_for_alert", json!({"alert": "PaymentProviderTimeouts", "limit": 3})),
        (
            "similar_incidents",
            json!({"symptom": "checkout requests time out calling the payment provider", "limit": 2}),
        ),
        (
            "incident_context",
            json!({"alert": "CheckoutHighErrorRate", "labels": {"service": "checkout"},
                   "at": "2026-10-27T13:55:00Z", "budget_tokens": 16000}),
        ),
        ("search", json!({"query": "order events consumer lag", "kind": "runbook", "limit": 3})),
        ("show", json!({"node": "payment"})),
        ("drift", json!({"since": "2026-10-01"})),
    ]
}

/// The answer with the checkout's absolute path taken out (document ids spell it
/// without the leading slash).
fn portable(answer: &Value) -> Value {
    let root = root().display().to_string();
    let text = answer
        .to_string()
        .replace(&format!("{root}/"), "")
        .replace(&format!("{}/", root.trim_start_matches('/')), "");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    // Token counts depend on the checkout's path length (citations carry it).
    if let Some(r) = v.get_mut("result").and_then(Value::as_object_mut) {
        r.remove("tokens");
    }
    if let Some(t) = v.get("text").and_then(Value::as_str) {
        let t = regex::Regex::new(r"\d+ of (\d+) tokens").unwrap().replace(t, "N of $1 tokens");
        v["text"] = Value::String(t.into_owned());
    }
    round_floats(&mut v);
    // A bundle id ends with a hash of its items, scores included.
    let text = regex::Regex::new(r"(@\d+)~[0-9a-f]{8}")
        .unwrap()
        .replace_all(&v.to_string(), "$1~HASH")
        .into_owned();
    serde_json::from_str(&text).unwrap()
}

/// Scores to 5 decimals: the embedding model's last digits differ between CPUs (SIMD
/// paths of ONNX Runtime), and a golden answer is about ranks and items, not ulps.
fn round_floats(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = (n.as_f64().unwrap_or(0.0) * 1e5).round() / 1e5;
            *v = serde_json::json!(x);
        }
        Value::Array(items) => items.iter_mut().for_each(round_floats),
        Value::Object(map) => map.values_mut().for_each(round_floats),
        _ => {}
    }
}

#[test]
fn every_shipped_query_matches_its_golden_answer() {
    let (_dir, engine) = example_engine();
    let registry = Registry::builtin();
    assert!(registry.diagnostics.is_empty(), "{:?}", registry.diagnostics);
    let mut names: Vec<&str> = registry.iter().map(|q| q.name.as_str()).collect();
    let mut covered: Vec<&str> = cases().iter().map(|(n, _)| *n).collect();
    names.sort();
    covered.sort();
    assert_eq!(names, covered, "every shipped query has a golden case");
    let bless = std::env::var_os("LORE_BLESS").is_some();
    let mut failed = Vec::new();
    for (name, params) in cases() {
        let answer = registry.run(&engine, name, params.as_object().unwrap()).unwrap();
        let got = portable(&serde_json::to_value(&answer).unwrap());
        let file = root().join("tests/golden/queries").join(format!("{name}.json"));
        if bless {
            std::fs::write(&file, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap_or_default())
            .unwrap_or(Value::Null);
        if got != want {
            failed.push(name);
            eprintln!(
                "{name}: answer differs from {}:\n{}",
                file.display(),
                serde_json::to_string_pretty(&got).unwrap()
            );
        }
    }
    assert!(failed.is_empty(), "golden answers differ: {failed:?} (LORE_BLESS=1 rewrites them)");
}

#[test]
fn golden_answers_say_what_the_queries_mean() {
    // Independent of the golden files: the facts each answer must carry.
    let (_dir, engine) = example_engine();
    let registry = Registry::builtin();
    let run = |name: &str, params: Value| {
        registry.run(&engine, name, params.as_object().unwrap()).unwrap()
    };
    let blast = run("blast_radius", json!({"service": "orders-db"}));
    let ids: Vec<&str> = blast.result["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["id"].as_str())
        .collect();
    for must in ["service:orders", "service:checkout", "service:frontend"] {
        assert!(ids.contains(&must), "{must} depends on orders-db: {ids:?}");
    }
    assert!(blast.text.contains("service:frontend"), "{}", blast.text);
    let limited = run("blast_radius", json!({"service": "orders-db", "limit": 2}));
    assert_eq!(limited.result["results"].as_array().unwrap().len(), 2);
    assert_eq!(limited.result["more"], ids.len() - 2);

    let changed = run(
        "what_changed",
        json!({"service": "checkout", "until": "2026-10-27T14:30:00Z", "window": "1d"}),
    );
    let first = &changed.result["results"][0];
    assert_eq!(first["service"], "payment", "the payment deploy ranks first: {first}");

    let owners = run("owners", json!({"service": "checkout"}));
    assert_eq!(owners.result["owners"], json!(["team-storefront"]));

    let bundle = run(
        "incident_context",
        json!({"alert": "CheckoutHighErrorRate", "labels": {"service": "checkout"}, "at": "2026-10-27T13:55:00Z"}),
    );
    assert_eq!(bundle.result["focus"]["id"], "service:checkout", "{}", bundle.result["focus"]);
    assert!(bundle.text.starts_with("# Incident context"), "{}", bundle.text);

    let path = run("path", json!({"from": "frontend", "to": "orders-db"}));
    assert_eq!(path.result["found"], true);

    // Parameters are checked against their declarations.
    for (params, needle) in [
        (json!({}), "`service`"),
        (json!({"service": 5}), "expected a string"),
        (json!({"service": "orders-db", "depth": 99}), "maximum"),
        (json!({"service": "orders-db", "colour": "red"}), "`colour`"),
    ] {
        let err = registry.run(&engine, "blast_radius", params.as_object().unwrap()).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn a_broken_user_query_is_reported_by_file_and_line_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let good = "version = 1\nname = \"team_callers\"\ndescription = \"Who calls a service.\"\n\n\
        [params.service]\ntype = \"string\"\ndescription = \"The service.\"\nrequired = true\n\n\
        [[steps]]\nop = \"traverse\"\nnode = \"{service}\"\ndirection = \"upstream\"\ndepth = 1\n";
    std::fs::write(dir.path().join("good.toml"), good).unwrap();
    // Unknown argument on line 9.
    let bad_field = "version = 1\nname = \"bad_field\"\ndescription = \"x\"\n\n[[steps]]\nop = \"resolve\"\nnode = \"cart\"\n\n\
        [[steps]]\nop = \"traverse\"\ndirection = \"upstream\"\ncolour = \"red\"\n";
    std::fs::write(dir.path().join("bad_field.toml"), bad_field).unwrap();
    // A reference to a parameter nobody declared, on line 5.
    let bad_ref = "version = 1\nname = \"bad_ref\"\ndescription = \"x\"\n\n[[steps]]\nop = \"search\"\nquery = \"{missing}\"\n";
    std::fs::write(dir.path().join("bad_ref.toml"), bad_ref).unwrap();
    // Not TOML at all: line 2.
    std::fs::write(dir.path().join("garbage.toml"), "version = 1\nname = = \"x\"\n").unwrap();
    // A user query replacing a built-in.
    let owners = "version = 1\nname = \"owners\"\ndescription = \"Team owners, the team's way.\"\n\n\
        [params.service]\ntype = \"string\"\ndescription = \"The service.\"\nrequired = true\n\n\
        [[steps]]\nop = \"owners\"\nnode = \"{service}\"\n";
    std::fs::write(dir.path().join("owners.toml"), owners).unwrap();

    let registry = Registry::load(Some(dir.path()));
    let errors: Vec<String> = registry.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let find = |file: &str| {
        errors.iter().find(|e| e.contains(file)).unwrap_or_else(|| panic!("{file}: {errors:?}"))
    };
    assert!(find("bad_field.toml:9:").contains("colour"), "{errors:?}");
    assert!(find("bad_ref.toml:5:").contains("{missing}"), "{errors:?}");
    assert!(find("garbage.toml:2:").contains("garbage.toml"), "{errors:?}");
    assert!(registry.get("team_callers").is_some());
    assert!(registry.get("blast_radius").is_some(), "built-ins still load");
    assert_eq!(registry.get("owners").unwrap().description, "Team owners, the team's way.");

    let (_dir, engine) = example_engine();
    let answer = registry
        .run(&engine, "team_callers", json!({"service": "orders-db"}).as_object().unwrap())
        .unwrap();
    assert!(!answer.result["results"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_over_http_and_the_cli_give_the_same_answer() {
    let (dir, engine) = example_engine();
    let app = lore::server::router(engine.clone());
    let (status, list) = call(&app, "GET", "/v1/queries", None).await;
    assert_eq!(status, 200);
    let listed = list["queries"].as_array().unwrap();
    let blast = listed.iter().find(|q| q["name"] == "blast_radius").unwrap();
    assert_eq!(blast["params"]["required"], json!(["service"]));
    assert_eq!(blast["params"]["properties"]["depth"]["maximum"], 20);

    let params = json!({"service": "orders-db", "depth": 3});
    let (status, http) = call(&app, "POST", "/v1/queries/blast_radius", Some(params)).await;
    assert_eq!(status, 200, "{http}");
    let (status, err) = call(&app, "POST", "/v1/queries/nope", Some(json!({}))).await;
    assert_eq!(status, 404, "{err}");
    let (status, err) =
        call(&app, "POST", "/v1/queries/blast_radius", Some(json!({"depth": 3}))).await;
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("service"), "{err}");
    drop(app);
    drop(engine);

    let out = std::process::Command::new(lore_bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["query", "blast_radius", "-p", "service=orders-db", "-p", "depth=3", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, http);
}
