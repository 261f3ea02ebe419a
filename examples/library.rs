//! Using Lore as a library: ingest the example organisation into a temporary data dir
//! and ask who is affected if `orders-db` fails.
//!
//! Run with `cargo run --example library`.

use lore::Engine;
use lore::engine::ImpactRequest;
use lore::graph::Direction;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("lore-example-{}", std::process::id()));
    let engine = Engine::open(&dir)?;
    let org = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    engine
        .ingest(&[org.join("k8s"), org.join("compose"), org.join("catalog")], lore::time::now())?;
    let req = ImpactRequest::new("orders-db", Direction::Upstream);
    let view = engine.impact(&req)?;
    println!("if {} fails:", view.node.id);
    for hit in &view.results {
        let first =
            hit.path.first().and_then(|e| e.evidence.first()).map_or("", |e| e.locator.as_str());
        println!("  [{}] {} ({first})", hit.depth, hit.id);
    }
    drop(engine);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
