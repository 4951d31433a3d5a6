//! Opening hours in the common subset of OpenStreetMap's `opening_hours` syntax.
//!
//! Supported: `24/7`; `off`; rules separated by `;`, each an optional weekday
//! selector (`Mo-Fr`, `Sa,Su`, `Mo,We-Fr`) followed by comma-separated time spans
//! (`08:00-18:00,19:00-21:00`) or `off`. A span whose end is not after its start
//! (`18:00-06:00`) runs overnight into the next day; `24:00` is a valid end.
//! As in OSM, a later rule replaces earlier ones for the weekdays it names.
//! Anything else (public holidays, months, sunrise) is refused with a clear error
//! rather than guessed at; the existing crates for the full syntax pull in a
//! large grammar for features no station file here uses.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Timelike};

const DAY_NAMES: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const MINUTES_PER_DAY: u16 = 24 * 60;

/// A parse failure, naming the offending piece of text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid opening_hours {input:?}: {reason}")]
pub struct HoursError {
    /// The whole value given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One span of minutes after midnight; `end <= start` means overnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u16,
    end: u16,
}

impl Span {
    fn overnight(self) -> bool {
        self.end <= self.start
    }
}

/// Parsed opening hours: for each weekday (Monday first) the spans that start on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHours {
    text: String,
    days: [Vec<Span>; 7],
}

impl OpeningHours {
    /// Always open (`24/7`).
    pub fn always() -> Self {
        "24/7".parse().expect("24/7 parses")
    }

    /// The text this was parsed from, normalised.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the hours say open around the clock every day.
    pub fn is_always_open(&self) -> bool {
        self.days
            .iter()
            .all(|d| d.iter().any(|s| s.start == 0 && s.end == MINUTES_PER_DAY))
    }

    /// Whether the station is open at local time `t`.
    pub fn is_open_at(&self, t: NaiveDateTime) -> bool {
        let wd = t.weekday().num_days_from_monday() as usize;
        let m = (t.hour() * 60 + t.minute()) as u16;
        let today = self.days[wd].iter().any(|s| {
            if s.overnight() {
                m >= s.start
            } else {
                m >= s.start && m < s.end
            }
        });
        let yesterday = self.days[(wd + 6) % 7]
            .iter()
            .any(|s| s.overnight() && m < s.end);
        today || yesterday
    }

    /// The first minute at or after `t` when the station is open, within the next
    /// eight days; `None` when it never opens.
    pub fn next_open(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let t = t.with_second(0)?.with_nanosecond(0)?;
        if self.is_open_at(t) {
            return Some(t);
        }
        let midnight = t.date().and_time(NaiveTime::MIN);
        let wd = t.weekday().num_days_from_monday() as usize;
        (0..8)
            .flat_map(|d| {
                self.days[(wd + d) % 7].iter().map(move |s| {
                    midnight + Duration::days(d as i64) + Duration::minutes(s.start.into())
                })
            })
            .filter(|c| *c >= t)
            .min()
    }
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for OpeningHours {
    type Err = HoursError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| HoursError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(err("empty value".into()));
        }
        let mut days: [Vec<Span>; 7] = Default::default();
        for rule in text.split(';').map(str::trim) {
            if rule.is_empty() {
                continue;
            }
            if rule == "24/7" {
                for d in &mut days {
                    *d = vec![Span {
                        start: 0,
                        end: MINUTES_PER_DAY,
                    }];
                }
                continue;
            }
            let (selector, times) = match rule.split_once(char::is_whitespace) {
                Some((a, b))
                    if a.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && a != "off" =>
                {
                    (Some(a), b.trim())
                }
                _ => (None, rule),
            };
            let selected = match selector {
                Some(sel) => parse_days(sel).map_err(err)?,
                None => [true; 7],
            };
            let spans = if times == "off" || times == "closed" {
                Vec::new()
            } else {
                times
                    .split(',')
                    .map(|s| parse_span(s.trim()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(err)?
            };
            for (d, on) in selected.iter().enumerate() {
                if *on {
                    days[d] = spans.clone();
                }
            }
        }
        Ok(OpeningHours {
            text: text.to_string(),
            days,
        })
    }
}

fn parse_day(s: &str) -> Result<usize, String> {
    DAY_NAMES
        .iter()
        .position(|d| *d == s)
        .ok_or_else(|| format!("unknown weekday {s:?} (use Mo Tu We Th Fr Sa Su)"))
}

fn parse_days(sel: &str) -> Result<[bool; 7], String> {
    let mut out = [false; 7];
    for part in sel.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                let mut d = a;
                loop {
                    out[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out[parse_day(part)?] = true,
        }
    }
    Ok(out)
}

fn parse_time(s: &str) -> Result<u16, String> {
    let bad = || format!("bad time {s:?} (expected HH:MM)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_span(s: &str) -> Result<Span, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("bad time span {s:?} (expected HH:MM-HH:MM)"))?;
    let start = parse_time(a.trim())?;
    let end = parse_time(b.trim())?;
    if start == MINUTES_PER_DAY {
        return Err(format!("span {s:?} cannot start at 24:00"));
    }
    if start == end {
        return Err(format!("span {s:?} is empty"));
    }
    Ok(Span { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
        // 2026-11-30 is a Monday.
        NaiveDate::from_ymd_opt(2026, 11, 30 + day - 1)
            .or_else(|| NaiveDate::from_ymd_opt(2026, 12, day - 1))
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    fn hours(s: &str) -> OpeningHours {
        s.parse().unwrap()
    }

    /// Whether `h` is open at each (day, hour, minute) as expected.
    fn assert_open(h: &OpeningHours, cases: &[(u32, u32, u32, bool)]) {
        for &(d, hh, mm, open) in cases {
            assert_eq!(
                h.is_open_at(at(d, hh, mm)),
                open,
                "{h} on day {d} at {hh}:{mm:02}"
            );
        }
    }

    #[test]
    fn always_open() {
        let h = hours("24/7");
        assert!(h.is_always_open());
        for d in 1..=7 {
            for hh in [0, 3, 12, 23] {
                assert!(h.is_open_at(at(d, hh, 59)));
            }
        }
    }

    #[test]
    fn weekdays_and_weekend() {
        let h = hours("Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00");
        assert_open(
            &h,
            &[
                (1, 8, 0, true),
                (5, 17, 59, true),
                (5, 18, 0, false),
                (3, 7, 59, false),
                (6, 8, 30, false),
                (6, 9, 0, true),
                (7, 16, 59, true),
                (7, 17, 0, false),
            ],
        );
        assert_eq!(h.next_open(at(5, 19, 0)), Some(at(6, 9, 0)));
        assert_eq!(h.next_open(at(1, 7, 15)), Some(at(1, 8, 0)));
        assert_eq!(h.next_open(at(1, 9, 15)), Some(at(1, 9, 15)));
    }

    #[test]
    fn overnight_spans() {
        let h = hours("18:00-06:00");
        // Monday 02:00 is Sunday night's span.
        let cases = [
            (1, 23, 0, true),
            (2, 5, 59, true),
            (2, 6, 0, false),
            (2, 12, 0, false),
            (1, 2, 0, true),
        ];
        assert_open(&h, &cases);
        assert_open(
            &hours("Fr 22:00-02:00"),
            &[(6, 1, 30, true), (7, 1, 30, false)],
        );
    }

    #[test]
    fn off_and_overrides() {
        let h = hours("off");
        assert!(!h.is_open_at(at(1, 12, 0)));
        assert_eq!(h.next_open(at(1, 12, 0)), None);
        let h = hours("08:00-20:00; Su off");
        assert!(h.is_open_at(at(6, 12, 0)));
        assert!(!h.is_open_at(at(7, 12, 0)));
        let h = hours("Mo-Su 00:00-24:00");
        assert!(h.is_always_open());
        let h = hours("Fr-Mo 10:00-12:00");
        assert!(h.is_open_at(at(7, 11, 0)) && h.is_open_at(at(1, 11, 0)));
        assert!(!h.is_open_at(at(2, 11, 0)));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for bad in [
            "",
            "Mo-Fr 8:00-18:00",
            "Mo-Xx 08:00-18:00",
            "PH off",
            "25:00-26:00",
            "08:00",
            "08:00-08:00",
            "sunrise-sunset",
        ] {
            let e = bad.parse::<OpeningHours>();
            assert!(e.is_err(), "{bad:?} should be refused");
        }
        let e = "Mo-Fr 8:00-18:00".parse::<OpeningHours>().unwrap_err();
        assert!(e.to_string().contains("8:00"), "{e}");
    }
}
