//! Markdown runbooks, postmortems and other pages: one [`Document`] per file.
//!
//! A file is read as front matter (YAML or TOML, see `frontmatter.rs`), then CommonMark
//! with tables walked into heading-delimited sections (`sections.rs`). The title is the
//! front matter `title`, else the first level-1 heading, else the file stem. The kind is
//! decided by `classify.rs` and, for postmortems, the incident structure is extracted by
//! `postmortem.rs`. Entity linking (which services and alerts a document is about) is the
//! main crate's job: a single file cannot know the graph's names.

mod classify;
mod frontmatter;
mod postmortem;
mod sections;

use lore_schema::{Document, DocumentKind, Provenance, Record, Section};
use serde::Deserialize;

use crate::{Emitter, Input, Severity, Stability};

pub use classify::classify;

/// Ingestor name.
pub const NAME: &str = "markdown";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Options of the Markdown ingestor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Path prefixes whose documents have a fixed kind, whatever their content says; the
    /// longest matching prefix wins (`[["docs/oncall/", "runbook"]]`).
    pub kind_override: Vec<(String, DocumentKind)>,
}

impl Config {
    /// Checks the options: prefixes must not be empty.
    pub fn validate(&self) -> Result<(), String> {
        match self.kind_override.iter().find(|(prefix, _)| prefix.trim().is_empty()) {
            Some(_) => Err("kind_override: a path prefix is empty".to_string()),
            None => Ok(()),
        }
    }
}

/// Parses one Markdown file with the default options.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    ingest_with(&Config::default(), input, out);
}

/// Parses one Markdown file into exactly one [`Record::Document`].
pub fn ingest_with(cfg: &Config, input: &Input<'_>, out: &mut Emitter) {
    let fm = frontmatter::parse(input.text);
    if let Some((line, msg)) = &fm.problem {
        out.diagnostic(Severity::Warning, *line, format!("{msg}; front matter ignored"));
    }
    let parsed = sections::parse(input.text, fm.body_offset);
    let title = fm
        .fields
        .get("title")
        .map(|t| sections::collapse_spaces(t))
        .filter(|t| !t.is_empty())
        .or_else(|| parsed.first_h1.clone())
        .unwrap_or_else(|| file_stem(input.file_name()).to_string());
    let headings: Vec<&str> =
        parsed.sections.iter().filter_map(|s| s.heading_path.last().map(String::as_str)).collect();
    let kind = classify(cfg, input.path, &fm.fields, &title, &headings);
    let postmortem = match kind {
        DocumentKind::Postmortem => postmortem::extract(&parsed.sections, &fm.fields, &title),
        DocumentKind::Runbook | DocumentKind::Other | DocumentKind::Note => None,
    };
    let mut doc_sections: Vec<Section> = parsed
        .sections
        .into_iter()
        .map(|s| Section {
            heading_path: if s.heading_path.is_empty() {
                vec![title.clone()]
            } else {
                s.heading_path
            },
            text: s.text,
            line: u32::try_from(s.line).unwrap_or(u32::MAX),
        })
        .collect();
    if doc_sections.is_empty() {
        // A page with front matter only (a Hugo `_index.md`) is still one findable chunk.
        let line = frontmatter::line_of_offset(input.text, fm.body_offset);
        doc_sections.push(Section {
            heading_path: vec![title.clone()],
            text: String::new(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
        });
    }
    let note = format!("{} {title}", kind_name(kind));
    out.record(Record::Document(Document {
        path: input.path.to_string(),
        kind,
        title,
        front_matter: fm.fields,
        sections: doc_sections,
        links: parsed.links,
        postmortem,
        provenance: Provenance::declared(NAME, input.locator(1), note),
    }));
}

fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Runbook => "runbook",
        DocumentKind::Postmortem => "postmortem",
        DocumentKind::Other => "document",
        DocumentKind::Note => "note",
    }
}

fn file_stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(idx) if idx > 0 => &name[..idx],
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Ingests `text` at `path` and renders the document: kind, title, front matter,
    /// sections (`line [path]`), links, postmortem fields and diagnostics.
    fn check(path: &str, text: &str) -> Vec<String> {
        let env = BTreeMap::new();
        let input = Input { path, text, env: &env };
        let mut out = Emitter::new(path);
        ingest(&input, &mut out);
        let out = out.finish();
        let mut res: Vec<String> = out
            .diagnostics
            .iter()
            .map(|d| format!("{} {}: {}", d.severity.as_str(), d.locator, d.message))
            .collect();
        assert_eq!(out.records.len(), 1, "{:?}", out.records);
        let Record::Document(doc) = &out.records[0] else { panic!("not a document") };
        res.push(format!("{:?} {:?} {}", doc.kind, doc.title, doc.provenance.locator));
        res.extend(doc.front_matter.iter().map(|(k, v)| format!("fm {k}={v}")));
        res.extend(
            doc.sections
                .iter()
                .map(|s| format!("{} [{}] {}", s.line, s.heading_path.join(" > "), s.text.len())),
        );
        res.extend(doc.links.iter().map(|l| format!("link {l}")));
        if let Some(pm) = &doc.postmortem {
            res.push(format!(
                "pm root_cause={:?} actions={}",
                pm.root_cause,
                pm.action_items.len()
            ));
        }
        res
    }

    #[test]
    fn runbook_with_front_matter() {
        let text = "---\ntitle: Kube Pod Crash Looping\nweight: 20\n---\n\n# KubePodCrashLooping\n\n## Meaning\n\nPod restarts.\n\n## Mitigation\n\nSee [docs](https://k8s.io).\n";
        assert_eq!(
            check("runbooks/kubernetes/KubePodCrashLooping.md", text),
            [
                "Runbook \"Kube Pod Crash Looping\" runbooks/kubernetes/KubePodCrashLooping.md:1",
                "fm title=Kube Pod Crash Looping",
                "fm weight=20",
                "6 [KubePodCrashLooping] 0",
                "8 [KubePodCrashLooping > Meaning] 13",
                "12 [KubePodCrashLooping > Mitigation] 9",
                "link https://k8s.io",
            ]
        );
    }

    #[test]
    fn title_falls_back_to_h1_then_stem() {
        let res = check("notes/a.md", "Intro.\n\n# Heading One\n");
        assert_eq!(
            res,
            ["Other \"Heading One\" notes/a.md:1", "1 [Heading One] 6", "3 [Heading One] 0"]
        );
        let res = check("notes/disk-full.markdown", "Just text.\n");
        assert_eq!(res, ["Other \"disk-full\" notes/disk-full.markdown:1", "1 [disk-full] 10"]);
        let res = check("content/_index.md", "---\ntitle: general\n---\n");
        assert_eq!(
            res,
            ["Other \"general\" content/_index.md:1", "fm title=general", "4 [general] 0"]
        );
        let res = check("empty.md", "");
        assert_eq!(res, ["Other \"empty\" empty.md:1", "1 [empty] 0"]);
    }

    #[test]
    fn malformed_front_matter_is_a_warning_and_the_body_is_kept() {
        let res = check(
            "postmortems/x.md",
            "---\ntitle: [oops\n---\n# Outage\n\n## Root cause\n\nDisk.\n",
        );
        assert_eq!(res.len(), 5, "{res:?}");
        assert!(res[0].starts_with("warning postmortems/x.md:"), "{res:?}");
        assert!(res[0].ends_with("; front matter ignored"), "{res:?}");
        assert_eq!(
            res[1..],
            [
                "Postmortem \"Outage\" postmortems/x.md:1",
                "4 [Outage] 0",
                "6 [Outage > Root cause] 5",
                "pm root_cause=Some(\"Disk.\") actions=0",
            ]
        );
    }

    #[test]
    fn odd_bytes_do_not_panic() {
        let text = "---\n\u{fffd}: \u{fffd}\n---\n# \u{fffd}\u{fffd}\n\n| a \u{fffd} |\n|--\n\u{0}\u{fffd}```\n";
        let res = check("postmortems/odd.md", text);
        assert!(res.iter().any(|l| l.starts_with("Postmortem")), "{res:?}");
    }
}
