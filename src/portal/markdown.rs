//! Markdown to HTML for document pages: pulldown-cmark renders, ammonia sanitises.
//!
//! Document text is untrusted (anyone who can commit a runbook writes it): after
//! sanitising no element or attribute can run script (`<script>`, `on*=` handlers and
//! `javascript:` URLs are removed), and the page's Content-Security-Policy allows scripts
//! from the portal's own asset only, as a second wall. Code blocks are kept as `<pre>`.

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_allowed_classes("code", ["language-promql", "language-sh", "language-bash"]);
    b.link_rel(Some("noopener noreferrer nofollow"));
    b
});

/// `text` (Markdown) as sanitised HTML.
pub(crate) fn render(text: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut raw = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(text, options));
    CLEANER.clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_code_and_removes_script() {
        let out = render(
            "Steps\n\n```promql\nrate(x[5m]) < 1\n```\n\n<script>alert(1)</script>\n\n\
             <img src=\"x\" onerror=\"alert(2)\"> [go](javascript:alert(3))",
        );
        assert!(out.contains("<pre><code class=\"language-promql\">rate(x[5m]) &lt; 1"), "{out}");
        for bad in ["<script", "onerror", "javascript:", "alert(1)"] {
            assert!(!out.contains(bad), "{bad} in {out}");
        }
    }
}
