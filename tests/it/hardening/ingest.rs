//! Ingest never drops good facts: a file that becomes unreadable (invalid UTF-8,
//! emptied) is an error naming it and keeps its facts; a partly broken file (a TAB
//! indent, an alias bomb in one YAML document; one garbage NDJSON line) keeps the facts
//! of what it could not read; wrong types are diagnostics naming file:line.

use std::path::{Path, PathBuf};

use lore::Engine;
use lore::ingest::SourceReport;

fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  \
         selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        \
         app: {name}\n    spec:\n      containers:\n        - name: {name}\n          image: {image}\n"
    )
}

fn ingest(engine: &Engine, path: &Path, now: i64) -> SourceReport {
    engine.ingest(&[path.to_path_buf()], now).unwrap().remove(0)
}

fn has_node(engine: &Engine, name: &str) -> bool {
    engine.graph(None).unwrap().lookup(name).is_ok()
}

fn has_runbook(engine: &Engine) -> bool {
    engine.graph(None).unwrap().nodes().iter().any(|n| n.id.as_str().starts_with("runbook:"))
}

fn errors(report: &SourceReport) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.severity == "error")
        .map(|d| format!("{}: {}", d.locator, d.message))
        .collect()
}

fn setup(files: &[(&str, String)]) -> (tempfile::TempDir, PathBuf, tempfile::TempDir, Engine) {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("src");
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (data, engine) = crate::support::engine();
    (work, root, data, engine)
}

#[test]
fn a_file_that_becomes_unreadable_is_an_error_and_keeps_its_facts() {
    let runbook = "---\nservice: cart\n---\n# Cart cache misses\n\n## Diagnosis\n\nCheck the session cache hit rate.\n";
    let (_work, root, _data, engine) = setup(&[
        ("k8s/cart.yaml", deployment("cart", "cart:1")),
        ("runbooks/cart-cache-misses.md", runbook.to_string()),
    ]);
    let first = ingest(&engine, &root, 10);
    assert!(errors(&first).is_empty(), "{:?}", errors(&first));
    let facts = first.added;
    for (what, bytes) in [
        ("invalid UTF-8", b"# Cart cache misses\n\n\xff\xfe bad byte\n".to_vec()),
        ("emptied", Vec::new()),
    ] {
        std::fs::write(root.join("runbooks/cart-cache-misses.md"), &bytes).unwrap();
        let report = ingest(&engine, &root, 20);
        assert!(report.has_errors(), "{what}: an error, so `lore ingest` exits 1");
        let errs = errors(&report);
        assert!(
            errs.len() == 1 && errs[0].contains("runbooks/cart-cache-misses.md"),
            "{what}: the file is named: {errs:?}"
        );
        assert_eq!(report.closed, 0, "{what}: nothing closed");
        assert!(has_runbook(&engine), "{what}: the runbook stays");
        let hits = engine
            .search(&lore::engine::SearchRequest {
                query: "session cache hit rate".into(),
                limit: 5,
                mode: "bm25".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(!hits.results.is_empty(), "{what}: still found by search");
    }
    // Deleting the file is what closes its facts.
    std::fs::remove_file(root.join("runbooks/cart-cache-misses.md")).unwrap();
    let report = ingest(&engine, &root, 30);
    assert!(errors(&report).is_empty());
    assert!(report.closed >= 1 && report.closed < facts, "{report:?}");
    assert!(!has_runbook(&engine));
}

#[test]
fn a_broken_yaml_document_keeps_the_facts_it_had() {
    let docs = |middle: &str| {
        [deployment("alpha", "alpha:1"), middle.to_string(), deployment("gamma", "gamma:1")]
            .join("---\n")
    };
    let (_work, root, _data, engine) =
        setup(&[("k8s/all.yaml", docs(&deployment("beta", "beta:1")))]);
    ingest(&engine, &root, 10);
    for name in ["alpha", "beta", "gamma"] {
        assert!(has_node(&engine, name), "{name}");
    }
    let tab = deployment("beta", "beta:2").replace("  name: beta", "\tname: beta");
    let bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
                b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
                d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n\
                f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
                kind: Deployment\napiVersion: apps/v1\nmetadata: {name: beta}\n";
    for (what, middle) in [("a TAB indent", tab), ("an alias bomb", bomb.to_string())] {
        std::fs::write(root.join("k8s/all.yaml"), docs(&middle)).unwrap();
        let started = std::time::Instant::now();
        let report = ingest(&engine, &root, 20);
        assert!(started.elapsed().as_secs() < 10, "{what}: bounded time");
        let errs = errors(&report);
        assert!(
            !errs.is_empty() && errs.iter().all(|e| e.contains("all.yaml:")),
            "{what}: {errs:?}"
        );
        assert_eq!(report.closed, 0, "{what}: {report:?}");
        for name in ["alpha", "beta", "gamma"] {
            assert!(has_node(&engine, name), "{what}: {name} kept");
        }
    }
}

#[test]
fn one_garbage_ndjson_line_keeps_the_other_events() {
    let line = |i: usize| {
        format!(
            r#"{{"id": "e{i}", "ts": "2026-10-27T13:{i:02}:00Z", "service": "cart", "kind": "deploy"}}"#
        )
    };
    let good: Vec<String> = (0..40).map(line).collect();
    let (_work, root, _data, engine) = setup(&[("deploys/events.ndjson", good.join("\n"))]);
    assert_eq!(ingest(&engine, &root, 10).added, 40);
    let mut broken = good.clone();
    broken[20] = "{\"id\": \"e20\", \"ts\": garbage".to_string();
    std::fs::write(root.join("deploys/events.ndjson"), broken.join("\n")).unwrap();
    let report = ingest(&engine, &root, 20);
    let errs = errors(&report);
    assert!(errs.len() == 1 && errs[0].contains("events.ndjson:21"), "{errs:?}");
    assert_eq!((report.closed, report.unchanged), (0, 40), "{report:?}");
}

#[test]
fn a_change_log_is_read_line_by_line_whatever_its_size() {
    let line = |i: usize| {
        format!(
            r#"{{"id": "e{i}", "ts": "2026-10-27T13:{:02}:{:02}Z", "service": "cart", "kind": "deploy"}}"#,
            i / 60 % 60,
            i % 60
        )
    };
    // More lines than one chunk, and far over the file size limit.
    let good: Vec<String> = (0..4_500).map(line).collect();
    let (_work, root, _data, engine) = setup(&[("deploys/events.ndjson", good.join("\n"))]);
    let engine = engine
        .with_limits(lore::config::LimitsConfig { max_file_bytes: 2_000, ..Default::default() });
    let first = ingest(&engine, &root, 10);
    assert!(errors(&first).is_empty(), "{:?}", errors(&first));
    assert_eq!(first.added, 4_500);
    // One line not UTF-8, one over the line limit: each an error naming its line, and
    // every event keeps its fact.
    let mut bytes = Vec::new();
    for (i, text) in good.iter().enumerate() {
        match i {
            2_100 => bytes.extend_from_slice(b"{\"id\": \"e2100\", \"ts\": \"\xff\xfe\"}"),
            3_000 => {
                bytes.extend_from_slice(format!("{{\"id\": \"{}\"}}", "x".repeat(3_000)).as_bytes())
            }
            _ => bytes.extend_from_slice(text.as_bytes()),
        }
        bytes.push(b'\n');
    }
    std::fs::write(root.join("deploys/events.ndjson"), bytes).unwrap();
    let broken = ingest(&engine, &root, 20);
    let errs = errors(&broken);
    assert!(errs.len() == 2, "{errs:?}");
    assert!(errs[0].contains("events.ndjson:2101") && errs[0].contains("UTF-8"), "{errs:?}");
    assert!(
        errs[1].contains("events.ndjson:3001") && errs[1].contains("max_file_bytes"),
        "{errs:?}"
    );
    assert_eq!((broken.closed, broken.unchanged), (0, 4_500), "{broken:?}");
    // A healthy log without some events closes exactly those.
    std::fs::write(root.join("deploys/events.ndjson"), good[..4_000].join("\n")).unwrap();
    let shorter = ingest(&engine, &root, 30);
    assert!(errors(&shorter).is_empty(), "{:?}", errors(&shorter));
    assert_eq!((shorter.closed, shorter.unchanged, shorter.added), (500, 4_000, 0), "{shorter:?}");
}

const CATALOG: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  type: service\n  owner: team-a\n  dependsOn:\n    - resource:orders-db\n";
const COMPOSE: &str = "services:\n  web:\n    image: acme/web:${TAG:-1}\n    environment:\n      DB_ADDR: db:5432\n  db:\n    image: postgres:16\n";

#[test]
fn wrong_types_are_errors_naming_file_line_and_field_and_keep_the_facts() {
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "k8s/cart.yaml",
            deployment("cart", "cart:1"),
            deployment("cart", "cart:1").replace(
                "      containers:\n        - name: cart\n          image: cart:1\n",
                "      containers: 5\n",
            ),
            "cart.yaml:15: Deployment cart: `containers` is a number (5)",
        ),
        (
            "catalog/orders.yaml",
            CATALOG.to_string(),
            CATALOG.replace("  dependsOn:\n    - resource:orders-db\n", "  dependsOn: 42\n"),
            "orders.yaml:8: Component orders: `dependsOn` is a number (42)",
        ),
        (
            "compose/compose.yaml",
            COMPOSE.to_string(),
            "services:\n  - web\n  - db\n".to_string(),
            "compose.yaml:1: `services` is a list",
        ),
        (
            "compose/compose.yaml",
            COMPOSE.to_string(),
            COMPOSE.replace("${TAG:-1}", "${UNCLOSED"),
            "compose.yaml:3: malformed interpolation `${UNCLOSED`",
        ),
        (
            "compose/compose.yaml",
            COMPOSE.to_string(),
            COMPOSE.replace("${TAG:-1}", "${}"),
            "compose.yaml:3: malformed interpolation `${}`: no variable name",
        ),
    ];
    for (rel, good, bad, expected) in cases {
        let (_work, root, _data, engine) = setup(&[(rel, good)]);
        let first = ingest(&engine, &root, 10);
        assert!(errors(&first).is_empty(), "{rel}: {:?}", errors(&first));
        std::fs::write(root.join(rel), bad).unwrap();
        let report = ingest(&engine, &root, 20);
        let errs = errors(&report);
        assert!(
            errs.iter().any(|e| e.contains(expected)),
            "{rel}: expected `{expected}` in {errs:?}"
        );
        assert_eq!(report.closed, 0, "{rel} ({expected}): facts kept: {report:?}");
    }

    // A garbage `.env` is an error at its line, and the compose file using it keeps its facts.
    let (_work, root, _data, engine) = setup(&[
        ("compose/compose.yaml", COMPOSE.to_string()),
        ("compose/.env", "TAG=2\n".to_string()),
    ]);
    assert!(errors(&ingest(&engine, &root, 10)).is_empty());
    std::fs::write(root.join("compose/.env"), "TAG=2\nthis is not an env file\nX=${Y\n").unwrap();
    let report = ingest(&engine, &root, 20);
    let errs = errors(&report);
    assert!(errs.iter().any(|e| e.contains("compose/.env:2: not a KEY=value line")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("compose/.env:3: malformed interpolation")), "{errs:?}");
    assert_eq!(report.closed, 0, "{report:?}");
}

#[test]
fn a_very_long_name_does_not_slow_other_lookups() {
    let service = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  \
             selector: {{app: x}}\n  ports: [{{port: 80}}]\n"
        )
    };
    let (_work, root, _data, engine) = setup(&[
        ("k8s/cart.yaml", deployment("cart", "cart:1")),
        ("k8s/long.yaml", service(&"a".repeat(10_000))),
        ("k8s/longer.yaml", service(&"b".repeat(100_000))),
    ]);
    // Names far over Kubernetes' limits, let in: lookups must not depend on them.
    let limits = lore::config::LimitsConfig { max_name_chars: 200_000, ..Default::default() };
    let engine = engine.with_limits(limits);
    let started = std::time::Instant::now();
    ingest(&engine, &root, 10);
    engine.show("cart", None).unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs_f64() < 2.0, "ingest and show took {elapsed:?}");
}

#[test]
fn names_labels_documents_and_text_over_the_limits_are_errors_that_keep_the_facts() {
    let runbook = |extra: &str| {
        format!("---\nservice: cart\n---\n# Cart cache misses\n\nCheck the hit rate.{extra}\n")
    };
    let (_work, root, _data, engine) = setup(&[
        ("k8s/cart.yaml", deployment("cart", "cart:1")),
        ("k8s/pay.yaml", deployment("pay", "pay:1")),
        ("runbooks/cart.md", runbook("")),
    ]);
    let limits = lore::config::LimitsConfig {
        max_documents_per_file: 2,
        max_document_chars: 500,
        ..Default::default()
    };
    let engine = engine.with_limits(limits);
    let first = ingest(&engine, &root, 10);
    assert!(errors(&first).is_empty(), "{:?}", errors(&first));
    // A name over 253 characters (Kubernetes' limit) beside a good object; a label value
    // over 63; three documents in one file; a runbook grown past the text limit.
    let long = "x".repeat(300);
    let cart = format!("{}---\n{}", deployment("cart", "cart:2"), deployment(&long, "y:1"));
    std::fs::write(root.join("k8s/cart.yaml"), cart).unwrap();
    let tier = format!("        app: pay\n        tier: {}\n", "p".repeat(70));
    let pay = deployment("pay", "pay:2").replace("        app: pay\n", &tier);
    std::fs::write(root.join("k8s/pay.yaml"), pay).unwrap();
    let three =
        [("a", "a:1"), ("b", "b:1"), ("c", "c:1")].map(|(n, i)| deployment(n, i)).join("---\n");
    std::fs::write(root.join("k8s/three.yaml"), three).unwrap();
    std::fs::write(root.join("runbooks/cart.md"), runbook(&" more".repeat(200))).unwrap();
    let report = ingest(&engine, &root, 20);
    let errs = errors(&report);
    let has = |file: &str, what: &str| errs.iter().any(|e| e.contains(file) && e.contains(what));
    assert!(has("k8s/cart.yaml:", "max_name_chars"), "{errs:?}");
    assert!(has("k8s/pay.yaml:", "max_label_chars"), "{errs:?}");
    assert!(has("k8s/three.yaml:1", "max_documents_per_file"), "{errs:?}");
    assert!(has("runbooks/cart.md:", "max_document_chars"), "{errs:?}");
    assert!(errs.iter().all(|e| !e.contains(&long)), "the name is not echoed whole: {errs:?}");
    assert_eq!(report.closed, 0, "{report:?}");
    // The good object next to the long name is read; the runbook of before is kept.
    let image = engine.show("cart", None).unwrap().node.attrs.get("image").cloned();
    assert_eq!(image.as_deref(), Some("cart:2"));
    assert!(has_runbook(&engine));
    assert!(!has_node(&engine, "a"), "a file over the document limit is not parsed");
}

#[test]
fn a_file_over_the_size_limit_is_an_error_and_keeps_its_facts() {
    let (_work, root, _data, engine) = setup(&[("k8s/cart.yaml", deployment("cart", "cart:1"))]);
    let engine = engine
        .with_limits(lore::config::LimitsConfig { max_file_bytes: 2_000, ..Default::default() });
    let first = ingest(&engine, &root, 10);
    assert!(errors(&first).is_empty(), "{:?}", errors(&first));
    // The manifest grows past the limit: it is not read, its facts stay.
    let padded = format!("{}# {}\n", deployment("cart", "cart:2"), "x".repeat(5_000));
    std::fs::write(root.join("k8s/cart.yaml"), padded).unwrap();
    // A trace file over the limit is still read: traces stream into figures.
    let span = |id: &str| {
        format!(
            r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{id}","name":"n","kind":2,"startTimeUnixNano":"1780000000000000000","endTimeUnixNano":"1780000000005000000"}}"#
        )
    };
    let spans: Vec<String> = (0..40).map(|i| span(&format!("{:016x}", i + 1))).collect();
    let traces = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"cart"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    );
    assert!(traces.len() > 2_000);
    std::fs::write(root.join("traces.json"), traces).unwrap();
    // So is a change log: a record per line.
    let event = |i: usize| {
        format!(
            r#"{{"id": "d{i}", "ts": "2026-10-27T13:41:09Z", "service": "cart", "kind": "deploy"}}"#
        )
    };
    let log: Vec<String> = (0..40).map(event).collect();
    std::fs::write(root.join("deploys.ndjson"), log.join("\n")).unwrap();
    let report = ingest(&engine, &root, 20);
    let errs = errors(&report);
    assert!(
        errs.len() == 1 && errs[0].contains("k8s/cart.yaml") && errs[0].contains("over the limit"),
        "{errs:?}"
    );
    assert_eq!(report.closed, 0);
    assert!(has_node(&engine, "cart"));
    let image = engine.show("cart", None).unwrap().node.attrs.get("image").cloned();
    assert_eq!(image.as_deref(), Some("cart:1"), "the facts from before the limit was hit");
    assert_eq!(report.traces.as_ref().map(|t| t.spans), Some(40), "{:?}", report.traces);
}

#[test]
fn queries_over_the_limits_are_errors_naming_the_limit() {
    let (_work, root, _data, engine) = setup(&[("k8s/cart.yaml", deployment("cart", "cart:1"))]);
    let limits = lore::config::LimitsConfig {
        max_query_chars: 50,
        max_results: 20,
        max_depth: 5,
        ..Default::default()
    };
    let engine = engine.with_limits(limits);
    ingest(&engine, &root, 10);
    let search = |query: String, limit: usize| {
        let req =
            lore::engine::SearchRequest { query, limit, mode: "bm25".into(), ..Default::default() };
        engine.search(&req).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(search("cart".into(), 20).is_ok());
    let long = search("cart ".repeat(20), 10).unwrap_err();
    assert!(long.contains("query") && long.contains("max_query_chars"), "{long}");
    let many = search("cart".into(), 21).unwrap_err();
    assert!(many.contains("limit") && many.contains("max_results"), "{many}");
    let impact = |depth| {
        let req = lore::engine::ImpactRequest {
            depth: Some(depth),
            ..lore::engine::ImpactRequest::new("cart", lore::graph::Direction::Upstream)
        };
        engine.impact(&req).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(impact(5).is_ok());
    let deep = impact(6).unwrap_err();
    assert!(deep.contains("depth") && deep.contains("max_depth"), "{deep}");
}
