//! The `ENV` a Dockerfile sets in the image it builds: what an `envsubst` template
//! copied into that image (the nginx image's `*.template` files) is filled in with.

use std::collections::BTreeMap;

/// The variables the `ENV` instructions of a Dockerfile set (the last stage's last value
/// wins, as the final image has them): `ENV KEY=value KEY2="two words"` and the legacy
/// `ENV KEY value`, continued over lines ending in `\`; `${OTHER}` set earlier is
/// interpolated.
pub fn env(text: &str) -> BTreeMap<String, String> {
    env_lines(text).into_iter().map(|(k, v, _)| (k, v)).collect()
}

/// [`env`] as `(key, value, line)` in order, each key once (its last value, at the line of
/// the instruction that set it).
pub fn env_lines(text: &str) -> Vec<(String, String, usize)> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    // Each key in the order first set, with the line that set it last.
    let mut set_at: Vec<(String, usize)> = Vec::new();
    for (line, instruction) in instructions(text) {
        let mut words = instruction.splitn(2, char::is_whitespace);
        let (Some(op), Some(rest)) = (words.next(), words.next()) else { continue };
        if op.eq_ignore_ascii_case("FROM") {
            // A new stage starts from another image's environment, not this one's.
            vars.clear();
            set_at.clear();
            continue;
        }
        if !op.eq_ignore_ascii_case("ENV") {
            continue;
        }
        let rest = rest.trim();
        let pairs = split_words(rest);
        let mut set = |k: &str, v: &str| {
            let v = super::dotenv::interpolate(v, &vars);
            vars.insert(k.to_string(), v);
            match set_at.iter_mut().find(|(key, _)| key == k) {
                Some(at) => at.1 = line,
                None => set_at.push((k.to_string(), line)),
            }
        };
        if pairs.first().is_some_and(|w| w.contains('=')) {
            for pair in &pairs {
                if let Some((k, v)) = pair.split_once('=') {
                    set(k, v);
                }
            }
        } else if let Some((k, v)) = rest.split_once(char::is_whitespace) {
            set(k, unquote(v.trim()));
        }
    }
    set_at.into_iter().filter_map(|(k, line)| vars.remove(&k).map(|v| (k, v, line))).collect()
}

/// Instructions with their first line (1-based) and continuation lines joined,
/// comments left out.
fn instructions(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut first = 0;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || current.is_empty() && trimmed.is_empty() {
            continue;
        }
        if current.is_empty() {
            first = i + 1;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push((first, std::mem::take(&mut current)));
            }
        }
    }
    if !current.trim().is_empty() {
        out.push((first, current));
    }
    out
}

/// Words split on whitespace outside double or single quotes, quotes removed.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn unquote(text: &str) -> &str {
    let quoted = |q: char| text.len() >= 2 && text.starts_with(q) && text.ends_with(q);
    if quoted('"') || quoted('\'') { &text[1..text.len() - 1] } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_of_the_final_stage_in_both_forms() {
        let text = "FROM alpine AS build\nENV SKIP=1\n\nFROM nginx:1.21\n# hosts\nENV CATALOGUE_HOST=catalogue \\\n    USER_HOST=\"user\" \\\n    URL=http://${USER_HOST}:8080\nENV LEGACY value with spaces\nRUN echo ENV NOT=this\n";
        let vars = env(text);
        assert_eq!(vars.get("SKIP"), None);
        assert_eq!(vars["CATALOGUE_HOST"], "catalogue");
        assert_eq!(vars["USER_HOST"], "user");
        assert_eq!(vars["URL"], "http://user:8080");
        assert_eq!(vars["LEGACY"], "value with spaces");
        assert!(!vars.contains_key("NOT"));
        let lines: Vec<(String, usize)> =
            env_lines(text).into_iter().map(|(k, _, line)| (k, line)).collect();
        assert_eq!(lines[0], ("CATALOGUE_HOST".to_string(), 6));
        assert_eq!(lines.last(), Some(&("LEGACY".to_string(), 9)));
    }
}
