//! What is embedded for each chunk, and its cache key.
//!
//! Each section is embedded as its title, heading path and body, a long one as windows
//! that together cover all of its body (each under the title and heading path); a
//! document of several sections also as its lead (title and the start of every section),
//! so it can match as a whole; a runbook also as its title and the symptom text of the
//! alerts it answers. Identifiers are split into words and template expressions dropped,
//! because
//! the model's vocabulary knows words, not `NodeClockSkewDetected` or `{{ $labels.pod }}`.
//! Changing any of this changes the texts, so the next ingest embeds them again.

use super::Chunk;

/// Characters of one embedded text of a section: about 200 tokens, within the 256 the
/// model reads. (Clipping every section to its first 600 characters left 47% of the
/// corpora's runbook and postmortem text unread; 400, 800 and 1,000-character windows
/// measured 0.74, 0.78 and 0.77 vector recall@5 on the dev cases.)
const SECTION_CHARS: usize = 800;
/// Characters a window of a long section repeats from the one before it, so a sentence
/// cut at a window's end is read whole by the next.
const WINDOW_OVERLAP: usize = 200;
/// Most windows of one section (a longer section than about 12,000 characters is read
/// to there).
const MAX_WINDOWS: usize = 20;
/// Characters of a document's lead.
const LEAD_CHARS: usize = 1000;
/// Characters each section contributes to the lead.
const LEAD_PER_SECTION: usize = 200;

/// One text to embed.
#[derive(Debug)]
pub struct EmbedItem<'a> {
    /// The chunk the vector stands for (a lead stands for the document's first chunk).
    pub chunk: &'a Chunk,
    /// Its place in the chunks given to [`embed_items`].
    pub index: usize,
    /// The text given to the model.
    pub text: String,
    /// Whether this is a document's lead rather than one section.
    pub lead: bool,
}

/// The texts a section is embedded as: its title, heading path and body, and when the
/// body is longer than one text, windows over the rest of it, each under the same title
/// and heading path, so every part of a long section can match.
pub fn chunk_texts(c: &Chunk) -> Vec<String> {
    let head = humanize(&format!("{}\n{}\n", c.title, c.section));
    let room = window_room(&head);
    let body = humanize(&c.body);
    let windows = windows(&body, room);
    windows
        .map(|(start, end)| clip(format!("{head}{}", &body[start..end]), SECTION_CHARS.max(room)))
        .collect()
}

/// Where in `c.body` the `k`th text of [`chunk_texts`] starts (0 past the last), so a hit
/// shows the part of the section that matched.
pub fn window_start(c: &Chunk, k: usize) -> usize {
    if k == 0 {
        return 0;
    }
    let room = window_room(&humanize(&format!("{}\n{}\n", c.title, c.section)));
    let mut source = Vec::new();
    let body = humanize_with(&c.body, Some(&mut source));
    let start = windows(&body, room).nth(k).map(|(start, _)| start);
    start.and_then(|at| source.get(at).copied()).unwrap_or(0)
}

/// Characters of body a window holds after its heading `head`.
fn window_room(head: &str) -> usize {
    SECTION_CHARS.saturating_sub(head.len()).max(SECTION_CHARS / 2)
}

/// Byte ranges of `body` that windows of `room` characters cover, cut at word breaks and
/// overlapping by [`WINDOW_OVERLAP`], at most [`MAX_WINDOWS`]; one (maybe empty) at least.
fn windows(body: &str, room: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut next = Some(0);
    std::iter::from_fn(move || {
        let start = next?;
        let end = word_end(body, start, start + room);
        next = (end < body.len())
            .then(|| word_start(body, end.saturating_sub(WINDOW_OVERLAP).max(start + 1)));
        Some((start, end))
    })
    .take(MAX_WINDOWS)
}

/// Where a window of `text` that starts at byte `from` ends if it may reach `at`: the last
/// word break in between (or `at`, or `text`'s end), on a char boundary.
fn word_end(text: &str, from: usize, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let mut at = at;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[from..at].rfind(char::is_whitespace).filter(|&i| i > 0).map_or(at, |i| from + i)
}

/// The start of the first word at or after byte `at` of `text`.
fn word_start(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    match text[at..].find(char::is_whitespace) {
        Some(i) => {
            let after = at + i;
            after + text[after..].len() - text[after..].trim_start().len()
        }
        None => at,
    }
}

/// Every text to embed for `chunks` (as [`super::chunks`] orders them: the sections of
/// one document together): each chunk, then the lead of each document of several
/// sections.
pub fn embed_items(chunks: &[Chunk]) -> Vec<EmbedItem<'_>> {
    let mut out = Vec::with_capacity(chunks.len() * 5 / 4);
    let mut at = 0;
    for doc in chunks.chunk_by(|a, b| a.doc_id == b.doc_id) {
        let index = at;
        at += doc.len();
        for (i, c) in doc.iter().enumerate() {
            out.extend(chunk_texts(c).into_iter().map(|text| EmbedItem {
                chunk: c,
                index: index + i,
                text,
                lead: false,
            }));
        }
        // A runbook is also embedded as the symptoms of the alerts it answers.
        if let Some(first) = doc.first()
            && !first.alert_text.is_empty()
        {
            let text = format!("{}\n{}", first.title, first.alert_text.join("\n"));
            out.push(EmbedItem {
                chunk: first,
                index,
                text: clip(humanize(&text), LEAD_CHARS),
                lead: true,
            });
        }
        if let [first, _, ..] = doc {
            let mut text = first.title.clone();
            for c in doc {
                let heading = c.section.rsplit(" > ").next().unwrap_or_default();
                let start: String = c.body.chars().take(LEAD_PER_SECTION).collect();
                text.push_str(&format!("\n{heading}: {start}"));
                if text.len() > 2 * LEAD_CHARS {
                    break;
                }
            }
            out.push(EmbedItem {
                chunk: first,
                index,
                text: clip(humanize(&text), LEAD_CHARS),
                lead: true,
            });
        }
    }
    out
}

/// The texts of [`embed_items`] with their chunk's place, made one document at a time:
/// a caller that reads them as they come never holds every text at once.
pub fn embed_texts_by_document(chunks: &[Chunk]) -> impl Iterator<Item = (usize, String)> + '_ {
    let docs = chunks.chunk_by(|a, b| a.doc_id == b.doc_id).scan(0, |at, doc| {
        *at += doc.len();
        Some((*at - doc.len(), doc))
    });
    docs.flat_map(|(base, doc)| {
        let items = embed_items(doc).into_iter();
        items.map(move |item| (base + item.index, item.text)).collect::<Vec<_>>()
    })
}

/// Cache key of a text under a model.
pub fn chunk_key(model: &str, text: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(model.as_bytes());
    h.update(&[0]);
    h.update(text.as_bytes());
    *h.finalize().as_bytes()
}

/// Text with template expressions dropped and identifiers split into words
/// (`NodeClockSkewDetected` → `Node Clock Skew Detected`, `pg_xid_wraparound` →
/// `pg xid wraparound`). Queries go through it too.
pub fn humanize(text: &str) -> String {
    humanize_with(text, None)
}

/// [`humanize`], filling `source` (when given) with the byte of `text` each byte of the
/// result comes from.
fn humanize_with(text: &str, mut source: Option<&mut Vec<usize>>) -> String {
    let chars = without_templates(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut push = |c: char, at: usize| {
        out.push(c);
        if let Some(source) = source.as_deref_mut() {
            source.extend(std::iter::repeat_n(at, c.len_utf8()));
        }
    };
    for (i, &(at, c)) in chars.iter().enumerate() {
        if c == '_' {
            push(' ', at);
            continue;
        }
        if let Some(prev) = i.checked_sub(1).map(|j| chars[j].1)
            && super::tokenizer::case_boundary(prev, c, chars.get(i + 1).map(|&(_, c)| c))
        {
            push(' ', at);
        }
        push(c, at);
    }
    out
}

/// The characters of `text` without template expressions (`{{ $labels.pod }}`), each
/// with its byte offset; an unclosed `{{` and what follows it stay.
fn without_templates(text: &str) -> Vec<(usize, char)> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while let Some(start) = text[at..].find("{{").map(|i| at + i) {
        out.extend(text[at..start].char_indices().map(|(i, c)| (at + i, c)));
        match text[start..].find("}}") {
            Some(end) => at = start + end + 2,
            None => {
                at = start;
                break;
            }
        }
    }
    out.extend(text[at..].char_indices().map(|(i, c)| (at + i, c)));
    out
}

fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_become_words_and_templates_go() {
        assert_eq!(humanize("NodeClockSkewDetected fired"), "Node Clock Skew Detected fired");
        assert_eq!(humanize("pg_xid_wraparound on HTTPServer"), "pg xid wraparound on HTTP Server");
        assert_eq!(humanize("etcdNoLeader"), "etcd No Leader");
        assert_eq!(humanize("pod {{ $labels.pod }} failed {{ $value"), "pod  failed {{ $value");
    }

    #[test]
    fn windows_cover_a_long_section_at_word_breaks() {
        let words: Vec<String> = (0..400).map(|i| format!("w{i}")).collect();
        let c = Chunk {
            title: "T".into(),
            section: "T > S".into(),
            body: words.join(" "),
            ..Chunk::default()
        };
        let texts = chunk_texts(&c);
        assert!(texts.len() > 2, "{} windows", texts.len());
        let mut seen = std::collections::BTreeSet::new();
        for t in &texts {
            assert!(t.len() <= SECTION_CHARS && t.starts_with("T\nT > S\n"), "{t}");
            // Whole words only: every token of the body part is one of the words.
            for w in t.lines().nth(2).unwrap_or_default().split(' ') {
                assert!(words.contains(&w.to_string()), "cut word {w:?}");
                seen.insert(w.to_string());
            }
        }
        assert_eq!(seen.len(), words.len(), "every word is in some window");
        // Each window's text is the body from where `window_start` says it starts.
        for (k, t) in texts.iter().enumerate() {
            let from = &c.body[window_start(&c, k)..];
            let first = t.lines().nth(2).unwrap_or_default().split(' ').next().unwrap();
            assert!(from.starts_with(first), "window {k}: {first} vs {}", &from[..20]);
        }
        assert_eq!(window_start(&c, texts.len()), 0);
        let short = Chunk { body: "one two".into(), ..c.clone() };
        assert_eq!(chunk_texts(&short), ["T\nT > S\none two"]);
        // No word break at all, in two-byte characters: windows end on char boundaries,
        // and there are at most MAX_WINDOWS of them.
        let solid = Chunk { body: "é".repeat(20_000), ..c };
        let texts = chunk_texts(&solid);
        assert_eq!(texts.len(), MAX_WINDOWS);
        assert!(texts.iter().all(|t| t.len() <= SECTION_CHARS && t.ends_with('é')));
    }

    #[test]
    fn a_window_start_is_found_in_the_text_before_it_was_humanized() {
        let body =
            format!("{}Node_clock {{{{ $labels.x }}}} ClockSkewDetected here", "word ".repeat(300));
        let c = Chunk { title: "T".into(), body: body.clone(), ..Chunk::default() };
        let mut source = Vec::new();
        let human = humanize_with(&body, Some(&mut source));
        assert_eq!(human, humanize(&body));
        let at = human.find("Skew").unwrap();
        assert_eq!(&body[source[at]..source[at] + 4], "Skew");
        let last = chunk_texts(&c).len() - 1;
        assert!(body[window_start(&c, last)..].ends_with("ClockSkewDetected here"));
    }

    #[test]
    fn documents_of_several_sections_get_a_lead() {
        let mk = |doc: &str, section: &str, body: &str| Chunk {
            doc_id: doc.into(),
            title: format!("{doc} title"),
            section: section.into(),
            body: body.into(),
            ..Chunk::default()
        };
        let chunks = vec![
            mk("a", "A > Meaning", "Clock skew detected."),
            mk("a", "A > Impact", "TLS breaks."),
            mk("b", "B", "One section only."),
        ];
        let items = embed_items(&chunks);
        let by_document: Vec<(usize, String)> = embed_texts_by_document(&chunks).collect();
        let whole: Vec<(usize, String)> = items.iter().map(|i| (i.index, i.text.clone())).collect();
        assert_eq!(by_document, whole);
        assert_eq!(items.len(), 4);
        let lead = items.iter().find(|i| i.lead).expect("a lead");
        assert_eq!(lead.chunk.doc_id, "a");
        assert_eq!(lead.text, "a title\nMeaning: Clock skew detected.\nImpact: TLS breaks.");
        assert!(items.iter().filter(|i| i.chunk.doc_id == "b").all(|i| !i.lead));
    }
}
