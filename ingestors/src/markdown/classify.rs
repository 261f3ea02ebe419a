//! Decides whether a Markdown document is a runbook, a postmortem or something else.
//!
//! The signals are tried from the most explicit to the least: a configured path prefix,
//! front matter (`type: runbook`, keys such as `alerts` or `start_time`), the folders the
//! file sits in (`runbooks/`, `postmortems/`; `alerts/` and `incidents/` only when no
//! stronger folder says otherwise), then the headings (Meaning/Diagnosis/Mitigation for
//! runbooks, Root cause/Timeline/Action items for postmortems).

use std::collections::BTreeMap;

use lore_schema::DocumentKind;

use super::Config;

/// Classifies the document at `path` with front matter `front_matter`, title `title` and
/// section headings `headings` (each section's own heading).
pub fn classify(
    cfg: &Config,
    path: &str,
    front_matter: &BTreeMap<String, String>,
    title: &str,
    headings: &[&str],
) -> DocumentKind {
    by_override(cfg, path)
        .or_else(|| by_front_matter(front_matter))
        .or_else(|| by_folder(path))
        .or_else(|| by_content(title, headings))
        .unwrap_or(DocumentKind::Other)
}

/// The longest configured prefix of `path` wins.
fn by_override(cfg: &Config, path: &str) -> Option<DocumentKind> {
    let path = path.strip_prefix("./").unwrap_or(path);
    cfg.kind_override
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix.strip_prefix("./").unwrap_or(prefix)))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, kind)| *kind)
}

/// What a word or phrase such as `type: post-mortem` or a title names; short words
/// (`sop`, `rca`, `incident`) only as whole words.
fn kind_of_word(value: &str) -> Option<DocumentKind> {
    let value = value.to_ascii_lowercase();
    let has = |phrases: &[&str]| phrases.iter().any(|p| value.contains(p));
    let words: Vec<&str> = value.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let has_word = |set: &[&str]| words.iter().any(|w| set.contains(w));
    if has(&["postmortem", "post-mortem", "post mortem", "retrospective"])
        || has_word(&["rca", "incident", "incidents"])
    {
        Some(DocumentKind::Postmortem)
    } else if has(&["runbook", "run-book", "run book", "playbook"])
        || has_word(&["sop", "sops", "alert"])
    {
        Some(DocumentKind::Runbook)
    } else {
        None
    }
}

fn by_front_matter(fm: &BTreeMap<String, String>) -> Option<DocumentKind> {
    let declared = ["type", "kind", "category", "layout"]
        .iter()
        .filter_map(|k| fm.get(*k))
        .find_map(|v| kind_of_word(v));
    if declared.is_some() {
        return declared;
    }
    let has = |key: &str| fm.contains_key(key);
    if ["start_time", "incident", "incident_id", "postmortem"].iter().any(|k| has(k))
        || (has("company") && has("summary"))
    {
        return Some(DocumentKind::Postmortem);
    }
    if ["alerts", "alert", "runbook", "severity"].iter().any(|k| has(k)) {
        return Some(DocumentKind::Runbook);
    }
    None
}

/// The nearest folder with a strong name (`runbooks`, `postmortems`, `playbooks`), else
/// the nearest with a weak one (`alerts`, `incidents`): a runbook repository often has an
/// `incidents/` folder of incident procedures, which are runbooks.
fn by_folder(path: &str) -> Option<DocumentKind> {
    let dirs: Vec<String> =
        path.split(['/', '\\']).rev().skip(1).map(str::to_ascii_lowercase).collect();
    let strong = dirs.iter().find_map(|dir| {
        if dir.contains("postmortem") || dir.contains("post-mortem") || dir.contains("post_mortem")
        {
            Some(DocumentKind::Postmortem)
        } else if dir.contains("runbook") || dir.contains("run-book") || dir == "playbooks" {
            Some(DocumentKind::Runbook)
        } else {
            None
        }
    });
    strong.or_else(|| {
        dirs.iter().find_map(|dir| match dir.as_str() {
            "alerts" | "playbook" | "sops" => Some(DocumentKind::Runbook),
            "incidents" | "retrospectives" => Some(DocumentKind::Postmortem),
            _ => None,
        })
    })
}

const RUNBOOK_HEADINGS: &[&str] = &[
    "meaning",
    "impact",
    "diagnosis",
    "mitigation",
    "symptoms",
    "troubleshooting",
    "possible causes",
    "resolution steps",
    "escalation",
];

const POSTMORTEM_HEADINGS: &[&str] = &[
    "root cause",
    "root causes",
    "root cause analysis",
    "timeline",
    "incident timeline",
    "action items",
    "lessons learned",
    "contributing factors",
    "what went wrong",
    "trigger",
    "corrective actions",
    "follow-ups",
];

/// Two or more telling headings (a title naming the kind counts as two); postmortem
/// headings win ties because their set is more specific.
fn by_content(title: &str, headings: &[&str]) -> Option<DocumentKind> {
    let count = |set: &[&str]| {
        headings.iter().filter(|h| set.contains(&normalize_heading(h).as_str())).count()
    };
    let mut n_postmortem = count(POSTMORTEM_HEADINGS);
    let mut n_runbook = count(RUNBOOK_HEADINGS);
    match kind_of_word(title) {
        // "Incident" alone is too common in runbook titles ("When an incident ...").
        Some(DocumentKind::Postmortem) if !title.to_ascii_lowercase().contains("incident") => {
            n_postmortem += 2;
        }
        Some(DocumentKind::Runbook) => n_runbook += 2,
        _ => {}
    }
    if n_postmortem >= 2 && n_postmortem >= n_runbook {
        Some(DocumentKind::Postmortem)
    } else if n_runbook >= 2 {
        Some(DocumentKind::Runbook)
    } else {
        None
    }
}

/// Lowercase, without trailing punctuation or a parenthesised suffix, spaces collapsed:
/// `Root Cause(s):` → `root cause`, `Timeline (UTC)` → `timeline`.
pub(crate) fn normalize_heading(heading: &str) -> String {
    let lower = heading.to_lowercase().replace("(s)", "");
    let base = match lower.find('(') {
        Some(idx) if idx > 0 => &lower[..idx],
        _ => lower.as_str(),
    };
    let words: Vec<&str> = base
        .split(|c: char| c.is_whitespace() || matches!(c, ':' | '?' | '!' | '.' | '*' | '#'))
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies a file given as path, front matter lines `k=v` and headings; the first
    /// heading is used as the title.
    fn check(path: &str, fm: &[&str], headings: &[&str]) -> Vec<String> {
        let fm: BTreeMap<String, String> = fm
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let title = headings.first().copied().unwrap_or("");
        let cfg = Config {
            kind_override: vec![
                ("docs/special/".to_string(), DocumentKind::Other),
                ("docs/special/pm/".to_string(), DocumentKind::Postmortem),
            ],
        };
        let kind = classify(&cfg, path, &fm, title, headings);
        vec![format!("{kind:?}")]
    }

    #[test]
    fn front_matter_decides_first() {
        assert_eq!(check("runbooks/x.md", &["type=postmortem"], &[]), ["Postmortem"]);
        assert_eq!(check("x.md", &["layout=runbook"], &[]), ["Runbook"]);
        assert_eq!(check("x.md", &["category=SOP"], &[]), ["Runbook"]);
        assert_eq!(check("x.md", &["alerts=KubePodCrashLooping"], &[]), ["Runbook"]);
        assert_eq!(check("x.md", &["start_time=2020-01-01"], &[]), ["Postmortem"]);
        assert_eq!(check("x.md", &["company=Acme", "summary=s"], &[]), ["Postmortem"]);
        assert_eq!(check("x.md", &["company=Acme"], &[]), ["Other"]);
    }

    #[test]
    fn folders_decide_next() {
        assert_eq!(check("corpora/runbooks/gitlab/docs/redis/x.md", &[], &[]), ["Runbook"]);
        assert_eq!(check("openshift/alerts/etcd/EtcdDown.md", &[], &[]), ["Runbook"]);
        assert_eq!(check("postmortems/icco-postmortems/data/u.md", &[], &[]), ["Postmortem"]);
        assert_eq!(check("docs/post-mortems/2020.md", &[], &[]), ["Postmortem"]);
        assert_eq!(check("team/incidents/2020.md", &[], &[]), ["Postmortem"]);
        // A strong folder beats a weak one nearer the file.
        assert_eq!(check("runbooks/gitlab/docs/incidents/README.md", &[], &[]), ["Runbook"]);
        // The file name itself is not a folder.
        assert_eq!(check("docs/runbook.md", &[], &[]), ["Other"]);
    }

    #[test]
    fn content_decides_last() {
        let rb = ["KubePodCrashLooping", "Meaning", "Impact", "Diagnosis", "Mitigation"];
        assert_eq!(check("docs/a.md", &[], &rb), ["Runbook"]);
        let pm = ["Outage", "Summary", "Root Cause(s)", "Timeline (UTC)", "Action Items:"];
        assert_eq!(check("docs/a.md", &[], &pm), ["Postmortem"]);
        assert_eq!(check("docs/a.md", &[], &["Postmortem: api errors", "Summary"]), ["Postmortem"]);
        assert_eq!(check("docs/a.md", &[], &["Setup", "Impact"]), ["Other"]);
    }

    #[test]
    fn config_overrides_everything_longest_prefix_first() {
        assert_eq!(check("docs/special/runbooks/a.md", &["type=runbook"], &[]), ["Other"]);
        assert_eq!(check("./docs/special/pm/a.md", &[], &[]), ["Postmortem"]);
    }

    #[test]
    fn headings_are_normalized() {
        assert_eq!(normalize_heading("Root Cause(s):"), "root cause");
        assert_eq!(normalize_heading("  Timeline (UTC) "), "timeline");
        assert_eq!(normalize_heading("**Why did it happen?**"), "why did it happen");
    }
}
