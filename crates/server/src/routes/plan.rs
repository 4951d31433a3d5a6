//! Planner API: coverage, gaps, candidate comparison, site selection, assignment.
//!
//! The analyses run on the blocking pool (they use rayon and may take seconds).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use geojson::{Feature, JsonObject};
use serde::Deserialize;
use serde_json::{json, Value};
use yizhan_core::crs::Crs;
use yizhan_core::geodesy::LonLat;
use yizhan_core::index::StationFilter;
use yizhan_core::model::{Candidate, Station};
use yizhan_core::Dataset;
use yizhan_plan::coverage::{self, CoverageParams, CoverageReport, GapWeights, Nearest};
use yizhan_plan::{assign, select, Model, SiteParams, TownSites};

use crate::auth::{Access, Route};
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::routes::GeoJson;
use crate::state::AppState;

/// Largest cutoff accepted, metres.
pub const MAX_CUTOFF_M: f64 = 100_000.0;
/// Longest the exact solver may run for one request, seconds.
pub const MAX_TIME_LIMIT_S: f64 = 30.0;
/// Largest complete demand × site matrix built without a radius.
const MAX_DENSE: usize = 5_000_000;

/// The routes of this module.
/// The analyses only read, so they are public (POST because they take a body).
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/v1/coverage", Access::Public, coverage_route),
        Route::get("/api/v1/gaps", Access::Public, gaps_route),
        Route::post("/api/v1/plan/compare", Access::Public, compare_route),
        Route::post("/api/v1/plan/select", Access::Public, select_route),
        Route::post("/api/v1/plan/assign", Access::Public, assign_route),
    ]
}

/// Run CPU-heavy or blocking work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("blocking task", e))?
}

pub(crate) fn check_cutoff(param: &str, m: f64) -> Result<f64, ApiError> {
    if m.is_finite() && m > 0.0 && m <= MAX_CUTOFF_M {
        Ok(m)
    } else {
        Err(ApiError::param(
            param,
            format!("{m} is out of range (must be between 0 and {MAX_CUTOFF_M} metres)"),
        ))
    }
}

/// Coverage of the hotspots by the stations that pass `filter`.
fn analyse(
    data: &Dataset,
    params: &CoverageParams,
    filter: &StationFilter,
) -> Result<(CoverageReport, Vec<Nearest>), ApiError> {
    let keep = |s: &Station| filter.accepts(s);
    Ok(coverage::coverage(
        &data.stations,
        data.hotspots.items(),
        params,
        &keep,
    )?)
}

/// Grid cells with gap fields at `cutoff_m` (all stations open), in `crs`.
pub fn gap_features(data: &Dataset, cutoff_m: f64, crs: Crs) -> Result<Vec<Feature>, ApiError> {
    gap_features_with(
        data,
        &CoverageParams {
            peak_share: coverage::DEFAULT_PEAK_SHARE,
            ..CoverageParams::metres(cutoff_m)
        },
        &coverage::worker_filter(StationFilter::default()),
        crs,
    )
}

fn gap_features_with(
    data: &Dataset,
    params: &CoverageParams,
    filter: &StationFilter,
    crs: Crs,
) -> Result<Vec<Feature>, ApiError> {
    let (report, near) = analyse(data, params, filter)?;
    let keep = |s: &Station| filter.accepts(s);
    let gaps = coverage::gaps(data, &report, &near, &GapWeights::default(), &keep);
    let by_id: std::collections::HashMap<&str, &coverage::CellGap> =
        gaps.iter().map(|g| (g.id.as_str(), g)).collect();
    Ok(data
        .cells
        .items()
        .iter()
        .map(|c| {
            let mut extra = JsonObject::new();
            extra.insert("cutoff_m".into(), json!(report.cutoff_m));
            if let Some(g) = by_id.get(c.id.as_str()) {
                extra.insert("uncovered_demand".into(), json!(g.uncovered_demand));
                extra.insert(
                    "nearest_station_m".into(),
                    json!(g.nearest_station_m.map(|d| (d * 10.0).round() / 10.0)),
                );
                extra.insert("covered".into(), json!(g.uncovered_demand <= 0.0));
                extra.insert("pressure".into(), json!(g.pressure));
                extra.insert("score".into(), json!(g.score));
                extra.insert("rank".into(), json!(g.rank));
            }
            yizhan_core::io::cell_feature(c, crs, extra)
        })
        .collect())
}

/// Coverage parameters from the query: `cutoff_m`, `peak_share`.
fn coverage_params(p: &Params, default_cutoff: f64) -> Result<CoverageParams, ApiError> {
    let cutoff = match p.parse::<f64>("cutoff_m")? {
        Some(m) => check_cutoff("cutoff_m", m)?,
        None => default_cutoff,
    };
    let mut params = CoverageParams {
        peak_share: coverage::DEFAULT_PEAK_SHARE,
        ..CoverageParams::metres(cutoff)
    };
    if let Some(s) = p.number("peak_share", 0.0, 1.0)? {
        if s <= 0.0 {
            return Err(ApiError::param("peak_share", "must be above 0"));
        }
        params.peak_share = s;
    }
    Ok(params)
}

/// Coverage summary and per-station load.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "plan",
    params(
        ("cutoff_m" = Option<f64>, Query, description = "Walking cutoff in metres (default from the server's config)"),
        ("peak_share" = Option<f64>, Query, description = "Share of workers wanting a seat at once (0..1, default 0.1)"),
        ("kind" = Option<String>, Query, description = "Only stations of this kind count"),
        ("amenity" = Option<String>, Query, description = "Only stations offering these count"),
        ("open_at" = Option<String>, Query, description = "Only stations open at this local time count"),
    ),
    responses(
        (status = 200, description = "Summary (total, covered demand and share, mean distance) and per-station load", body = Object),
        (status = 400, description = "Bad parameter", content_type = "application/problem+json", body = Object)))]
pub async fn coverage_route(
    State(st): State<AppState>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let params = coverage_params(&p, st.config().default_cutoff_m)?;
    let filter = coverage::worker_filter(p.station_filter()?);
    let snap = st.snapshot();
    let data = Arc::clone(&snap.data);
    let report = blocking(move || analyse(&data, &params, &filter).map(|(r, _)| r)).await?;
    Ok(Json(json!(report)))
}

/// Grid cells with gap fields, as GeoJSON.
#[utoipa::path(get, path = "/api/v1/gaps", tag = "plan",
    params(
        ("cutoff_m" = Option<f64>, Query, description = "Walking cutoff in metres"),
        ("kind" = Option<String>, Query, description = "Only stations of this kind count"),
        ("amenity" = Option<String>, Query, description = "Only stations offering these count"),
        ("open_at" = Option<String>, Query, description = "Only stations open at this local time count"),
        ("crs" = Option<String>, Query, description = "wgs84 (default) or gcj02"),
    ),
    responses(
        (status = 200, description = "GeoJSON cells with uncovered_demand, nearest_station_m, pressure, score, rank", content_type = "application/geo+json", body = Object),
        (status = 400, description = "Bad parameter", content_type = "application/problem+json", body = Object)))]
pub async fn gaps_route(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let params = coverage_params(&p, st.config().default_cutoff_m)?;
    let filter = coverage::worker_filter(p.station_filter()?);
    let crs = p.crs()?;
    let snap = st.snapshot();
    let data = Arc::clone(&snap.data);
    let feats = blocking(move || gap_features_with(&data, &params, &filter, crs)).await?;
    Ok(GeoJson::collection(feats))
}

/// A candidate site given in a request body (coordinates in the request's `crs`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateIn {
    /// Unique id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Seats it would offer.
    #[serde(default)]
    pub capacity: Option<u32>,
}

pub(crate) fn candidates_in(
    given: Option<Vec<CandidateIn>>,
    cells: bool,
    data: &Dataset,
    crs: Crs,
) -> Result<Vec<Candidate>, ApiError> {
    let out = match given {
        Some(list) => {
            let mut seen = std::collections::HashSet::new();
            list.into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let at = LonLat::new(c.lon, c.lat).map_err(|e| ApiError::BadBody {
                        path: Some(format!("candidates[{i}]")),
                        reason: e.to_string(),
                    })?;
                    if !seen.insert(c.id.clone()) {
                        return Err(ApiError::BadBody {
                            path: Some(format!("candidates[{i}].id")),
                            reason: format!("duplicate id {:?}", c.id),
                        });
                    }
                    Ok(Candidate {
                        id: c.id,
                        name: c.name,
                        location: crs.to_wgs84(at),
                        capacity: c.capacity,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        None if cells => coverage::cell_candidates(data.cells.items()),
        None => data.candidates.items().to_vec(),
    };
    if out.is_empty() {
        return Err(ApiError::BadBody {
            path: Some("candidates".into()),
            reason: "no candidate sites: give candidates, set cells: true, or load a dataset with candidates.geojson".into(),
        });
    }
    Ok(out)
}

/// Body of `POST /api/v1/plan/compare`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareIn {
    /// Candidate sites (default: the dataset's candidates).
    #[serde(default)]
    pub candidates: Option<Vec<CandidateIn>>,
    /// Use every grid cell's centroid as a candidate instead.
    #[serde(default)]
    pub cells: bool,
    /// Walking cutoff in metres.
    #[serde(default)]
    pub cutoff_m: Option<f64>,
    /// Share of workers wanting a seat at once (default 0.1).
    #[serde(default)]
    pub peak_share: Option<f64>,
    /// How many rows to return (default all).
    #[serde(default)]
    pub top: Option<usize>,
}

/// Rank candidate sites by what they would add.
#[utoipa::path(post, path = "/api/v1/plan/compare", tag = "plan",
    params(("crs" = Option<String>, Query, description = "CRS of the candidates' and answer's coordinates")),
    request_body = CompareIn,
    responses(
        (status = 200, description = "Ranked table: newly covered demand, relief of overloaded stations, workers served, distance saved, new grid units", body = Object),
        (status = 400, description = "Bad body", content_type = "application/problem+json", body = Object),
        (status = 413, description = "Body too large", content_type = "application/problem+json", body = Object)))]
pub async fn compare_route(
    State(st): State<AppState>,
    p: Params,
    JsonBody(b): JsonBody<CompareIn>,
) -> Result<Json<Value>, ApiError> {
    let crs = p.crs()?;
    let params = body_params(&st, b.cutoff_m, b.peak_share)?;
    let snap = st.snapshot();
    let data = Arc::clone(&snap.data);
    blocking(move || {
        let cands = candidates_in(b.candidates, b.cells, &data, crs)?;
        compare_table(&data, &cands, &params, crs, b.top).map(Json)
    })
    .await
}

/// Coverage parameters from a request body: `cutoff_m` (default: the server's) and
/// `peak_share` (default [`coverage::DEFAULT_PEAK_SHARE`], in (0, 1]).
pub(crate) fn body_params(
    st: &AppState,
    cutoff_m: Option<f64>,
    peak_share: Option<f64>,
) -> Result<CoverageParams, ApiError> {
    let cutoff = check_cutoff("cutoff_m", cutoff_m.unwrap_or(st.config().default_cutoff_m))?;
    let peak_share = peak_share.unwrap_or(coverage::DEFAULT_PEAK_SHARE);
    if !(peak_share > 0.0 && peak_share <= 1.0) {
        return Err(ApiError::BadBody {
            path: Some("peak_share".into()),
            reason: format!("{peak_share} must be above 0 and at most 1"),
        });
    }
    Ok(CoverageParams {
        peak_share,
        ..CoverageParams::metres(cutoff)
    })
}

/// The comparison table of candidate sites (coordinates in `crs`), best first.
pub(crate) fn compare_table(
    data: &Dataset,
    cands: &[Candidate],
    params: &CoverageParams,
    crs: Crs,
    top: Option<usize>,
) -> Result<Value, ApiError> {
    let filter = coverage::worker_filter(StationFilter::default());
    let (report, near) = analyse(data, params, &filter)?;
    let keep = |s: &Station| filter.accepts(s);
    let gaps = coverage::gaps(data, &report, &near, &GapWeights::default(), &keep);
    let units = coverage::unit_coverage(&gaps, report.cutoff_m);
    let mut scores = coverage::compare(data, cands, &report, &near, &units, params.peak_share);
    if let Some(t) = top {
        scores.truncate(t);
    }
    let rows: Vec<Value> = scores
        .iter()
        .map(|s| {
            let at = crs.from_wgs84(s.location);
            let mut v = json!(s);
            v["lon"] = json!(at.lon);
            v["lat"] = json!(at.lat);
            if let Some(o) = v.as_object_mut() {
                o.remove("location");
            }
            v
        })
        .collect();
    Ok(json!({
        "cutoff_m": report.cutoff_m,
        "covered_share_now": report.covered_share,
        "candidates": rows,
    }))
}

/// Body of `POST /api/v1/plan/select`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectIn {
    /// mclp, lscp, pmedian or pcenter.
    #[schema(value_type = String)]
    pub model: Model,
    /// Number of new sites (mclp, pmedian, pcenter).
    #[serde(default)]
    pub p: Option<usize>,
    /// Service radius in metres (needed by mclp and lscp).
    #[serde(default)]
    pub cutoff_m: Option<f64>,
    /// Prove optimality with the integer program (time-limited).
    #[serde(default)]
    pub exact: bool,
    /// Keep the existing stations open (default true).
    #[serde(default = "yes")]
    pub keep_existing: bool,
    /// Candidate sites (default: the dataset's candidates).
    #[serde(default)]
    pub candidates: Option<Vec<CandidateIn>>,
    /// Use every grid cell's centroid as a candidate instead.
    #[serde(default)]
    pub cells: bool,
    /// Site ids that may not be chosen.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Time limit of the exact solver, seconds (at most 30).
    #[serde(default)]
    pub time_limit_s: Option<f64>,
}

fn yes() -> bool {
    true
}

/// Choose new sites with a location model.
#[utoipa::path(post, path = "/api/v1/plan/select", tag = "plan",
    params(("crs" = Option<String>, Query, description = "CRS of the candidates' and answer's coordinates")),
    request_body = SelectIn,
    responses(
        (status = 200, description = "Chosen sites (with coordinates), objective, covered demand, optimality and gap", body = Object),
        (status = 400, description = "Bad body", content_type = "application/problem+json", body = Object),
        (status = 422, description = "No feasible answer", content_type = "application/problem+json", body = Object)))]
pub async fn select_route(
    State(st): State<AppState>,
    p: Params,
    JsonBody(b): JsonBody<SelectIn>,
) -> Result<Json<Value>, ApiError> {
    let crs = p.crs()?;
    if let Some(r) = b.cutoff_m {
        check_cutoff("cutoff_m", r)?;
    }
    let mut params = SiteParams::new(b.model);
    params.p = b.p;
    params.radius_m = b.cutoff_m;
    params.exact = b.exact;
    params.excluded = b.excluded.clone();
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
    if matches!(b.model, Model::Mclp | Model::Lscp) && b.cutoff_m.is_none() {
        return Err(ApiError::BadBody {
            path: Some("cutoff_m".into()),
            reason: format!("model {} needs cutoff_m, the service radius", b.model),
        });
    }
    let snap = st.snapshot();
    let data = Arc::clone(&snap.data);
    blocking(move || {
        let cands = candidates_in(b.candidates, b.cells, &data, crs)?;
        let town = TownSites::new(&data, &cands, b.keep_existing);
        params.fixed.extend(town.fixed.iter().cloned());
        let max_m = match b.model {
            Model::Mclp | Model::Lscp => b.cutoff_m,
            _ if town.pairs() <= MAX_DENSE => None,
            _ => Some(b.cutoff_m.ok_or_else(|| ApiError::BadBody {
                path: Some("cutoff_m".into()),
                reason: "too many demand-site pairs for a full matrix: give cutoff_m".into(),
            })?),
        };
        let prob = town.into_problem(max_m)?;
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
        Ok(Json(out))
    })
    .await
}

/// Body of `POST /api/v1/plan/assign`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// Farthest a worker is sent, metres.
    #[serde(default)]
    pub cutoff_m: Option<f64>,
    /// Share of workers wanting a seat at once (default 0.1).
    #[serde(default)]
    pub peak_share: Option<f64>,
}

/// Assign hotspot demand to station seats (capacitated, min total distance).
#[utoipa::path(post, path = "/api/v1/plan/assign", tag = "plan",
    request_body = AssignIn,
    responses(
        (status = 200, description = "Flows, per-site load, unassigned demand with reasons, total cost, optimality", body = Object),
        (status = 400, description = "Bad body", content_type = "application/problem+json", body = Object)))]
pub async fn assign_route(
    State(st): State<AppState>,
    JsonBody(b): JsonBody<AssignIn>,
) -> Result<Json<Value>, ApiError> {
    let params = body_params(&st, b.cutoff_m, b.peak_share)?;
    let (cutoff, share) = (params.cutoff.metres()?, params.peak_share);
    let snap = st.snapshot();
    let data = Arc::clone(&snap.data);
    blocking(move || {
        // Workers (seats wanted at once) to the rest stations' seats.
        let mut town = TownSites::new(&data, &[], true);
        for d in &mut town.demand {
            d.weight = (d.weight * share).round();
        }
        let prob = town.into_problem(Some(cutoff))?;
        let res = assign::assign(&prob, Some(cutoff))?;
        let mut out = json!(res);
        out["cutoff_m"] = json!(cutoff);
        Ok(Json(out))
    })
    .await
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(coverage_route, gaps_route, compare_route, select_route, assign_route),
    components(schemas(CandidateIn, CompareIn, SelectIn, AssignIn))
)]
pub struct PlanDoc;
