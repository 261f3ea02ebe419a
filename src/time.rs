//! Timestamps: unix seconds inside, RFC 3339 at the edges.
//!
//! Every time the CLI and the API take goes through [`parse`]: RFC 3339, a date, unix
//! seconds, or a duration before now (`2h`, `30m`, `1d`), the form runbooks tell readers
//! to type (`--since 2h`).

use lore_ingestors::util::timestamp::parse_rfc3339;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses RFC 3339 (`2026-11-01T00:00:00Z`), a date (`2026-11-01`), unix seconds, or a
/// duration before now (`90s`, `30m`, `2h`, `1d`, `1w`, combined as `1h30m`).
pub fn parse(text: &str) -> Result<i64, String> {
    parse_relative_to(text, now())
}

/// [`parse`], with durations counted back from `now`.
pub fn parse_relative_to(text: &str, now: i64) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(secs) = parse_rfc3339(text) {
        return Ok(secs);
    }
    if let Ok(secs) = parse_duration(text) {
        return Ok(now - secs);
    }
    parse_rfc3339(&format!("{text}T00:00:00Z")).map_err(|_| {
        format!(
            "`{text}` is not a time (expected RFC 3339, YYYY-MM-DD, unix seconds or a \
             duration before now such as 2h, 30m, 1d)"
        )
    })
}

/// Parses a length of time: bare seconds or a [`parse_duration`].
pub fn parse_span(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(secs) if secs >= 0 => Ok(secs),
        Ok(_) => Err(format!("`{text}` is negative")),
        Err(_) => parse_duration(text),
    }
}

/// Parses a duration in seconds: a number with a unit (`s`, `m`, `h`, `d`, `w`), several
/// of them run together (`1h30m`). A bare number is not a duration (it is unix seconds to
/// [`parse`]; [`parse_span`] takes it as seconds).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration (expected e.g. 90s, 30m, 6h, 1d, 1w)");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s)).ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// RFC 3339 text of unix seconds.
pub fn format(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_parse_in_four_forms() {
        assert_eq!(super::parse("1700000000"), Ok(1_700_000_000));
        assert_eq!(super::parse("2026-11-01T00:00:00Z"), Ok(1_793_491_200));
        assert_eq!(super::parse("2026-11-01"), Ok(1_793_491_200));
        assert_eq!(super::parse_relative_to("2h", 10_000), Ok(10_000 - 7200));
        assert_eq!(super::parse_relative_to("1h30m", 10_000), Ok(10_000 - 5400));
        assert_eq!(super::parse_relative_to("1d", 100_000), Ok(100_000 - 86_400));
        assert!(super::parse("yesterday").is_err());
        assert!(super::parse("2x").is_err());
        assert_eq!(super::format(1_793_491_200), "2026-11-01T00:00:00Z");
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(super::parse_duration("6h"), Ok(21_600));
        assert_eq!(super::parse_duration("30m"), Ok(1800));
        assert_eq!(super::parse_duration("1w"), Ok(604_800));
        assert_eq!(super::parse_span("90"), Ok(90));
        assert_eq!(super::parse_span("2h"), Ok(7200));
        for bad in ["", "12", "h", "2x", "1.5h", "-1h", "-5"] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
        assert!(super::parse_span("-5").is_err());
        assert!(super::parse_duration("9999999999999999w").is_err());
    }
}
