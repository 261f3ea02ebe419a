//! `lore feedback add|list|rm`: useful/wrong verdicts on incident-bundle items (the
//! objects `/v1/feedback` returns).

use std::io::Write;
use std::process::ExitCode;

use lore::feedback::{FeedbackRequest, FeedbackView};
use lore::{Engine, time};

/// Options of `lore feedback`.
#[derive(Debug, clap::Args)]
pub(crate) struct FeedbackArgs {
    #[command(subcommand)]
    command: FeedbackCommand,
}

#[derive(Debug, clap::Subcommand)]
enum FeedbackCommand {
    /// Say an item of a bundle was useful or wrong.
    Add {
        /// The bundle's focus node (id, name or alias).
        #[arg(long, required_unless_present = "bundle")]
        focus: Option<String>,
        /// The bundle id (`<focus>@<unix secs>~<hash>`); gives the focus.
        #[arg(long)]
        bundle: Option<String>,
        /// Id of the item: a change event, node or document id.
        #[arg(long)]
        item: String,
        /// useful or wrong.
        #[arg(long)]
        verdict: String,
        /// Who says so.
        #[arg(long)]
        author: Option<String>,
        /// Why.
        #[arg(long)]
        comment: Option<String>,
        /// Print the stored feedback as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List current feedback, newest first.
    List {
        /// Only feedback on this focus node.
        #[arg(long)]
        focus: Option<String>,
        /// Print JSON (the object `GET /v1/feedback` returns).
        #[arg(long)]
        json: bool,
    },
    /// Remove feedback: it no longer counts (its history stays).
    Rm {
        /// Feedback id (`fb-…`).
        id: String,
        /// Print the removed feedback as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn line(f: &FeedbackView) -> String {
    let mut parts = vec![f.id.clone(), f.focus.clone(), f.item.clone(), f.verdict.to_string()];
    parts.push(f.created.clone());
    parts.extend(f.author.clone());
    parts.extend(f.comment.as_ref().map(|c| format!("“{c}”")));
    parts.join("  ")
}

pub(crate) fn run(engine: &Engine, args: FeedbackArgs) -> anyhow::Result<ExitCode> {
    let now = time::now();
    let mut out = std::io::stdout().lock();
    match args.command {
        FeedbackCommand::Add { focus, bundle, item, verdict, author, comment, json } => {
            let req = FeedbackRequest { bundle_id: bundle, focus, item, verdict, author, comment };
            let feedback = engine.add_feedback(&req, now)?;
            super::audit::record(engine, format!("feedback add {}", feedback.id))?;
            if json {
                super::output::json(&feedback)?;
            } else {
                writeln!(out, "added {}", line(&feedback))?;
            }
        }
        FeedbackCommand::List { focus, json } => {
            let list = engine.feedback(focus.as_deref())?;
            if json {
                super::output::json(&list)?;
            } else {
                for f in &list.feedback {
                    writeln!(out, "{}", line(f))?;
                }
                if list.feedback.is_empty() {
                    writeln!(out, "no feedback")?;
                }
            }
        }
        FeedbackCommand::Rm { id, json } => {
            let feedback = engine.remove_feedback(&id, now)?;
            super::audit::record(engine, format!("feedback rm {}", feedback.id))?;
            if json {
                super::output::json(&feedback)?;
            } else {
                writeln!(out, "removed {}", feedback.id)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
