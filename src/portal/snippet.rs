//! Search snippets as HTML: the API wraps matched words in `**`; the portal shows them
//! as `<mark>`, escaping the text first, widening a mark that starts or ends inside a
//! word to the whole word (an identifier split into parts), and never showing `**`.

use super::html::esc;

/// `snippet` (matches wrapped in `**`) as safe HTML with `<mark>`s.
pub(crate) fn to_html(snippet: &str) -> String {
    let (plain, marks) = parse(snippet);
    let mut out = String::with_capacity(plain.len() + 16 * marks.len());
    let mut at = 0;
    for (start, end) in widen(&plain, marks) {
        out.push_str(&esc(&plain[at..start]));
        out.push_str("<mark>");
        out.push_str(&esc(&plain[start..end]));
        out.push_str("</mark>");
        at = end;
    }
    out.push_str(&esc(&plain[at..]));
    out
}

/// Whether the snippet highlights any word.
pub(crate) fn has_marks(snippet: &str) -> bool {
    !parse(snippet).1.is_empty()
}

/// The text without markers, and the byte ranges that were marked.
fn parse(snippet: &str) -> (String, Vec<(usize, usize)>) {
    let mut plain = String::with_capacity(snippet.len());
    let mut marks = Vec::new();
    let mut open: Option<usize> = None;
    let mut rest = snippet;
    while let Some(i) = rest.find("**") {
        plain.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match open {
            None if after.chars().next().is_some_and(|c| !c.is_whitespace() && c != '*') => {
                open = Some(plain.len());
            }
            Some(start) if plain.len() > start && !plain.ends_with(char::is_whitespace) => {
                marks.push((start, plain.len()));
                open = None;
            }
            // A stray `**` (Markdown bold in the text, an empty mark): dropped.
            _ => {}
        }
        rest = after;
    }
    plain.push_str(rest);
    (plain, marks)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Ranges widened to whole words, merged where they touch.
fn widen(plain: &str, marks: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (mut start, mut end) in marks {
        while let Some(c) = plain[..start].chars().next_back().filter(|&c| is_word(c)) {
            start -= c.len_utf8();
        }
        while let Some(c) = plain[end..].chars().next().filter(|&c| is_word(c)) {
            end += c.len_utf8();
        }
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(snippet: &str, expected: &str) {
        assert_eq!(to_html(snippet), expected);
    }

    #[test]
    fn marks_whole_words_and_escapes_first() {
        check("the **card** processor", "the <mark>card</mark> processor");
        check("Kube**Pod**CrashLooping fires", "<mark>KubePodCrashLooping</mark> fires");
        check("**a** <script>", "<mark>a</mark> &lt;script&gt;");
        check("<b>**x&y**</b>", "&lt;b&gt;<mark>x&amp;y</mark>&lt;/b&gt;");
        check("a ** b **", "a  b ");
        check("**open only", "open only");
        check("**one** **two**", "<mark>one</mark> <mark>two</mark>");
        check("ünï**cö**de", "<mark>ünïcöde</mark>");
        assert!(!has_marks("no ** marks"));
    }
}
