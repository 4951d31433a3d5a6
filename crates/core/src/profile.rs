//! When outdoor workers are at a hotspot: the demand profile by hour of day, and
//! the hour windows that planning reads it in.
//!
//! A [`DemandProfile`] holds three arrays of 24 shares of a hotspot's daily
//! workers, one per local hour (`hourly[12]` is 12:00–13:00): over all days, over
//! weekdays (Monday–Friday) and over weekend days. Each array sums to 1. It is the
//! optional `profile` property of a hotspot:
//! `{"hourly": [24 numbers], "weekday": [24], "weekend": [24]}`.
//!
//! An [`HourWindow`] is a half-open range of hours `[start, end)`: `12` is
//! `[12, 13)`, `11-14` is 11:00 to 14:00; windows do not wrap past midnight.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Hours in a day: the length of each array of a [`DemandProfile`].
pub const HOURS: usize = 24;

/// How far the sum of a profile's array may be from 1 (written shares are rounded).
pub const PROFILE_SUM_TOLERANCE: f64 = 2e-3;

/// Shares are kept to this many parts (four decimals): short in files, written
/// without exponents (so the fast line reader takes them), and the sum of 24
/// rounded shares stays within [`PROFILE_SUM_TOLERANCE`] of 1.
pub const SHARE_RESOLUTION: f64 = 1e4;

fn round_share(x: f64) -> f64 {
    (x * SHARE_RESOLUTION).round() / SHARE_RESOLUTION
}

/// The shares of a hotspot's daily workers by local hour of day. Make one with
/// [`DemandProfile::new`] (or [`DemandProfile::from_weights`]), which checks it and
/// rounds the shares to [`SHARE_RESOLUTION`], so that it reads back from a file
/// exactly as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandProfile {
    /// Over all days.
    pub hourly: [f64; HOURS],
    /// Over weekdays (Monday to Friday).
    pub weekday: [f64; HOURS],
    /// Over Saturdays and Sundays.
    pub weekend: [f64; HOURS],
}

/// Why a profile or an hour window is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// An array of the profile is missing.
    #[error("{array}: missing")]
    Missing {
        /// `hourly`, `weekday` or `weekend`.
        array: &'static str,
    },
    /// An array is not 24 numbers.
    #[error("{array}: expected an array of 24 numbers, found {found}")]
    Shape {
        /// Which array.
        array: &'static str,
        /// What it was.
        found: String,
    },
    /// A share is negative or not finite.
    #[error("{array}[{hour}]: a share must be a number ≥ 0, found {value}")]
    Share {
        /// Which array.
        array: &'static str,
        /// The hour.
        hour: usize,
        /// The value.
        value: f64,
    },
    /// An array does not sum to 1.
    #[error("{array}: shares must sum to 1, found {sum}")]
    Sum {
        /// Which array.
        array: &'static str,
        /// Their sum.
        sum: f64,
    },
    /// An hour window that is not `H` (0–23) or `A-B` with `0 ≤ A < B ≤ 24`.
    #[error("hours: expected an hour 0-23 or a window A-B with 0 <= A < B <= 24, found {found:?}")]
    Window {
        /// The text given.
        found: String,
    },
}

impl DemandProfile {
    /// The same share at every hour of every day.
    pub fn uniform() -> Self {
        let a = [round_share(1.0 / HOURS as f64); HOURS];
        Self {
            hourly: a,
            weekday: a,
            weekend: a,
        }
    }

    /// A profile from three arrays of shares, checked (non-negative, finite, each
    /// summing to 1 within [`PROFILE_SUM_TOLERANCE`]) and rounded to
    /// [`SHARE_RESOLUTION`].
    pub fn new(
        mut hourly: [f64; HOURS],
        mut weekday: [f64; HOURS],
        mut weekend: [f64; HOURS],
    ) -> Result<Self, ProfileError> {
        for (array, a) in [
            ("hourly", &mut hourly),
            ("weekday", &mut weekday),
            ("weekend", &mut weekend),
        ] {
            check(array, a)?;
            for x in a.iter_mut() {
                *x = round_share(*x);
            }
        }
        Ok(Self {
            hourly,
            weekday,
            weekend,
        })
    }

    /// The profile described by a JSON value (an object, or its JSON text as the
    /// GIS form writes it).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, ProfileError> {
        let obj = match v {
            serde_json::Value::Object(o) => o.clone(),
            serde_json::Value::String(s) => match serde_json::from_str(s) {
                Ok(serde_json::Value::Object(o)) => o,
                _ => {
                    return Err(ProfileError::Shape {
                        array: "profile",
                        found: "a string that is not a JSON object".into(),
                    })
                }
            },
            other => {
                return Err(ProfileError::Shape {
                    array: "profile",
                    found: kind(other).into(),
                })
            }
        };
        let array = |name: &'static str| -> Result<[f64; HOURS], ProfileError> {
            let v = obj.get(name).ok_or(ProfileError::Missing { array: name })?;
            let shape = |found: String| ProfileError::Shape { array: name, found };
            let items = v.as_array().ok_or_else(|| shape(kind(v).into()))?;
            if items.len() != HOURS {
                return Err(shape(format!("{} items", items.len())));
            }
            let mut out = [0.0; HOURS];
            for (o, x) in out.iter_mut().zip(items) {
                *o = x
                    .as_f64()
                    .ok_or_else(|| shape(format!("{} in it", kind(x))))?;
            }
            Ok(out)
        };
        Self::new(array("hourly")?, array("weekday")?, array("weekend")?)
    }

    /// A profile from counts (or any non-negative weights) by hour: each array
    /// divided by its sum; an array of zeros becomes the all-days one, and a
    /// profile of zeros the uniform one.
    pub fn from_weights(
        hourly: [f64; HOURS],
        weekday: [f64; HOURS],
        weekend: [f64; HOURS],
    ) -> Result<Self, ProfileError> {
        let norm = |a: [f64; HOURS]| -> Option<[f64; HOURS]> {
            let sum: f64 = a.iter().sum();
            (sum > 0.0 && sum.is_finite()).then(|| a.map(|x| x / sum))
        };
        let Some(all) = norm(hourly) else {
            return Ok(Self::uniform());
        };
        Self::new(
            all,
            norm(weekday).unwrap_or(all),
            norm(weekend).unwrap_or(all),
        )
    }

    /// How busy a window is against the hotspot's busiest hour, 0–1: the mean share
    /// of its hours over the largest share of any hour (all days). Planning by hour
    /// takes a hotspot's daily workers as all there at its busiest hour, and this
    /// part of them in the window: the uniform profile gives 1 at every hour, as
    /// planning without hours does.
    pub fn presence(&self, window: HourWindow) -> f64 {
        let max = self.hourly.iter().copied().fold(0.0, f64::max);
        if max <= 0.0 {
            return 1.0;
        }
        let n = f64::from(window.end - window.start);
        (self.share(window) / n / max).clamp(0.0, 1.0)
    }

    /// The share of the daily workers present in a window (all days).
    pub fn share(&self, window: HourWindow) -> f64 {
        self.hourly[window.start as usize..window.end as usize]
            .iter()
            .sum()
    }
}

fn check(array: &'static str, a: &[f64; HOURS]) -> Result<(), ProfileError> {
    for (hour, &value) in a.iter().enumerate() {
        if !value.is_finite() || value < 0.0 {
            return Err(ProfileError::Share { array, hour, value });
        }
    }
    let sum: f64 = a.iter().sum();
    if (sum - 1.0).abs() > PROFILE_SUM_TOLERANCE {
        return Err(ProfileError::Sum { array, sum });
    }
    Ok(())
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A half-open window of local hours `[start, end)` with `0 ≤ start < end ≤ 24`.
/// Serialized as `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HourWindow {
    start: u8,
    end: u8,
}

impl HourWindow {
    /// The window `[start, end)`, or `None` unless `0 ≤ start < end ≤ 24`.
    pub fn new(start: u8, end: u8) -> Option<Self> {
        (start < end && end as usize <= HOURS).then_some(Self { start, end })
    }

    /// One hour, `[hour, hour + 1)` (`None` for an hour above 23).
    pub fn hour(hour: u8) -> Option<Self> {
        Self::new(hour, hour.checked_add(1)?)
    }

    /// The first hour.
    pub fn start(self) -> u8 {
        self.start
    }

    /// The hour after the last.
    pub fn end(self) -> u8 {
        self.end
    }

    /// `[start, end]`, as answers write it.
    pub fn as_array(self) -> [u8; 2] {
        [self.start, self.end]
    }

    /// The window given as an hour (`hour`, 0–23) or a window (`hours`, `A-B`), at
    /// most one of them.
    pub fn from_params(
        hour: Option<u8>,
        hours: Option<&str>,
    ) -> Result<Option<Self>, ProfileError> {
        match (hour, hours) {
            (None, None) => Ok(None),
            (Some(h), None) => Self::hour(h).map(Some).ok_or(ProfileError::Window {
                found: h.to_string(),
            }),
            (None, Some(s)) => s.parse().map(Some),
            (Some(h), Some(s)) => Err(ProfileError::Window {
                found: format!("both hour={h} and hours={s}"),
            }),
        }
    }
}

impl Serialize for HourWindow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_array().serialize(s)
    }
}

impl<'de> Deserialize<'de> for HourWindow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [a, b] = <[u8; 2]>::deserialize(d)?;
        Self::new(a, b).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "hours [{a}, {b}] is not a window: need 0 <= start < end <= 24"
            ))
        })
    }
}

impl fmt::Display for HourWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl FromStr for HourWindow {
    type Err = ProfileError;

    /// `H` (one hour, 0–23) or `A-B`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ProfileError::Window {
            found: s.to_string(),
        };
        let num = |t: &str| t.trim().parse::<u8>().map_err(|_| bad());
        match s.split_once('-') {
            None => Self::hour(num(s)?).ok_or_else(bad),
            Some((a, b)) => Self::new(num(a)?, num(b)?).ok_or_else(bad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_is_against_the_busiest_hour() {
        let mut w = [1.0; HOURS];
        w[12] = 4.0;
        let p = DemandProfile::from_weights(w, w, w).unwrap();
        let at = |a, b| p.presence(HourWindow::new(a, b).unwrap());
        assert!((at(12, 13) - 1.0).abs() < 1e-3);
        assert!((at(3, 4) - 0.25).abs() < 1e-3);
        assert!((at(12, 14) - 0.625).abs() < 1e-3);
        let u = DemandProfile::uniform();
        assert!((u.presence(HourWindow::new(0, 24).unwrap()) - 1.0).abs() < 1e-9);
        let win: HourWindow = serde_json::from_str("[11, 14]").unwrap();
        assert_eq!(serde_json::to_string(&win).unwrap(), "[11,14]");
        assert!(serde_json::from_str::<HourWindow>("[14, 11]").is_err());
    }

    #[test]
    fn windows_parse_and_reject() {
        assert_eq!("12".parse::<HourWindow>().unwrap().as_array(), [12, 13]);
        assert_eq!("11-14".parse::<HourWindow>().unwrap().as_array(), [11, 14]);
        assert_eq!("0-24".parse::<HourWindow>().unwrap().as_array(), [0, 24]);
        for bad in ["24", "14-11", "3-3", "a", "-1", "1-25", "", "1-2-3"] {
            assert!(bad.parse::<HourWindow>().is_err(), "{bad}");
        }
        assert_eq!(HourWindow::from_params(None, None).unwrap(), None);
        assert_eq!(
            HourWindow::from_params(Some(23), None).unwrap(),
            HourWindow::new(23, 24)
        );
        assert!(HourWindow::from_params(Some(24), None).is_err());
        assert!(HourWindow::from_params(Some(1), Some("1-2")).is_err());
    }

    #[test]
    fn shares_sum_over_the_window() {
        let mut hourly = [0.0; HOURS];
        hourly[11] = 0.25;
        hourly[12] = 0.5;
        hourly[18] = 0.25;
        let p = DemandProfile::new(hourly, hourly, DemandProfile::uniform().weekend).unwrap();
        assert_eq!(p.share("11-13".parse().unwrap()), 0.75);
        assert_eq!(p.share("0-24".parse().unwrap()), 1.0);
        assert_eq!(p.share("3".parse().unwrap()), 0.0);
        let u = DemandProfile::uniform();
        assert!((u.share("11-14".parse().unwrap()) - 3.0 / 24.0).abs() < 1e-3);
    }

    #[test]
    fn bad_profiles_are_named() {
        let u = DemandProfile::uniform();
        let mut neg = u.hourly;
        neg[3] = -0.1;
        assert!(matches!(
            DemandProfile::new(neg, u.weekday, u.weekend),
            Err(ProfileError::Share { hour: 3, .. })
        ));
        let mut big = u.hourly;
        big[0] += 0.5;
        assert!(matches!(
            DemandProfile::new(u.hourly, big, u.weekend),
            Err(ProfileError::Sum {
                array: "weekday",
                ..
            })
        ));
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(DemandProfile::from_json(&v).unwrap(), u);
        assert_eq!(
            DemandProfile::from_json(&serde_json::Value::String(v.to_string())).unwrap(),
            u
        );
        let short =
            serde_json::json!({"hourly": [1.0], "weekday": u.weekday, "weekend": u.weekend});
        assert_eq!(
            DemandProfile::from_json(&short).unwrap_err().to_string(),
            "hourly: expected an array of 24 numbers, found 1 items"
        );
        let missing = serde_json::json!({"hourly": u.hourly, "weekday": u.weekday});
        assert_eq!(
            DemandProfile::from_json(&missing).unwrap_err().to_string(),
            "weekend: missing"
        );
    }
}
