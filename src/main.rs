//! The `lore` binary: parse arguments, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// mimalloc returns freed memory to the system and keeps per-thread heaps from
/// fragmenting: with glibc's allocator a server streaming spans kept growing its RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
