//! Secret redaction: free text is scrubbed before anything is stored or indexed.
//!
//! Every record the store writes passes [`record`] (`Store::apply_source`,
//! `Store::upsert_records`), and the writes that echo what they stored (events, notes,
//! feedback) redact before building their answer. A secret becomes `[redacted:<kind>]`;
//! the context around it stays, so a runbook still reads "export VAULT_ADDR and use
//! [redacted:vault_token] to unseal".
//!
//! What counts as a secret, in this order (earlier rules win where two overlap):
//! 1. known formats: PEM private key blocks, JWTs, AWS access key ids and secret keys,
//!    GCP API keys and OAuth tokens, Azure storage keys, SAS signatures and client
//!    secrets, GitHub, GitLab, Slack (tokens and webhook URLs), Stripe, Vault, npm and
//!    OpenAI-style tokens;
//! 2. the password of a URL's userinfo (`postgres://user:PASSWORD@host`);
//! 3. `Bearer`/`Basic` credentials of an `Authorization` header;
//! 4. assignments to a secret-ish name (`password=…`, `client_secret: …`,
//!    `"api_key": "…"`, `?access_token=…`): after `=` any value of 3+ characters, after
//!    `:` a value that looks like a secret (mixed character classes, or 16+ characters);
//! 5. a high-entropy word (20+ characters, letters and digits, over 3.5 bits per
//!    character) within 48 characters after a secret-ish word ("the signing key is …").
//!
//! Placeholders are left alone (`${DB_PASSWORD}`, `{{ .Values.token }}`, `<token>`,
//! `$TOKEN`, `****`), and so is text already redacted: redacting twice changes nothing.

use std::sync::OnceLock;

use lore_schema::{ChangeEvent, Document, Entity, Record};
use regex::{Captures, Regex, RegexSet};

/// How one rule finds a secret: the regex and which group is the secret (0: all of it).
struct Rule {
    kind: &'static str,
    re: Regex,
    group: usize,
    check: Check,
}

/// What a match must satisfy to be redacted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Any match.
    Always,
    /// Not a placeholder.
    NotPlaceholder,
    /// An assignment's value: the separator decides how strict (see the module docs).
    Assignment,
}

const SECRET_WORDS: &str = r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signing[_-]?key|credentials?|auth[_-]?key)";

fn rules() -> &'static (Vec<Rule>, RegexSet) {
    static RULES: OnceLock<(Vec<Rule>, RegexSet)> = OnceLock::new();
    RULES.get_or_init(|| {
        let table: &[(&str, &str, usize, Check)] = &[
            (
                "private_key",
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)",
                0,
                Check::Always,
            ),
            ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", 0, Check::Always),
            (
                "aws_access_key",
                r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16}\b",
                0,
                Check::Always,
            ),
            (
                "aws_secret_key",
                r#"(?i)(aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?)([A-Za-z0-9/+]{40})"#,
                2,
                Check::Always,
            ),
            ("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}", 0, Check::Always),
            ("gcp_oauth_token", r"\bya29\.[0-9A-Za-z_-]{20,}", 0, Check::Always),
            ("azure_storage_key", r"(?i)(AccountKey=)([A-Za-z0-9+/]{40,}={0,2})", 2, Check::Always),
            ("azure_sas", r"(?i)([?&;]sig=)([A-Za-z0-9%+/=]{20,})", 2, Check::Always),
            (
                "azure_client_secret",
                r"\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",
                0,
                Check::Always,
            ),
            ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})", 0, Check::Always),
            (
                "gitlab_token",
                r"\bgl(?:pat|dt|rt|ptt|oas|cbt|imt|ft|soat|agent)-[A-Za-z0-9_-]{20,}",
                0,
                Check::Always,
            ),
            ("slack_token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}", 0, Check::Always),
            (
                "slack_webhook",
                r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)([A-Za-z0-9/_-]+)",
                2,
                Check::Always,
            ),
            ("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{24,}", 0, Check::Always),
            ("vault_token", r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}|\bs\.[A-Za-z0-9]{24}\b", 0, Check::Always),
            ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", 0, Check::Always),
            ("api_key", r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}", 0, Check::Always),
            (
                "url_password",
                r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:)([^\s/@]+)(@)",
                2,
                Check::NotPlaceholder,
            ),
            (
                "bearer_token",
                r"(?i)(\bbearer\s+|authorization:\s*basic\s+)([A-Za-z0-9._~+/-]{12,}=*)",
                2,
                Check::NotPlaceholder,
            ),
        ];
        let mut rules: Vec<Rule> = table
            .iter()
            .map(|(kind, re, group, check)| Rule {
                kind,
                re: Regex::new(re).expect("redaction patterns are valid"),
                group: *group,
                check: *check,
            })
            .collect();
        let assignment = format!(
            r#"(?i)(\b[A-Za-z0-9_.-]*{SECRET_WORDS}(?:s|[_.-][A-Za-z0-9_.-]*)?["']?\s*([:=])\s*["']?)([^\s"'&,;<>()\[\]{{}}`]+)"#
        );
        rules.push(Rule {
            kind: "assignment",
            re: Regex::new(&assignment).expect("redaction patterns are valid"),
            group: 3,
            check: Check::Assignment,
        });
        let set = RegexSet::new(rules.iter().map(|r| r.re.as_str()))
            .expect("redaction patterns are valid");
        (rules, set)
    })
}

fn secret_word() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(r"(?i){SECRET_WORDS}|\bkey\b")).expect("redaction patterns are valid")
    })
}

fn candidate_word() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[A-Za-z0-9+/_=-]{20,}").expect("redaction patterns are valid"))
}

/// Whether `value` stands for a secret rather than being one.
fn placeholder(value: &str) -> bool {
    let v = value.trim_matches(|c| c == '"' || c == '\'');
    v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.starts_with('%')
        || v.starts_with("[redacted")
        || v.chars().all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
}

/// Whether an assignment's value after `sep` is redacted.
fn assigned_secret(value: &str, sep: &str) -> bool {
    if placeholder(value) || value.chars().count() < 3 {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if ["true", "false", "null", "none", "yes", "no", "required", "optional", "redacted"]
        .contains(&lower.as_str())
    {
        return false;
    }
    if sep == "=" {
        return true;
    }
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    let n_classes = classes.iter().filter(|c| **c).count();
    let capitalised_word = value.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && value.chars().skip(1).all(|c| c.is_ascii_lowercase());
    value.chars().count() >= 16
        || (value.chars().count() >= 6 && n_classes >= 2 && !capitalised_word)
}

/// Shannon entropy of `s`, in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|c| **c > 0).map(|c| *c as f64 / n).map(|p| -p * p.log2()).sum()
}

fn placeholder_for(kind: &str) -> String {
    format!("[redacted:{kind}]")
}

/// `text` with its secrets redacted, and how many there were.
pub fn text(text: &str) -> (String, usize) {
    let (rules, set) = rules();
    let mut out = text.to_string();
    let mut count = 0;
    let matched: Vec<usize> = set.matches(text).into_iter().collect();
    for idx in matched {
        let rule = &rules[idx];
        let replaced = rule.re.replace_all(&out, |caps: &Captures<'_>| {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            let Some(secret) = caps.get(rule.group) else { return whole.to_string() };
            let keep = match rule.check {
                Check::Always => false,
                Check::NotPlaceholder => placeholder(secret.as_str()),
                Check::Assignment => {
                    !assigned_secret(secret.as_str(), caps.get(2).map_or("=", |m| m.as_str()))
                }
            };
            if keep {
                return whole.to_string();
            }
            count += 1;
            let start = caps.get(0).map_or(0, |m| m.start());
            let mut s = whole[..secret.start() - start].to_string();
            s.push_str(&placeholder_for(rule.kind));
            s.push_str(&whole[secret.end() - start..]);
            s
        });
        if let std::borrow::Cow::Owned(s) = replaced {
            out = s;
        }
    }
    let (out, n) = high_entropy(&out);
    (out, count + n)
}

/// Redacts high-entropy words shortly after a secret-ish word.
fn high_entropy(text: &str) -> (String, usize) {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for word in secret_word().find_iter(text) {
        // Words starting within 48 bytes of the secret-ish word, taken whole.
        for m in candidate_word().find_iter(&text[word.end()..]) {
            if m.start() > 48 {
                break;
            }
            let s = m.as_str();
            let letters = s.chars().any(|c| c.is_ascii_alphabetic());
            let digits = s.chars().any(|c| c.is_ascii_digit());
            if letters && digits && entropy(s) > 3.5 && !s.starts_with("redacted") {
                spans.push((word.end() + m.start(), word.end() + m.end()));
            }
        }
    }
    spans.sort_unstable();
    spans.dedup();
    if spans.is_empty() {
        return (text.to_string(), 0);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut n = 0;
    for (start, end) in spans {
        if start < last {
            continue;
        }
        out.push_str(&text[last..start]);
        out.push_str(&placeholder_for("high_entropy"));
        last = end;
        n += 1;
    }
    out.push_str(&text[last..]);
    (out, n)
}

/// Redacts `s` in place; returns how many secrets it had.
pub fn in_place(s: &mut String) -> usize {
    let (redacted, n) = text(s);
    if n > 0 {
        *s = redacted;
    }
    n
}

fn opt(s: &mut Option<String>) -> usize {
    s.as_mut().map_or(0, in_place)
}

fn document(d: &mut Document) -> usize {
    let mut n = in_place(&mut d.title);
    n += d.front_matter.values_mut().map(in_place).sum::<usize>();
    for section in &mut d.sections {
        n += in_place(&mut section.text);
        n += section.heading_path.iter_mut().map(in_place).sum::<usize>();
    }
    n += d.links.iter_mut().map(in_place).sum::<usize>();
    if let Some(pm) = &mut d.postmortem {
        for field in [
            &mut pm.summary,
            &mut pm.impact,
            &mut pm.root_cause,
            &mut pm.trigger,
            &mut pm.resolution,
            &mut pm.detection,
        ] {
            n += opt(field);
        }
        n += pm.action_items.iter_mut().map(in_place).sum::<usize>();
        n += pm.timeline.iter_mut().map(|t| in_place(&mut t.text)).sum::<usize>();
    }
    n
}

/// Redacts a change event's free text (and its provenance note) in place.
pub fn event(c: &mut ChangeEvent) -> usize {
    in_place(&mut c.description)
        + opt(&mut c.url)
        + opt(&mut c.author)
        + opt(&mut c.version)
        + in_place(&mut c.provenance.note)
}

fn entity(e: &mut Entity) -> usize {
    e.attrs.values_mut().map(in_place).sum()
}

/// Redacts the free text of `record` in place; returns how many secrets it had.
pub fn record(record: &mut Record) -> usize {
    match record {
        Record::Entity(e) => entity(e) + in_place(&mut e.provenance.note),
        Record::Relation(r) => in_place(&mut r.provenance.note),
        Record::Document(d) => document(d) + in_place(&mut d.provenance.note),
        Record::Change(c) => event(c),
    }
}

/// Redacts every record; returns how many secrets they had.
pub fn records<'a>(records: impl IntoIterator<Item = &'a mut Record>) -> usize {
    records.into_iter().map(record).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        text(s).0
    }

    #[test]
    fn known_formats_and_assignments_are_redacted_and_context_kept() {
        assert_eq!(
            r("use postgres://app:Sup3rS3cret@db:5432/app now"),
            "use postgres://app:[redacted:url_password]@db:5432/app now"
        );
        assert_eq!(r("password=hunter2"), "password=[redacted:assignment]");
        assert_eq!(r("\"api_key\": \"abc123XYZ789\""), "\"api_key\": \"[redacted:assignment]\"");
        assert_eq!(
            r("https://x/d?orgId=1&access_token=abcdef123456"),
            "https://x/d?orgId=1&access_token=[redacted:assignment]"
        );
        let key = format!("AKIA{}", "Q".repeat(16));
        assert_eq!(r(&format!("id {key}.")), "id [redacted:aws_access_key].");
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ==\n-----END PRIVATE KEY-----";
        assert_eq!(r(&format!("a\n{pem}\nb")), "a\n[redacted:private_key]\nb");
        assert_eq!(
            r("the signing key is 9fK2mQ8xL0pZ7vB3nR6tY1wE4uI5oA ok"),
            "the signing key is [redacted:high_entropy] ok"
        );
    }

    #[test]
    fn prose_placeholders_and_redacted_text_are_left_alone() {
        for s in [
            "Rotate the token: see the vault runbook.",
            "password: Rotate it after the incident",
            "DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app",
            "token={{ .Values.token }}",
            "secret: <your secret>",
            "the key insight is that retries amplify load",
            "commit b0c767c27dc1e16470a589141ecfbf397e1f500a",
            "KubePodCrashLooping fires for checkout",
        ] {
            assert_eq!(r(s), s, "{s}");
        }
        let once = r("password=hunter2 and ghp_0123456789abcdefghijABCDEFGHIJ012345");
        assert_eq!(r(&once), once, "redacting twice changes nothing");
        assert_eq!(text(&once).1, 0);
    }
}
