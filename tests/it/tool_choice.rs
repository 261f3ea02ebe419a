//! Tool choice: for 20 questions an on-call agent asks (tests/tool_choice.jsonl, written
//! before the check was first run), the MCP tool whose description is nearest to the
//! question by the project's own embedding model (all-MiniLM-L6-v2, cosine) is the one
//! meant. A description is compared sentence by sentence (its name leading the first) and
//! scores its best sentence, as a reader takes the sentence that fits. A proxy for an LLM
//! picking tools from their descriptions.

use std::sync::Arc;

use lore::mcp::LoreMcp;
use lore::queries::Registry;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(f32::EPSILON)
}

/// Sentences of a description: split after `.`, `?` or `:` followed by a space.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        if matches!(c, '.' | '?' | ':') && chars.peek().is_some_and(|n| n.is_whitespace()) {
            out.push(std::mem::take(&mut current).trim().to_string());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out.retain(|s| s.split_whitespace().count() > 1);
    out
}

#[test]
fn descriptions_lead_to_the_intended_tool() {
    let (_dir, engine) = crate::support::engine();
    let engine = Arc::new(engine);
    let tools = LoreMcp::new(engine.clone(), Arc::new(Registry::builtin())).tools();
    let embedder = engine.embedder().expect("embedding model (bash scripts/setup)");
    // (tool index, sentence) for every sentence of every description.
    let mut texts: Vec<(usize, String)> = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let description = t.description.as_deref().unwrap_or("");
        for (n, sentence) in sentences(description).into_iter().enumerate() {
            let text =
                if n == 0 { format!("{}: {sentence}", t.name.replace('_', " ")) } else { sentence };
            texts.push((i, text));
        }
    }
    let vecs =
        embedder.embed_texts(&texts.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>()).unwrap();
    let cases: Vec<serde_json::Value> = include_str!("../tool_choice.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cases.len(), 20);
    let questions: Vec<&str> = cases.iter().map(|c| c["question"].as_str().unwrap()).collect();
    let q_vecs = embedder.embed_texts(&questions).unwrap();
    let mut right = 0;
    println!("| question | intended | picked | cosine |\n|---|---|---|---|");
    for (case, q) in cases.iter().zip(&q_vecs) {
        let (best, score) = texts
            .iter()
            .zip(&vecs)
            .map(|((i, _), v)| (tools[*i].name.to_string(), cosine(q, v)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let intended = case["tool"].as_str().unwrap();
        right += usize::from(best == intended);
        let mark = if best == intended { "" } else { " ✗" };
        println!(
            "| {} | {intended} | {best}{mark} | {score:.3} |",
            case["question"].as_str().unwrap()
        );
    }
    println!("{right} of {} pick the intended tool", cases.len());
    assert!(right >= 18, "{right} of 20 questions pick the intended tool");
}
