//! Planner API: coverage, gaps, candidate comparison, site selection, assignment.
//!
//! The analyses run on the blocking pool (they use rayon and may take seconds).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use yizhan_core::profile::HourWindow;
use yizhan_net::Networks;
use yizhan_plan::coverage::{CoverageParams, Cutoff, TravelMode};
use yizhan_plan::workflow;
use yizhan_plan::{select, By, DistanceUsed, Model, NetworkCosts, SiteParams};

use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::routes::common::{blocking, body_params, candidates_in, CandidateIn};
use crate::routes::common::{CrsParam, FilterParams, GeoJson};
use crate::state::AppState;

/// Largest cutoff accepted, metres (the workflow's).
pub use yizhan_plan::workflow::MAX_CUTOFF_M;

/// Longest the exact solver may run for one request, seconds.
pub const MAX_TIME_LIMIT_S: f64 = 30.0;

/// Coverage parameters from the query: `cutoff_m` (default: the server's),
/// `peak_share`, checked by the workflow.
fn coverage_params(p: &Params, default_cutoff: f64) -> Result<CoverageParams, ApiError> {
    let cutoff = p.parse::<f64>("cutoff_m")?.unwrap_or(default_cutoff);
    let share = p.parse::<f64>("peak_share")?;
    let mut params =
        workflow::coverage_params(Some(cutoff), share).map_err(ApiError::from_plan_query)?;
    params.hours = query_hours(p)?;
    with_minutes(params, p.parse("minutes")?, p.parse("mode")?)
}

/// The hours to plan for from the query: `hour` (0–23) or `hours` (`A-B`).
fn query_hours(p: &Params) -> Result<Option<HourWindow>, ApiError> {
    let hour = p.parse::<u8>("hour")?;
    HourWindow::from_params(hour, p.get("hours"))
        .map_err(|e| ApiError::param(if hour.is_some() { "hour" } else { "hours" }, e))
}

/// The hours to plan for from a body's `hour` and `hours`.
fn body_hours(hour: Option<u8>, hours: Option<&str>) -> Result<Option<HourWindow>, ApiError> {
    HourWindow::from_params(hour, hours).map_err(|e| ApiError::BadBody {
        path: Some(if hour.is_some() { "hour" } else { "hours" }.into()),
        reason: e.to_string(),
    })
}

/// `params` with a travel-time cutoff of `minutes` (at `mode`, default walk) when
/// given.
fn with_minutes(
    params: CoverageParams,
    minutes: Option<f64>,
    mode: Option<TravelMode>,
) -> Result<CoverageParams, ApiError> {
    let Some(minutes) = minutes else {
        return Ok(params);
    };
    let params = CoverageParams {
        cutoff: Cutoff::Minutes {
            minutes,
            mode: mode.unwrap_or_default(),
            speed_kmh: None,
        },
        ..params
    };
    workflow::check_coverage_params(&params).map_err(ApiError::from_plan_query)?;
    Ok(params)
}

/// The road graphs `by` needs: none for straight lines, 409 when none is loaded.
fn networks_for(st: &AppState, by: By) -> Result<Option<Arc<Networks>>, ApiError> {
    if by == By::Straight {
        return Ok(None);
    }
    st.networks().map(Some).ok_or_else(|| ApiError::Conflict {
        reason: format!("by={by} needs a street network and none is loaded: run `yizhan roads import --pbf FILE.osm.pbf` (or add roads.geojson to the dataset) and restart the server, or use by=straight"),
    })
}

/// `v` with the top-level `distance` member.
fn with_distance(mut v: Value, d: DistanceUsed) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("distance".into(), json!(d));
    }
    v
}

/// Coverage summary and per-station load.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "plan",
    params(
        ("cutoff_m" = Option<f64>, Query, description = "Walking cutoff in metres (default from the server's config)"),
        ("peak_share" = Option<f64>, Query, description = "Share of workers wanting a seat at once (0..1, default 0.1)"),
        ("hour" = Option<u8>, Query, description = "Plan for one local hour, 0-23: each hotspot counts its workers present then by its demand profile (all at its busiest hour)"),
        ("hours" = Option<String>, Query, description = "Plan for a window of local hours, A-B (11-14: the lunch peak)"),
        ("minutes" = Option<f64>, Query, description = "Cutoff as travel time in minutes instead of cutoff_m (at mode's speed, or on the street network with by=walk|ebike)"),
        ("mode" = Option<String>, Query, description = "walk (default) or ebike: the speed of a straight-line minutes cutoff"),
        ("by" = Option<String>, Query, description = "straight (default), walk or ebike: measure along the streets of that profile's road graph (409 when none is loaded)"),
        FilterParams,
    ),
    responses(
        (status = 200, description = "Summary (total, covered demand and share, mean distance) and per-station load", body = Object)))]
pub async fn coverage_route(
    State(st): State<AppState>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let params = coverage_params(&p, st.config().default_cutoff_m)?;
    let filter = p.station_filter()?;
    let by: By = p.parse("by")?.unwrap_or_default();
    let nets = networks_for(&st, by)?;
    let data = Arc::clone(&st.snapshot().data);
    let report = blocking(move || {
        let costs = match &nets {
            Some(n) => NetworkCosts::of(n, by, &params.cutoff)?,
            None => None,
        };
        Ok(workflow::coverage_on(
            &data,
            &params,
            filter,
            costs.as_ref(),
        )?)
    })
    .await?;
    Ok(Json(with_distance(json!(report), by.used())))
}

/// Grid cells with gap fields, as GeoJSON.
#[utoipa::path(get, path = "/api/v1/gaps", tag = "plan",
    params(
        ("cutoff_m" = Option<f64>, Query, description = "Walking cutoff in metres"),
        ("hour" = Option<u8>, Query, description = "Plan for one local hour, 0-23: each hotspot counts its workers present then by its demand profile (all at its busiest hour)"),
        ("hours" = Option<String>, Query, description = "Plan for a window of local hours, A-B (11-14: the lunch peak)"),
        ("minutes" = Option<f64>, Query, description = "Cutoff as travel time in minutes instead of cutoff_m (at mode's speed, or on the street network with by=walk|ebike)"),
        ("mode" = Option<String>, Query, description = "walk (default) or ebike: the speed of a straight-line minutes cutoff"),
        ("by" = Option<String>, Query, description = "straight (default), walk or ebike: measure along the streets of that profile's road graph (409 when none is loaded)"),
        FilterParams,
        CrsParam,
    ),
    responses(
        (status = 200, description = "GeoJSON cells with uncovered_demand, nearest_station_m, pressure, score, rank", content_type = "application/geo+json", body = Object)))]
pub async fn gaps_route(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let params = coverage_params(&p, st.config().default_cutoff_m)?;
    let filter = p.station_filter()?;
    let crs = p.crs()?;
    let by: By = p.parse("by")?.unwrap_or_default();
    let nets = networks_for(&st, by)?;
    let data = Arc::clone(&st.snapshot().data);
    let feats = blocking(move || {
        let costs = match &nets {
            Some(n) => NetworkCosts::of(n, by, &params.cutoff)?,
            None => None,
        };
        Ok(workflow::gaps_on(&data, &params, filter, costs.as_ref())?.features(&data, crs))
    })
    .await?;
    let mut members = serde_json::Map::new();
    members.insert("distance".into(), json!(by.used()));
    Ok(GeoJson::collection_with(&feats, members))
}

/// Service areas: the streets reachable from each open station within `minutes`
/// along the loaded street network, as polygons.
#[utoipa::path(get, path = "/api/v1/service-areas", tag = "plan",
    params(
        ("minutes" = Option<f64>, Query, description = "Travel time, minutes (default 5, at most 60)"),
        ("by" = Option<String>, Query, description = "walk (default) or ebike"),
        FilterParams,
        CrsParam,
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection: one Polygon a station (station_id, name, mode, minutes, area_m2, vertices, snap_m)", content_type = "application/geo+json", body = Object),
        (status = 409, description = "No street network loaded", content_type = "application/problem+json", body = Object)))]
pub async fn service_areas_route(
    State(st): State<AppState>,
    p: Params,
) -> Result<GeoJson, ApiError> {
    use yizhan_plan::service_area::{service_area_features, MAX_MINUTES};
    let minutes = p.number("minutes", 0.0, MAX_MINUTES)?.unwrap_or(5.0);
    if minutes <= 0.0 {
        return Err(ApiError::param("minutes", "must be above 0"));
    }
    let by: By = p.parse("by")?.unwrap_or(By::Walk);
    let mode = by
        .mode()
        .ok_or_else(|| ApiError::param("by", "service areas follow the streets: walk or ebike"))?;
    let nets = networks_for(&st, by)?.ok_or_else(|| ApiError::param("by", "walk or ebike"))?;
    let filter = yizhan_plan::coverage::worker_filter(p.station_filter()?);
    let crs = p.crs()?;
    let data = Arc::clone(&st.snapshot().data);
    let feats = blocking(move || {
        let stations: Vec<&yizhan_core::Station> = data
            .stations
            .items()
            .iter()
            .filter(|s| filter.accepts(s))
            .collect();
        Ok(service_area_features(
            nets.get(mode),
            &stations,
            minutes,
            crs,
        ))
    })
    .await?;
    Ok(GeoJson::collection(feats))
}

/// Body of `POST /api/v1/plan/compare`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareIn {
    /// Candidate sites (default: the dataset's candidates).
    pub candidates: Option<Vec<CandidateIn>>,
    /// Use every grid cell's centroid as a candidate instead.
    #[serde(default)]
    pub cells: bool,
    /// Walking cutoff in metres.
    pub cutoff_m: Option<f64>,
    /// Cutoff as travel time in minutes instead of cutoff_m.
    pub minutes: Option<f64>,
    /// walk (default) or ebike: the speed of a straight-line minutes cutoff.
    #[schema(value_type = Option<String>)]
    pub mode: Option<TravelMode>,
    /// straight (default), walk or ebike: along that profile's streets.
    #[schema(value_type = Option<String>)]
    pub by: Option<By>,
    /// Share of workers wanting a seat at once (default 0.1).
    pub peak_share: Option<f64>,
    /// Plan for one local hour (0–23) by the hotspots' demand profiles.
    pub hour: Option<u8>,
    /// Plan for a window of local hours, "A-B" (e.g. "11-14").
    pub hours: Option<String>,
    /// How many rows to return (default all).
    pub top: Option<usize>,
}

/// Rank candidate sites by what they would add.
#[utoipa::path(post, path = "/api/v1/plan/compare", tag = "plan",
    params(CrsParam),
    request_body = CompareIn,
    responses(
        (status = 200, description = "Ranked table: newly covered demand, relief of overloaded stations, workers served, distance saved, new grid units", body = Object)))]
pub async fn compare_route(
    State(st): State<AppState>,
    CrsParam { crs }: CrsParam,
    JsonBody(b): JsonBody<CompareIn>,
) -> Result<Json<Value>, ApiError> {
    let mut params = body_params(&st, b.cutoff_m, b.peak_share)?;
    params.hours = body_hours(b.hour, b.hours.as_deref())?;
    let params = with_minutes(params, b.minutes, b.mode)?;
    let by = b.by.unwrap_or_default();
    let nets = networks_for(&st, by)?;
    let data = Arc::clone(&st.snapshot().data);
    blocking(move || {
        let cands = candidates_in(b.candidates, b.cells, &data, crs)?;
        let costs = match &nets {
            Some(n) => NetworkCosts::of(n, by, &params.cutoff)?,
            None => None,
        };
        let c = workflow::compare_on(
            &data,
            &cands,
            &params,
            Default::default(),
            b.top,
            costs.as_ref(),
        )?;
        Ok(Json(c.to_json_in(crs)))
    })
    .await
}

/// Body of `POST /api/v1/plan/select`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectIn {
    /// mclp, lscp, pmedian or pcenter.
    #[schema(value_type = String)]
    pub model: Model,
    /// Number of new sites (mclp, pmedian, pcenter).
    pub p: Option<usize>,
    /// Service radius in metres (needed by mclp and lscp); with by=walk|ebike,
    /// network metres.
    pub cutoff_m: Option<f64>,
    /// With by=walk|ebike: the service radius as network travel time in minutes
    /// instead (costs are then seconds).
    pub minutes: Option<f64>,
    /// straight (default), walk or ebike: costs along that profile's streets,
    /// within cutoff_m or minutes (one of them needed).
    #[schema(value_type = Option<String>)]
    pub by: Option<By>,
    /// Prove optimality with the integer program (time-limited).
    #[serde(default)]
    pub exact: bool,
    /// Keep the existing stations open (default true).
    #[serde(default = "yes")]
    pub keep_existing: bool,
    /// Candidate sites (default: the dataset's candidates).
    pub candidates: Option<Vec<CandidateIn>>,
    /// Use every grid cell's centroid as a candidate instead.
    #[serde(default)]
    pub cells: bool,
    /// Site ids that may not be chosen.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Time limit of the exact solver, seconds (at most 30).
    pub time_limit_s: Option<f64>,
    /// Aim at one local hour (0–23): hotspots weigh their workers present then.
    pub hour: Option<u8>,
    /// Aim at a window of local hours, "A-B" ("11-14": the best sites for the lunch
    /// peak).
    pub hours: Option<String>,
}

fn yes() -> bool {
    true
}

/// Choose new sites with a location model.
#[utoipa::path(post, path = "/api/v1/plan/select", tag = "plan",
    params(CrsParam),
    request_body = SelectIn,
    responses(
        (status = 200, description = "Chosen sites (with coordinates), objective, covered demand, optimality and gap", body = Object),
        (status = 422, description = "No feasible answer", content_type = "application/problem+json", body = Object)))]
pub async fn select_route(
    State(st): State<AppState>,
    CrsParam { crs }: CrsParam,
    JsonBody(b): JsonBody<SelectIn>,
) -> Result<Json<Value>, ApiError> {
    if let Some(r) = b.cutoff_m {
        workflow::check_cutoff_m(r)?;
    }
    let mut params = SiteParams::new(b.model);
    params.p = b.p;
    params.radius_m = b.cutoff_m;
    params.exact = b.exact;
    params.excluded = b.excluded.clone();
    params.hours = body_hours(b.hour, b.hours.as_deref())?;
    if let Some(t) = b.time_limit_s {
        if !(t > 0.0 && t <= MAX_TIME_LIMIT_S) {
            return Err(ApiError::BadBody {
                path: Some("time_limit_s".into()),
                reason: format!("{t} must be above 0 and at most {MAX_TIME_LIMIT_S}"),
            });
        }
        params.time_limit_s = t;
    } else {
        params.time_limit_s = params.time_limit_s.min(MAX_TIME_LIMIT_S);
    }
    let by = b.by.unwrap_or_default();
    let net_cutoff = match (b.minutes, b.cutoff_m) {
        (Some(minutes), _) => Some(Cutoff::Minutes {
            minutes,
            mode: TravelMode::default(),
            speed_kmh: None,
        }),
        (None, Some(metres)) => Some(Cutoff::Metres { metres }),
        (None, None) => None,
    };
    if b.minutes.is_some() && by == By::Straight {
        return Err(ApiError::BadBody {
            path: Some("minutes".into()),
            reason: "minutes is a network travel time: give by=walk or by=ebike, or cutoff_m"
                .into(),
        });
    }
    if let Some(Cutoff::Minutes { minutes, .. }) = net_cutoff {
        workflow::check_coverage_params(&CoverageParams {
            cutoff: Cutoff::Minutes {
                minutes,
                mode: TravelMode::default(),
                speed_kmh: None,
            },
            decay: None,
            peak_share: 0.1,
            hours: None,
        })
        .map_err(ApiError::from)?;
    }
    let needs_cutoff = matches!(b.model, Model::Mclp | Model::Lscp) || by != By::Straight;
    if needs_cutoff && net_cutoff.is_none() {
        return Err(ApiError::BadBody {
            path: Some("cutoff_m".into()),
            reason: format!(
                "model {} by={by} needs cutoff_m (or minutes on a network), the service radius",
                b.model
            ),
        });
    }
    let nets = networks_for(&st, by)?;
    let data = Arc::clone(&st.snapshot().data);
    blocking(move || {
        let cands = candidates_in(b.candidates, b.cells, &data, crs)?;
        let costs = match (&nets, &net_cutoff) {
            (Some(n), Some(c)) => NetworkCosts::of(n, by, c)?,
            _ => None,
        };
        let prob =
            workflow::town_problem_on(&data, &cands, b.keep_existing, &mut params, costs.as_ref())?;
        let sol = select::solve(&prob, &params)?;
        let mut where_: serde_json::Map<String, Value> = serde_json::Map::new();
        for c in &cands {
            let at = crs.from_wgs84(c.location);
            where_.insert(
                c.id.clone(),
                json!({ "lon": at.lon, "lat": at.lat, "name": c.name }),
            );
        }
        let new_sites: Vec<Value> = sol
            .new_sites
            .iter()
            .map(|id| {
                let mut v = where_.get(id).cloned().unwrap_or_else(|| json!({}));
                v["id"] = json!(id);
                v
            })
            .collect();
        let mut out = json!(sol);
        out["chosen"] = json!(new_sites);
        out["cost_unit"] = json!(costs.map_or("metres", |c| c.metric.unit()));
        Ok(Json(with_distance(out, by.used())))
    })
    .await
}

/// Body of `POST /api/v1/plan/assign`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// Farthest a worker is sent, metres.
    pub cutoff_m: Option<f64>,
    /// Share of workers wanting a seat at once (default 0.1).
    pub peak_share: Option<f64>,
}

/// Assign hotspot demand to station seats (capacitated, min total distance).
#[utoipa::path(post, path = "/api/v1/plan/assign", tag = "plan",
    request_body = AssignIn,
    responses(
        (status = 200, description = "Flows, per-site load, unassigned demand with reasons, total cost, optimality", body = Object)))]
pub async fn assign_route(
    State(st): State<AppState>,
    JsonBody(b): JsonBody<AssignIn>,
) -> Result<Json<Value>, ApiError> {
    let params = body_params(&st, b.cutoff_m, b.peak_share)?;
    let (cutoff, share) = (params.cutoff.metres()?, params.peak_share);
    let data = Arc::clone(&st.snapshot().data);
    let res = blocking(move || Ok(workflow::town_assignment(&data, cutoff, share)?)).await?;
    Ok(Json(json!(res)))
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        coverage_route,
        gaps_route,
        service_areas_route,
        compare_route,
        select_route,
        assign_route
    ),
    components(schemas(CandidateIn, CompareIn, SelectIn, AssignIn))
)]
pub struct PlanDoc;
