//! Courier API: nearest stations, stations in a box, one station.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::State;
use chrono::NaiveDateTime;
use geojson::Feature;
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::index::StationFilter;
use yizhan_core::io::{OccupancyReport, PointFeature, StationProps};
use yizhan_core::model::Station;
use yizhan_net::{Mode, SNAP_LIMIT_M};

use crate::error::ApiError;
use crate::extract::{local_now, Params, PathParam};
use crate::routes::common::{CrsParam, FilterParams, GeoJson};
use crate::state::{AppState, Snapshot};
use crate::station_json::{self, feature_string};

/// Stations returned by `nearest` when `k` is not given.
pub const DEFAULT_K: u64 = 5;
/// The most stations `nearest` returns.
pub const MAX_K: u64 = 100;
/// The largest `max_m` accepted (half the Earth's circumference).
pub const MAX_DISTANCE_M: f64 = 20_037_509.0;

/// When occupancy reports count as current: the domain's rule, here where the
/// routes have always found it.
pub use yizhan_core::occupancy::Freshness;

/// The properties a courier reads of a station: its [`StationProps`] with the
/// distance (on the WGS 84 ellipsoid, to 1 mm), whether it is open at `at`, free seats (`null` when no
/// current report), the occupancy report, when it opens next if closed, and the
/// links that open it in navigation apps.
pub fn courier_props<'a>(
    s: &'a Station,
    distance_m: Option<f64>,
    at: NaiveDateTime,
    fresh: &Freshness,
) -> StationProps<'a> {
    let open = s.opening_hours.is_open_at(at);
    StationProps {
        distance_m: distance_m.map(yizhan_core::geodesy::reported_m),
        free_seats: Some(fresh.free_seats(s)),
        navigate: Some(navigate_links(s)),
        next_open: if open {
            None
        } else {
            s.opening_hours
                .next_open(at)
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        },
        occupancy: Some(s.occupancy.map(|o| {
            OccupancyReport {
                age_s: fresh.age_s(o.reported_at),
                occupied: o.occupied,
                reported_at: o
                    .reported_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                stale: fresh.is_stale(o.reported_at),
            }
        })),
        open_now: Some(open),
        ..StationProps::of(s)
    }
}

/// The navigation links of a station (walking; [`nearest`] with `by=ebike` gives
/// riding links), named as the Chinese apps show it (`name_zh`, else `name`).
pub fn navigate_links(s: &Station) -> yizhan_core::navigate::Links {
    navigate_links_for(s, yizhan_core::navigate::Travel::Walk)
}

/// [`navigate_links`] for one way of travel.
pub fn navigate_links_for(
    s: &Station,
    travel: yizhan_core::navigate::Travel,
) -> yizhan_core::navigate::Links {
    yizhan_core::navigate::links(s.location, s.name_zh.as_deref().unwrap_or(&s.name), travel)
}

/// A station as the courier routes answer it, serialised straight from
/// [`courier_props`].
pub fn courier_feature<'a>(
    s: &'a Station,
    crs: Crs,
    distance_m: Option<f64>,
    at: NaiveDateTime,
    fresh: &Freshness,
) -> PointFeature<'a, StationProps<'a>> {
    PointFeature::new(
        &s.id,
        s.location,
        crs,
        courier_props(s, distance_m, at, fresh),
    )
}

/// [`courier_feature`] as a `Feature`, for answers that embed it in other JSON
/// (edits, the live stream).
pub fn station_out(
    s: &Station,
    crs: Crs,
    distance_m: Option<f64>,
    at: NaiveDateTime,
    fresh: &Freshness,
) -> Feature {
    let f = courier_feature(s, crs, distance_m, at, fresh);
    serde_json::to_value(&f)
        .and_then(serde_json::from_value)
        .unwrap_or_else(|_| yizhan_core::io::station_feature(s, crs, Default::default()))
}

/// The k nearest stations to a point, nearest first.
#[utoipa::path(get, path = "/api/v1/stations/nearest", tag = "stations",
    params(
        ("lat" = f64, Query, description = "Latitude of the query point (-90..90), in `crs`"),
        ("lon" = f64, Query, description = "Longitude of the query point (-180..180), in `crs`"),
        ("k" = Option<u32>, Query, description = "How many stations (1..100, default 5)"),
        FilterParams,
        ("max_m" = Option<f64>, Query, description = "Only stations within this many metres (on the WGS 84 ellipsoid)"),
        ("by" = Option<String>, Query, description = "`walk` or `ebike`: rank by travel time on the street network (each feature gains by, travel_time_s, network_m and route, a LineString); `straight` (default): by straight-line distance"),
        CrsParam,
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection, nearest first; each feature has id, distance_m, amenities, open_now, capacity, free_seats", content_type = "application/geo+json", body = Object),
        (status = 409, description = "by=walk|ebike and no street network is loaded", content_type = "application/problem+json"),
        (status = 422, description = "by=walk|ebike and the point is farther from every street than the snapping limit", content_type = "application/problem+json"),
    ))]
pub async fn nearest(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let crs = p.crs()?;
    let at = p.point(crs)?;
    let k = p.count("k", 1, MAX_K)?.unwrap_or(DEFAULT_K) as usize;
    let max_m = p.number("max_m", 0.0, MAX_DISTANCE_M)?;
    let by = match p.get("by").map(str::trim) {
        None | Some("straight") => None,
        Some(m) => Some(m.parse::<Mode>().map_err(|e| ApiError::param("by", e))?),
    };
    let ask = Listing::read(&st, &p)?;
    if let Some(mode) = by {
        return nearest_by_network(&st, &ask, mode, at, k, max_m, crs);
    }
    let (filter, data) = (&ask.filter, &ask.snap.data);
    // Without filters, accept every station without reading it: the search then
    // touches only the stations it returns.
    let hits = if *filter == StationFilter::default() {
        data.stations.nearest_on_ellipsoid(at, k, max_m, |_| true)
    } else {
        data.stations
            .nearest_on_ellipsoid(at, k, max_m, filter.live(data, ask.fresh))
    };
    let current: Vec<Cow<'_, Station>> = hits.iter().map(|h| data.current(h.item)).collect();
    let found: Vec<(&Station, Option<f64>)> = current
        .iter()
        .zip(&hits)
        .map(|(s, h)| (&**s, Some(h.distance_m)))
        .collect();
    Ok(ask.answer(&found, crs))
}

/// The k stations fastest to reach from `at` on the street network of `mode`.
fn nearest_by_network(
    st: &AppState,
    ask: &Listing,
    mode: Mode,
    at: LonLat,
    k: usize,
    max_m: Option<f64>,
    crs: Crs,
) -> Result<GeoJson, ApiError> {
    let nets = st.networks().ok_or_else(|| ApiError::Conflict {
        reason: "no street network is loaded: run `yizhan roads import --pbf FILE.osm.pbf` (or add roads.geojson to the dataset) and restart the server".into(),
    })?;
    let net = nets.get(mode);
    let data = &ask.snap.data;
    let live = ask.filter.live(data, ask.fresh);
    let keep = |s: &Station| live(s) && max_m.is_none_or(|m| s.location.distance_m(at) <= m);
    let hits = net
        .nearest(&data.stations, at, k, SNAP_LIMIT_M, keep)
        .map_err(|e| ApiError::Unprocessable {
            reason: e.to_string(),
        })?;
    let current: Vec<Cow<'_, Station>> = hits
        .iter()
        .map(|h| data.current(&data.stations.items()[h.index]))
        .collect();
    let found: Vec<(&Station, Option<f64>)> = current
        .iter()
        .zip(&hits)
        .map(|(s, h)| (&**s, Some(h.straight_m)))
        .collect();
    let GeoJson(text) = ask.answer(&found, crs);
    let mut fc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ApiError::internal("nearest by network", e))?;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    if let Some(features) = fc.get_mut("features").and_then(|f| f.as_array_mut()) {
        for ((f, h), s) in features.iter_mut().zip(&hits).zip(&current) {
            let Some(props) = f.get_mut("properties").and_then(|p| p.as_object_mut()) else {
                continue;
            };
            let coords: Vec<[f64; 2]> = h
                .route
                .line
                .iter()
                .map(|&p| crs.from_wgs84(p))
                .map(|p| [p.lon, p.lat])
                .collect();
            props.insert("by".into(), mode.as_str().into());
            if mode == Mode::Ebike {
                if let Ok(links) = serde_json::to_value(navigate_links_for(
                    s.as_ref(),
                    yizhan_core::navigate::Travel::Ride,
                )) {
                    props.insert("navigate".into(), links);
                }
            }
            props.insert("travel_time_s".into(), round(h.route.time_s).into());
            props.insert("network_m".into(), round(h.route.metres).into());
            props.insert(
                "route".into(),
                serde_json::json!({"type": "LineString", "coordinates": coords}),
            );
        }
    }
    Ok(GeoJson(fc.to_string()))
}

/// What `GET /api/v1/network` answers.
#[derive(Debug, serde::Serialize)]
struct NetworkInfo {
    loaded: bool,
    profiles: [&'static str; 2],
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edges: Option<usize>,
}

/// Whether a street network is loaded, and its size (the walk graph's).
#[utoipa::path(get, path = "/api/v1/network", tag = "stations",
    responses(
        (status = 200, description = "{loaded, profiles, nodes, edges}; loaded is false (no counts) when the dataset has no roads", content_type = "application/json", body = Object),
    ))]
pub async fn network(State(st): State<AppState>) -> axum::Json<serde_json::Value> {
    let nets = st.networks();
    let info = NetworkInfo {
        loaded: nets.is_some(),
        profiles: [Mode::Walk.as_str(), Mode::Ebike.as_str()],
        nodes: nets.as_ref().map(|n| n.walk.report().nodes),
        edges: nets.as_ref().map(|n| n.walk.report().edges),
    };
    axum::Json(serde_json::to_value(info).unwrap_or_default())
}

/// Stations inside a bounding box (all stations without one), ordered by id.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations",
    params(
        ("bbox" = Option<String>, Query, description = "west,south,east,north in `crs`"),
        FilterParams,
        CrsParam,
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json", body = Object),
    ))]
pub async fn list(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let crs = p.crs()?;
    let bbox = p.bbox(crs)?;
    let ask = Listing::read(&st, &p)?;
    let data = &ask.snap.data;
    let keep = ask.filter.live(data, ask.fresh);
    let found: Vec<Cow<'_, Station>> = match bbox {
        Some(b) => data
            .stations
            .within_bbox(&b, &keep)
            .into_iter()
            .map(|h| data.current(h.item))
            .collect(),
        None => {
            let mut v: Vec<Cow<'_, Station>> =
                data.current_stations().filter(|s| keep(s)).collect();
            v.sort_by(|a, b| a.id.cmp(&b.id));
            v
        }
    };
    let found: Vec<(&Station, Option<f64>)> = found.iter().map(|s| (&**s, None)).collect();
    Ok(ask.answer(&found, crs))
}

/// What a courier listing reads besides its own parameters: the station filter,
/// the local time it tells opening hours at, the occupancy freshness rule and the
/// served snapshot (one for the whole request).
struct Listing {
    filter: StationFilter,
    now: NaiveDateTime,
    fresh: Freshness,
    snap: Arc<Snapshot>,
}

impl Listing {
    fn read(st: &AppState, p: &Params) -> Result<Self, ApiError> {
        let filter = p.station_filter()?;
        Ok(Self {
            now: filter.open_at.unwrap_or_else(local_now),
            filter,
            fresh: st.freshness(),
            snap: st.snapshot(),
        })
    }

    /// The FeatureCollection of `found` (with their distances, when measured).
    fn answer(&self, found: &[(&Station, Option<f64>)], crs: Crs) -> GeoJson {
        GeoJson(station_json::collection(found, crs, self.now, &self.fresh))
    }
}

/// One station by id.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations",
    params(
        CrsParam,
    ),
    responses(
        (status = 200, description = "GeoJSON Feature", content_type = "application/geo+json", body = Object),
        (status = 404, description = "No station with this id", content_type = "application/problem+json", body = Object)))]
pub async fn one(
    State(st): State<AppState>,
    PathParam(id): PathParam<String>,
    CrsParam { crs }: CrsParam,
) -> Result<GeoJson, ApiError> {
    let snap = st.snapshot();
    let s = snap.data.station(&id).ok_or_else(|| ApiError::NotFound {
        what: "station",
        id: id.clone(),
        expected: None,
    })?;
    Ok(GeoJson(feature_string(
        &s,
        crs,
        None,
        local_now(),
        &st.freshness(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::station_json::StationCollection;
    use chrono::{DateTime, Duration, Utc};
    use yizhan_core::geodesy::LonLat;
    use yizhan_core::hours::OpeningHours;
    use yizhan_core::model::{Amenity, AmenitySet, Occupancy, StationKind};

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Text with what JSON must escape (quotes, backslashes, every control
    /// character), what it must not (DEL, U+2028, CJK, emoji) and plain ASCII.
    fn text(r: &mut ChaCha8Rng) -> String {
        const PIECES: &[&str] = &[
            "\"",
            "\\",
            "/",
            "'",
            "\u{7f}",
            "\u{2028}",
            "\u{2029}",
            "驿站",
            "安海镇",
            "🚲",
            "é",
            "\u{feff}",
            "</script>",
            "{\"a\":1}",
            " ",
            "Station",
            "№ 5",
            "\u{10ffff}",
        ];
        let n = r.random_range(0..12_u64);
        let mut s = String::new();
        for _ in 0..n {
            if r.random_bool(0.3) {
                s.push(char::from(r.random_range(0..0x20_u64) as u8));
            } else if r.random_bool(0.1) {
                s.push(
                    char::from_u32(r.random_range(0..0x11_0000_u64) as u32).unwrap_or('\u{fffd}'),
                );
            } else {
                s.push_str(PIECES[r.random_range(..PIECES.len())]);
            }
        }
        s
    }

    fn opt_text(r: &mut ChaCha8Rng) -> Option<String> {
        r.random_bool(0.5).then(|| text(r))
    }

    fn station(r: &mut ChaCha8Rng, now: DateTime<Utc>) -> Station {
        const HOURS: &[&str] = &[
            "24/7",
            "08:00-20:00",
            "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
            "18:00-06:00",
            "Mo 10:00-11:00",
            "Sa 00:00-24:00",
            "Mo-Su 07:30-09:00,17:00-22:30",
        ];
        let amenities: AmenitySet = Amenity::ALL
            .into_iter()
            .filter(|_| r.random_bool(0.5))
            .collect();
        let capacity = match r.random_range(0..4_u64) {
            0 => 0,
            1 => u32::MAX,
            _ => r.random_range(0..60_u64) as u32,
        };
        let occupancy = r.random_bool(0.5).then(|| Occupancy {
            occupied: if r.random_bool(0.2) {
                u32::MAX
            } else {
                r.random_range(0..80_u64) as u32
            },
            // From the future (clock skew) to days old; some with sub-second parts.
            reported_at: now - Duration::seconds(r.random_range(0..4 * 86_400_u64) as i64 - 3_600)
                + Duration::nanoseconds(if r.random_bool(0.3) {
                    r.random_range(0..1_000_000_000_u64) as i64
                } else {
                    0
                }),
        });
        Station {
            id: if r.random_bool(0.8) {
                format!("CN-ST-{:06}", r.random_range(0..1_000_000_u64))
            } else {
                text(r)
            },
            name: text(r),
            name_zh: opt_text(r),
            kind: StationKind::ALL[r.random_range(..StationKind::ALL.len())],
            location: LonLat::new(
                r.random::<f64>() * 360.0 - 180.0,
                r.random::<f64>() * 180.0 - 90.0,
            )
            .expect("in range"),
            amenities,
            capacity,
            occupancy,
            opening_hours: HOURS[r.random_range(..HOURS.len())]
                .parse::<OpeningHours>()
                .expect("valid hours"),
            grid_unit: r
                .random_bool(0.5)
                .then(|| format!("{:012}", r.random_range(0..1_000_000_000_000_u64))),
            operator: opt_text(r),
            address: opt_text(r),
        }
    }

    fn distance(r: &mut ChaCha8Rng) -> Option<f64> {
        match r.random_range(0..6_u64) {
            0 => None,
            1 => Some(0.0),
            2 => Some(r.random_range(0..5_000_u64) as f64),
            3 => Some(r.random::<f64>() * 20_037_509.0),
            4 => Some(r.random::<f64>() * 1e-3),
            _ => Some(r.random::<f64>() * 2_000.0),
        }
    }

    fn parse(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
    }

    /// The byte writer (`station_json`) against the `Feature`/`Value` path, on seeded random
    /// stations: both must parse to the same JSON value (an integer written as
    /// `5.0` or a missing `null` member would differ), and today they are the
    /// same bytes too.
    #[test]
    fn writer_matches_the_value_path() {
        let mut r = ChaCha8Rng::seed_from_u64(0x5EED_2026_0007);
        let now = Utc::now();
        for round in 0..400 {
            let fresh = Freshness {
                now,
                max_age: std::time::Duration::from_secs(r.random_range(0..4 * 3600_u64)),
            };
            let crs = if r.random_bool(0.25) {
                Crs::Gcj02
            } else {
                Crs::Wgs84
            };
            let at =
                (now + Duration::minutes(r.random_range(0..14 * 24 * 60_u64) as i64)).naive_utc();
            let n = r.random_range(0..if round % 10 == 9 { 40 } else { 8 });
            let stations: Vec<Station> = (0..n).map(|_| station(&mut r, now)).collect();
            let dists: Vec<Option<f64>> = (0..n).map(|_| distance(&mut r)).collect();

            let reference = GeoJson::collection(
                stations
                    .iter()
                    .zip(&dists)
                    .map(|(s, d)| station_out(s, crs, *d, at, &fresh))
                    .collect(),
            )
            .0;
            let mut w = StationCollection::with_capacity(n);
            if round % 2 == 0 {
                for (s, d) in stations.iter().zip(&dists) {
                    w.push(s, crs, *d, at, &fresh);
                }
            } else {
                let both: Vec<(&Station, Option<f64>)> =
                    stations.iter().zip(dists.iter().copied()).collect();
                w.extend(&both, crs, at, &fresh);
            }
            let fast = w.finish();
            assert_eq!(parse(&fast), parse(&reference), "round {round}");
            assert_eq!(fast, reference, "round {round}: same value, other bytes");

            for (s, d) in stations.iter().zip(&dists) {
                let reference = station_out(s, crs, *d, at, &fresh).to_string();
                let fast = feature_string(s, crs, *d, at, &fresh);
                assert_eq!(parse(&fast), parse(&reference), "round {round}");
                assert_eq!(fast, reference, "round {round}");
            }
        }
    }
}
