//! Synthetic demand profiles by hour, per worker type (labelled synthetic: shaped
//! after the working day the report describes, not measured).
//!
//! Each type's day is a base level plus bells (centre hour, width in hours, weight):
//! - delivery riders wait for orders at the lunch peak (11:00–13:30) and the
//!   evening peak (17:00–19:30), with a smaller afternoon tea peak;
//! - parcel couriers sort in the morning and deliver through the afternoon;
//! - sanitation workers start before dawn and rest late morning and mid-afternoon;
//! - ride-hailing drivers wait around the commuting peaks and late evening;
//! - other outdoor workers follow the working day.
//!
//! Weekends shift delivery later and busier in the evening, and thin the couriers
//! and commuting peaks. A hotspot's bells are moved by up to ±45 minutes and
//! reweighted by ±25 %, so that stations peak at slightly different times.

use super::rng::Rng;
use crate::model::WorkerType;
use crate::profile::{DemandProfile, HOURS};

/// (centre hour, width in hours, weight): one bell of a day.
type Bell = (f64, f64, f64);

/// The bells and base level of a type on weekdays and on weekends.
fn shape(t: WorkerType) -> (f64, &'static [Bell], &'static [Bell]) {
    match t {
        WorkerType::Delivery => (
            0.02,
            &[(12.0, 0.9, 1.0), (18.2, 1.0, 0.8), (15.0, 0.8, 0.25)],
            &[(12.3, 1.0, 0.9), (18.5, 1.2, 1.0), (15.3, 0.9, 0.3)],
        ),
        WorkerType::Courier => (
            0.01,
            &[(9.0, 1.2, 0.7), (12.5, 1.0, 0.6), (16.0, 1.5, 0.8)],
            &[(10.0, 1.5, 0.5), (15.0, 1.5, 0.5)],
        ),
        WorkerType::Sanitation => (
            0.01,
            &[(5.5, 1.0, 0.9), (10.5, 1.0, 0.7), (14.5, 1.0, 0.6)],
            &[(6.0, 1.0, 0.9), (11.0, 1.0, 0.7), (15.0, 1.0, 0.5)],
        ),
        WorkerType::RideHailing => (
            0.03,
            &[
                (8.0, 1.0, 0.7),
                (13.0, 1.2, 0.5),
                (18.5, 1.2, 0.8),
                (22.0, 1.0, 0.4),
            ],
            &[(11.0, 1.5, 0.5), (19.0, 1.5, 0.8), (22.5, 1.0, 0.6)],
        ),
        WorkerType::Other => (
            0.01,
            &[(10.0, 1.5, 0.6), (12.5, 1.0, 0.7), (15.5, 1.5, 0.6)],
            &[(11.0, 2.0, 0.6), (15.0, 2.0, 0.5)],
        ),
    }
}

/// Weights by hour for `bells` over `base`, each bell moved by `shift[i]` hours and
/// scaled by `scale[i]`.
fn day(base: f64, bells: &[Bell], shift: &[f64], scale: &[f64]) -> [f64; HOURS] {
    let mut out = [base; HOURS];
    for (h, v) in out.iter_mut().enumerate() {
        // The middle of the hour.
        let x = h as f64 + 0.5;
        for (i, &(c, w, k)) in bells.iter().enumerate() {
            let z = (x - c - shift[i]) / w;
            *v += k * scale[i] * (-0.5 * z * z).exp();
        }
    }
    out
}

/// The typical profile of worker type `t`, without a hotspot's variation.
pub fn typical_profile(t: WorkerType) -> DemandProfile {
    let (base, wd, we) = shape(t);
    let zeros = [0.0; 8];
    let ones = [1.0; 8];
    profile_of(day(base, wd, &zeros, &ones), day(base, we, &zeros, &ones))
}

/// A hotspot's profile: its type's, with bells moved and reweighted by `rng`.
pub(super) fn hotspot_profile(t: WorkerType, rng: &mut Rng) -> DemandProfile {
    let (base, wd, we) = shape(t);
    let n = wd.len().max(we.len());
    let shift: Vec<f64> = (0..n).map(|_| (rng.unit() - 0.5) * 1.5).collect();
    let scale: Vec<f64> = (0..n).map(|_| 0.75 + rng.unit() * 0.5).collect();
    profile_of(day(base, wd, &shift, &scale), day(base, we, &shift, &scale))
}

/// The all-days profile is five weekdays and two weekend days.
fn profile_of(weekday: [f64; HOURS], weekend: [f64; HOURS]) -> DemandProfile {
    let norm = |a: [f64; HOURS]| {
        let s: f64 = a.iter().sum();
        a.map(|x| x / s)
    };
    let (wd, we) = (norm(weekday), norm(weekend));
    let mut all = [0.0; HOURS];
    for h in 0..HOURS {
        all[h] = (5.0 * wd[h] + 2.0 * we[h]) / 7.0;
    }
    DemandProfile::from_weights(all, wd, we).unwrap_or_else(|_| DemandProfile::uniform())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::HourWindow;

    #[test]
    fn delivery_peaks_at_lunch_and_sanitation_before_dawn() {
        let d = typical_profile(WorkerType::Delivery);
        let lunch = d.share(HourWindow::new(11, 14).unwrap());
        let afternoon = d.share(HourWindow::new(14, 17).unwrap());
        assert!(lunch > 1.5 * afternoon, "{lunch} {afternoon}");
        let s = typical_profile(WorkerType::Sanitation);
        let busiest = (0..HOURS)
            .max_by(|&a, &b| s.hourly[a].total_cmp(&s.hourly[b]))
            .unwrap();
        assert!((4..=6).contains(&busiest), "{busiest}");
        let mut rng = Rng::new(1, 9);
        for t in WorkerType::ALL {
            let p = hotspot_profile(t, &mut rng);
            for a in [p.hourly, p.weekday, p.weekend] {
                assert!((a.iter().sum::<f64>() - 1.0).abs() < 2e-3);
            }
        }
    }
}
