//! YAML documents with line numbers.
//!
//! serde_yaml values carry no positions, so a file is split into documents with their
//! starting lines, and [`YamlDoc::line_of`] finds the line of a key or value inside a
//! document by text, starting from a hint, for evidence locators.

use serde_yaml::Value;

/// One YAML document of a file.
#[derive(Debug)]
pub struct YamlDoc<'a> {
    /// 1-based line of the document's first line in the file.
    pub start_line: usize,
    /// The document's text.
    pub text: &'a str,
}

/// Deepest nesting a document may have (flow brackets plus block indentation levels).
pub const MAX_DEPTH: usize = 100;

/// The first line (1-based) where `text` nests deeper than [`MAX_DEPTH`], with the depth
/// there: flow collections (`[`, `{` outside quotes and comments) plus block levels
/// (distinct indentations open above the line, `- ` items counting as a level). One pass.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (idx, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        if flow == 0 && !body.is_empty() && !body.starts_with('#') {
            let mut indent = line.len() - body.len();
            let mut rest = body;
            // Each `- ` of a compact sequence (`- - - x`) opens a level too.
            let mut levels = Vec::new();
            while let Some(after) = rest.strip_prefix("- ") {
                levels.push(indent);
                indent += 2 + after.len() - after.trim_start_matches(' ').len();
                rest = after.trim_start_matches(' ');
            }
            levels.push(indent);
            while indents.last().is_some_and(|&i| i >= levels[0]) {
                indents.pop();
            }
            indents.extend(levels);
        }
        let (mut quote, mut prev, mut deepest) = (None, ' ', flow);
        for c in line.chars() {
            match (quote, c) {
                (None, '#') if prev == ' ' => break,
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '[' | '{') => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
        let depth = indents.len() + deepest;
        if depth > MAX_DEPTH {
            return Some((idx + 1, depth));
        }
    }
    None
}

/// Splits a multi-document YAML file on `---` separator lines.
pub fn split_documents(text: &str) -> Vec<YamlDoc<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") || trimmed == "..." {
            docs.push(YamlDoc { start_line, text: &text[start..offset] });
            start = offset + line.len();
            start_line = idx + 2;
        }
        offset += line.len();
    }
    docs.push(YamlDoc { start_line, text: &text[start..] });
    docs.retain(|doc| {
        doc.text.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

impl YamlDoc<'_> {
    /// Parses the document; an error carries the file line it happened at. Nesting
    /// deeper than [`MAX_DEPTH`] is refused before parsing, in one linear pass.
    pub fn parse(&self) -> Result<Value, (usize, String)> {
        if let Some((line, depth)) = too_deep(self.text) {
            return Err((
                self.start_line + line - 1,
                format!("nesting deeper than {MAX_DEPTH} levels ({depth} at this line)"),
            ));
        }
        serde_yaml::from_str(self.text).map_err(|err| {
            // An error at the end of a text without a final newline (an unclosed block, a
            // missing `:`) is marked one line past its last: name a line that exists.
            let lines = self.text.lines().count().max(1) + usize::from(self.text.ends_with('\n'));
            let last = self.start_line + lines - 1;
            let line =
                err.location().map_or(self.start_line, |loc| self.start_line + loc.line() - 1);
            (line.min(last), yaml_error_message(&err))
        })
    }

    /// File line of the first line at or after `from` (a file line) containing `needle`;
    /// falls back to `from`.
    pub fn line_of(&self, needle: &str, from: usize) -> usize {
        let skip = from.saturating_sub(self.start_line);
        self.text
            .lines()
            .enumerate()
            .skip(skip)
            .find(|(_, line)| line.contains(needle))
            .map_or(from.max(self.start_line), |(idx, _)| self.start_line + idx)
    }
}

/// A line directly inside a block: a mapping key or a sequence item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The key of `key: value`, or the text of a `- item` without quotes or comment.
    pub head: String,
    /// Whether the line is a sequence item.
    pub item: bool,
    /// 1-based file line.
    pub line: usize,
}

impl YamlDoc<'_> {
    /// The keys or items directly inside the block opened at file line `parent` (the
    /// document's top level when `None`), in order. Flow collections (`[a, b]`) and
    /// anchors have no children here; callers fall back to the parent's line.
    pub fn children(&self, parent: Option<usize>) -> Vec<Child> {
        let lines: Vec<&str> = self.text.lines().collect();
        let (first, parent_indent, parent_is_key) = match parent {
            Some(line) => {
                let Some(text) = line.checked_sub(self.start_line).and_then(|i| lines.get(i))
                else {
                    return Vec::new();
                };
                let code = strip_comment(text.trim());
                let is_key = !code.starts_with('-') && code.ends_with(':');
                (line - self.start_line + 1, Some(indent(text)), is_key)
            }
            None => (0, None, false),
        };
        let mut child_indent = None;
        let mut children = Vec::new();
        for (idx, text) in lines.iter().enumerate().skip(first) {
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let ind = indent(text);
            let is_item = trimmed == "-" || trimmed.starts_with("- ");
            if let Some(p) = parent_indent {
                // `key:` may hold a sequence written at its own indentation.
                let same_level_item = ind == p && is_item && parent_is_key;
                if ind < p
                    || (ind == p && !(same_level_item && child_indent.is_none_or(|c| c == p)))
                {
                    break;
                }
            }
            let level = *child_indent.get_or_insert(ind);
            if ind < level {
                break;
            }
            // In a mapping, items at the keys' indentation belong to the key above them.
            let in_mapping = children.first().is_some_and(|c: &Child| !c.item);
            if ind == level && !(is_item && in_mapping) {
                children.push(child(trimmed, self.start_line + idx));
            }
        }
        children
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// `code # comment` → `code`, outside quotes.
fn strip_comment(text: &str) -> &str {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return text[..i].trim_end(),
            _ => {}
        }
        prev = c;
    }
    text
}

fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

fn child(trimmed: &str, line: usize) -> Child {
    let (item, body) = match trimmed.strip_prefix('-') {
        Some(rest) if rest.is_empty() || rest.starts_with(' ') => (true, rest.trim()),
        _ => (false, trimmed),
    };
    let body = strip_comment(body);
    let head = if item {
        unquote(body)
    } else {
        let quoted = body.chars().next().filter(|c| matches!(c, '"' | '\''));
        match quoted.and_then(|q| body[1..].find(q)) {
            Some(end) => &body[1..1 + end],
            None => body.find(": ").map_or(body.strip_suffix(':').unwrap_or(body), |i| &body[..i]),
        }
    };
    Child { head: head.trim().to_string(), item, line }
}

/// The non-empty documents of `docs` that parse, with their values; a document that does
/// not parse becomes an Error diagnostic at its line and the others go on.
pub fn parse_documents<'d, 'a>(
    docs: &'d [YamlDoc<'a>],
    out: &mut crate::Emitter,
) -> Vec<(&'d YamlDoc<'a>, Value)> {
    let mut parsed = Vec::new();
    for doc in docs {
        match doc.parse() {
            Ok(Value::Null) => {}
            Ok(value) => parsed.push((doc, value)),
            Err((line, msg)) => {
                out.diagnostic(crate::Severity::Error, line, format!("invalid YAML: {msg}"))
            }
        }
    }
    parsed
}

/// serde_yaml's message without its trailing position (the locator already has the line).
pub fn yaml_error_message(err: &serde_yaml::Error) -> String {
    let msg = err.to_string();
    match msg.find(" at line ") {
        Some(idx) => msg[..idx].to_string(),
        None => msg,
    }
}

/// `value[key]` as a string, for string, number and bool scalars.
pub fn str_at<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// A scalar rendered as text (strings as they are, numbers and bools printed).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A mapping of string keys to scalar values (labels, selectors, env maps).
pub fn string_map(value: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    let mut map = std::collections::BTreeMap::new();
    if let Some(Value::Mapping(m)) = value {
        for (k, v) in m {
            if let (Some(k), Some(v)) = (scalar_text(k), scalar_text(v)) {
                map.insert(k, v);
            }
        }
    }
    map
}

/// Walks `path` of mapping keys.
pub fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// What a value is, for messages: `a list`, `a number (5)`, ...
pub fn type_name(value: &Value) -> String {
    match value {
        Value::Null => "empty".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", s.chars().take(40).collect::<String>()),
        Value::Sequence(_) => "a list".to_string(),
        Value::Mapping(_) => "a mapping".to_string(),
        Value::Tagged(_) => "a tagged value".to_string(),
    }
}

/// The items of a sequence at `value`, or nothing.
pub fn seq(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_sequence).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_at_the_end_names_a_line_that_exists() {
        // serde_yaml marks this one line past the last (found by the property tests).
        let doc = YamlDoc { start_line: 10, text: "a: 1\nb" };
        let (line, msg) = doc.parse().unwrap_err();
        assert_eq!((line, msg.as_str()), (11, "could not find expected ':'"));
    }

    #[test]
    fn deep_nesting_is_refused_in_linear_time() {
        let flow = format!("a: {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
        let started = std::time::Instant::now();
        let (line, msg) = split_documents(&flow)[0].parse().unwrap_err();
        assert_eq!(line, 1);
        assert!(msg.contains("nesting deeper than 100"), "{msg}");
        let block: String = (0..30_000).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert!(split_documents(&block)[0].parse().unwrap_err().1.contains("nesting"));
        let items = format!("{}x\n", "- ".repeat(20_000));
        assert!(split_documents(&items)[0].parse().unwrap_err().1.contains("nesting"));
        assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
        let fine = "a:\n  b: [1, {c: \"[[[[\"}]\n  d:\n    - - e\n";
        assert!(split_documents(fine)[0].parse().is_ok());
    }

    #[test]
    fn documents_keep_their_lines() {
        let text = "a: 1\n---\n# c\nb: 2\nc: [\n---\nd: 4\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].start_line, 3);
        assert_eq!(docs[1].line_of("c:", 3), 5);
        let (line, msg) = docs[1].parse().unwrap_err();
        assert!(line >= 5, "{line} {msg}");
        assert_eq!(docs[2].start_line, 7);
        assert_eq!(docs[2].parse().unwrap()["d"].as_u64(), Some(4));
    }

    #[test]
    fn children_are_keys_and_items_with_lines() {
        let text = "x: 1\nservices:\n  # c\n  a:\n    environment:\n    - A=1 # note\n    - \"B\"\n    deps: [c]\n  'b': {}\n---\nk:\n- i\n- j:\n    deep: 1\nz: 2\n";
        let docs = split_documents(text);
        let heads = |doc: &YamlDoc<'_>, parent| -> Vec<(String, bool, usize)> {
            doc.children(parent).into_iter().map(|c| (c.head, c.item, c.line)).collect()
        };
        let s = |h: &str, i, l| (h.to_string(), i, l);
        assert_eq!(heads(&docs[0], None), [s("x", false, 1), s("services", false, 2)]);
        assert_eq!(heads(&docs[0], Some(2)), [s("a", false, 4), s("b", false, 9)]);
        assert_eq!(heads(&docs[0], Some(4)), [s("environment", false, 5), s("deps", false, 8)]);
        assert_eq!(heads(&docs[0], Some(5)), [s("A=1", true, 6), s("B", true, 7)]);
        assert_eq!(heads(&docs[0], Some(8)), []);
        assert_eq!(heads(&docs[1], Some(11)), [s("i", true, 12), s("j:", true, 13)]);
        assert_eq!(heads(&docs[1], Some(13)), [s("deep", false, 14)]);
        assert_eq!(heads(&docs[1], Some(99)), []);
    }
}
