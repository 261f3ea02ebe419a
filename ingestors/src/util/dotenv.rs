//! `.env` files and `${VAR}` interpolation as docker compose does it.

use std::collections::BTreeMap;

/// Parses a `.env` file: `KEY=value` lines, `#` comments, optional quotes, `export `
/// prefixes; values may use `${OTHER}` defined earlier in the file.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, raw)) = line.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let raw = raw.trim();
        let value = if let Some(inner) =
            raw.strip_prefix('"').and_then(|r| r.rsplit_once('"')).map(|(v, _)| v)
        {
            inner.to_string()
        } else if let Some(inner) =
            raw.strip_prefix('\'').and_then(|r| r.rsplit_once('\'')).map(|(v, _)| v)
        {
            inner.to_string()
        } else {
            // An unquoted value ends at ` #` (an inline comment).
            raw.split(" #").next().unwrap_or("").trim().to_string()
        };
        let value = interpolate(&value, &vars);
        vars.insert(key.to_string(), value);
    }
    vars
}

/// Replaces `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}` and `$VAR`
/// with values from `vars`; unknown variables become empty (or their default), as in
/// compose. `$$` is a literal `$`.
pub fn interpolate(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(idx) = rest.find('$') {
        out.push_str(&rest[..idx]);
        let after = &rest[idx + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = matching_brace(body) else {
                out.push_str(&rest[idx..]);
                return out;
            };
            let expr = &body[..end];
            out.push_str(&expand(expr, vars));
            rest = &body[end + 1..];
        } else {
            let len = after
                .char_indices()
                .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
                .map_or(after.len(), |(i, _)| i);
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(vars.get(&after[..len]).map_or("", String::as_str));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text` uses a `${VAR}` or `$VAR` that `vars` leaves unset and gives no default,
/// so that [`interpolate`] would put an empty string in its place.
pub fn has_unset(text: &str, vars: &BTreeMap<String, String>) -> bool {
    let mut rest = text;
    while let Some(idx) = rest.find('$') {
        let after = &rest[idx + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            rest = escaped;
            continue;
        }
        let body = after.strip_prefix('{').unwrap_or(after);
        let len =
            body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
        let has_default = body[len..].starts_with(":-") || body[len..].starts_with('-');
        if len > 0 && !has_default && !vars.contains_key(&body[..len]) {
            return true;
        }
        rest = &body[len..];
    }
    false
}

/// What is wrong with the `${...}` interpolations of `text`: an unclosed `${`, an empty
/// `${}`, a name that is not a variable name. Empty when every one is well formed.
pub fn interpolation_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(idx) = rest.find('$') {
        let after = &rest[idx + 1..];
        if let Some(escaped) = after.strip_prefix('$') {
            rest = escaped;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            rest = after;
            continue;
        };
        let Some(end) = matching_brace(body) else {
            let shown: String = rest[idx..].chars().take(40).collect();
            problems.push(format!("malformed interpolation `{shown}`: `${{` is never closed"));
            break;
        };
        let expr = &body[..end];
        let name_len =
            expr.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(expr.len());
        let op = &expr[name_len..];
        if name_len == 0 {
            problems.push(format!("malformed interpolation `${{{expr}}}`: no variable name"));
        } else if !op.is_empty()
            && !["-", ":-", "?", ":?", "+", ":+"].iter().any(|o| op.starts_with(o))
        {
            problems
                .push(format!("malformed interpolation `${{{expr}}}`: `{op}` is not an operator"));
        }
        rest = &body[end + 1..];
    }
    problems
}

/// Lines of a `.env` text that are not `KEY=value` (1-based line, reason).
pub fn problems(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, raw)) = line.split_once('=') else {
            out.push((idx + 1, "not a KEY=value line".to_string()));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push((idx + 1, format!("`{key}` is not a variable name")));
            continue;
        }
        out.extend(interpolation_problems(raw).into_iter().map(|p| (idx + 1, p)));
    }
    out
}

fn matching_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand(expr: &str, vars: &BTreeMap<String, String>) -> String {
    let name_len = expr
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(expr.len(), |(i, _)| i);
    let (name, op) = expr.split_at(name_len);
    let value = vars.get(name).map(String::as_str);
    let (unset_or_empty, default) = if let Some(d) = op.strip_prefix(":-") {
        (true, Some(d))
    } else if let Some(d) = op.strip_prefix('-') {
        (false, Some(d))
    } else {
        (false, None)
    };
    match (value, default) {
        (Some(v), Some(d)) if unset_or_empty && v.is_empty() => interpolate(d, vars),
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => interpolate(d, vars),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_and_interpolation() {
        let vars = parse(
            "# c\nHOST=cart\nPORT=7070 # inline\nADDR=${HOST}:${PORT}\nQ=\"a b\"\nexport E='x'\n",
        );
        assert_eq!(vars["ADDR"], "cart:7070");
        assert_eq!(vars["Q"], "a b");
        assert_eq!(vars["E"], "x");
        assert_eq!(interpolate("http://${ADDR}/x", &vars), "http://cart:7070/x");
        assert_eq!(interpolate("${NOPE:-def}-$HOST-$$", &vars), "def-cart-$");
        assert_eq!(interpolate("${NOPE}", &vars), "");
        assert!(!has_unset("${HOST}:$PORT/${NOPE:-x}/${NOPE-y}/$$NOPE", &vars));
        assert!(has_unset("${NAMESPACE}/api", &vars) && has_unset("a-$NOPE", &vars));
    }
}
