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
    docs.retain(|doc| doc.text.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')));
    docs
}

impl YamlDoc<'_> {
    /// Parses the document; an error carries the file line it happened at.
    pub fn parse(&self) -> Result<Value, (usize, String)> {
        serde_yaml::from_str(self.text).map_err(|err| {
            let line = err.location().map_or(self.start_line, |loc| self.start_line + loc.line() - 1);
            (line, yaml_error_message(&err))
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

/// The items of a sequence at `value`, or nothing.
pub fn seq(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_sequence).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
