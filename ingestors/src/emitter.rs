//! Collects records and diagnostics, like rust-analyzer's `(T, Vec<Error>)`.

use lore_schema::Record;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file, or part of it, could not be read.
    Error,
    /// Read, but something looks wrong.
    Warning,
    /// Skipped on purpose (Helm template, unknown format).
    Info,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A problem found while parsing, with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// `path:line`, or the path alone.
    pub locator: String,
    /// Severity.
    pub severity: Severity,
    /// Lowercase message with no trailing period.
    pub message: String,
}

/// What one run of an ingestor produced, sorted so output is deterministic.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    /// Records.
    pub records: Vec<Record>,
    /// Diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Sink for one ingestor run.
#[derive(Debug)]
pub struct Emitter {
    path: String,
    out: Output,
}

impl Emitter {
    /// An emitter for the file at `path`.
    pub fn new(path: &str) -> Emitter {
        Emitter { path: path.to_string(), out: Output::default() }
    }

    /// Emits a record.
    pub fn record(&mut self, record: Record) {
        self.out.records.push(record);
    }

    /// Reports a problem at `line` (1-based; 0 for the whole file).
    pub fn diagnostic(&mut self, severity: Severity, line: usize, message: impl Into<String>) {
        let locator = if line == 0 { self.path.clone() } else { format!("{}:{}", self.path, line) };
        self.out.diagnostics.push(Diagnostic { locator, severity, message: message.into() });
    }

    /// Sorted, deduplicated output.
    pub fn finish(mut self) -> Output {
        self.out.records.sort();
        self.out.records.dedup_by(|a, b| a.key() == b.key());
        self.out.diagnostics.sort();
        self.out.diagnostics.dedup();
        self.out
    }
}

/// One-line renderings of ingestor output, for the modules' `check` test helpers.
#[cfg(test)]
pub(crate) mod render {
    use lore_schema::{Record, Relation};

    use super::Output;

    /// `from kind to @locator note`.
    pub(crate) fn relation(r: &Relation) -> String {
        format!(
            "{} {} {} @{} {}",
            r.from.key(),
            r.kind,
            r.to.key(),
            r.provenance.locator,
            r.provenance.note
        )
    }

    /// Relations as [`relation`], other records as their debug form.
    pub(crate) fn record(r: &Record) -> String {
        match r {
            Record::Relation(r) => relation(r),
            other => format!("{other:?}"),
        }
    }

    /// Every record rendered by `render_record`, then every diagnostic.
    pub(crate) fn lines(output: &Output, render_record: impl Fn(&Record) -> String) -> Vec<String> {
        let mut lines: Vec<String> = output.records.iter().map(render_record).collect();
        lines.extend(
            output
                .diagnostics
                .iter()
                .map(|d| format!("{} {} {}", d.severity.as_str(), d.locator, d.message)),
        );
        lines
    }
}
