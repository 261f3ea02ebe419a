//! Compose, Envoy and nginx ingestors over the real projects in `../shared/corpora`:
//! OpenTelemetry demo (compose with overlays and `.env`, an Envoy template), DeathStarBench
//! hotel reservation and social network (`depends_on`), sock-shop (`command` args) and
//! train-ticket (an nginx gateway). Relations are checked against each project's
//! `EDGES.tsv`, locators included, and against exact target sets for a few services.
//!
//! Every test prints a note and passes when the corpora are absent, so the crate's tests
//! still run outside the project's workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lore_ingestors::schema::{DatastoreType, EdgeKind, NodeKind, NodeRef, Record, Relation, Role};
use lore_ingestors::util::dotenv;
use lore_ingestors::{Detection, Format, Input, Output, Severity, detect, ingest};

/// The corpus directory `name`, or `None` (with a note) when the corpora are absent.
fn corpus(name: &str) -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/topology").join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus {} not found", dir.display());
        None
    }
}

/// Ingests `rel` (relative to `root`, as locators and `EDGES.tsv` name it) with the `.env`
/// of the corpus root, checking that detection picks `format` and nothing is an error.
fn run(root: &Path, rel: &str, format: Format) -> Output {
    let text = std::fs::read_to_string(root.join(rel)).expect("corpus file");
    let env =
        std::fs::read_to_string(root.join(".env")).map(|t| dotenv::parse(&t)).unwrap_or_default();
    assert_eq!(detect(rel, &text), Detection::Ingest(format), "{rel}");
    let out = ingest(format, &Input { path: rel, text: &text, env: &env });
    let errors: Vec<_> = out.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{rel}: {errors:?}");
    out
}

fn relations(out: &Output) -> impl Iterator<Item = &Relation> {
    out.records.iter().filter_map(|r| match r {
        Record::Relation(r) => Some(r),
        _ => None,
    })
}

fn name(r: &NodeRef) -> &str {
    match r {
        NodeRef::Name { name, .. } => name,
        NodeRef::Host { host, .. } => host,
        NodeRef::Selector { .. } => "",
    }
}

/// Targets of `from`'s relations whose target is a host (`hosts`) or a name.
fn targets(out: &Output, from: &str, hosts: bool) -> BTreeSet<String> {
    relations(out)
        .filter(|r| name(&r.from) == from && matches!(r.to, NodeRef::Host { .. }) == hosts)
        .map(|r| name(&r.to).to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Checks every `EDGES.tsv` row whose evidence is in `rel` against a relation from the
/// caller to the callee at exactly that line, except rows in `skip`; returns rows checked.
fn check_edges(root: &Path, rel: &str, out: &Output, skip: &[(&str, &str)]) -> usize {
    let tsv = std::fs::read_to_string(root.join("EDGES.tsv")).expect("EDGES.tsv");
    let corpus = root.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut checked = 0;
    let mut missing = Vec::new();
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [caller, callee, evidence, ..] = cols[..] else { continue };
        let Some((file, _)) = evidence.rsplit_once(':') else { continue };
        if file != rel || skip.contains(&(caller, callee)) {
            continue;
        }
        checked += 1;
        let found = relations(out).any(|r| {
            name(&r.from) == caller && name(&r.to) == callee && r.provenance.locator == evidence
        });
        if !found {
            let near: Vec<String> = relations(out)
                .filter(|r| name(&r.from) == caller && name(&r.to) == callee)
                .map(|r| r.provenance.locator.clone())
                .collect();
            missing.push(format!("{corpus}: {caller} -> {callee} @{evidence} (found at {near:?})"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    checked
}

fn entity<'o>(out: &'o Output, name: &str) -> &'o lore_ingestors::schema::Entity {
    out.records
        .iter()
        .find_map(|r| match r {
            Record::Entity(e) if e.name == name => Some(e),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no entity {name}"))
}

#[test]
fn otel_demo_compose_matches_edges_tsv() {
    let Some(root) = corpus("opentelemetry-demo") else { return };
    let out = run(&root, "compose.yaml", Format::Compose);
    assert_eq!(check_edges(&root, "compose.yaml", &out, &[("flagd-ui", "flagd")]), 45);
    let entities = out.records.iter().filter(|r| matches!(r, Record::Entity(_))).count();
    assert_eq!(entities, 20);
    assert_eq!(
        targets(&out, "checkout", true),
        set(&[
            "cart",
            "currency",
            "email",
            "flagd",
            "otel-collector",
            "payment",
            "product-catalog",
            "shipping"
        ])
    );
    assert_eq!(
        targets(&out, "product-catalog", true),
        set(&["astronomy-db", "flagd", "otel-collector"])
    );
    assert_eq!(
        targets(&out, "load-generator", true),
        set(&["flagd", "frontend-proxy", "otel-collector"])
    );
    assert_eq!(
        targets(&out, "frontend-proxy", false),
        set(&["flagd-ui", "frontend", "telemetry-docs"])
    );
    let db = relations(&out)
        .find(|r| {
            name(&r.from) == "product-catalog"
                && name(&r.to) == "astronomy-db"
                && matches!(r.to, NodeRef::Host { .. })
        })
        .expect("product-catalog -> astronomy-db");
    assert_eq!(db.kind, EdgeKind::DependsOn);
    assert!(!db.provenance.note.contains("astronomy_password"), "{}", db.provenance.note);
    let astronomy = entity(&out, "astronomy-db");
    assert_eq!(
        (astronomy.kind, astronomy.datastore),
        (NodeKind::Datastore, Some(DatastoreType::Postgres))
    );
    assert_eq!(astronomy.attrs["image"], "postgres:18.4");
    assert_eq!(entity(&out, "valkey-cart").datastore, Some(DatastoreType::Redis));
    assert_eq!(entity(&out, "flagd").role, Some(Role::FeatureFlags));
    assert_eq!(entity(&out, "otel-collector").role, Some(Role::Telemetry));
    assert_eq!(entity(&out, "checkout").kind, NodeKind::Service);
    assert_eq!(entity(&out, "checkout").provenance.locator, "compose.yaml:114");
    // No service points at itself (FRONTEND_ADDR in frontend, OTEL_COLLECTOR_HOST in the collector).
    assert!(relations(&out).all(|r| name(&r.from) != name(&r.to)));
}

#[test]
fn otel_demo_overlays_patch_and_mark_optional_layers() {
    let Some(root) = corpus("opentelemetry-demo") else { return };
    let mut checked = 0;
    for layer in ["full", "observability", "agent", "tests", "profiling"] {
        let rel = format!("compose.{layer}.yaml");
        let out = run(&root, &rel, Format::Compose);
        checked += check_edges(&root, &rel, &out, &[]);
        let optional = matches!(layer, "agent" | "tests" | "profiling");
        for r in relations(&out) {
            assert_eq!(r.provenance.confidence == 500, optional, "{r:?}");
            assert_eq!(r.provenance.note.ends_with(&format!("(optional layer {layer})")), optional);
        }
        for r in &out.records {
            if let Record::Entity(e) = r {
                assert_eq!(e.attrs.contains_key("optional_layer"), optional, "{e:?}");
                assert!(
                    e.attrs.contains_key("image"),
                    "patch-only service became an entity: {e:?}"
                );
            }
        }
    }
    assert_eq!(checked, 16);
    let full = run(&root, "compose.full.yaml", Format::Compose);
    let names: BTreeSet<String> = full
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Entity(e) => Some(e.name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, set(&["accounting", "fraud-detection", "kafka"]));
    assert_eq!(entity(&full, "kafka").datastore, Some(DatastoreType::Kafka));
    assert_eq!(
        targets(&full, "accounting", true),
        set(&["astronomy-db", "kafka", "otel-collector"])
    );
    assert_eq!(targets(&full, "checkout", true), set(&["kafka"]));
    let agent = run(&root, "compose.agent.yaml", Format::Compose);
    assert_eq!(targets(&agent, "frontend-proxy", false), set(&["chatbot"]));
    assert_eq!(targets(&agent, "agent", false), set(&["mcp", "otel-collector", "product-catalog"]));
    let tests = run(&root, "compose.tests.yaml", Format::Compose);
    assert_eq!(entity(&tests, "frontendTests").aliases, ["frontend-tests"]);
    assert_eq!(targets(&tests, "frontendTests", true), set(&["frontend"]));
}

#[test]
fn otel_demo_envoy_template_routes() {
    let Some(root) = corpus("opentelemetry-demo") else { return };
    let rel = "src/frontend-proxy/envoy.tmpl.yaml";
    let out = run(&root, rel, Format::Envoy);
    assert_eq!(check_edges(&root, rel, &out, &[]), 9);
    assert_eq!(
        targets(&out, "frontend-proxy", true),
        set(&[
            "chatbot",
            "firepit",
            "flagd",
            "flagd-ui",
            "frontend",
            "grafana",
            "image-provider",
            "jaeger",
            "opamp-server",
            "otel-collector",
            "telemetry-docs",
        ])
    );
    for r in relations(&out) {
        assert_eq!(r.kind, EdgeKind::Calls);
        assert!(r.provenance.note.starts_with("route: envoy cluster "), "{r:?}");
    }
    let flagd = relations(&out).find(|r| name(&r.to) == "flagd").expect("route to flagd");
    assert_eq!(flagd.provenance.note, "route: envoy cluster flagservice");
}

#[test]
fn deathstarbench_depends_on_drives_datastore_edges() {
    if let Some(root) = corpus("deathstarbench-hotelreservation") {
        let rel = "hotelReservation/docker-compose.yml";
        let out = run(&root, rel, Format::Compose);
        assert_eq!(check_edges(&root, rel, &out, &[]), 22);
        assert_eq!(
            targets(&out, "profile", false),
            set(&["consul", "memcached-profile", "mongodb-profile"])
        );
        assert_eq!(targets(&out, "frontend", false), set(&["consul"]));
        let geo_db = entity(&out, "mongodb-geo");
        assert_eq!(
            (geo_db.datastore, geo_db.aliases.clone()),
            (Some(DatastoreType::Mongo), vec!["geo-db".to_string()])
        );
        assert_eq!(entity(&out, "memcached-rate").aliases, ["user-memcached"]);
        assert_eq!(entity(&out, "review").aliases, ["hotel_reserv_review"]);
        assert_eq!(entity(&out, "consul").role, Some(Role::Discovery));
        assert_eq!(entity(&out, "jaeger").role, Some(Role::Telemetry));
    }
    if let Some(root) = corpus("deathstarbench-socialnetwork") {
        let rel = "socialNetwork/docker-compose.yml";
        let out = run(&root, rel, Format::Compose);
        assert_eq!(check_edges(&root, rel, &out, &[]), 19);
        assert_eq!(
            targets(&out, "social-graph-service", false),
            set(&["jaeger-agent", "social-graph-mongodb"])
        );
        assert_eq!(entity(&out, "media-memcached").datastore, Some(DatastoreType::Memcached));
        assert!(
            entity(&out, "user-service").aliases.is_empty(),
            "hostname equal to the key is no alias"
        );
        // The nginx configs hold Lua clients, not proxy_pass: they scan cleanly and route nowhere.
        for conf in ["nginx-web-server/conf/nginx.conf", "media-frontend/conf/nginx.conf"] {
            let path = format!("socialNetwork/{conf}");
            let text = std::fs::read_to_string(root.join(&path)).expect("nginx.conf");
            let env = BTreeMap::new();
            let out = ingest(Format::Nginx, &Input { path: &path, text: &text, env: &env });
            assert!(out.records.is_empty() && out.diagnostics.is_empty(), "{path}: {out:?}");
        }
    }
}

#[test]
fn sock_shop_command_args_name_hosts() {
    let Some(root) = corpus("sock-shop") else { return };
    let rel = "deploy/docker-compose/docker-compose.yml";
    let out = run(&root, rel, Format::Compose);
    // edge-router -> front-end is baked into the edge-router image; compose does not say it.
    assert_eq!(check_edges(&root, rel, &out, &[("edge-router", "front-end")]), 1);
    assert_eq!(targets(&out, "user-sim", true), set(&["edge-router"]));
    assert_eq!(targets(&out, "user", true), set(&["user-db"]));
    assert_eq!(entity(&out, "user-sim").aliases, ["user-simulator"]);
    assert_eq!(entity(&out, "carts-db").datastore, Some(DatastoreType::Mongo));
    let calls: usize = relations(&out).count();
    assert_eq!(calls, 2, "JAVA_OPTS and MYSQL_* name no hosts");
    let logging = run(&root, "deploy/docker-compose/docker-compose.logging.yml", Format::Compose);
    assert!(logging.records.iter().all(|r| match r {
        Record::Entity(e) => ["elasticsearch", "kibana", "log-server"].contains(&e.name.as_str()),
        _ => true,
    }));
}

#[test]
fn train_ticket_nginx_gateway_routes() {
    let Some(root) = corpus("train-ticket") else { return };
    let rel = "ts-ui-dashboard/nginx.conf";
    let out = run(&root, rel, Format::Nginx);
    assert_eq!(check_edges(&root, rel, &out, &[]), 38);
    let hosts = targets(&out, "ts-ui-dashboard", true);
    assert_eq!(hosts.len(), 38, "{hosts:?}");
    assert!(hosts.contains("ts-avatar-service") && hosts.contains("ts-ticket-office-service"));
    assert!(relations(&out).all(|r| r.provenance.note.starts_with("route: nginx proxy_pass ts-")));
}

#[test]
fn every_corpus_compose_file_ingests_without_errors() {
    let Some(root) = corpus("") else { return };
    let mut files = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            if path.is_dir() && !matches!(file.as_str(), "kubernetes" | "helm-chart") {
                todo.push(path);
            } else if file.contains("compose")
                && (file.ends_with(".yml") || file.ends_with(".yaml"))
            {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 15, "{files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("compose file");
        let rel = path.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_default();
        if detect(&rel, &text) != Detection::Ingest(Format::Compose) {
            continue; // compose.extras.yaml has only comments
        }
        let env = BTreeMap::new();
        let out = ingest(Format::Compose, &Input { path: &rel, text: &text, env: &env });
        assert!(
            out.diagnostics.iter().all(|d| d.severity != Severity::Error),
            "{rel}: {:?}",
            out.diagnostics
        );
        assert!(!out.records.is_empty(), "{rel}");
    }
}
