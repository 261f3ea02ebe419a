//! Runs ingestors over files and applies their records to the store, one source per
//! path given.
//!
//! A path is walked in name order; hidden directories are skipped; `.env` files are not
//! ingested themselves but feed `${VAR}` interpolation of the files below them. A file
//! that cannot be read or parsed is reported and the rest goes on; a source's previous
//! facts from a file that now fails to read or parse, wholly or in part, are kept, not
//! closed: a file that had facts and is now unreadable (not UTF-8, emptied, no longer a
//! known format) is an error naming it, and a file with an error diagnostic keeps every
//! earlier fact it did not produce this time. Only a file that is gone, or a clean read
//! that no longer has a fact, closes facts.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use lore_ingestors::{Detection, Diagnostic, Input, Severity, detect};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::{ApplyStats, SourceMeta, Store};

mod limits;
mod lines;

pub(crate) use limits::event_over_limit;

/// What ingesting one path did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceReport {
    /// The source id (absolute path).
    pub source: String,
    /// The path as given.
    pub root: String,
    /// Files parsed.
    pub files_read: usize,
    /// Files skipped, with the reason.
    pub skipped: Vec<Skipped>,
    /// Records produced.
    pub records: usize,
    /// Problems found.
    pub diagnostics: Vec<DiagnosticView>,
    /// Facts added to the store.
    pub added: usize,
    /// Facts whose content changed.
    pub updated: usize,
    /// Facts closed because they vanished.
    pub closed: usize,
    /// Facts unchanged.
    pub unchanged: usize,
    /// Trace files read into observed edges (`traces/`), when the source has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<crate::traces::TraceSummary>,
    /// Secrets redacted from free text (`[redacted:<kind>]`, see `redact.rs`).
    pub redacted: usize,
}

/// A skipped file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    /// Path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// A diagnostic, for reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiagnosticView {
    /// `file:line`.
    pub locator: String,
    /// error, warning or info.
    pub severity: String,
    /// What is wrong.
    pub message: String,
}

impl From<Diagnostic> for DiagnosticView {
    fn from(d: Diagnostic) -> DiagnosticView {
        DiagnosticView {
            locator: d.locator,
            severity: d.severity.as_str().to_string(),
            message: d.message,
        }
    }
}

impl SourceReport {
    /// Whether any file failed to parse (in whole or part).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == "error")
    }
}

struct FileEntry {
    /// Path below the root (the file's name for a file given alone): its facts' key.
    rel: String,
    /// As the report shows it: below the root as the caller spelled it.
    shown: String,
    /// As ids and locators name it: below the root's own name.
    stored: String,
    abs: PathBuf,
}

impl FileEntry {
    /// A locator of an ingestor (`stored:line`) as the report shows it.
    fn show(&self, locator: String) -> String {
        match locator.strip_prefix(&self.stored) {
            Some(rest) => format!("{}{rest}", self.shown),
            None => locator,
        }
    }
}

/// Ingests `path` as one source into `store` at time `now`.
pub fn ingest_path(store: &Store, path: &Path, now: i64) -> Result<SourceReport> {
    let limits = crate::config::LimitsConfig::default();
    ingest_path_as(store, path, &path.to_string_lossy(), &limits, now)
}

/// Whether the file is JSON lines (change events): read a record per line, so its size
/// says nothing about the size of one record.
fn is_line_log(file: &FileEntry) -> bool {
    let name = file.shown.to_ascii_lowercase();
    name.ends_with(".ndjson") || name.ends_with(".jsonl")
}

/// Whether the file starts like a trace file (its first 4 KiB).
fn is_trace_file(file: &FileEntry) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    let read = std::fs::File::open(&file.abs).and_then(|f| f.take(4096).read_to_end(&mut head));
    read.is_ok() && crate::traces::decode::detect(&file.shown, &head).is_some()
}

/// Ingests `path` as one source, naming it `shown` in the report (how the caller typed
/// it, when it is forwarded to a server that got an absolute path).
///
/// What is stored does not depend on the spelling: the source is the canonical path,
/// and each file is named `<root name>/<path below the root>` (the root's own name for
/// a file given alone) in ids and locators, so `x`, `./x/../x` and `/abs/x` give the same
/// facts. Only the report's locators use `shown`.
pub fn ingest_path_as(
    store: &Store,
    path: &Path,
    shown: &str,
    limits: &crate::config::LimitsConfig,
    now: i64,
) -> Result<SourceReport> {
    let abs = std::fs::canonicalize(path)
        .map_err(|e| Error::Input { path: path.to_path_buf(), reason: e.to_string() })?;
    let root_shown = match shown.trim_end_matches('/') {
        "" => shown.to_string(),
        trimmed => trimmed.to_string(),
    };
    let files = list_files(path, &abs, &root_shown)?;
    let progress = progress_bar(files.len() as u64, "ingesting");
    let mut env_cache = EnvCache::default();
    let mut skipped = Vec::new();
    let mut diagnostics = Vec::new();
    let mut files_read = 0;
    let mut n_records = 0;
    let mut trace_files = Vec::new();
    let source = abs.to_string_lossy().into_owned();
    // Facts known from each file: a file that had some and can no longer be read keeps
    // them, and that is an error, not a skip.
    let known = store.open_facts_by_file(&source)?;
    // Each file is written as soon as it is read: memory holds one file's records.
    let mut writer = store.begin_source(&source, now);
    // Each with the line it names: where invalid UTF-8 starts, else the first.
    let mut unreadable: Vec<(&FileEntry, usize, String)> = Vec::new();
    // Files over a `[limits]` bound: unreadable, and an error even when new.
    let mut over_limit: Vec<&str> = Vec::new();
    for file in &files {
        progress.inc(1);
        let size = std::fs::metadata(&file.abs).map_or(0, |m| m.len());
        if size > limits.max_file_bytes && !is_line_log(file) && !is_trace_file(file) {
            let reason = format!(
                "the file is {size} bytes, over the limit of {} ([limits] max_file_bytes in \
                 lore.toml)",
                limits.max_file_bytes
            );
            over_limit.push(&file.rel);
            unreadable.push((file, 1, reason));
            continue;
        }
        if is_line_log(file)
            && !is_trace_file(file)
            && let Some(reader) = lines::open_event_log(file, limits.max_file_bytes)
        {
            let read = lines::ingest_event_log(file, reader, &mut writer, limits)?;
            files_read += 1;
            n_records += read.records;
            diagnostics.extend(read.diagnostics);
            continue;
        }
        let bytes = match std::fs::read(&file.abs) {
            Ok(b) => b,
            Err(e) => {
                unreadable.push((file, 1, format!("cannot read: {e}")));
                continue;
            }
        };
        if let Some(format) = crate::traces::decode::detect(&file.shown, &bytes) {
            trace_files.push((file.shown.clone(), file.abs.clone(), format));
            continue;
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
                let reason = format!("not UTF-8 text (line {line}, byte {at})");
                unreadable.push((file, line, reason));
                continue;
            }
        };
        if text.trim().is_empty() && known.contains_key(&file.rel) {
            unreadable.push((file, 1, "the file is empty".to_string()));
            continue;
        }
        let format = match detect(&file.shown, &text) {
            Detection::Ingest(f) => f,
            Detection::Skip(reason) => {
                diagnostics.push(DiagnosticView {
                    locator: file.shown.clone(),
                    severity: "info".to_string(),
                    message: format!("skipped: {reason}"),
                });
                skipped.push(Skipped { path: file.shown.clone(), reason });
                continue;
            }
            Detection::Unknown => {
                unreadable.push((file, 1, "not a format lore ingests".to_string()));
                continue;
            }
        };
        if let Some(n) = limits::yaml_documents(format, &text)
            && n > limits.max_documents_per_file
        {
            let reason = format!(
                "the file has {n} YAML documents, over the limit of {} ([limits] \
                 max_documents_per_file in lore.toml)",
                limits.max_documents_per_file
            );
            over_limit.push(&file.rel);
            unreadable.push((file, 1, reason));
            continue;
        }
        let (env, bad_env) = env_for(&file.abs, &abs, &root_shown, &mut env_cache);
        let image_env = image_env(&file.abs, env);
        let env = image_env.as_ref().unwrap_or(env);
        let input = Input { path: &file.stored, text: &text, env };
        let out = lore_ingestors::ingest(format, &input);
        files_read += 1;
        let (kept, over) = limits::check_records(out.records, limits);
        // A file with an error (in one document, one line, one record over a limit) keeps
        // its earlier facts that were not read this time; what was read is updated.
        // So does a file using a `.env` with problems.
        let partial = bad_env
            || !over.is_empty()
            || out.diagnostics.iter().any(|d| d.severity == Severity::Error);
        let views = out.diagnostics.into_iter().map(DiagnosticView::from).chain(over);
        diagnostics.extend(views.map(|mut view| {
            view.locator = file.show(view.locator);
            view
        }));
        n_records += kept.len();
        writer.apply_file(&file.rel, kept, partial)?;
    }
    progress.finish_and_clear();
    diagnostics.append(&mut env_cache.diagnostics);
    for (file, line, reason) in unreadable {
        match known.get(&file.rel) {
            Some(n) => {
                diagnostics.push(DiagnosticView {
                    locator: format!("{}:{line}", file.shown),
                    severity: "error".to_string(),
                    message: format!(
                        "{reason}; its {n} facts from the last good read are kept (delete the file to remove them)"
                    ),
                });
                writer.keep_file(&file.rel)?;
            }
            None if over_limit.contains(&file.rel.as_str()) => diagnostics.push(DiagnosticView {
                locator: format!("{}:{line}", file.shown),
                severity: "error".to_string(),
                message: format!("{reason}; the file is not read"),
            }),
            None => skipped.push(Skipped { path: file.shown.clone(), reason }),
        }
    }
    let meta = SourceMeta { root: source.clone(), changed_at: now, files: files_read };
    let stats: ApplyStats = writer.finish(meta)?;
    let traces = (!trace_files.is_empty()).then(|| {
        let (summary, problems) = crate::traces::ingest_files(store, &source, &trace_files);
        diagnostics.extend(problems);
        summary
    });
    Ok(SourceReport {
        source,
        root: root_shown,
        files_read,
        skipped,
        records: n_records,
        diagnostics,
        added: stats.added,
        updated: stats.updated,
        closed: stats.closed,
        unchanged: stats.unchanged,
        traces,
        redacted: stats.redacted,
    })
}

fn list_files(path: &Path, abs: &Path, root_shown: &str) -> Result<Vec<FileEntry>> {
    let root_name = abs.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if abs.is_file() {
        return Ok(vec![FileEntry {
            rel: root_name.clone(),
            shown: root_shown.to_string(),
            stored: root_name,
            abs: abs.to_path_buf(),
        }]);
    }
    let mut files = Vec::new();
    // Hidden entries are left out, but for env files (`.env`, `.env.production`): not a
    // `.env/` folder, which is often a Python virtualenv.
    let walker = walkdir::WalkDir::new(abs).sort_by_file_name().into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.depth() == 0
            || !name.starts_with('.')
            || (e.file_type().is_file() && lore_ingestors::env_file::is_env_file(&name))
    });
    for entry in walker {
        let entry =
            entry.map_err(|e| Error::Input { path: path.to_path_buf(), reason: e.to_string() })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel_path = entry.path().strip_prefix(abs).unwrap_or(entry.path());
        let rel = rel_path.to_string_lossy().replace('\\', "/");
        let shown = format!("{root_shown}/{rel}");
        let stored = if root_name.is_empty() { rel.clone() } else { format!("{root_name}/{rel}") };
        files.push(FileEntry { rel, shown, stored, abs: entry.path().to_path_buf() });
    }
    Ok(files)
}

/// The nearest `.env` of each directory: its variables and whether it had problems.
#[derive(Default)]
struct EnvCache {
    by_dir: BTreeMap<PathBuf, (BTreeMap<String, String>, bool)>,
    /// Problems of the `.env` files read, as diagnostics (each file once).
    diagnostics: Vec<DiagnosticView>,
}

/// Variables of the nearest `.env` in the file's directory or its ancestors up to the
/// root, and whether that `.env` has lines that are not `KEY=value` or malformed
/// interpolations (each an error naming `.env:line`).
fn env_for<'c>(
    file: &Path,
    root: &Path,
    root_shown: &str,
    cache: &'c mut EnvCache,
) -> (&'c BTreeMap<String, String>, bool) {
    let dir = file.parent().unwrap_or(root).to_path_buf();
    if !cache.by_dir.contains_key(&dir) {
        let mut found = (BTreeMap::new(), false);
        let mut cur = Some(dir.as_path());
        while let Some(d) = cur {
            let path = d.join(".env");
            if let Ok(bytes) = std::fs::read(&path) {
                let rel =
                    path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                let shown = format!("{root_shown}/{rel}");
                let known = cache.diagnostics.iter().any(|d| d.locator.starts_with(&shown));
                let text = String::from_utf8_lossy(&bytes);
                let mut problems = lore_ingestors::util::dotenv::problems(&text);
                if std::str::from_utf8(&bytes).is_err() {
                    problems.insert(0, (1, "not UTF-8 text".to_string()));
                }
                if !known {
                    cache.diagnostics.extend(problems.iter().map(|(line, reason)| {
                        DiagnosticView {
                            locator: format!("{shown}:{line}"),
                            severity: "error".to_string(),
                            message: format!(
                                "{reason}; files using this .env keep their earlier facts"
                            ),
                        }
                    }));
                }
                found = (lore_ingestors::util::dotenv::parse(&text), !problems.is_empty());
                break;
            }
            if d == root {
                break;
            }
            cur = d.parent();
        }
        cache.by_dir.insert(dir.clone(), found);
    }
    let (vars, bad) = &cache.by_dir[&dir];
    (vars, *bad)
}

/// For an `envsubst` template (`*.template`) beside a Dockerfile, the variables it is
/// filled in with in the image that Dockerfile builds: its `ENV` over the `.env` ones.
fn image_env(file: &Path, env: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    if file.extension().is_none_or(|e| e != "template") {
        return None;
    }
    let dir = file.parent()?;
    let text = ["Dockerfile", "Containerfile"]
        .iter()
        .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())?;
    let mut vars = env.clone();
    vars.extend(lore_ingestors::util::dockerfile::env(&text));
    Some(vars)
}

/// A progress bar on a terminal, hidden otherwise.
pub(crate) fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let template = format!("{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}} {{elapsed}}");
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
