//! Courier API: nearest stations, stations in a box, one station.

use std::borrow::Cow;

use axum::extract::State;
use chrono::NaiveDateTime;
use geojson::Feature;
use yizhan_core::crs::Crs;
use yizhan_core::index::StationFilter;
use yizhan_core::io::{OccupancyReport, PointFeature, StationProps};
use yizhan_core::model::Station;

use crate::auth::{Access, Route};
use crate::error::ApiError;
use crate::extract::{local_now, Params, PathParam};
use crate::routes::GeoJson;
use crate::state::AppState;
use crate::station_json::{feature_string, StationCollection};

/// Stations returned by `nearest` when `k` is not given.
pub const DEFAULT_K: u64 = 5;
/// The most stations `nearest` returns.
pub const MAX_K: u64 = 100;
/// The largest `max_m` accepted (half the Earth's circumference).
pub const MAX_DISTANCE_M: f64 = 20_037_509.0;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/stations/nearest", Access::Public, nearest),
        Route::get("/api/v1/stations", Access::Public, list),
        Route::get("/api/v1/stations/{id}", Access::Public, one),
    ]
}

/// When occupancy reports count as current: the domain's rule, here where the
/// routes have always found it.
pub use yizhan_core::occupancy::Freshness;

/// The properties a courier reads of a station: its [`StationProps`] with the
/// distance (to 0.1 m), whether it is open at `at`, free seats (`null` when no
/// current report), the occupancy report, and when it opens next if closed.
pub fn courier_props<'a>(
    s: &'a Station,
    distance_m: Option<f64>,
    at: NaiveDateTime,
    fresh: &Freshness,
) -> StationProps<'a> {
    let open = s.opening_hours.is_open_at(at);
    StationProps {
        distance_m: distance_m.map(|d| (d * 10.0).round() / 10.0),
        free_seats: Some(fresh.free_seats(s)),
        next_open: if open {
            None
        } else {
            s.opening_hours
                .next_open(at)
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        },
        occupancy: Some(s.occupancy.map(|o| {
            OccupancyReport {
                age_s: fresh
                    .now
                    .signed_duration_since(o.reported_at)
                    .num_seconds()
                    .max(0),
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
        ("amenity" = Option<String>, Query, description = "Comma-separated amenities the station must all offer (microwave, drinking_water, first_aid, books, charging, toilet, air_conditioning, seating, wifi)"),
        ("kind" = Option<String>, Query, description = "rest_station or childcare_class"),
        ("open_at" = Option<String>, Query, description = "Only stations open at this local time, e.g. 2026-07-01T12:30"),
        ("min_free" = Option<u32>, Query, description = "Only stations with at least this many free seats"),
        ("max_m" = Option<f64>, Query, description = "Only stations within this many metres"),
        ("crs" = Option<String>, Query, description = "wgs84 (default) or gcj02, for the query point and the answer"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection, nearest first; each feature has id, distance_m, amenities, open_now, capacity, free_seats", content_type = "application/geo+json", body = Object),
        (status = 400, description = "A parameter is missing or invalid", content_type = "application/problem+json", body = Object),
    ))]
pub async fn nearest(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let crs = p.crs()?;
    let at = p.point(crs)?;
    let k = p.count("k", 1, MAX_K)?.unwrap_or(DEFAULT_K) as usize;
    let max_m = p.number("max_m", 0.0, MAX_DISTANCE_M)?;
    let filter = p.station_filter()?;
    let now = filter.open_at.unwrap_or_else(local_now);
    let fresh = st.freshness();
    let snap = st.snapshot();
    let data = &snap.data;
    // Without filters, accept every station without reading it: the search then
    // touches only the stations it returns.
    let hits = if filter == StationFilter::default() {
        data.stations.nearest(at, k, max_m, |_| true)
    } else {
        data.stations
            .nearest(at, k, max_m, filter.live(data, fresh))
    };
    let current: Vec<Cow<'_, Station>> = hits.iter().map(|h| data.current(h.item)).collect();
    let found: Vec<(&Station, Option<f64>)> = current
        .iter()
        .zip(&hits)
        .map(|(s, h)| (&**s, Some(h.distance_m)))
        .collect();
    let mut out = StationCollection::with_capacity(found.len());
    out.extend(&found, crs, now, &fresh);
    Ok(GeoJson(out.finish()))
}

/// Stations inside a bounding box (all stations without one), ordered by id.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations",
    params(
        ("bbox" = Option<String>, Query, description = "west,south,east,north in `crs`"),
        ("amenity" = Option<String>, Query, description = "Comma-separated amenities the station must all offer"),
        ("kind" = Option<String>, Query, description = "rest_station or childcare_class"),
        ("open_at" = Option<String>, Query, description = "Only stations open at this local time"),
        ("min_free" = Option<u32>, Query, description = "Only stations with at least this many free seats"),
        ("crs" = Option<String>, Query, description = "wgs84 (default) or gcj02"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Malformed bbox or filter", content_type = "application/problem+json", body = Object),
    ))]
pub async fn list(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let crs = p.crs()?;
    let bbox = p.bbox(crs)?;
    let filter = p.station_filter()?;
    let now = filter.open_at.unwrap_or_else(local_now);
    let fresh = st.freshness();
    let snap = st.snapshot();
    let data = &snap.data;
    let keep = filter.live(data, fresh);
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
    let mut out = StationCollection::with_capacity(found.len());
    out.extend(&found, crs, now, &fresh);
    Ok(GeoJson(out.finish()))
}

/// One station by id.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations",
    params(
        ("id" = String, Path, description = "Station id"),
        ("crs" = Option<String>, Query, description = "wgs84 (default) or gcj02"),
    ),
    responses(
        (status = 200, description = "GeoJSON Feature", content_type = "application/geo+json", body = Object),
        (status = 404, description = "No station with this id", content_type = "application/problem+json", body = Object),
    ))]
pub async fn one(
    State(st): State<AppState>,
    PathParam(id): PathParam<String>,
    p: Params,
) -> Result<GeoJson, ApiError> {
    let crs = p.crs()?;
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
