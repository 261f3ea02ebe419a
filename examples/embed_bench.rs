//! Raw embedding throughput on the texts the ingest pipeline embeds: ingests the given
//! folders (default `../shared/corpora/runbooks` and `../shared/corpora/postmortems`)
//! into a temporary store without embedding, takes the first `--limit` texts (default
//! all) that `lore ingest` would embed, and times [`Embedder`] on them in the pipeline's
//! batch size. Prints the load time, chunks per second and single-query latency: the
//! baseline `lore ingest`'s "chunks/s" is compared with.
//!
//! Run with `cargo run --release --example embed_bench [-- [--limit N] [DIR...]]` after
//! `scripts/setup` (LORE_MODEL_DIR picks another model variant).

use std::path::{Path, PathBuf};
use std::time::Instant;

use lore::Engine;
use lore::search::embed::Embedder;

/// Texts per call, as `Engine::embed_pending` does.
const BATCH: usize = 256;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut limit = usize::MAX;
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

    let store = tempfile::tempdir()?;
    let engine = Engine::open(store.path())?;
    engine.ingest(&dirs, 0)?;
    let mut texts = engine.embed_texts()?;
    texts.truncate(limit);
    if texts.is_empty() {
        return Err(format!("nothing to embed under {dirs:?}").into());
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();

    let start = Instant::now();
    let (model_dir, ort_lib) = Embedder::locate()?;
    let embedder = Embedder::load(&model_dir, &ort_lib)?;
    let load = start.elapsed();
    embedder.embed(&["warm up"])?;

    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let start = Instant::now();
    let mut vectors = 0;
    for batch in refs.chunks(BATCH) {
        vectors += embedder.embed(batch)?.len();
    }
    let took = start.elapsed();
    assert_eq!(vectors, texts.len());

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
    println!("chunks           {} (avg {} chars)", texts.len(), chars / texts.len());
    println!("embed            {:.2} s", took.as_secs_f64());
    println!("throughput       {:.1} chunks/s", texts.len() as f64 / took.as_secs_f64());
    println!(
        "query latency    p50 {:.1} ms, p95 {:.1} ms",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100]
    );
    Ok(())
}
