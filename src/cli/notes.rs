//! `lore note add|list|rm`: tribal notes on nodes (the objects `/v1/notes` returns).

use std::io::Write;
use std::process::ExitCode;

use lore::notes::{NoteRequest, NoteView};
use lore::{Engine, time};

/// Options of `lore note`.
#[derive(Debug, clap::Args)]
pub(crate) struct NoteArgs {
    #[command(subcommand)]
    command: NoteCommand,
}

#[derive(Debug, clap::Subcommand)]
enum NoteCommand {
    /// Add a note on NODE.
    Add {
        /// Node id, name or alias.
        node: String,
        /// What to know.
        text: String,
        /// Who writes it.
        #[arg(long)]
        author: Option<String>,
        /// When it stops applying: RFC 3339, date, unix seconds, or a duration from now
        /// (30m, 2h, 1d, 1w). Expired notes leave listings, `show` and search.
        #[arg(long)]
        expires: Option<String>,
        /// A tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Print the note as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List notes (on NODE, when given), newest first.
    List {
        /// Node id, name or alias.
        node: Option<String>,
        /// Include expired notes.
        #[arg(long)]
        all: bool,
        /// Print JSON (the object `GET /v1/notes` returns).
        #[arg(long)]
        json: bool,
    },
    /// Remove a note (its history stays in the store).
    Rm {
        /// Note id (`note-…`).
        id: String,
        /// Print the removed note as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn print_note(out: &mut impl Write, n: &NoteView) -> std::io::Result<()> {
    let mut meta = vec![n.node.to_string(), n.created.clone()];
    meta.extend(n.author.clone());
    meta.extend(n.expires.as_ref().map(|e| format!("expires {e}")));
    meta.extend(n.tags.iter().map(|t| format!("#{t}")));
    writeln!(out, "{}  {}", n.id, meta.join("  "))?;
    for line in n.text.lines() {
        writeln!(out, "    {line}")?;
    }
    Ok(())
}

pub(crate) fn run(engine: &Engine, args: NoteArgs) -> anyhow::Result<ExitCode> {
    let now = time::now();
    match args.command {
        NoteCommand::Add { node, text, author, expires, tags, json } => {
            let note = engine.add_note(&NoteRequest { node, text, author, expires, tags }, now)?;
            super::audit::record(engine, format!("note add {}", note.id))?;
            if json {
                super::output::json(&note)?;
            } else {
                writeln!(std::io::stdout(), "added {} on {}", note.id, note.node)?;
            }
        }
        NoteCommand::List { node, all, json } => {
            let list = engine.notes(node.as_deref(), all, now)?;
            if json {
                super::output::json(&list)?;
            } else {
                let mut out = std::io::stdout().lock();
                for n in &list.notes {
                    print_note(&mut out, n)?;
                }
                if list.notes.is_empty() {
                    writeln!(out, "no notes")?;
                }
            }
        }
        NoteCommand::Rm { id, json } => {
            let note = engine.remove_note(&id, now)?;
            super::audit::record(engine, format!("note rm {}", note.id))?;
            if json {
                super::output::json(&note)?;
            } else {
                writeln!(std::io::stdout(), "removed {}", note.id)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
