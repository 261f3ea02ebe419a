//! Git history as change events: runs `git log` in a repository (the one place Lore
//! starts git) and applies what `lore_ingestors::git_history` reads from its output as
//! the source `git:<absolute repo path>`. Re-ingesting replaces that source's events like
//! any other source: new commits open, commits no longer in the log close.

use std::path::Path;
use std::process::Command;

use lore_ingestors::git_history::{self, Config};
use lore_ingestors::{Emitter, Input, Severity};
use serde::Serialize;

use crate::Engine;
use crate::error::{Error, Result};
use crate::ingest::DiagnosticView;
use crate::store::SourceMeta;

/// The file name facts of a git source are stored under.
const LOG_FILE: &str = "git-log";

/// What ingesting a repository's history did.
#[derive(Debug, Clone, Serialize)]
pub struct GitReport {
    /// Source id: `git:<absolute path>`.
    pub source: String,
    /// The repository as given.
    pub repo: String,
    /// Commits read.
    pub commits: usize,
    /// Change events (one per commit and touched service).
    pub events: usize,
    /// Commits that touched no service path.
    pub skipped_commits: usize,
    /// Problems found in the log.
    pub diagnostics: Vec<DiagnosticView>,
    /// Facts added to the store.
    pub added: usize,
    /// Facts whose content changed.
    pub updated: usize,
    /// Facts closed because their commit left the log.
    pub closed: usize,
    /// Facts unchanged.
    pub unchanged: usize,
}

impl GitReport {
    /// Whether part of the log could not be read.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == "error")
    }
}

/// Runs `git log` in `repo` and returns its output.
fn git_log(repo: &Path) -> Result<String> {
    let input_error = |reason: String| Error::Input { path: repo.to_path_buf(), reason };
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotePath=false", "-c", "log.showSignature=false"])
        .args(git_history::log_args())
        .output()
        .map_err(|e| input_error(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("git log failed");
        return Err(input_error(reason.trim().trim_start_matches("fatal: ").to_string()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Engine {
    /// Ingests the commit history of the git repository at `repo`, mapping changed paths
    /// to services by `config`, at time `now`.
    pub fn ingest_git(&self, repo: &Path, config: &Config, now: i64) -> Result<GitReport> {
        config.validate().map_err(|reason| Error::InvalidParam { name: "rule".into(), reason })?;
        let abs = std::fs::canonicalize(repo)
            .map_err(|e| Error::Input { path: repo.to_path_buf(), reason: e.to_string() })?;
        let text = git_log(&abs)?;
        let source = format!("git:{}", abs.to_string_lossy());
        let env = Default::default();
        let input = Input { path: &source, text: &text, env: &env };
        let mut emitter = Emitter::new(&source);
        let summary = git_history::ingest(&input, config, &mut emitter);
        let out = emitter.finish();
        let failed =
            out.diagnostics.iter().any(|d| d.severity == Severity::Error) && out.records.is_empty();
        let failed_files = if failed { vec![LOG_FILE.to_string()] } else { Vec::new() };
        let records = out.records.into_iter().map(|r| (LOG_FILE.to_string(), r)).collect();
        let meta =
            SourceMeta { root: repo.to_string_lossy().into_owned(), changed_at: now, files: 1 };
        let topology = self.store().topology_generation()?;
        let stats = self.store().apply_source(&source, meta, records, &failed_files, now);
        self.invalidate(topology);
        let stats = stats?;
        Ok(GitReport {
            source,
            repo: repo.to_string_lossy().into_owned(),
            commits: summary.commits,
            events: summary.events,
            skipped_commits: summary.skipped,
            diagnostics: out.diagnostics.into_iter().map(DiagnosticView::from).collect(),
            added: stats.added,
            updated: stats.updated,
            closed: stats.closed,
            unchanged: stats.unchanged,
        })
    }
}
