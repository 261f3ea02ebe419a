//! The `lore` binary: parse arguments, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("lore: {err:#}");
            ExitCode::from(2)
        }
    }
}
