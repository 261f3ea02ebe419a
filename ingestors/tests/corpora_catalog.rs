//! Catalog ingestors over real and generated data: GitLab's service catalog from
//! `../shared/corpora` (checked against its `EDGES.tsv`), and a Backstage catalog written
//! by `gen-org` (checked against the generator's own files and ground truth).
//!
//! Both tests print a note and pass when their data or tool is absent, so the crate's
//! tests still run outside the project's workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use lore_ingestors::schema::{EdgeKind, NodeRef, Record};
use lore_ingestors::util::hosts::dns_candidates;
use lore_ingestors::{Detection, Format, Input, Output, Severity, detect, ingest};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn run(format: Format, path: &str, text: &str) -> Output {
    assert_eq!(detect(path, text), Detection::Ingest(format), "{path}");
    let env = BTreeMap::new();
    ingest(format, &Input { path, text, env: &env })
}

fn name_of(r: &NodeRef) -> String {
    match r {
        NodeRef::Name { name, .. } => name.clone(),
        other => panic!("unexpected reference {other:?}"),
    }
}

/// Transitive closure from `start` over `edges` (caller -> callees), without `start`.
fn reach(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(node) = todo.pop() {
        for next in edges.get(&node).into_iter().flatten() {
            if next != start && seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn gitlab_service_catalog_matches_edges_tsv() {
    let root = shared().join("corpora/topology/gitlab-com-service-catalog");
    let (Ok(text), Ok(tsv)) = (
        std::fs::read_to_string(root.join("services/service-catalog.yml")),
        std::fs::read_to_string(root.join("EDGES.tsv")),
    ) else {
        println!("skipped: gitlab corpus not found under {}", root.display());
        return;
    };
    let out = run(Format::ServiceCatalog, "services/service-catalog.yml", &text);
    assert!(out.diagnostics.iter().all(|d| d.severity != Severity::Error), "{:?}", out.diagnostics);

    // caller -> callee, with the evidence line, from relations and from the truth.
    let mut got = BTreeSet::new();
    let mut down: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut up: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for record in &out.records {
        if let Record::Relation(r) = record
            && r.kind == EdgeKind::Calls
        {
            assert!(r.provenance.note.starts_with("route:"), "{:?}", r.provenance);
            let (from, to) = (name_of(&r.from), name_of(&r.to));
            got.insert((from.clone(), to.clone(), r.provenance.locator.clone()));
            down.entry(from.clone()).or_default().insert(to.clone());
            up.entry(to).or_default().insert(from);
        }
    }
    let want: BTreeSet<(String, String, String)> = tsv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() >= 4 && cols[3] != "self")
                .then(|| (cols[0].to_string(), cols[1].to_string(), cols[2].to_string()))
        })
        .collect();
    assert_eq!(want.len(), 37);
    assert_eq!(got, want);

    assert_eq!(down["frontend"], set(&["api", "git", "web"]));
    assert_eq!(down["gitaly"], set(&["frontend", "redis"]));
    assert_eq!(down["kas"], set(&["api", "gitaly", "redis"]));
    assert_eq!(down["jaeger"], set(&["elasticsearch"]));
    assert_eq!(
        reach(&up, "redis"),
        set(&[
            "api", "console", "frontend", "git", "gitaly", "kas", "mailroom", "praefect",
            "registry", "sidekiq", "web"
        ])
    );
    assert_eq!(
        reach(&down, "frontend"),
        set(&["api", "consul", "git", "gitaly", "postgres", "redis", "web"])
    );

    let mentions: BTreeSet<String> = out
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Entity(e) if e.class.as_str() == "mention" => {
                Some(format!("{}:{}", e.kind, e.name))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        mentions,
        set(&["datastore:elasticsearch", "datastore:postgres", "service:prometheus"])
    );

    let copy = shared().join("corpora/runbooks/gitlab-com/services/service-catalog.yml");
    if let Ok(copy_text) = std::fs::read_to_string(copy) {
        let again = run(Format::ServiceCatalog, "services/service-catalog.yml", &copy_text);
        assert_eq!(again, out, "the runbooks copy reads the same");
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        TempDir(std::env::temp_dir().join(format!("lore-{tag}-{}-{nanos}", std::process::id())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            found.push(path);
        }
    }
}

fn tsv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().skip(1).map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

#[test]
fn generated_backstage_catalog_ingests_cleanly() {
    let tool = shared().join("tools/gen-org");
    let tmp = TempDir::new("gen-org");
    let status = Command::new("python3")
        .arg(&tool)
        .args(["--services", "60", "--seed", "5", "--out"])
        .arg(&tmp.0)
        .output();
    match status {
        Ok(o) if o.status.success() => {}
        other => {
            println!("skipped: could not run {}: {other:?}", tool.display());
            return;
        }
    }
    let mut files = Vec::new();
    yaml_files(&tmp.0.join("catalog"), &mut files);
    files.sort();
    assert!(files.len() > 40, "{files:?}");

    // Catalog name -> Kubernetes name, from the generator's aliases and kubernetes-id.
    let mut canon: BTreeMap<String, String> = BTreeMap::new();
    for row in tsv_rows(&tmp.0.join("truth/aliases.tsv")) {
        if let [alias, id] = row.as_slice() {
            canon.insert(
                alias.clone(),
                id.split_once(':').map_or(id.as_str(), |(_, n)| n).to_string(),
            );
        }
    }
    let mut declared = 0;
    let mut edges = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&tmp.0).unwrap_or(file).to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let out = run(Format::Backstage, &rel, &text);
        let errors: Vec<_> =
            out.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
        assert!(errors.is_empty(), "{errors:?}");

        // What the file itself declares, read independently of the ingestor.
        let mut want = BTreeSet::new();
        for doc in text.split("\n---\n") {
            let value: serde_yaml::Value = serde_yaml::from_str(doc).unwrap_or_default();
            let name = value["metadata"]["name"].as_str().unwrap_or("").to_string();
            for dep in value["spec"]["dependsOn"].as_sequence().into_iter().flatten() {
                let dep = dep.as_str().unwrap_or("");
                let (kind, target) = dep.split_once(':').unwrap_or(("component", dep));
                let edge = if kind == "component" { "calls" } else { "depends_on" };
                want.insert(format!("{name} {edge} {target}"));
            }
        }
        let mut got = BTreeSet::new();
        for record in &out.records {
            match record {
                Record::Entity(e) => {
                    for alias in &e.aliases {
                        canon.insert(e.name.clone(), alias.clone());
                    }
                }
                Record::Relation(r) if matches!(r.kind, EdgeKind::Calls | EdgeKind::DependsOn) => {
                    let (from, to) = (name_of(&r.from), name_of(&r.to));
                    got.insert(format!("{from} {} {to}", r.kind));
                    let kind = |n: &NodeRef| match n {
                        NodeRef::Name { kind: Some(k), .. } => k.as_str().to_string(),
                        _ => String::new(),
                    };
                    edges.insert((kind(&r.from), from, kind(&r.to), to, r.kind));
                }
                _ => {}
            }
        }
        declared += want.len();
        assert_eq!(got, want, "{rel}");
    }
    assert!(declared > 100, "only {declared} dependsOn entries");

    let id =
        |kind: &str, name: &str| format!("{kind}:{}", canon.get(name).map_or(name, String::as_str));
    let ours: BTreeSet<(String, String, String)> = edges
        .iter()
        .map(|(fk, from, tk, to, kind)| (id(fk, from), id(tk, to), kind.as_str().to_string()))
        .collect();
    let truth: BTreeSet<(String, String, String)> = tsv_rows(&tmp.0.join("truth/edges.tsv"))
        .into_iter()
        .filter_map(|r| match r.as_slice() {
            [a, b, k] => Some((a.clone(), b.clone(), k.clone())),
            _ => None,
        })
        .collect();
    for edge in &ours {
        assert!(truth.contains(edge), "catalog edge {edge:?} is not in the truth");
    }
    for row in tsv_rows(&tmp.0.join("truth/edge_sources.tsv")) {
        if let [a, b, sources] = row.as_slice()
            && sources.split(',').any(|s| s == "catalog")
        {
            let found = ours.iter().any(|(x, y, _)| x == a && y == b);
            assert!(found, "truth edge {a} -> {b} (from the catalog) was not read");
        }
    }
}

/// Service -> dependency edges, by Kubernetes name, of every Calls / DependsOn /
/// Publishes / Consumes relation in `outputs`, with `canon` applied to names.
fn dependency_edges(outputs: &[Output], canon: &BTreeMap<String, String>) -> BTreeSet<String> {
    let name = |r: &NodeRef| -> String {
        let raw = match r {
            NodeRef::Name { name, .. } => name.clone(),
            NodeRef::Host { host, .. } => {
                dns_candidates(host).first().map_or(host.clone(), |(n, _)| n.clone())
            }
            NodeRef::Selector { labels, .. } => {
                labels.get("app.kubernetes.io/name").cloned().unwrap_or_default()
            }
        };
        canon.get(&raw).cloned().unwrap_or(raw)
    };
    let mut edges = BTreeSet::new();
    for out in outputs {
        for record in &out.records {
            if let Record::Relation(r) = record
                && r.kind.is_request_path()
            {
                edges.insert(format!("{} -> {}", name(&r.from), name(&r.to)));
            }
        }
    }
    edges
}

#[test]
fn example_org_catalog_agrees_with_its_manifests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/org");
    let read_dir = |dir: &str, format: Format| -> Vec<Output> {
        let mut files = Vec::new();
        yaml_files(&root.join(dir), &mut files);
        files.sort();
        assert!(!files.is_empty(), "no YAML under examples/org/{dir}");
        files
            .iter()
            .map(|file| {
                let rel = file.strip_prefix(&root).unwrap_or(file).to_string_lossy().to_string();
                let text = std::fs::read_to_string(file).unwrap_or_default();
                let out = run(format, &rel, &text);
                let bad: Vec<_> =
                    out.diagnostics.iter().filter(|d| d.severity != Severity::Info).collect();
                assert!(bad.is_empty(), "{bad:?}");
                out
            })
            .collect()
    };
    let catalog = read_dir("catalog", Format::Backstage);
    let manifests = read_dir("k8s", Format::Kubernetes);

    // The two catalog names that differ from Kubernetes: one by annotation, one by the
    // `-service` suffix the identity resolver strips.
    let mut canon = BTreeMap::new();
    canon.insert("cart-service".to_string(), "cart".to_string());
    for record in catalog.iter().flat_map(|o| &o.records) {
        if let Record::Entity(e) = record {
            for alias in &e.aliases {
                canon.insert(e.name.clone(), alias.clone());
            }
        }
    }
    assert_eq!(canon["checkout-service"], "checkout");

    let from_catalog = dependency_edges(&catalog, &canon);
    let from_k8s: BTreeSet<String> = dependency_edges(&manifests, &canon)
        .into_iter()
        .filter(|e| !e.starts_with("storefront-ingress ") && !e.ends_with(" otel-collector"))
        .collect();
    assert_eq!(from_catalog, from_k8s);
    assert_eq!(from_catalog.len(), 27, "{from_catalog:#?}");
}
