//! How much each ranking can be trusted for one query, and the relevance floor.
//!
//! BM25's evidence is the share of the query's information (the idf of its distinct
//! terms) that the best hit contains: words absent from every document, or present only
//! in hits that miss the rare ones, weigh little. Vector evidence is the best cosine
//! above what an unrelated text scores with all-MiniLM-L6-v2 (about 0.2 to 0.3), and its
//! margin over the tenth hit. Fusion weights each ranking's votes by its evidence
//! (`rank::fuse`); when neither reaches the floor the hits are marked weak.

use tantivy::Searcher;
use tantivy::schema::Field;
use tantivy::tokenizer::TextAnalyzer;

/// What one ranking says about its own reliability for one query, each in [0, 1].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// The measure the weight comes from (idf coverage, or the best cosine).
    pub measure: f32,
    /// Weight of the ranking's votes in fusion.
    pub weight: f32,
    /// Whether the best hit clears the relevance floor of this mode.
    pub confident: bool,
}

/// Share of the query's idf the best BM25 hit must contain to be confident.
pub const BM25_FLOOR: f32 = 0.45;
/// Idf coverage at which BM25's votes start to count (semantic queries, whose words are
/// common ones, cover 0.1 to 0.3 of their idf).
const BM25_ZERO: f32 = 0.2;
/// Idf coverage at which BM25's votes count fully.
const BM25_FULL: f32 = 0.6;
/// Cosine of the best vector hit below which it is not confident.
pub const VECTOR_FLOOR: f32 = 0.38;
/// Cosine an unrelated text typically reaches (the zero of the vector weight).
const VECTOR_ZERO: f32 = 0.25;
/// Cosine above which the vector ranking gets its full weight.
const VECTOR_FULL: f32 = 0.6;

/// The distinct analysed terms of `text`.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while stream.advance() {
        let t = stream.token().text.clone();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// BM25 idf of each term: its rarest field's document frequency over `fields`.
pub(crate) fn idfs(searcher: &Searcher, fields: &[Field], terms: &[String]) -> Vec<f32> {
    let n = searcher.num_docs() as f32;
    terms
        .iter()
        .map(|t| {
            let df = fields
                .iter()
                .filter_map(|f| searcher.doc_freq(&tantivy::Term::from_field_text(*f, t)).ok())
                .max()
                .unwrap_or(0) as f32;
            (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
        })
        .collect()
}

/// BM25 evidence: the idf share of the query terms found in the best hit's text
/// (`top_terms`, analysed the same way), scaled so that [`BM25_FLOOR`] is the floor.
pub fn bm25(query_terms: &[String], idf: &[f32], top_terms: &[String]) -> (f32, Evidence) {
    let total: f32 = idf.iter().sum();
    if total <= 0.0 {
        return (0.0, Evidence::default());
    }
    let found: f32 =
        query_terms.iter().zip(idf).filter(|(t, _)| top_terms.contains(t)).map(|(_, i)| *i).sum();
    let coverage = found / total;
    let weight = ((coverage - BM25_ZERO) / (BM25_FULL - BM25_ZERO)).clamp(0.0, 1.0);
    (coverage, Evidence { measure: coverage, weight, confident: coverage >= BM25_FLOOR })
}

/// Vector evidence from the cosines of the ranked hits, best first.
pub fn vector(cosines: &[f32]) -> Evidence {
    let Some(&top) = cosines.first() else { return Evidence::default() };
    let weight = ((top - VECTOR_ZERO) / (VECTOR_FULL - VECTOR_ZERO)).clamp(0.0, 1.0);
    Evidence { measure: top, weight, confident: top >= VECTOR_FLOOR }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_evidence_is_the_idf_share_of_the_best_hit() {
        let q = vec!["disk".to_string(), "xyzzy".to_string()];
        let (cov, e) = bm25(&q, &[1.0, 3.0], &["disk".to_string()]);
        assert!((cov - 0.25).abs() < 1e-6);
        assert!(!e.confident);
        let (_, e) = bm25(&q, &[1.0, 3.0], &q);
        assert!(e.confident && e.weight == 1.0);
        assert_eq!(bm25(&q, &[0.0, 0.0], &q).1, Evidence::default());
    }

    #[test]
    fn vector_evidence_grows_with_the_best_cosine() {
        assert_eq!(vector(&[]), Evidence::default());
        assert!(!vector(&[0.3, 0.2]).confident);
        let e = vector(&[0.7, 0.3]);
        assert!(e.confident && e.weight == 1.0);
        assert!(vector(&[0.4]).weight < vector(&[0.5]).weight);
    }
}
