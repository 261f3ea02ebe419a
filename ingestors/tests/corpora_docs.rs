//! Markdown and alert-rule ingestors over the real runbook and postmortem corpora in
//! `../shared/corpora`: every page parses, the known layouts keep their structure, and
//! the alert rule files yield every alert with its runbook link.
//!
//! Each test prints a note and passes when the corpora are absent, so the crate's tests
//! still run outside the project's workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lore_ingestors::schema::{Document, DocumentKind, Entity, NodeKind, Record};
use lore_ingestors::{Detection, Format, Input, Output, Severity, detect, ingest};

fn corpora() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    if root.join("runbooks").is_dir() && root.join("postmortems").is_dir() {
        Some(root)
    } else {
        println!("skipped: corpora not found under {}", root.display());
        None
    }
}

/// Files under `dir` ending in `ext`, sorted, as paths relative to `root`.
fn files(root: &Path, dir: &str, ext: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.join(dir)];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.to_string_lossy().ends_with(ext) {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

fn run(root: &Path, rel: &str, format: Format) -> Output {
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    assert_eq!(detect(rel, &text), Detection::Ingest(format), "{rel}");
    let env = BTreeMap::new();
    ingest(format, &Input { path: rel, text: &text, env: &env })
}

fn document(out: &Output, rel: &str) -> Document {
    let docs: Vec<&Document> = out
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Document(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!((docs.len(), out.records.len()), (1, 1), "{rel}: {:?}", out.records);
    docs[0].clone()
}

fn alerts(out: &Output) -> Vec<&Entity> {
    out.records
        .iter()
        .filter_map(|r| match r {
            Record::Entity(e) if e.kind == NodeKind::Alert => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn every_page_parses_into_one_document_with_sections() {
    let Some(root) = corpora() else { return };
    let mut n_docs = 0;
    for dir in ["runbooks", "postmortems"] {
        for rel in files(&root, dir, ".md") {
            let out = run(&root, &rel, Format::Markdown);
            let errors: Vec<_> =
                out.diagnostics.iter().filter(|d| d.severity == Severity::Error).collect();
            assert!(errors.is_empty(), "{rel}: {errors:?}");
            let doc = document(&out, &rel);
            assert!(!doc.sections.is_empty(), "{rel}");
            assert!(!doc.title.trim().is_empty(), "{rel}");
            assert_eq!(doc.path, rel);
            n_docs += 1;
        }
    }
    assert!(n_docs > 1000, "{n_docs}");
}

#[test]
fn prometheus_operator_runbooks_have_the_four_sections() {
    let Some(root) = corpora() else { return };
    // Upstream pages that lack a section, or hide it in an unclosed code fence.
    let known_gaps = [
        "KubeAPIErrorBudgetBurn.md",
        "NodeRAIDDiskFailure.md",
        "PrometheusDuplicateTimestamps.md",
        "PrometheusOutOfOrderTimestamps.md",
        "PrometheusOperatorNodeLookupErrors.md",
    ];
    let (mut n_pages, mut n_named_after_alert) = (0, 0);
    for rel in files(&root, "runbooks/prometheus-operator/content/runbooks", ".md") {
        let doc = document(&run(&root, &rel, Format::Markdown), &rel);
        assert_eq!(doc.kind, DocumentKind::Runbook, "{rel}");
        let file = rel.rsplit('/').next().unwrap();
        if file == "_index.md" || known_gaps.contains(&file) {
            continue;
        }
        let stem = file.trim_end_matches(".md");
        for heading in ["Meaning", "Impact", "Diagnosis", "Mitigation"] {
            assert!(
                doc.sections.iter().any(|s| s.heading_path.last().is_some_and(|h| h == heading)),
                "{rel}: no {heading} in {:?}",
                doc.sections.iter().map(|s| &s.heading_path).collect::<Vec<_>>()
            );
        }
        // The page's H1 (usually the alert name) heads every section.
        assert_eq!(doc.sections[0].heading_path.len(), 1, "{rel}");
        let h1 = &doc.sections[0].heading_path[0];
        assert!(doc.sections.iter().all(|s| &s.heading_path[0] == h1), "{rel}");
        n_named_after_alert += usize::from(h1 == stem);
        n_pages += 1;
    }
    assert!(n_pages >= 100, "{n_pages}");
    assert!(n_named_after_alert * 10 >= n_pages * 9, "{n_named_after_alert} of {n_pages}");

    let rel = "runbooks/prometheus-operator/content/runbooks/kubernetes/KubePodCrashLooping.md";
    let doc = document(&run(&root, rel, Format::Markdown), rel);
    assert_eq!(doc.title, "Kube Pod Crash Looping");
    let diagnosis = doc
        .sections
        .iter()
        .find(|s| s.heading_path.join(" > ") == "KubePodCrashLooping > Diagnosis")
        .unwrap();
    assert_eq!(diagnosis.line, 19);
    assert!(
        diagnosis.text.contains("- Check pod events via kubectl -n $NAMESPACE describe pod $POD.")
    );
}

#[test]
fn openshift_and_gitlab_runbooks_classify_as_runbooks() {
    let Some(root) = corpora() else { return };
    for dir in ["runbooks/openshift", "runbooks/gitlab-com/docs"] {
        for rel in files(&root, dir, ".md") {
            let doc = document(&run(&root, &rel, Format::Markdown), &rel);
            assert_eq!(doc.kind, DocumentKind::Runbook, "{rel}");
            assert!(doc.postmortem.is_none(), "{rel}");
        }
    }
}

#[test]
fn icco_postmortems_keep_their_front_matter() {
    let Some(root) = corpora() else { return };
    let rels = files(&root, "postmortems/icco-postmortems/data", ".md");
    assert!(rels.len() > 200, "{}", rels.len());
    for rel in &rels {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let doc = document(&run(&root, rel, Format::Markdown), rel);
        assert_eq!(doc.kind, DocumentKind::Postmortem, "{rel}");
        assert!(doc.front_matter.contains_key("company"), "{rel}");
        for key in ["title", "start_time", "summary"] {
            let declared = text.lines().any(|l| l.starts_with(&format!("{key}:")));
            assert_eq!(doc.front_matter.contains_key(key), declared, "{rel}: {key}");
        }
        if let Some(title) = doc.front_matter.get("title") {
            assert_eq!(&doc.title, title, "{rel}");
        }
        let summary = doc.postmortem.as_ref().and_then(|pm| pm.summary.as_ref());
        assert_eq!(summary, doc.front_matter.get("summary").filter(|s| !s.is_empty()), "{rel}");
    }
    let rel = "postmortems/icco-postmortems/data/01494547-7ee9-4169-a0c0-d921fa309d83.md";
    let doc = document(&run(&root, rel, Format::Markdown), rel);
    assert_eq!(doc.title, "EVE Online: Trinity installer deletes boot.ini");
    assert_eq!(doc.front_matter["company"], "CCP Games");
    assert_eq!(doc.front_matter["start_time"], "2007-12-05T22:04:00Z");
    assert!(doc.front_matter["keywords"].starts_with("eve online, trinity, installer"));
}

#[test]
fn dfds_and_posthog_postmortems_have_their_structure() {
    let Some(root) = corpora() else { return };
    let rel = "postmortems/dfds/PM2019-011 - Hellman Kubernetes IaC accidentally reverted.md";
    let doc = document(&run(&root, rel, Format::Markdown), rel);
    assert_eq!(doc.kind, DocumentKind::Postmortem);
    let pm = doc.postmortem.unwrap();
    assert!(pm.summary.unwrap().starts_with("On Thursday 5 December 2019"));
    assert!(pm.root_cause.unwrap().contains("Priority-classes not implemented"));
    assert_eq!(pm.action_items.len(), 5, "{:?}", pm.action_items);
    assert!(pm.action_items[3].starts_with("Run terraform plan in CI step"));
    assert_eq!(pm.timeline.len(), 11);
    assert_eq!(pm.timeline[0].when, "2019-12-05 04:00");
    assert!(pm.timeline[10].text.starts_with("All systems verified operational"));
    assert_eq!((pm.impact, pm.trigger, pm.detection), (None, None, None));

    let rel = "postmortems/posthog/2025-09-29-flags-is-down.md";
    let doc = document(&run(&root, rel, Format::Markdown), rel);
    assert_eq!(doc.kind, DocumentKind::Postmortem);
    let pm = doc.postmortem.unwrap();
    assert!(pm.root_cause.unwrap().starts_with("The outage resulted from three compounding"));
    assert!(pm.impact.unwrap().contains("78% of feature flag evaluation requests failed"));
    assert!(pm.action_items.iter().any(|a| a.starts_with("Circuit breaker implementation")));
    assert_eq!(pm.action_items.len(), 9, "{:?}", pm.action_items);
    let first = &pm.timeline[0];
    assert_eq!(
        (first.when.as_str(), first.text.as_str()),
        (
            "16:58 UTC",
            "Writer database begins experiencing connection saturation from person ingestion post-deployment workload"
        )
    );
    assert_eq!(pm.timeline.len(), 8);

    // Every dfds postmortem but the index and Log4Shell names its contributing factors.
    let mut n_with_cause = 0;
    for rel in files(&root, "postmortems/dfds", ".md") {
        let doc = document(&run(&root, &rel, Format::Markdown), &rel);
        assert_eq!(doc.kind, DocumentKind::Postmortem, "{rel}");
        n_with_cause += usize::from(doc.postmortem.is_some_and(|pm| pm.root_cause.is_some()));
    }
    assert!(n_with_cause >= 38, "{n_with_cause}");
}

#[test]
fn kube_prometheus_rules_yield_every_alert_with_its_runbook_url() {
    let Some(root) = corpora() else { return };
    let rels =
        files(&root, "runbooks/alert-rules-kube-prometheus/manifests", "-prometheusRule.yaml");
    assert_eq!(rels.len(), 8);
    let (mut n_url_lines, mut n_rules_with_url, mut names) = (0, 0, BTreeSet::new());
    let mut urls = BTreeSet::new();
    for rel in &rels {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        n_url_lines += text.lines().filter(|l| l.trim_start().starts_with("runbook_url:")).count();
        let out = run(&root, rel, Format::AlertRules);
        assert!(out.diagnostics.is_empty(), "{rel}: {:?}", out.diagnostics);
        for alert in alerts(&out) {
            let line: usize = alert.provenance.locator.rsplit(':').next().unwrap().parse().unwrap();
            let declared = text.lines().nth(line - 1).unwrap();
            assert_eq!(declared.trim(), format!("- alert: {}", alert.name), "{rel}");
            assert!(alert.attrs.contains_key("expr") && alert.attrs.contains_key("severity"));
            names.insert(alert.name.clone());
            if let Some(url) = alert.attrs.get("runbook_url") {
                // Rules sharing a name are one alert; `rules` says how many there were.
                let n_rules: usize = alert.attrs.get("rules").map_or(1, |n| n.parse().unwrap());
                n_rules_with_url += n_rules;
                urls.extend(url.split("\n\n").map(str::to_string));
                assert!(url.starts_with("https://runbooks.prometheus-operator.dev/runbooks/"));
            }
        }
    }
    assert_eq!(n_url_lines, 139);
    assert_eq!(n_rules_with_url, n_url_lines);
    assert_eq!(names.len(), 125);
    assert_eq!(urls.len(), 125);
}

#[test]
fn awesome_rules_yield_unique_camel_case_alerts() {
    let Some(root) = corpora() else { return };
    let rel = "runbooks/awesome-prometheus-alerts/_data/rules.yml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let out = run(&root, rel, Format::AlertRules);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let alerts = alerts(&out);
    let n_entries = text.lines().filter(|l| l.trim_start().starts_with("query:")).count();
    assert_eq!(alerts.len(), n_entries);
    assert!(alerts.len() > 1000, "{}", alerts.len());
    let names: BTreeSet<&str> = alerts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), alerts.len());
    let oom = alerts.iter().find(|a| a.name == "HostOutOfMemory").unwrap();
    assert_eq!(oom.attrs["summary"], "Host out of memory");
    assert!(oom.attrs["expr"].contains("node_memory_MemAvailable_bytes"), "{:?}", oom.attrs);
    let line: usize = oom.provenance.locator.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(text.lines().nth(line - 1).unwrap().trim(), "- name: Host out of memory");
}

#[test]
fn odd_bytes_do_not_panic() {
    let Some(root) = corpora() else { return };
    let rel = "postmortems/posthog/2025-09-29-flags-is-down.md";
    let mut bytes = std::fs::read(root.join(rel)).unwrap();
    for idx in (0..bytes.len()).step_by(97) {
        bytes[idx] = 0xff;
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let env = BTreeMap::new();
    for format in [Format::Markdown, Format::AlertRules] {
        let out = ingest(format, &Input { path: rel, text: &text, env: &env });
        assert!(!out.records.is_empty() || !out.diagnostics.is_empty(), "{format:?}");
    }
    let rel = "runbooks/alert-rules-kube-prometheus/manifests/nodeExporter-prometheusRule.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let cut = &text[..text.len() / 2];
    let out = ingest(Format::AlertRules, &Input { path: rel, text: cut, env: &env });
    assert!(
        out.diagnostics.iter().any(|d| d.severity == Severity::Error) || !out.records.is_empty()
    );
}
