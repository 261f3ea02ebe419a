//! Change logs (JSON lines: `*.ndjson`, `*.jsonl`) read a chunk of lines at a time, so
//! an ingest's memory holds one chunk whatever the log's size (a change log has no size
//! limit: it is a record per line).
//!
//! Each chunk is parsed with the deploy-events ingestor's own line reader and written as
//! one batch ([`SourceWriter::apply_chunk`]). A line that is not UTF-8, longer than
//! `max_file_bytes`, or not an event is an error naming its line; the other lines go on,
//! and the file keeps its earlier facts that were not read this time.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use lore_ingestors::deploy_events::EventLines;
use lore_ingestors::{Detection, Emitter, Format, Severity, detect};

use super::{DiagnosticView, FileEntry, limits};
use crate::config::LimitsConfig;
use crate::error::Result;
use crate::store::SourceWriter;

/// Lines parsed before a chunk is written.
const CHUNK_LINES: usize = 2_000;

/// What reading one change log gave.
pub(super) struct LogRead {
    /// Records written.
    pub records: usize,
    /// Problems, with locators as the report shows them.
    pub diagnostics: Vec<DiagnosticView>,
}

/// The file opened at its start if it is a change log: named like JSON lines, and its
/// first non-empty line (read alone, up to `max_line` bytes) is a change event.
pub(super) fn open_event_log(file: &FileEntry, max_line: u64) -> Option<BufReader<File>> {
    let mut reader = BufReader::new(File::open(&file.abs).ok()?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.by_ref().take(max_line).read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let text = std::str::from_utf8(&line).ok()?;
        if !text.trim().trim_start_matches('\u{feff}').is_empty() {
            let found = detect(&file.shown, text);
            if !matches!(found, Detection::Ingest(Format::DeployEvents)) {
                return None;
            }
            reader.seek(SeekFrom::Start(0)).ok()?;
            return Some(reader);
        }
    }
}

/// Reads the change log `file` (opened by [`open_event_log`]) line by line into
/// `writer`, a chunk at a time.
pub(super) fn ingest_event_log(
    file: &FileEntry,
    mut reader: BufReader<File>,
    writer: &mut SourceWriter<'_>,
    limits: &LimitsConfig,
) -> Result<LogRead> {
    let max_line = limits.max_file_bytes;
    let mut chunks = writer.begin_file(&file.rel);
    let mut events = EventLines::default();
    let mut out = Emitter::new(&file.stored);
    let mut read = LogRead { records: 0, diagnostics: Vec::new() };
    let mut partial = false;
    let mut line = Vec::new();
    let mut n = 0usize;
    let mut in_chunk = 0usize;
    loop {
        line.clear();
        let got = match reader.by_ref().take(max_line + 1).read_until(b'\n', &mut line) {
            Ok(got) => got,
            Err(e) => {
                out.diagnostic(Severity::Error, n + 1, format!("cannot read: {e}"));
                break;
            }
        };
        if got == 0 {
            break;
        }
        n += 1;
        if line.len() as u64 > max_line {
            let reason = format!(
                "the line is over {max_line} bytes ([limits] max_file_bytes in lore.toml); it \
                 is not read"
            );
            out.diagnostic(Severity::Error, n, reason);
            if line.last() != Some(&b'\n') {
                // The rest of the line, unread.
                let _ = reader.skip_until(b'\n');
            }
            continue;
        }
        match std::str::from_utf8(&line) {
            Ok(text) => events.line(&file.stored, n, text, &mut out),
            Err(e) => out.diagnostic(
                Severity::Error,
                n,
                format!("not UTF-8 text (byte {} of the line)", e.valid_up_to()),
            ),
        }
        in_chunk += 1;
        if in_chunk == CHUNK_LINES {
            in_chunk = 0;
            let done = std::mem::replace(&mut out, Emitter::new(&file.stored));
            partial |= write_chunk(file, writer, &mut chunks, done, limits, &mut read)?;
        }
    }
    partial |= write_chunk(file, writer, &mut chunks, out, limits, &mut read)?;
    writer.end_file(chunks, partial)?;
    Ok(read)
}

/// Writes one chunk's records; whether it had an error (the file is then partial).
fn write_chunk(
    file: &FileEntry,
    writer: &mut SourceWriter<'_>,
    chunks: &mut crate::store::FileChunks,
    out: Emitter,
    limits: &LimitsConfig,
    read: &mut LogRead,
) -> Result<bool> {
    let out = out.finish();
    let errors = out.diagnostics.iter().any(|d| d.severity == Severity::Error);
    let (kept, over) = limits::check_records(out.records, limits);
    let partial = errors || !over.is_empty();
    let views = out.diagnostics.into_iter().map(DiagnosticView::from).chain(over);
    read.diagnostics.extend(views.map(|mut view| {
        view.locator = file.show(view.locator);
        view
    }));
    read.records += kept.len();
    writer.apply_chunk(chunks, kept)?;
    Ok(partial)
}
