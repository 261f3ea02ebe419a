//! Incident structure of a postmortem: summary, impact, root cause, trigger, resolution,
//! detection, action items and timeline, read from the sections that carry them.
//!
//! A field comes from the best-matching heading (exact names before headings that merely
//! contain them, and earlier synonyms before later ones: "Root cause" beats "Contributing
//! factors", which beats a "What went wrong" under "Lessons learned"), with its subsections;
//! scalar fields fall back to front matter keys of the same name (icco's `summary`).
//! Nothing is invented: what the document does not state stays `None` or empty.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use lore_schema::{Postmortem, TimelineEntry};
use regex::Regex;

use super::classify::normalize_heading;
use super::sections::{Block, RawSection, collapse_spaces};

const SUMMARY: &[&str] =
    &["summary", "incident summary", "executive summary", "tl;dr", "tldr", "overview"];
const IMPACT: &[&str] = &["impact", "customer impact", "user impact"];
const ROOT_CAUSE: &[&str] = &[
    "root cause",
    "root causes",
    "root cause analysis",
    "causes",
    "cause",
    "why did it happen",
    "what caused it",
    "contributing factors",
    "what went wrong",
];
const TRIGGER: &[&str] = &["trigger", "triggers", "what triggered it"];
const RESOLUTION: &[&str] =
    &["resolution", "mitigation", "recovery", "resolution and recovery", "fix"];
const DETECTION: &[&str] = &["detection", "how was it detected", "how we detected it"];
const ACTION_ITEMS: &[&str] = &[
    "action items",
    "follow-ups",
    "follow ups",
    "followups",
    "corrective actions",
    "remediation",
    "next steps",
    "preventive actions",
    "how are we preventing it from happening again",
];
const TIMELINE: &[&str] = &["timeline", "incident timeline", "timeline of events", "chronology"];

/// Extracts what `sections` state; `None` when the document states nothing.
pub(crate) fn extract(
    sections: &[RawSection],
    front_matter: &BTreeMap<String, String>,
    title: &str,
) -> Option<Postmortem> {
    let text = |names: &[&str], key: &str| {
        best(sections, names, title)
            .map(|idx| subtree_text(sections, idx))
            .filter(|t| !t.is_empty())
            .or_else(|| {
                front_matter.get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
            })
    };
    let pm = Postmortem {
        summary: text(SUMMARY, "summary"),
        impact: text(IMPACT, "impact"),
        root_cause: text(ROOT_CAUSE, "root_cause"),
        trigger: text(TRIGGER, "trigger"),
        resolution: text(RESOLUTION, "resolution"),
        detection: text(DETECTION, "detection"),
        action_items: best(sections, ACTION_ITEMS, title)
            .map(|idx| action_items(subtree(sections, idx)))
            .unwrap_or_default(),
        timeline: best(sections, TIMELINE, title)
            .map(|idx| timeline(subtree(sections, idx)))
            .unwrap_or_default(),
    };
    (pm != Postmortem::default()).then_some(pm)
}

/// Index of the section whose heading matches `names` best (see the module docs).
fn best(sections: &[RawSection], names: &[&str], title: &str) -> Option<usize> {
    let mut found: Option<(usize, usize)> = None;
    for (idx, section) in sections.iter().enumerate() {
        let Some(heading) = section.heading_path.last() else { continue };
        if section.level == 1 && heading == title {
            continue;
        }
        let norm = normalize_heading(heading);
        let padded = format!(" {norm} ");
        // Exact matches of any synonym beat headings that merely contain one.
        let rank = names.iter().position(|name| norm == *name).or_else(|| {
            names
                .iter()
                .position(|name| padded.contains(&format!(" {name} ")))
                .map(|i| names.len() + i)
        });
        if let Some(rank) = rank
            && found.is_none_or(|(best, _)| rank < best)
        {
            found = Some((rank, idx));
        }
    }
    found.map(|(_, idx)| idx)
}

/// The section at `idx` and the subsections under it.
fn subtree(sections: &[RawSection], idx: usize) -> &[RawSection] {
    let level = sections[idx].level;
    let end = sections[idx + 1..]
        .iter()
        .position(|s| s.level <= level)
        .map_or(sections.len(), |n| idx + 1 + n);
    &sections[idx..end]
}

fn subtree_text(sections: &[RawSection], idx: usize) -> String {
    let mut parts = Vec::new();
    for (n, section) in subtree(sections, idx).iter().enumerate() {
        let heading = section.heading_path.last().filter(|_| n > 0);
        match (heading, section.text.is_empty()) {
            (Some(h), true) => parts.push(h.clone()),
            (Some(h), false) => parts.push(format!("{h}\n{}", section.text)),
            (None, false) => parts.push(section.text.clone()),
            (None, true) => {}
        }
    }
    parts.join("\n\n").trim().to_string()
}

/// Top-level list items, else table body rows, else paragraphs.
fn action_items(sections: &[RawSection]) -> Vec<String> {
    let blocks = || sections.iter().flat_map(|s| &s.blocks);
    let items: Vec<String> = blocks()
        .filter_map(|b| match b {
            Block::Item { depth: 1, full, .. } => {
                let text = collapse_spaces(full);
                let bare = text.trim_start_matches("[ ]").trim_start_matches("[x]").trim();
                (!bare.is_empty()).then_some(text)
            }
            _ => None,
        })
        .collect();
    if !items.is_empty() {
        return items;
    }
    let rows: Vec<String> = blocks()
        .filter_map(|b| match b {
            Block::Row { cells, header: false } => {
                let cells: Vec<&str> =
                    cells.iter().map(String::as_str).filter(|c| !c.is_empty()).collect();
                Some(cells.join(" | "))
            }
            _ => None,
        })
        .collect();
    if !rows.is_empty() {
        return rows;
    }
    blocks()
        .filter_map(|b| match b {
            Block::Para(p) => Some(collapse_spaces(p)),
            _ => None,
        })
        .collect()
}

/// Entries from list items and paragraph lines that start with a time or date (lines need
/// a time of day; items may start with a date alone) and from table rows (first cell).
fn timeline(sections: &[RawSection]) -> Vec<TimelineEntry> {
    let mut entries = Vec::new();
    for block in sections.iter().flat_map(|s| &s.blocks) {
        match block {
            Block::Item { own, .. } => {
                let first = own.lines().next().unwrap_or("");
                entries.extend(timestamped(first, true));
            }
            Block::Row { cells, header: false } => {
                let Some((when, rest)) = cells.split_first() else { continue };
                let text: Vec<&str> =
                    rest.iter().map(String::as_str).filter(|c| !c.is_empty()).collect();
                if !when.is_empty() && !text.is_empty() {
                    entries.push(TimelineEntry { when: when.clone(), text: text.join(" | ") });
                }
            }
            Block::Para(para) => {
                entries.extend(para.lines().filter_map(|line| timestamped(line, false)));
            }
            Block::Row { header: true, .. } => {}
        }
    }
    entries
}

const TIME: &str = r"\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s?(?i-u:am|pm))?~?";
const MONTH: &str = r"(?i-u:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-zA-Z]*\.?";
const ZONE: &str = r"(?:Z|(?i-u:utc|gmt|cet|cest|pst|pdt|est|edt|bst|ist)|[+-]\d{2}:?\d{2})\b";

static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let date = format!(
        r"\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{MONTH}(?:\s+\d{{4}})?"
    );
    let pattern = format!(
        r"^\s*(?P<when>(?:(?P<date>{date})(?:(?:T|,?\s+(?:at\s+)?)(?P<dtime>{TIME}))?|(?P<time>{TIME}))(?:\s*{ZONE})?)(?:\s*[-–—:|]+\s*|\s+)(?P<text>\S.*)$"
    );
    Regex::new(&pattern).ok()
});

/// `(when, text)` of a line that starts with a timestamp; a date alone is enough only
/// when `date_only_ok`.
fn timestamped(line: &str, date_only_ok: bool) -> Option<TimelineEntry> {
    let caps = TIMESTAMP.as_ref()?.captures(line)?;
    let has_time = caps.name("dtime").is_some() || caps.name("time").is_some();
    if !has_time && !date_only_ok {
        return None;
    }
    let when = caps.name("when")?.as_str().trim().to_string();
    let text = caps.name("text")?.as_str().trim().to_string();
    Some(TimelineEntry { when, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::sections;

    /// Extracts from a Markdown postmortem and renders every non-empty field as lines.
    fn check(text: &str, fm: &[(&str, &str)]) -> Vec<String> {
        let parsed = sections::parse(text, 0);
        let fm: BTreeMap<String, String> =
            fm.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let title = parsed.first_h1.clone().unwrap_or_default();
        let Some(pm) = extract(&parsed.sections, &fm, &title) else { return vec![] };
        let mut res = Vec::new();
        for (name, value) in [
            ("summary", &pm.summary),
            ("impact", &pm.impact),
            ("root_cause", &pm.root_cause),
            ("trigger", &pm.trigger),
            ("resolution", &pm.resolution),
            ("detection", &pm.detection),
        ] {
            if let Some(v) = value {
                res.push(format!("{name}: {}", v.replace('\n', "/")));
            }
        }
        res.extend(pm.action_items.iter().map(|a| format!("action: {a}")));
        res.extend(pm.timeline.iter().map(|t| format!("at {} => {}", t.when, t.text)));
        res
    }

    #[test]
    fn google_sre_template() {
        let text = "# Postmortem: 5xx on api\n\n- **Date:** 2026-09-05\n\n## Summary\n\nErrors.\n\n## Impact\n\nSome.\n\n## Root Causes\n\nRetries.\n\n## Trigger\n\nChange `chg-1`.\n\n## Resolution\n\nReverted.\n\n## Detection\n\nPaged at 11:49.\n\n## Action Items\n\n| Action Item | Type | Owner |\n|---|---|---|\n| Add canary | prevent | edge |\n\n## Lessons Learned\n\n### What went wrong\n\n- Everything.\n\n## Timeline\n\n2026-09-05 (all times UTC)\n\n- 11:34 Change starts rolling out.\n- 11:49 `HighErrorRate` fires.\n";
        assert_eq!(
            check(text, &[]),
            [
                "summary: Errors.",
                "impact: Some.",
                "root_cause: Retries.",
                "trigger: Change chg-1.",
                "resolution: Reverted.",
                "detection: Paged at 11:49.",
                "action: Add canary | prevent | edge",
                "at 11:34 => Change starts rolling out.",
                "at 11:49 => HighErrorRate fires.",
            ]
        );
    }

    #[test]
    fn synonyms_subsections_and_timeline_shapes() {
        let text = "# Outage\n\n## Timeline\n\n- **16:58 UTC** - DB saturates\n- **10:32** paged\n- 2021-03-04 14:05 UTC: restarted\n- 2021-03-05: follow-up\n- no time here\n\n| Date and Time in CET | Event |\n|:--|--|\n| 2019-12-05 04:00 | Terraform ran |\n| Jan 14, 10:18 AM | Customer report |\n\n14:05 UTC rollback done\nnot a time\n\n## Root Cause Analysis\n\nTimeouts.\n\n### Why It Failed\n\nNo backoff.\n\n## Remediation\n\n### Immediate Actions\n\n- Raise timeouts\n  - nested detail\n- **Circuit breaker**: add one\n\n## Mitigation\n\nRolled back.\n";
        assert_eq!(
            check(text, &[("summary", "From front matter.")]),
            [
                "summary: From front matter.",
                "root_cause: Timeouts.//Why It Failed/No backoff.",
                "resolution: Rolled back.",
                "action: Raise timeouts nested detail",
                "action: Circuit breaker: add one",
                "at 16:58 UTC => DB saturates",
                "at 10:32 => paged",
                "at 2021-03-04 14:05 UTC => restarted",
                "at 2021-03-05 => follow-up",
                "at 2019-12-05 04:00 => Terraform ran",
                "at Jan 14, 10:18 AM => Customer report",
                "at 14:05 UTC => rollback done",
            ]
        );
    }

    #[test]
    fn contributing_factors_and_what_went_wrong_rank_last() {
        let text = "# X\n\n## Lessons Learned\n\n### What went wrong\n\nA.\n\n## Contributing Factors\n\n- B\n";
        assert_eq!(check(text, &[]), ["root_cause: - B"]);
        let text = "# X\n\n## Lessons Learned\n\n### What went wrong\n\nA.\n";
        assert_eq!(check(text, &[]), ["root_cause: A."]);
    }

    #[test]
    fn nothing_is_invented() {
        assert_eq!(check("# Postmortem\n\nWe had an outage.\n", &[]), Vec::<String>::new());
        assert_eq!(check("# X\n\n## Action items\n\nNone yet.\n", &[]), ["action: None yet."]);
        assert_eq!(
            check("# X\n\n## Action items\n\n- [ ]\n- [x] Done\n", &[]),
            ["action: [x] Done"]
        );
    }
}
