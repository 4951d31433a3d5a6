//! Planner API: coverage, gaps, candidate comparison, site selection, assignment.
//!
//! The analyses run on the blocking pool (they use rayon and may take seconds).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use yizhan_plan::coverage::CoverageParams;
use yizhan_plan::workflow;
use yizhan_plan::{select, Model, SiteParams};

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
    workflow::coverage_params(Some(cutoff), share).map_err(ApiError::from_plan_query)
}

/// Coverage summary and per-station load.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "plan",
    params(
        ("cutoff_m" = Option<f64>, Query, description = "Walking cutoff in metres (default from the server's config)"),
        ("peak_share" = Option<f64>, Query, description = "Share of workers wanting a seat at once (0..1, default 0.1)"),
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
    let data = Arc::clone(&st.snapshot().data);
    let report = blocking(move || Ok(workflow::coverage(&data, &params, filter)?)).await?;
    Ok(Json(json!(report)))
}

/// Grid cells with gap fields, as GeoJSON.
#[utoipa::path(get, path = "/api/v1/gaps", tag = "plan",
    params(
        ("cutoff_m" = Option<f64>, Query, description = "Walking cutoff in metres"),
        FilterParams,
        CrsParam,
    ),
    responses(
        (status = 200, description = "GeoJSON cells with uncovered_demand, nearest_station_m, pressure, score, rank", content_type = "application/geo+json", body = Object)))]
pub async fn gaps_route(State(st): State<AppState>, p: Params) -> Result<GeoJson, ApiError> {
    let params = coverage_params(&p, st.config().default_cutoff_m)?;
    let filter = p.station_filter()?;
    let crs = p.crs()?;
    let data = Arc::clone(&st.snapshot().data);
    let feats =
        blocking(move || Ok(workflow::gaps(&data, &params, filter)?.features(&data, crs))).await?;
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
    /// Share of workers wanting a seat at once (default 0.1).
    pub peak_share: Option<f64>,
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
    let params = body_params(&st, b.cutoff_m, b.peak_share)?;
    let data = Arc::clone(&st.snapshot().data);
    blocking(move || {
        let cands = candidates_in(b.candidates, b.cells, &data, crs)?;
        let c = workflow::compare(&data, &cands, &params, Default::default(), b.top)?;
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
    /// Service radius in metres (needed by mclp and lscp).
    pub cutoff_m: Option<f64>,
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
    let data = Arc::clone(&st.snapshot().data);
    blocking(move || {
        let cands = candidates_in(b.candidates, b.cells, &data, crs)?;
        let prob = workflow::town_problem(&data, &cands, b.keep_existing, &mut params)?;
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
    paths(coverage_route, gaps_route, compare_route, select_route, assign_route),
    components(schemas(CandidateIn, CompareIn, SelectIn, AssignIn))
)]
pub struct PlanDoc;
