//! The `lore` tokenizer: splits identifiers the way operators write them.
//!
//! `KubePodCrashLooping` → `kubepodcrashlooping kube pod crash looping`,
//! `CPUThrottlingHigh` → `cputhrottlinghigh cpu throttling high`, `pg_xid_wraparound` →
//! `pg xid wraparound`, `etcdNoLeader` → `etcdnoleader etcd no leader`. The whole
//! identifier is kept beside its parts (same position), so an exact alert name still
//! matches best. Lowercasing, stop words and English stemming follow as filters.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

/// Name the analyzer is registered under.
pub(crate) const NAME: &str = "lore";

/// The full analyzer: identifier splitting, lowercase, stop words, English stemming.
pub(crate) fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(IdentifierTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder.filter(stop).filter(Stemmer::new(Language::English)).build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// Splits text into words and identifier parts.
#[derive(Clone, Default)]
pub(crate) struct IdentifierTokenizer {
    tokens: Vec<Token>,
}

pub(crate) struct VecTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let idx = self.next.saturating_sub(1).min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[idx]
    }
}

impl Tokenizer for IdentifierTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        self.tokens.clear();
        split(text, &mut self.tokens);
        VecTokenStream { tokens: &mut self.tokens, next: 0 }
    }
}

fn push(tokens: &mut Vec<Token>, text: &str, from: usize, to: usize, position: usize) {
    tokens.push(Token {
        offset_from: from,
        offset_to: to,
        position,
        text: text.to_string(),
        position_length: 1,
    });
}

/// Words are runs of ASCII letters and digits (other alphabetic characters included);
/// each word is also split at case and letter/digit boundaries.
fn split(text: &str, tokens: &mut Vec<Token>) {
    let mut position = 0;
    let mut start = None;
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(_, c)) in bytes.iter().enumerate() {
        let is_word = c.is_alphanumeric();
        match (is_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                word(text, &bytes[s..i], tokens, &mut position);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        word(text, &bytes[s..], tokens, &mut position);
    }
}

/// Whether an identifier's next word starts at `cur`: `podCrash`, or `HTTPServer` at the
/// `S` (an acronym ends where a capitalised word begins). Also used to split identifiers
/// before embedding (`text::humanize`).
pub(crate) fn case_boundary(prev: char, cur: char, next: Option<char>) -> bool {
    (prev.is_lowercase() && cur.is_uppercase())
        || (prev.is_uppercase() && cur.is_uppercase() && next.is_some_and(char::is_lowercase))
}

fn word(text: &str, chars: &[(usize, char)], tokens: &mut Vec<Token>, position: &mut usize) {
    let (Some(&(from, _)), Some(&(last, last_c))) = (chars.first(), chars.last()) else { return };
    let to = last + last_c.len_utf8();
    let mut parts = Vec::new();
    let mut part_start = 0;
    for i in 1..chars.len() {
        let (prev, cur) = (chars[i - 1].1, chars[i].1);
        let next = chars.get(i + 1).map(|c| c.1);
        let boundary = case_boundary(prev, cur, next)
            || (prev.is_alphabetic() && cur.is_ascii_digit())
            || (prev.is_ascii_digit() && cur.is_alphabetic());
        if boundary {
            parts.push((part_start, i));
            part_start = i;
        }
    }
    parts.push((part_start, chars.len()));
    if parts.len() > 1 {
        push(tokens, &text[from..to], from, to, *position);
    }
    for (s, e) in parts {
        let pf = chars[s].0;
        let pt = chars[e - 1].0 + chars[e - 1].1.len_utf8();
        push(tokens, &text[pf..pt], pf, pt, *position);
        *position += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn identifiers_split_and_keep_the_whole() {
        assert_eq!(
            check("KubePodCrashLooping"),
            ["kubepodcrashloop", "kube", "pod", "crash", "loop"]
        );
        assert_eq!(check("CPUThrottlingHigh"), ["cputhrottlinghigh", "cpu", "throttl", "high"]);
        assert_eq!(check("pg_xid_wraparound alert"), ["pg", "xid", "wraparound", "alert"]);
        assert_eq!(check("etcdNoLeader"), ["etcdnolead", "etcd", "leader"]);
        assert_eq!(check("the pods are crash-looping"), ["pod", "crash", "loop"]);
        assert!(check("").is_empty());
    }
}
