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
}
