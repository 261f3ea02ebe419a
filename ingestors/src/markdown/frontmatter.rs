//! Front matter: YAML between `---` lines or TOML between `+++` lines at the top of a
//! Markdown file, flattened to string keys and values.
//!
//! Lists become their items joined with `", "` and nested tables become dotted keys
//! (`author.name`), so the rest of Lore sees one flat, ordered map. A block that does not
//! parse is reported with its line and dropped; the body is still read.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::util::yaml::{YamlDoc, scalar_text};

/// What was found at the top of a file.
#[derive(Debug, Default)]
pub(crate) struct FrontMatter {
    /// Flattened keys and values; empty when there is none or it did not parse.
    pub(crate) fields: BTreeMap<String, String>,
    /// Byte offset where the Markdown body starts.
    pub(crate) body_offset: usize,
    /// A problem with the block: 1-based line and message.
    pub(crate) problem: Option<(usize, String)>,
}

/// Splits and parses the front matter of `text`.
pub(crate) fn parse(text: &str) -> FrontMatter {
    let bom = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let Some((fence, first_line_len)) = opening(&text[bom..]) else {
        return FrontMatter { body_offset: bom, ..FrontMatter::default() };
    };
    let content_start = bom + first_line_len;
    let closers: &[&str] = if fence == "---" { &["---", "..."] } else { &["+++"] };
    let mut offset = content_start;
    let mut closing = None;
    for line in text[content_start..].split_inclusive('\n') {
        if closers.contains(&line.trim_end()) {
            closing = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((content_end, body_offset)) = closing else {
        return FrontMatter {
            body_offset: bom,
            problem: Some((1, format!("front matter opened with `{fence}` is never closed"))),
            ..FrontMatter::default()
        };
    };
    let content = &text[content_start..content_end];
    let parsed = if fence == "---" { parse_yaml(content) } else { parse_toml(content) };
    match parsed {
        Ok(fields) => FrontMatter { fields, body_offset, problem: None },
        Err((line_in_block, msg)) => FrontMatter {
            fields: BTreeMap::new(),
            body_offset,
            // The block's first line is file line 2.
            problem: Some((line_in_block + 1, msg)),
        },
    }
}

/// The fence (`---` or `+++`) on the first line and that line's length with its newline.
fn opening(text: &str) -> Option<(&'static str, usize)> {
    let first = text.split_inclusive('\n').next()?;
    match first.trim_end() {
        "---" => Some(("---", first.len())),
        "+++" => Some(("+++", first.len())),
        _ => None,
    }
}

/// Parses a YAML block; errors carry the 1-based line inside the block.
fn parse_yaml(content: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    if content.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let doc = YamlDoc { start_line: 1, text: content };
    let value =
        doc.parse().map_err(|(line, msg)| (line, format!("invalid YAML front matter: {msg}")))?;
    match value {
        Value::Mapping(map) => {
            let mut fields = BTreeMap::new();
            for (key, value) in &map {
                if let Some(key) = scalar_text(key) {
                    flatten_yaml(&key, value, &mut fields);
                }
            }
            Ok(fields)
        }
        Value::Null => Ok(BTreeMap::new()),
        _ => Err((1, "front matter is not a mapping of keys to values".to_string())),
    }
}

fn flatten_yaml(key: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Null => {}
        Value::Sequence(items) => {
            let texts: Vec<String> = items.iter().filter_map(yaml_inline).collect();
            out.insert(key.to_string(), texts.join(", "));
        }
        Value::Mapping(map) => {
            for (sub, value) in map {
                if let Some(sub) = scalar_text(sub) {
                    flatten_yaml(&format!("{key}.{sub}"), value, out);
                }
            }
        }
        Value::Tagged(tagged) => flatten_yaml(key, &tagged.value, out),
        scalar => {
            if let Some(text) = scalar_text(scalar) {
                out.insert(key.to_string(), text);
            }
        }
    }
}

/// A list item as text: scalars as they are, nested values in JSON-like flow form.
fn yaml_inline(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Tagged(tagged) => yaml_inline(&tagged.value),
        other => scalar_text(other).or_else(|| serde_json::to_string(other).ok()),
    }
}

/// Parses a TOML block; errors carry the 1-based line inside the block.
fn parse_toml(content: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let table: toml::Table = toml::from_str(content).map_err(|err| {
        let line = err.span().map_or(1, |span| line_of_offset(content, span.start));
        (line, format!("invalid TOML front matter: {}", err.message().trim()))
    })?;
    let mut fields = BTreeMap::new();
    for (key, value) in &table {
        flatten_toml(key, value, &mut fields);
    }
    Ok(fields)
}

fn flatten_toml(key: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (sub, value) in table {
                flatten_toml(&format!("{key}.{sub}"), value, out);
            }
        }
        toml::Value::Array(items) => {
            let texts: Vec<String> = items.iter().map(toml_inline).collect();
            out.insert(key.to_string(), texts.join(", "));
        }
        scalar => {
            out.insert(key.to_string(), toml_inline(scalar));
        }
    }
}

fn toml_inline(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders what [`parse`] found: fields as `key=value`, the problem as `problem N: msg`,
    /// and the body's first line.
    fn check(text: &str) -> Vec<String> {
        let fm = parse(text);
        let mut res: Vec<String> = fm.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Some((line, msg)) = &fm.problem {
            res.push(format!("problem {line}: {msg}"));
        }
        res.push(format!("body: {}", text[fm.body_offset..].lines().next().unwrap_or("")));
        res
    }

    #[test]
    fn yaml_front_matter_is_flattened() {
        let text = "---\ntitle: \"EVE: boot.ini\"\nstart_time: 2007-12-05T22:04:00Z\nkeywords:\n- a\n- b c\nauthor:\n  name: x\nweight: 20\nempty:\n---\n\n# Body\n";
        assert_eq!(
            check(text),
            [
                "author.name=x",
                "keywords=a, b c",
                "start_time=2007-12-05T22:04:00Z",
                "title=EVE: boot.ini",
                "weight=20",
                "body: ",
            ]
        );
    }

    #[test]
    fn toml_front_matter_is_flattened() {
        let text = "+++\ntitle = \"Disk full\"\nalerts = [\"DiskFull\", \"DiskAlmostFull\"]\ndate = 2021-03-04\n[owner]\nteam = \"storage\"\n+++\nbody\n";
        assert_eq!(
            check(text),
            [
                "alerts=DiskFull, DiskAlmostFull",
                "date=2021-03-04",
                "owner.team=storage",
                "title=Disk full",
                "body: body",
            ]
        );
    }

    #[test]
    fn malformed_front_matter_is_a_problem_with_its_line() {
        let res = check("---\ntitle: a\nbad: [unclosed\nmore: x\n---\n# Body\n");
        assert_eq!(res.len(), 2, "{res:?}");
        assert!(res[0].starts_with("problem 4: invalid YAML front matter"), "{res:?}");
        assert_eq!(res[1], "body: # Body");

        let res = check("+++\ntitle = \"a\"\noops\n+++\nx\n");
        assert!(res[0].starts_with("problem 3: invalid TOML front matter"), "{res:?}");

        let res = check("---\n- a\n- b\n---\nx\n");
        assert_eq!(res, ["problem 2: front matter is not a mapping of keys to values", "body: x"]);

        let res = check("---\ntitle: a\n\n# never closed\n");
        assert_eq!(res, ["problem 1: front matter opened with `---` is never closed", "body: ---"]);
    }

    #[test]
    fn no_front_matter() {
        assert_eq!(check("# Title\n---\n"), ["body: # Title"]);
        assert_eq!(check(""), ["body: "]);
        assert_eq!(check("\u{feff}---\na: 1\n---\nx"), ["a=1", "body: x"]);
    }
}
