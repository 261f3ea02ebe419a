//! Timestamps: unix seconds inside, RFC 3339 at the edges.

use lore_ingestors::util::timestamp::parse_rfc3339;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses RFC 3339 (`2026-11-01T00:00:00Z`), a date (`2026-11-01`) or unix seconds.
pub fn parse(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(secs) = parse_rfc3339(text) {
        return Ok(secs);
    }
    parse_rfc3339(&format!("{text}T00:00:00Z")).map_err(|_| {
        format!("`{text}` is not a time (expected RFC 3339, YYYY-MM-DD or unix seconds)")
    })
}

/// Parses a duration: one or more `<number><unit>` with unit `s`, `m`, `h`, `d` or `w`
/// (`90s`, `30m`, `2h`, `1d`, `1w`, `1h30m`), in seconds. A bare number is not a duration
/// (it is unix seconds to [`parse`]).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a duration (expected e.g. 30m, 2h, 1d, 1w)");
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
            _ => return Err(invalid()),
        };
        let n: i64 = digits.parse().map_err(|_| invalid())?;
        digits.clear();
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s)).ok_or_else(invalid)?;
    }
    if !digits.is_empty() || text.is_empty() {
        return Err(invalid());
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
    fn times_parse_in_three_forms() {
        assert_eq!(super::parse("1700000000"), Ok(1_700_000_000));
        assert_eq!(super::parse("2026-11-01T00:00:00Z"), Ok(1_793_491_200));
        assert_eq!(super::parse("2026-11-01"), Ok(1_793_491_200));
        assert!(super::parse("yesterday").is_err());
        assert_eq!(super::format(1_793_491_200), "2026-11-01T00:00:00Z");
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(super::parse_duration("30m"), Ok(1800));
        assert_eq!(super::parse_duration("2h"), Ok(7200));
        assert_eq!(super::parse_duration("1d"), Ok(86_400));
        assert_eq!(super::parse_duration("1w"), Ok(604_800));
        assert_eq!(super::parse_duration("1h30m"), Ok(5400));
        for bad in ["", "12", "h", "2x", "1.5h", "-1h", "99999999999999999999w"] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
    }
}
