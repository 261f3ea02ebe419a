//! What is embedded for each chunk, and its cache key.
//!
//! Each section is embedded as its title, heading path and body; a document of several
//! sections also as its lead (title and the start of every section), so it can match as
//! a whole; a runbook also as its title and the symptom text of the alerts it answers. Identifiers are split into words and template expressions dropped, because
//! the model's vocabulary knows words, not `NodeClockSkewDetected` or `{{ $labels.pod }}`.
//! Changing any of this changes the texts, so the next ingest embeds them again.

use super::Chunk;

/// Characters of a section that are embedded (the model reads at most 256 tokens).
const SECTION_CHARS: usize = 600;
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

/// The text a section is embedded as.
pub fn chunk_text(c: &Chunk) -> String {
    clip(humanize(&format!("{}\n{}\n{}", c.title, c.section, c.body)), SECTION_CHARS)
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
        let items = doc.iter().enumerate().map(|(i, c)| EmbedItem {
            chunk: c,
            index: index + i,
            text: chunk_text(c),
            lead: false,
        });
        out.extend(items);
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
    let text = without_templates(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            out.push(' ');
            continue;
        }
        if let Some(prev) = i.checked_sub(1).map(|j| chars[j])
            && super::tokenizer::case_boundary(prev, c, chars.get(i + 1).copied())
        {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Text without template expressions (`{{ $labels.pod }}`).
fn without_templates(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
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
