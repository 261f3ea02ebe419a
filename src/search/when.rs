//! Dates of documents and the time windows queries name.
//!
//! A document is dated by its front matter (`date`, `started`, `incident_date`,
//! `created`), else a line of its lead that says "date", else its file name: the first
//! `YYYY-MM-DD` found. A query names a window with a date (`on 2026-10-11`), a month
//! (`in October`, `October 2026`, `2026-10`), a day of a month (`Oct 12`, `12 October`)
//! or a span before now (`yesterday`, `last week`, `this month`). A month or a day without
//! a year is its latest occurrence not after now. Search ranks documents dated inside the
//! window higher (`retrieval.rs`); documents without a date are left as they are.

use std::sync::LazyLock;

use regex::Regex;
use time::{Date, Duration, Month, OffsetDateTime};

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2})?Z?)?").expect("valid regex")
});

const MONTHS: &str = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|\
                      aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?";

/// A month word, with what makes it a date rather than a verb ("may", "march"): a
/// preposition before it, or a day or a year beside it.
static MONTH: LazyLock<Regex> = LazyLock::new(|| {
    let prep = r"(?:(?P<prep>in|on|during|since|from|of|early|late|mid|last|this)\s+)?";
    let before = r"(?:(?P<dbefore>\d{1,2})(?:st|nd|rd|th)?\s+)?";
    let after = r"(?:\s+(?P<dafter>\d{1,2})(?:st|nd|rd|th)?\b)?(?:,?\s+(?P<year>\d{4}))?";
    Regex::new(&format!(r"(?i)\b{prep}{before}(?P<month>{MONTHS})\.?{after}\b"))
        .expect("valid regex")
});

static ISO_MONTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{2})\b(?:[^-\d]|$)").expect("valid regex"));

static SPAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(today|yesterday|(?:this|last|past)\s+(?:week|month))\b")
        .expect("valid regex")
});

/// The day (`YYYY-MM-DD`) and, when given, the time (`HH:MM`) a document is dated by.
pub(crate) fn dated(doc: &lore_schema::Document) -> Option<(String, Option<String>)> {
    let from_text = |text: &str| -> Option<(String, Option<String>)> {
        let caps = DATE.captures(text)?;
        Date::parse(&caps[1], &time::macros::format_description!("[year]-[month]-[day]")).ok()?;
        Some((caps[1].to_string(), caps.get(2).map(|m| m.as_str().to_string())))
    };
    for key in ["date", "started", "incident_date", "created"] {
        if let Some(d) = doc.front_matter.get(key).and_then(|v| from_text(v)) {
            return Some(d);
        }
    }
    let lead = doc.sections.first().map(|s| s.text.as_str()).unwrap_or("");
    if let Some(line) = lead.lines().find(|l| l.to_ascii_lowercase().contains("date"))
        && let Some(d) = from_text(line)
    {
        return Some(d);
    }
    let stem = doc.path.rsplit('/').next().unwrap_or(&doc.path);
    from_text(stem)
}

/// Days a query asks about, first and last included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    spans: Vec<(Date, Date)>,
}

impl Window {
    /// The window `query` names, relative to `now` (unix seconds); `None` when it names
    /// no date.
    pub fn named_in(query: &str, now: i64) -> Option<Window> {
        let today = OffsetDateTime::from_unix_timestamp(now).ok()?.date();
        let mut spans = Vec::new();
        for caps in DATE.captures_iter(query) {
            if let Some(d) = day(&caps[1]) {
                spans.push((d, d));
            }
        }
        for caps in ISO_MONTH.captures_iter(query) {
            let (Ok(y), Ok(m)) = (caps[1].parse::<i32>(), caps[2].parse::<u8>()) else { continue };
            if let Some(span) = month_span(y, m) {
                spans.push(span);
            }
        }
        for caps in MONTH.captures_iter(query) {
            let has = |name: &str| caps.name(name).is_some();
            if !(has("prep") || has("dbefore") || has("dafter") || has("year")) {
                continue;
            }
            let Some(month) = month_number(&caps["month"]) else { continue };
            let dom = caps
                .name("dbefore")
                .or(caps.name("dafter"))
                .and_then(|d| d.as_str().parse::<u8>().ok());
            let year = caps.name("year").and_then(|y| y.as_str().parse::<i32>().ok());
            let latest = |y: i32| match dom {
                Some(d) => Date::from_calendar_date(y, Month::try_from(month).ok()?, d)
                    .ok()
                    .map(|d| (d, d)),
                None => month_span(y, month),
            };
            let span = match year {
                Some(y) => latest(y),
                None => latest(today.year())
                    .filter(|(from, _)| *from <= today)
                    .or_else(|| latest(today.year() - 1)),
            };
            spans.extend(span);
        }
        for caps in SPAN.captures_iter(query) {
            let words = caps[1].to_ascii_lowercase();
            let words: Vec<&str> = words.split_whitespace().collect();
            let span = match words.as_slice() {
                ["today"] => Some((today, today)),
                ["yesterday"] => Some((today - Duration::days(1), today - Duration::days(1))),
                [_, "week"] => Some((today - Duration::days(7), today)),
                ["this", "month"] => month_span(today.year(), today.month() as u8),
                [_, "month"] => {
                    let first = today.replace_day(1).ok()?;
                    let prev = first - Duration::days(1);
                    month_span(prev.year(), prev.month() as u8)
                }
                _ => None,
            };
            spans.extend(span);
        }
        (!spans.is_empty()).then_some(Window { spans })
    }

    /// Whether the day `YYYY-MM-DD` falls inside the window.
    pub fn contains(&self, date: &str) -> bool {
        let Some(d) = day(date) else { return false };
        self.spans.iter().any(|(from, to)| *from <= d && d <= *to)
    }
}

fn day(text: &str) -> Option<Date> {
    Date::parse(text.get(..10)?, &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn month_span(year: i32, month: u8) -> Option<(Date, Date)> {
    let m = Month::try_from(month).ok()?;
    let first = Date::from_calendar_date(year, m, 1).ok()?;
    let last = Date::from_calendar_date(year, m, m.length(year)).ok()?;
    Some((first, last))
}

fn month_number(word: &str) -> Option<u8> {
    let w = word.to_ascii_lowercase();
    let names =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    names.iter().position(|n| w.starts_with(n)).map(|i| i as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::Window;

    /// 2026-12-03T12:00:00Z.
    const NOW: i64 = 1_796_299_200;

    fn window(q: &str) -> Option<Window> {
        Window::named_in(q, NOW)
    }

    #[test]
    fn months_days_and_spans_are_windows() {
        let w = window("what broke checkout in October?").expect("a month");
        assert!(w.contains("2026-10-01") && w.contains("2026-10-31"));
        assert!(!w.contains("2026-09-30") && !w.contains("2025-10-15"));
        // A month later in the year than now is last year's.
        let w = window("incidents in December").expect("a month");
        assert!(w.contains("2026-12-01"), "this December has begun");
        let w = window("outage during Dec. 2025").expect("a month and year");
        assert!(w.contains("2025-12-24") && !w.contains("2026-12-01"));
        let w = window("why was api returning errors on 2026-08-11").expect("a day");
        assert!(w.contains("2026-08-11") && !w.contains("2026-08-12"));
        let w = window("the Oct 12 incident").expect("a day of a month");
        assert!(w.contains("2026-10-12") && !w.contains("2026-10-13"));
        let w = window("what happened on 3rd March").expect("a day before its month");
        assert!(w.contains("2026-03-03"));
        let w = window("pages in 2026-09").expect("an ISO month");
        assert!(w.contains("2026-09-30") && !w.contains("2026-10-01"));
        let w = window("what broke last week").expect("a span");
        assert!(w.contains("2026-11-28") && !w.contains("2026-11-20"));
        let w = window("errors yesterday").expect("a span");
        assert!(w.contains("2026-12-02") && !w.contains("2026-12-03"));
        let w = window("anything last month").expect("a span");
        assert!(w.contains("2026-11-30") && !w.contains("2026-12-01"));
    }

    #[test]
    fn words_that_only_look_like_months_are_not() {
        for q in [
            "what may cause consumer lag",
            "pods march into CrashLoopBackOff",
            "HighLatencyP99 on decoder",
            "xyzzy plugh",
            "the 2026-13-45 build",
        ] {
            assert_eq!(window(q), None, "{q}");
        }
    }
}
