//! Raw embedding throughput: splits the Markdown files under the given folders (default
//! `../shared/corpora/runbooks` and `../shared/corpora/postmortems`) into heading sections,
//! embeds the first `--limit` of them (default 1000) with [`Embedder`] and prints the load
//! time, sentences per second and single-query latency. The baseline the ingest pipeline
//! is compared with.
//!
//! Run with `cargo run --release --example embed_bench [-- [--limit N] [DIR...]]` after
//! `scripts/setup`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use lore::search::embed::Embedder;

/// Characters of a section that are embedded (the model reads at most 256 tokens).
const MAX_CHARS: usize = 1500;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut limit = 1000;
    let mut dirs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--limit" {
            limit = args.next().ok_or("--limit needs a number")?.parse()?;
        } else {
            dirs.push(PathBuf::from(arg));
        }
    }
    if dirs.is_empty() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
        dirs = vec![root.join("runbooks"), root.join("postmortems")];
    }

    let mut texts = Vec::new();
    for dir in &dirs {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        files.sort();
        for file in files {
            texts.extend(sections(&std::fs::read_to_string(&file)?));
        }
    }
    texts.truncate(limit);
    if texts.is_empty() {
        return Err(format!("no Markdown sections under {dirs:?}").into());
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();

    let start = Instant::now();
    let (model_dir, ort_lib) = Embedder::locate()?;
    let embedder = Embedder::load(&model_dir, &ort_lib)?;
    let load = start.elapsed();
    embedder.embed(&["warm up"])?;

    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let start = Instant::now();
    let vectors = embedder.embed(&refs)?;
    let took = start.elapsed();
    assert_eq!(vectors.len(), texts.len());

    let mut latencies: Vec<f64> = (0..50)
        .map(|i| {
            let query = format!("pods keep restarting after OOM {i}");
            let start = Instant::now();
            embedder.embed(&[&query]).map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()?;
    latencies.sort_by(f64::total_cmp);

    println!("model            {}", embedder.model_id());
    println!("load             {:.3} s", load.as_secs_f64());
    println!("sections         {} (avg {} chars)", texts.len(), chars / texts.len());
    println!("embed            {:.2} s", took.as_secs_f64());
    println!("throughput       {:.0} sentences/s", texts.len() as f64 / took.as_secs_f64());
    println!(
        "query latency    p50 {:.1} ms, p95 {:.1} ms",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100]
    );
    Ok(())
}

/// Heading sections of a Markdown text: heading line plus body, cut to [`MAX_CHARS`].
fn sections(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && line.starts_with('#') && !current.trim().is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push_str(line);
        current.push('\n');
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out.into_iter()
        .map(|s| s.chars().take(MAX_CHARS).collect::<String>())
        .filter(|s| s.lines().count() > 1)
        .collect()
}
