//! Write routes: stations (planner), occupancy (the station's operator), saved
//! scenarios and the change history (planner).
//!
//! Every write validates fully, then runs in one store transaction together with
//! its history record; it is acknowledged only once committed (WAL, synchronous
//! FULL). The served dataset is patched before the answer, so the next read (the
//! R-tree, planning results, OGC collections) sees the change.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};
use yizhan_core::crs::Crs;
use yizhan_core::io::ReadError;
use yizhan_core::model::Station;
use yizhan_store::Store;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{local_now, JsonBody, Params, PathParam};
use crate::routes::common::{blocking, body_params, candidates_in, CandidateIn};
use crate::routes::common::{CrsParam, GeoJson};
use crate::routes::stations::station_out;
use crate::state::{AppState, LiveEvent, StationChange};

/// Default and largest page of `GET /api/v1/history`.
pub const HISTORY_DEFAULT_LIMIT: u64 = 100;
/// Largest page of `GET /api/v1/history`.
pub const HISTORY_MAX_LIMIT: u64 = 1000;

/// Read one station from a GeoJSON Feature body with the same validation as a
/// `stations.geojson` file. `path_id` is the id from the URL, if any: the body's
/// id must match it or be absent.
pub fn station_from_feature(
    mut body: Value,
    crs: Crs,
    path_id: Option<&str>,
) -> Result<Station, ApiError> {
    let bad = |path: &str, reason: String| ApiError::BadBody {
        path: Some(path.to_string()),
        reason,
    };
    let Some(obj) = body.as_object_mut() else {
        return Err(bad(".", "expected a GeoJSON Feature object".into()));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        Some(t) => return Err(bad("type", format!("expected \"Feature\", found {t:?}"))),
        None => return Err(bad("type", "missing (expected \"Feature\")".into())),
    }
    if let Some(pid) = path_id {
        let body_id = obj
            .get("id")
            .or_else(|| obj.get("properties").and_then(|p| p.get("id")))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        match body_id {
            Some(b) if b != pid => {
                return Err(bad(
                    "id",
                    format!("{b:?} differs from the station id {pid:?} in the path"),
                ))
            }
            Some(_) => {}
            None => {
                obj.insert("id".into(), json!(pid));
            }
        }
    }
    let text = json!({ "type": "FeatureCollection", "features": [body] }).to_string();
    let fc = yizhan_core::io::parse_collection(&text).map_err(read_error)?;
    let mut v = yizhan_core::io::read_stations(&fc, crs).map_err(read_error)?;
    v.pop()
        .ok_or_else(|| bad(".", "expected one station feature".into()))
}

fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::Features(list) if !list.is_empty() => ApiError::BadBody {
            path: Some(list[0].field.clone()),
            reason: list
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        },
        other => ApiError::BadBody {
            path: None,
            reason: other.to_string(),
        },
    }
}

/// Run a station write on the blocking pool, patch the served stations with the
/// change it made (in the store's turn), then tell live clients with `event`:
/// the written station.
async fn station_write(
    st: &AppState,
    event: impl FnOnce(Box<Station>) -> LiveEvent,
    write: impl FnOnce(&mut Store) -> Result<(Station, StationChange), ApiError> + Send + 'static,
) -> Result<Station, ApiError> {
    let st2 = st.clone();
    let s = blocking(move || st2.write_stations(write)).await?;
    st.publish(event(Box::new(s.clone())));
    Ok(s)
}

/// The live event of a station `created`, `updated` or `retired`.
fn station_event(action: &'static str) -> impl FnOnce(Box<Station>) -> LiveEvent {
    move |station| LiveEvent::Station { action, station }
}

fn feature_of(st: &AppState, s: &Station) -> geojson::Feature {
    station_out(s, Crs::Wgs84, None, local_now(), &st.freshness())
}

fn created(location: String, body: impl IntoResponse) -> Response {
    let mut r = (StatusCode::CREATED, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Add a station.
#[utoipa::path(post, path = "/api/v1/stations", tag = "edit",
    params(CrsParam),
    request_body(content = Object, content_type = "application/geo+json",
        description = "A GeoJSON Feature with a Point geometry and the properties of stations.geojson (name, capacity required; id as the Feature id or an id property)"),
    responses(
        (status = 201, description = "The stored station", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Invalid feature; names the field", content_type = "application/problem+json", body = Object),
        (status = 409, description = "A station with this id exists", content_type = "application/problem+json", body = Object)))]
pub async fn create_station(
    State(st): State<AppState>,
    caller: Caller,
    CrsParam { crs }: CrsParam,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let station = station_from_feature(body, crs, None)?;
    let s = station_write(&st, station_event("created"), move |store| {
        let s = store.create_station(&caller.actor(), &station)?;
        Ok((s.clone(), StationChange::Upsert(Box::new(s))))
    })
    .await?;
    let loc = format!("/api/v1/stations/{}", s.id);
    Ok(created(loc, GeoJson::feature(feature_of(&st, &s))))
}

/// Replace a station's attributes and position (its occupancy report is kept
/// unless the new capacity is below it).
#[utoipa::path(put, path = "/api/v1/stations/{id}", tag = "edit",
    params(CrsParam),
    request_body(content = Object, content_type = "application/geo+json", description = "The whole station as a GeoJSON Feature"),
    responses(
        (status = 200, description = "The stored station", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Invalid feature", content_type = "application/problem+json", body = Object)))]
pub async fn update_station(
    State(st): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<String>,
    CrsParam { crs }: CrsParam,
    JsonBody(body): JsonBody<Value>,
) -> Result<GeoJson, ApiError> {
    let mut station = station_from_feature(body, crs, Some(&id))?;
    let s = station_write(&st, station_event("updated"), move |store| {
        let current = store.station(&station.id)?;
        station.occupancy = current.occupancy.filter(|o| o.occupied <= station.capacity);
        let s = store.update_station(&caller.actor(), &station)?;
        Ok((s.clone(), StationChange::Upsert(Box::new(s))))
    })
    .await?;
    Ok(GeoJson::feature(feature_of(&st, &s)))
}

/// Retire (remove) a station; its last state stays in the history.
#[utoipa::path(delete, path = "/api/v1/stations/{id}", tag = "edit",
    responses(
        (status = 204, description = "Retired")))]
pub async fn retire_station(
    State(st): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    station_write(&st, station_event("retired"), move |store| {
        let s = store.retire_station(&caller.actor(), &id)?;
        Ok((s, StationChange::Remove(id)))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `PUT /api/v1/stations/{id}/occupancy`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupancyIn {
    /// Seats taken now (at most the station's capacity).
    pub occupied: u32,
}

/// Report how many seats of a station are taken now (time: the server's clock).
#[utoipa::path(put, path = "/api/v1/stations/{id}/occupancy", tag = "edit",
    request_body = OccupancyIn,
    responses(
        (status = 200, description = "The station with its new free_seats and occupancy", content_type = "application/geo+json", body = Object),
        (status = 422, description = "More than the station's seats", content_type = "application/problem+json", body = Object)))]
pub async fn set_occupancy(
    State(st): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<String>,
    JsonBody(b): JsonBody<OccupancyIn>,
) -> Result<GeoJson, ApiError> {
    let s = station_write(
        &st,
        |station| LiveEvent::Occupancy { station },
        move |store| {
            let s = store.set_occupancy(&caller.actor(), &id, b.occupied, Utc::now())?;
            let change = StationChange::Occupancy {
                id: s.id.clone(),
                occupancy: s.occupancy,
            };
            Ok((s, change))
        },
    )
    .await?;
    Ok(GeoJson::feature(feature_of(&st, &s)))
}

/// Body of `POST /api/v1/scenarios`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioIn {
    /// A name for the scenario.
    pub name: String,
    /// The candidate sites (coordinates in the request's `crs`).
    pub candidates: Vec<CandidateIn>,
    /// Walking cutoff of the comparison, metres (default: the server's).
    pub cutoff_m: Option<f64>,
    /// Share of workers wanting a seat at once (default 0.1).
    pub peak_share: Option<f64>,
}

/// Every saved scenario, newest first.
#[utoipa::path(get, path = "/api/v1/scenarios", tag = "edit",
    responses(
        (status = 200, description = "{\"scenarios\": [{id, name, created_at, created_by, candidates, comparison}]}", body = Object)))]
pub async fn list_scenarios(
    State(st): State<AppState>,
    _caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let list = blocking(move || st.with_store_blocking(|s| Ok(s.scenarios()?))).await?;
    Ok(Json(json!({ "scenarios": list })))
}

/// Save a candidate set with its comparison (computed now, on the current stations).
#[utoipa::path(post, path = "/api/v1/scenarios", tag = "edit",
    params(CrsParam),
    request_body = ScenarioIn,
    responses(
        (status = 201, description = "The saved scenario: id, name, created_at, created_by, candidates (GeoJSON, WGS 84), comparison", body = Object),
        (status = 422, description = "Invalid name", content_type = "application/problem+json", body = Object)))]
pub async fn save_scenario(
    State(st): State<AppState>,
    caller: Caller,
    CrsParam { crs }: CrsParam,
    JsonBody(b): JsonBody<ScenarioIn>,
) -> Result<Response, ApiError> {
    if b.name.trim().is_empty() {
        return Err(ApiError::BadBody {
            path: Some("name".into()),
            reason: "must not be empty".into(),
        });
    }
    if b.candidates.is_empty() {
        return Err(ApiError::BadBody {
            path: Some("candidates".into()),
            reason: "give at least one candidate site".into(),
        });
    }
    let params = body_params(&st, b.cutoff_m, b.peak_share)?;
    let snap = st.snapshot();
    let st2 = st.clone();
    let sc = blocking(move || {
        let data = &snap.data;
        let cands = candidates_in(Some(b.candidates), false, data, crs)?;
        let comparison =
            yizhan_plan::workflow::compare(data, &cands, &params, Default::default(), None)?
                .to_json_in(Crs::Wgs84);
        let fc: Vec<geojson::Feature> = cands
            .iter()
            .map(|c| yizhan_core::io::candidate_feature(c, Crs::Wgs84))
            .collect();
        let fc: Value = serde_json::from_str(&yizhan_core::io::to_string(fc))
            .map_err(|e| ApiError::internal("scenario candidates", e))?;
        st2.with_store_blocking(|s| {
            Ok(s.save_scenario(&caller.actor(), &b.name, &fc, Some(&comparison))?)
        })
    })
    .await?;
    Ok(created(format!("/api/v1/scenarios/{}", sc.id), Json(sc)))
}

/// One saved scenario.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}", tag = "edit",
    params(("id" = i64, Path, description = "Scenario id")),
    responses(
        (status = 200, description = "The scenario", body = Object)))]
pub async fn get_scenario(
    State(st): State<AppState>,
    _caller: Caller,
    PathParam(id): PathParam<i64>,
) -> Result<Json<Value>, ApiError> {
    let sc = blocking(move || st.with_store_blocking(|s| Ok(s.scenario(id)?))).await?;
    Ok(Json(json!(sc)))
}

/// Delete a saved scenario (its content stays in the history).
#[utoipa::path(delete, path = "/api/v1/scenarios/{id}", tag = "edit",
    params(("id" = i64, Path, description = "Scenario id")),
    responses(
        (status = 204, description = "Deleted")))]
pub async fn delete_scenario(
    State(st): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<i64>,
) -> Result<StatusCode, ApiError> {
    blocking(move || st.with_store_blocking(|s| Ok(s.delete_scenario(&caller.actor(), id)?)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The append-only history of changes, oldest first.
#[utoipa::path(get, path = "/api/v1/history", tag = "edit",
    params(
        ("after" = Option<i64>, Query, description = "Only records with seq above this (default 0)"),
        ("limit" = Option<u32>, Query, description = "At most this many (1..1000, default 100)"),
    ),
    responses(
        (status = 200, description = "{\"entries\": [{seq, at, actor, action, entity, entity_id, before, after}], \"next_after\": seq}", body = Object)))]
pub async fn history(
    State(st): State<AppState>,
    _caller: Caller,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let after = p
        .count("after", 0, i64::MAX as u64)?
        .map_or(0, |v| v as i64);
    let limit = p
        .count("limit", 1, HISTORY_MAX_LIMIT)?
        .unwrap_or(HISTORY_DEFAULT_LIMIT) as usize;
    let entries =
        blocking(move || st.with_store_blocking(|s| Ok(s.history(after, limit)?))).await?;
    let next = entries.last().map_or(after, |e| e.seq);
    Ok(Json(json!({ "entries": entries, "next_after": next })))
}
