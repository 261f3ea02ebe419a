//! Timestamps: RFC 3339 text to unix seconds, written once for every ingestor (deploy
//! events, git history) and for the main crate's `--since`/`--until`/`--at` parsing.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses an RFC 3339 time (`2026-11-01T00:00:00Z`, `2026-11-01T01:00:00.5+01:00`) into
/// unix seconds; fractions of a second are dropped.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339).map(OffsetDateTime::unix_timestamp).map_err(|_| {
        format!("`{text}` is not an RFC 3339 time (expected e.g. 2026-11-01T09:30:00Z)")
    })
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    fn check(text: &str, expected: Option<i64>) {
        assert_eq!(parse_rfc3339(text).ok(), expected, "{text}");
    }

    #[test]
    fn rfc3339_times_parse_with_offsets_and_fractions() {
        check("2026-11-01T00:00:00Z", Some(1_793_491_200));
        check(" 2026-11-01T01:00:00+01:00 ", Some(1_793_491_200));
        check("2026-11-01T00:00:00.999Z", Some(1_793_491_200));
        check("1970-01-01T00:00:00Z", Some(0));
        check("2026-11-01", None);
        check("2026-11-01 00:00:00Z", Some(1_793_491_200));
        check("2026-11-01T00:00:00", None);
        check("2026-13-01T00:00:00Z", None);
        check("yesterday", None);
        check("", None);
    }
}
