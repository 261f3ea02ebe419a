//! The token budget: counting with a real LLM tokenizer and filling by rank across
//! sections.
//!
//! Tokens are counted with OpenAI's `o200k_base` encoding (`tiktoken-rs`, bundled in the
//! crate, no download) on exactly the text the caller receives: the compact JSON body, or
//! the markdown rendering.
//!
//! Filling: every item of every section gets the key `(rank + 1) / weight(section)` and
//! items are taken in key order (ties in section order) while they fit. The first item
//! that does not fit ends the fill: what is taken is always a prefix of one fixed order,
//! so a larger budget only ever adds items, and within a section the items taken are the
//! best ones. What is left is reported per section as a count and a cursor for `more`.

use std::sync::LazyLock;

use tiktoken_rs::CoreBPE;

static BPE: LazyLock<Option<CoreBPE>> = LazyLock::new(|| tiktoken_rs::o200k_base().ok());

/// Tokens of `text` in `o200k_base` (special-token text counted as plain text); about
/// one token per four bytes if the encoding cannot be loaded.
pub fn count(text: &str) -> usize {
    match BPE.as_ref() {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        None => text.len().div_ceil(4),
    }
}

/// One candidate item: its section, its rank in the section and its cost in tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cost {
    pub(crate) section: usize,
    pub(crate) rank: usize,
    pub(crate) tokens: usize,
}

/// How many items of each section fit in `available` tokens, taking items in the order
/// the module docs give; `weights[s]` is section `s`'s weight.
pub(crate) fn fill(costs: &[Cost], weights: &[f64], available: usize) -> Vec<usize> {
    let mut order: Vec<&Cost> = costs.iter().collect();
    order.sort_by(|a, b| {
        let ka = (a.rank + 1) as f64 / weights[a.section];
        let kb = (b.rank + 1) as f64 / weights[b.section];
        ka.total_cmp(&kb).then(a.section.cmp(&b.section)).then(a.rank.cmp(&b.rank))
    });
    let mut taken = vec![0; weights.len()];
    let mut used = 0;
    for c in order {
        // A separator (comma or newline) per item.
        let cost = c.tokens + 1;
        if used + cost > available {
            break;
        }
        used += cost;
        taken[c.section] += 1;
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_a_real_tokenizer() {
        assert_eq!(count(""), 0);
        assert_eq!(count("hello world"), 2);
        assert!(count("<|endoftext|>") > 1, "special tokens are plain text");
    }

    #[test]
    fn larger_budgets_only_add_items() {
        let costs: Vec<Cost> = (0..3)
            .flat_map(|s| {
                (0..10).map(move |r| Cost { section: s, rank: r, tokens: 5 + (r * 7 + s * 3) % 40 })
            })
            .collect();
        let weights = [1.0, 0.8, 0.5];
        let mut last = vec![0; 3];
        for budget in (0..600).step_by(7) {
            let taken = fill(&costs, &weights, budget);
            assert!(taken.iter().zip(&last).all(|(t, l)| t >= l), "{budget}: {taken:?} < {last:?}");
            let used: usize =
                costs.iter().filter(|c| c.rank < taken[c.section]).map(|c| c.tokens + 1).sum();
            assert!(used <= budget);
            last = taken;
        }
    }
}
