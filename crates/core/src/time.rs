//! Local time of the towns: the one parser of `open_at`-style times, shared by the
//! server's query parameters and the CLI's flags.
//!
//! # Examples
//!
//! ```
//! use yizhan_core::time::parse_local_time;
//! let t = parse_local_time("2026-07-01T12:30").unwrap();
//! assert_eq!(t.format("%H:%M").to_string(), "12:30");
//! // An offset time is converted to China Standard Time.
//! let t = parse_local_time("2026-07-01T04:30:00Z").unwrap();
//! assert_eq!(t.format("%H:%M").to_string(), "12:30");
//! assert!(parse_local_time("noon").is_err());
//! ```

use chrono::{DateTime, FixedOffset, NaiveDateTime};

/// Hours east of UTC of the towns' local time (China Standard Time).
pub const LOCAL_UTC_OFFSET_H: i32 = 8;

/// The local-time forms accepted besides RFC 3339 (seconds optional, `T` or a space).
const LOCAL_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
];

/// A text that is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a local time like 2026-07-01T12:30")]
#[non_exhaustive]
pub struct TimeError {
    /// The text given.
    pub given: String,
}

/// Parse a local time: `YYYY-MM-DDTHH:MM` (seconds optional, a space instead of `T`
/// allowed), or an RFC 3339 time with an offset, converted to the towns' local time
/// (UTC+[`LOCAL_UTC_OFFSET_H`]). Surrounding whitespace is ignored.
pub fn parse_local_time(text: &str) -> Result<NaiveDateTime, TimeError> {
    let v = text.trim();
    let err = || TimeError {
        given: text.to_string(),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        let tz = FixedOffset::east_opt(LOCAL_UTC_OFFSET_H * 3600).ok_or_else(err)?;
        return Ok(t.with_timezone(&tz).naive_local());
    }
    LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(v, f).ok())
        .ok_or_else(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_former_parsers_forms() {
        for s in [
            "2026-07-01T12:30",
            "2026-07-01T12:30:05",
            "2026-07-01 12:30",
            "2026-07-01 12:30:05",
            " 2026-07-01T12:30 ",
            "2026-07-01T12:30:00+08:00",
        ] {
            let t = parse_local_time(s).unwrap();
            assert_eq!(t.format("%Y-%m-%d %H:%M").to_string(), "2026-07-01 12:30");
        }
        let t = parse_local_time("2026-06-30T23:30:00-05:00").unwrap();
        assert_eq!(t.format("%Y-%m-%d %H:%M").to_string(), "2026-07-01 12:30");
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for s in ["", "noon", "2026-07-01", "2026-13-01T12:30", "12:30"] {
            let e = parse_local_time(s).unwrap_err();
            assert_eq!(e.given, s);
            assert!(e.to_string().contains("not a local time"), "{e}");
        }
    }
}
