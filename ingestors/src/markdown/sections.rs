//! Walks pulldown-cmark events into heading-delimited sections with their lines.
//!
//! Each heading starts a section whose path is its ancestor headings plus its own; text
//! before the first heading is a section of its own. Section text keeps paragraphs, list
//! items (`- ` prefixed, indented by depth), table rows (cells joined by ` | `) and code
//! blocks verbatim inside their fences, language line included. Next to the text, each
//! section keeps its blocks (list items, table rows, paragraphs) so postmortem extraction
//! can read timelines and action items without parsing the text again.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// A block of a section, for structure extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A list item: nesting depth (1 = top level), its own text (nested lists left out)
    /// and its full text.
    Item { depth: usize, own: String, full: String },
    /// A table row's cells; `header` for the table's head row.
    Row { cells: Vec<String>, header: bool },
    /// A paragraph outside lists and tables.
    Para(String),
}

/// One section as parsed.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawSection {
    /// Heading level (1-6); 0 for the text before the first heading.
    pub(crate) level: usize,
    /// Headings from the top down to this one; empty for the text before any heading.
    pub(crate) heading_path: Vec<String>,
    /// 1-based line of the heading (or of the first text, before any heading).
    pub(crate) line: usize,
    /// Section text.
    pub(crate) text: String,
    /// Blocks, in order.
    pub(crate) blocks: Vec<Block>,
}

/// What the walk produced.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) sections: Vec<RawSection>,
    pub(crate) links: Vec<String>,
    /// Text of the first level-1 heading.
    pub(crate) first_h1: Option<String>,
}

/// List items tracked as blocks of their own, and levels of indentation written: each
/// open item collects the text of the items inside it, so unbounded nesting costs
/// quadratic time (`- - - …` 8,000 deep: a second; found by the property tests).
const MAX_LIST_DEPTH: usize = 32;

struct ItemBuf {
    /// Index of this item's placeholder in the section's blocks, so items keep document
    /// order even though nested items end first.
    block_idx: usize,
    own: String,
    full: String,
}

struct Walker {
    /// Byte offsets where each line of the whole file starts.
    line_starts: Vec<usize>,
    /// Offset of the parsed body in the whole file.
    base: usize,
    parsed: Parsed,
    current: RawSection,
    headings: Vec<(usize, String)>,
    heading: Option<(usize, String)>,
    items: Vec<ItemBuf>,
    /// Open items nested past [`MAX_LIST_DEPTH`]: their text belongs to the deepest
    /// tracked item.
    untracked_items: usize,
    list_depth: usize,
    para: Option<String>,
    cell: Option<String>,
    row: Vec<String>,
    in_head: bool,
    in_code: bool,
    /// Open images: their alt text is kept in the body but not in headings, where it is
    /// usually a badge.
    in_image: usize,
}

/// Parses the Markdown `body`, which starts at byte `base` of the file `text`.
pub(crate) fn parse(text: &str, base: usize) -> Parsed {
    let body = text.get(base..).unwrap_or("");
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(idx, _)| idx + 1));
    let mut walker = Walker {
        line_starts,
        base,
        parsed: Parsed::default(),
        current: RawSection::default(),
        headings: Vec::new(),
        heading: None,
        items: Vec::new(),
        untracked_items: 0,
        list_depth: 0,
        para: None,
        cell: None,
        row: Vec::new(),
        in_head: false,
        in_code: false,
        in_image: 0,
    };
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        walker.event(event, range.start);
    }
    walker.finish_section();
    walker.parsed
}

impl Walker {
    fn line(&self, offset: usize) -> usize {
        let abs = self.base + offset;
        self.line_starts.partition_point(|start| *start <= abs).max(1)
    }

    fn event(&mut self, event: Event<'_>, offset: usize) {
        if self.current.line == 0 && !matches!(event, Event::Html(_) | Event::InlineHtml(_)) {
            self.current.line = self.line(offset);
        }
        match event {
            Event::Start(tag) => self.start(tag, offset),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.push(&text),
            Event::Code(code) => self.push(&code),
            Event::InlineMath(math) | Event::DisplayMath(math) => self.push(&math),
            Event::SoftBreak | Event::HardBreak => self.push("\n"),
            Event::TaskListMarker(done) => self.push(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(name) => self.push(&format!("[^{name}]")),
            Event::Html(_) | Event::InlineHtml(_) | Event::Rule => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, offset: usize) {
        match tag {
            Tag::Heading { level, .. } => {
                self.finish_section();
                self.current.line = self.line(offset);
                self.heading = Some((level as usize, String::new()));
            }
            Tag::Paragraph if self.items.is_empty() && self.cell.is_none() => {
                self.para = Some(String::new());
            }
            Tag::CodeBlock(kind) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(lang) => lang.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.block_break();
                self.push(&format!("```{lang}\n"));
                self.in_code = true;
            }
            Tag::List(_) => {
                if self.items.is_empty() {
                    self.block_break();
                } else {
                    self.line_break();
                }
                self.list_depth += 1;
            }
            Tag::Item if self.items.len() >= MAX_LIST_DEPTH => {
                self.line_break();
                self.current.text.push_str(&format!("{}- ", "  ".repeat(MAX_LIST_DEPTH)));
                self.untracked_items += 1;
            }
            Tag::Item => {
                self.line_break();
                for item in &mut self.items {
                    item.full.push('\n');
                }
                let indent = "  ".repeat(self.list_depth.saturating_sub(1).min(MAX_LIST_DEPTH));
                self.current.text.push_str(&format!("{indent}- "));
                let block_idx = self.current.blocks.len();
                let depth = self.items.len() + 1;
                self.current.blocks.push(Block::Item {
                    depth,
                    own: String::new(),
                    full: String::new(),
                });
                self.items.push(ItemBuf { block_idx, own: String::new(), full: String::new() });
            }
            Tag::Table(_) => self.block_break(),
            Tag::TableHead => {
                self.in_head = true;
                self.row.clear();
            }
            Tag::TableRow => self.row.clear(),
            Tag::TableCell => self.cell = Some(String::new()),
            Tag::Link { dest_url, .. } => {
                // In-page anchors (`#references`) are not links out of the document.
                let url = dest_url.trim().to_string();
                if !url.is_empty() && !url.starts_with('#') && !self.parsed.links.contains(&url) {
                    self.parsed.links.push(url);
                }
            }
            Tag::Image { .. } => self.in_image += 1,
            Tag::BlockQuote(_) | Tag::FootnoteDefinition(_) | Tag::HtmlBlock => {
                self.block_break();
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => {
                if let Some((level, text)) = self.heading.take() {
                    let text = collapse_spaces(&text);
                    if level == 1 && self.parsed.first_h1.is_none() && !text.is_empty() {
                        self.parsed.first_h1 = Some(text.clone());
                    }
                    while self.headings.last().is_some_and(|(l, _)| *l >= level) {
                        self.headings.pop();
                    }
                    self.headings.push((level, text));
                    self.current.level = level;
                    self.current.heading_path =
                        self.headings.iter().map(|(_, t)| t.clone()).collect();
                }
            }
            TagEnd::Paragraph => {
                if let Some(para) = self.para.take() {
                    let para = para.trim().to_string();
                    if !para.is_empty() {
                        self.current.blocks.push(Block::Para(para));
                    }
                }
                if self.items.is_empty() {
                    self.block_break();
                } else {
                    self.line_break();
                    for item in &mut self.items {
                        item.full.push('\n');
                    }
                }
            }
            TagEnd::CodeBlock => {
                self.in_code = false;
                if !self.current.text.ends_with('\n') {
                    self.push("\n");
                }
                self.push("```\n");
                if self.items.is_empty() {
                    self.block_break();
                }
            }
            TagEnd::List(_) => {
                self.list_depth = self.list_depth.saturating_sub(1);
                if self.list_depth == 0 {
                    self.block_break();
                }
            }
            TagEnd::Item if self.untracked_items > 0 => {
                self.line_break();
                self.untracked_items -= 1;
            }
            TagEnd::Item => {
                self.line_break();
                if let Some(item) = self.items.pop() {
                    if let Some(parent) = self.items.last_mut() {
                        parent.full.push('\n');
                    }
                    if let Some(Block::Item { own, full, .. }) =
                        self.current.blocks.get_mut(item.block_idx)
                    {
                        *own = item.own.trim().to_string();
                        *full = item.full.trim().to_string();
                    }
                }
            }
            TagEnd::TableCell => {
                if let Some(cell) = self.cell.take() {
                    let cell = collapse_spaces(&cell);
                    self.current.text.push_str(if self.row.is_empty() { "" } else { " | " });
                    self.current.text.push_str(&cell);
                    self.row.push(cell);
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                let cells = std::mem::take(&mut self.row);
                self.current.text.push('\n');
                if cells.iter().any(|c| !c.is_empty()) {
                    self.current.blocks.push(Block::Row { cells, header: self.in_head });
                }
                self.in_head = false;
            }
            TagEnd::Image => self.in_image = self.in_image.saturating_sub(1),
            TagEnd::Table | TagEnd::BlockQuote(_) | TagEnd::HtmlBlock => self.block_break(),
            _ => {}
        }
    }

    /// Appends inline text to whatever is open: the heading, a table cell, or the section
    /// text plus the open paragraph and list items.
    fn push(&mut self, text: &str) {
        if let Some((_, heading)) = &mut self.heading {
            if self.in_image > 0 {
                return;
            }
            heading.push_str(if text == "\n" { " " } else { text });
            return;
        }
        if let Some(cell) = &mut self.cell {
            cell.push_str(text);
            return;
        }
        self.current.text.push_str(text);
        if let Some(para) = &mut self.para {
            para.push_str(text);
        }
        let n_items = self.items.len();
        for (idx, item) in self.items.iter_mut().enumerate() {
            item.full.push_str(text);
            if idx + 1 == n_items && !self.in_code {
                item.own.push_str(text);
            }
        }
    }

    fn line_break(&mut self) {
        let text = &mut self.current.text;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    }

    fn block_break(&mut self) {
        if self.in_code {
            return;
        }
        self.line_break();
        let text = &mut self.current.text;
        if !text.is_empty() && !text.ends_with("\n\n") {
            text.push('\n');
        }
    }

    fn finish_section(&mut self) {
        let mut section = std::mem::take(&mut self.current);
        section.text = section.text.trim_matches('\n').trim_end().to_string();
        section.blocks.retain(|b| !matches!(b, Block::Item { full, .. } if full.is_empty()));
        let is_heading = section.level > 0;
        if is_heading || !section.text.is_empty() {
            if section.line == 0 {
                section.line = self.line(0);
            }
            self.parsed.sections.push(section);
        }
        // Lists and paragraphs never span headings; reset in case of odd nesting.
        self.items.clear();
        self.untracked_items = 0;
        self.para = None;
        self.list_depth = 0;
    }
}

/// Collapses runs of whitespace (including newlines) into single spaces.
pub(crate) fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders sections as `line [path > path]` followed by their text lines, then links.
    fn check(text: &str) -> Vec<String> {
        let parsed = parse(text, 0);
        let mut res = Vec::new();
        for s in &parsed.sections {
            res.push(format!("{} [{}]", s.line, s.heading_path.join(" > ")));
            res.extend(s.text.lines().map(|l| format!("  {l}")));
        }
        res.extend(parsed.links.iter().map(|l| format!("link {l}")));
        res
    }

    #[test]
    fn sections_have_heading_paths_and_lines() {
        let text = "Intro [a](http://a) [b](#x) text.\n\n# Title ![badge](b.svg)\n\n## Meaning\n\nPod is *crash* looping.\n\n### Deep\n\nx\n\n## Impact\n\nNone.\n";
        assert_eq!(
            check(text),
            [
                "1 []",
                "  Intro a b text.",
                "3 [Title]",
                "5 [Title > Meaning]",
                "  Pod is crash looping.",
                "9 [Title > Meaning > Deep]",
                "  x",
                "13 [Title > Impact]",
                "  None.",
                "link http://a",
            ]
        );
    }

    #[test]
    fn code_blocks_are_verbatim_with_their_language() {
        let text = "# T\n\nRun:\n\n```promql\nsum by (job) (up{job=\"a\"})  == 0\n\n  # keep\n```\n\n    kubectl -n x get pods\n\nDone.\n";
        assert_eq!(
            check(text),
            [
                "1 [T]",
                "  Run:",
                "  ",
                "  ```promql",
                "  sum by (job) (up{job=\"a\"})  == 0",
                "  ",
                "    # keep",
                "  ```",
                "  ",
                "  ```",
                "  kubectl -n x get pods",
                "  ```",
                "  ",
                "  Done.",
            ]
        );
    }

    #[test]
    fn lists_tables_and_blocks() {
        let text = "## Timeline\n\n- **10:32** - paged\n  - nested `x`\n- 10:40 fixed\n\n| Time | Event |\n|---|---|\n| 14:05 | a *b* |\n\n<!-- hidden -->\n";
        assert_eq!(
            check(text),
            [
                "1 [Timeline]",
                "  - 10:32 - paged",
                "    - nested x",
                "  - 10:40 fixed",
                "  ",
                "  Time | Event",
                "  14:05 | a b",
            ]
        );
        let parsed = parse(text, 0);
        assert_eq!(
            parsed.sections[0].blocks,
            [
                Block::Item {
                    depth: 1,
                    own: "10:32 - paged".into(),
                    full: "10:32 - paged\nnested x".into()
                },
                Block::Item { depth: 2, own: "nested x".into(), full: "nested x".into() },
                Block::Item { depth: 1, own: "10:40 fixed".into(), full: "10:40 fixed".into() },
                Block::Row { cells: vec!["Time".into(), "Event".into()], header: true },
                Block::Row { cells: vec!["14:05".into(), "a b".into()], header: false },
            ]
        );
    }

    #[test]
    fn lines_count_from_the_file_start() {
        let text = "---\ntitle: x\n---\n\nfirst\n\n## H\n";
        let parsed = parse(text, 16);
        let lines: Vec<usize> = parsed.sections.iter().map(|s| s.line).collect();
        assert_eq!(lines, [5, 7]);
    }

    #[test]
    fn deep_lists_cost_linear_time() {
        let text = format!("# T\n\n{}deep\n", "- ".repeat(20_000));
        let started = std::time::Instant::now();
        let parsed = parse(&text, 0);
        assert!(started.elapsed().as_millis() < 500, "{:?}", started.elapsed());
        let items = parsed.sections[0].blocks.iter().filter(|b| matches!(b, Block::Item { .. }));
        assert_eq!(items.count(), MAX_LIST_DEPTH);
        assert!(parsed.sections[0].text.contains("deep"));
    }
}
