//! `git_history`: commits as change events, parsed from the text of
//! `git log --no-merges --no-renames --name-status --format=<LOG_FORMAT>` (the caller runs
//! git; this module only reads its output).
//!
//! Each commit's changed paths are mapped to services by [`Config`] rules, tried in
//! order: a rule is a directory prefix that may capture one path component as
//! `<service>` (`src/<service>/`), and the service it names (`<service>`, or a fixed
//! name). A commit touching one service is one event with the commit hash as id; a commit
//! touching several is one event per service, with id `<hash>:<service>`; a commit
//! touching none is skipped and counted.

use std::collections::BTreeMap;

use lore_schema::{ChangeEvent, ChangeKind, Provenance, Record};
use serde::Deserialize;

use crate::util::timestamp;
use crate::{Emitter, Input, Severity};

/// Ingestor name, used in provenance.
pub const NAME: &str = "git_history";

/// The `--format` this parser reads: a record separator, then hash, strict ISO 8601
/// author time, author name and subject separated by unit separators.
pub const LOG_FORMAT: &str = "%x1e%H%x1f%aI%x1f%an%x1f%s";

/// The arguments of the `git log` whose output [`ingest`] reads.
pub fn log_args() -> Vec<String> {
    ["log", "--no-merges", "--no-renames", "--name-status", "--no-color"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--format={LOG_FORMAT}")])
        .collect()
}

const PLACEHOLDER: &str = "<service>";

/// Path-to-service rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `(prefix, service)` pairs, first match wins: `("src/<service>/", "<service>")`
    /// maps `src/cart/main.go` to `cart`; `("billing/", "payment")` maps every path under
    /// `billing/` to `payment`.
    pub rules: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Config {
        let rules = ["src", "services", "apps", "cmd"]
            .iter()
            .map(|dir| (format!("{dir}/{PLACEHOLDER}/"), PLACEHOLDER.to_string()))
            .collect();
        Config { rules }
    }
}

impl Config {
    /// Checks every rule: a prefix ends with `/`, captures `<service>` at most once and
    /// as a whole component, and a service naming `<service>` has a prefix capturing it.
    pub fn validate(&self) -> Result<(), String> {
        for (prefix, service) in &self.rules {
            if !prefix.ends_with('/') || prefix.starts_with('/') || prefix.contains("//") {
                return Err(format!(
                    "rule `{prefix}`: a prefix is a relative directory ending with `/`"
                ));
            }
            let captures = prefix.matches(PLACEHOLDER).count();
            let whole =
                prefix.split('/').filter(|c| c.contains(PLACEHOLDER)).all(|c| c == PLACEHOLDER);
            if captures > 1 || !whole {
                return Err(format!(
                    "rule `{prefix}`: `{PLACEHOLDER}` may appear once, as a whole path component"
                ));
            }
            if service.trim().is_empty() || (service.contains(PLACEHOLDER) && captures == 0) {
                return Err(format!(
                    "rule `{prefix}`: service `{service}` needs a name, or a prefix capturing `{PLACEHOLDER}`"
                ));
            }
        }
        Ok(())
    }

    /// The service a changed path belongs to, by the first matching rule.
    pub fn service_for(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        self.rules.iter().find_map(|(prefix, service)| {
            let pattern: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
            // The path must lie below the prefix: at least one more component.
            if parts.len() <= pattern.len() {
                return None;
            }
            let mut captured = None;
            for (want, got) in pattern.iter().zip(&parts) {
                if *want == PLACEHOLDER {
                    captured = Some(*got).filter(|g| !g.is_empty() && !g.starts_with('.'));
                    captured?;
                } else if want != got {
                    return None;
                }
            }
            Some(service.replace(PLACEHOLDER, captured.unwrap_or("")))
        })
    }
}

/// Counts of one parse.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Commits read.
    pub commits: usize,
    /// Change events emitted.
    pub events: usize,
    /// Commits that touched no service path, skipped.
    pub skipped: usize,
}

struct Commit {
    line: usize,
    hash: String,
    ts: i64,
    author: String,
    subject: String,
    /// Service -> paths changed under it.
    services: BTreeMap<String, usize>,
}

/// Reads `git log` output (see [`log_args`]) into one change event per commit and service.
pub fn ingest(input: &Input<'_>, cfg: &Config, out: &mut Emitter) -> Summary {
    let mut summary = Summary::default();
    let mut current: Option<Commit> = None;
    for (idx, line) in input.text.lines().enumerate() {
        let n = idx + 1;
        if let Some(header) = line.strip_prefix('\u{1e}') {
            if let Some(commit) = current.take() {
                emit(commit, &mut summary, out);
            }
            current = parse_header(header, n, out);
            continue;
        }
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let Some(commit) = current.as_mut() else {
            out.diagnostic(
                Severity::Error,
                n,
                "changed path outside a commit; is this `git log` output in lore's format?",
            );
            continue;
        };
        let mut fields = line.split('\t');
        let status = fields.next().unwrap_or_default();
        if !status.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.diagnostic(Severity::Warning, n, format!("not a name-status line: `{line}`"));
            continue;
        }
        for path in fields {
            if let Some(service) = cfg.service_for(unquote(path)) {
                *commit.services.entry(service).or_default() += 1;
            }
        }
    }
    if let Some(commit) = current.take() {
        emit(commit, &mut summary, out);
    }
    if summary.skipped > 0 {
        out.diagnostic(
            Severity::Info,
            0,
            format!("skipped {} commits that touch no service path", summary.skipped),
        );
    }
    summary
}

/// Git quotes unusual paths in C style (`"dir/na\"me"`); the quotes are enough to drop
/// for prefix matching.
fn unquote(path: &str) -> &str {
    path.strip_prefix('"').and_then(|p| p.strip_suffix('"')).unwrap_or(path)
}

fn parse_header(header: &str, n: usize, out: &mut Emitter) -> Option<Commit> {
    let fields: Vec<&str> = header.splitn(4, '\u{1f}').collect();
    let [hash, time, author, subject] = fields.as_slice() else {
        out.diagnostic(
            Severity::Error,
            n,
            "commit header has fewer than 4 fields (hash, time, author, subject)",
        );
        return None;
    };
    let hash = hash.trim();
    if hash.len() < 7 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        out.diagnostic(Severity::Error, n, format!("`{hash}` is not a commit hash"));
        return None;
    }
    let ts = match timestamp::parse_rfc3339(time) {
        Ok(ts) => ts,
        Err(e) => {
            out.diagnostic(Severity::Error, n, format!("commit {hash}: {e}"));
            return None;
        }
    };
    Some(Commit {
        line: n,
        hash: hash.to_string(),
        ts,
        author: author.trim().to_string(),
        subject: subject.trim().to_string(),
        services: BTreeMap::new(),
    })
}

fn emit(commit: Commit, summary: &mut Summary, out: &mut Emitter) {
    summary.commits += 1;
    if commit.services.is_empty() {
        summary.skipped += 1;
        return;
    }
    let several = commit.services.len() > 1;
    for (service, n_paths) in &commit.services {
        let id = if several { format!("{}:{service}", commit.hash) } else { commit.hash.clone() };
        let note = format!("{n_paths} changed paths of {service} (log line {})", commit.line);
        out.record(Record::Change(ChangeEvent {
            id,
            ts: commit.ts,
            service: service.clone(),
            kind: ChangeKind::Commit,
            version: None,
            commit: Some(commit.hash.clone()),
            author: Some(commit.author.clone()).filter(|a| !a.is_empty()),
            description: commit.subject.clone(),
            url: None,
            provenance: Provenance::declared(NAME, commit.hash.clone(), note),
        }));
        summary.events += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run(text: &str, cfg: &Config) -> (Summary, crate::Output) {
        let env = BTreeMap::new();
        let input = Input { path: "git log", text, env: &env };
        let mut out = Emitter::new(input.path);
        let summary = ingest(&input, cfg, &mut out);
        (summary, out.finish())
    }

    const LOG: &str = "\u{1e}aaaaaaa1\u{1f}2026-08-20T04:51:55+02:00\u{1f}Ana Lopez\u{1f}feat(collector): add redaction \u{1f} example\n\
        \n\
        M\tsrc/checkout/main.go\n\
        A\tsrc/checkout/redact.go\n\
        M\tsrc/payment/index.js\n\
        M\tREADME.md\n\
        \u{1e}bbbbbbb2\u{1f}2026-08-19T10:00:00Z\u{1f}Bo\u{1f}ci: bump actions\n\
        \n\
        M\t.github/workflows/ci.yml\n\
        \u{1e}ccccccc3\u{1f}2026-08-18T10:00:00Z\u{1f}Bo\u{1f}fix(cart): retry\n\
        \n\
        D\tservices/cart/old.cs\n\
        \u{1e}zzz\u{1f}2026-08-18T10:00:00Z\u{1f}Bo\u{1f}broken\n\
        \u{1e}ddddddd4\u{1f}last tuesday\u{1f}Bo\u{1f}broken\n";

    #[test]
    fn commits_become_one_event_per_touched_service() {
        let (summary, out) = run(LOG, &Config::default());
        assert_eq!(summary, Summary { commits: 3, events: 3, skipped: 1 });
        let evs: Vec<(&str, &str, i64)> = out
            .records
            .iter()
            .filter_map(|r| if let Record::Change(c) = r { Some(c) } else { None })
            .map(|c| (c.id.as_str(), c.service.as_str(), c.ts))
            .collect();
        assert_eq!(
            evs,
            [
                ("aaaaaaa1:checkout", "checkout", 1_787_194_315),
                ("aaaaaaa1:payment", "payment", 1_787_194_315),
                ("ccccccc3", "cart", 1_787_047_200),
            ]
        );
        let Record::Change(first) = &out.records[0] else { panic!() };
        assert_eq!(first.description, "feat(collector): add redaction \u{1f} example");
        assert_eq!(first.kind, ChangeKind::Commit);
        assert_eq!(first.commit.as_deref(), Some("aaaaaaa1"));
        assert_eq!(first.provenance.note, "2 changed paths of checkout (log line 1)");
        let errors: Vec<&str> = out
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.locator.as_str())
            .collect();
        assert_eq!(errors, ["git log:13", "git log:14"]);
        assert!(out.diagnostics.iter().any(|d| d.message.contains("skipped 1 commits")));
    }

    #[test]
    fn rules_capture_a_component_or_name_a_fixed_service() {
        let cfg = Config {
            rules: vec![
                ("billing/".into(), "payment".into()),
                ("deploy/<service>/".into(), "<service>".into()),
            ],
        };
        assert_eq!(cfg.validate(), Ok(()));
        assert_eq!(cfg.service_for("billing/x/y.go").as_deref(), Some("payment"));
        assert_eq!(cfg.service_for("deploy/cart/values.yaml").as_deref(), Some("cart"));
        assert_eq!(
            cfg.service_for("deploy/cart"),
            None,
            "a file named like a service is not under it"
        );
        assert_eq!(cfg.service_for("billing.md"), None);
        let d = Config::default();
        assert_eq!(d.service_for("cmd/api/main.go").as_deref(), Some("api"));
        assert_eq!(d.service_for("src/.hidden/x"), None);
        for bad in [
            ("src", "<service>"),
            ("src/<service>-x/", "<service>"),
            ("a/", "<service>"),
            ("a/", " "),
        ] {
            let cfg = Config { rules: vec![(bad.0.into(), bad.1.into())] };
            assert!(cfg.validate().is_err(), "{bad:?}");
        }
    }
}
