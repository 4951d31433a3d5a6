//! One module per resource, and [`all`]: the single list of API routes the router
//! mounts. The small service routes (health, metrics, config, OpenAPI) are in
//! [`service`], the glue the route modules share in `common`; route modules never
//! import each other or this module.

pub(crate) mod common;
pub mod edit;
pub mod export;
pub mod live;
pub mod ogc;
mod ogc_html;
pub mod plan;
pub mod service;
pub mod stations;
pub mod tiles;

use crate::auth::Route;

pub use common::{GeoJson, GEO_JSON};
#[cfg(test)]
pub(crate) use ogc_html::esc as ogc_html_escape;
pub use service::{config, healthz, metrics, no_route, openapi, wrong_method};

/// Every API route with its method, required access and cost: the single list
/// the router mounts (and the route tests and the OpenAPI test walk). The web
/// page's static files are added separately (public GETs).
pub fn all() -> Vec<Route> {
    use crate::auth::Access::{Planner, Public, StationOperator};
    vec![
        Route::get("/healthz", Public, service::healthz),
        Route::get("/readyz", Public, service::readyz),
        Route::get("/metrics", Public, service::metrics),
        Route::get("/api/v1/config", Public, service::config),
        Route::get("/api/v1/openapi.json", Public, service::openapi),
        // Courier API.
        Route::get("/api/v1/stations/nearest", Public, stations::nearest),
        Route::get("/api/v1/network", Public, stations::network),
        Route::get("/api/v1/stations", Public, stations::list),
        Route::get("/api/v1/stations/{id}", Public, stations::one),
        Route::get("/api/v1/stream", Public, live::stream_route),
        // Writes.
        Route::post("/api/v1/stations", Planner, edit::create_station),
        Route::put("/api/v1/stations/{id}", Planner, edit::update_station),
        Route::delete("/api/v1/stations/{id}", Planner, edit::retire_station),
        Route::put(
            "/api/v1/stations/{id}/occupancy",
            StationOperator,
            edit::set_occupancy,
        ),
        Route::get("/api/v1/scenarios", Planner, edit::list_scenarios),
        Route::post("/api/v1/scenarios", Planner, edit::save_scenario),
        Route::get("/api/v1/scenarios/{id}", Planner, edit::get_scenario),
        Route::delete("/api/v1/scenarios/{id}", Planner, edit::delete_scenario),
        Route::get("/api/v1/history", Planner, edit::history),
        // Planner API: analyses, which only read (public; POST for a body).
        Route::get("/api/v1/coverage", Public, plan::coverage_route).planning(),
        Route::get("/api/v1/gaps", Public, plan::gaps_route).planning(),
        Route::get("/api/v1/service-areas", Public, plan::service_areas_route).planning(),
        Route::post("/api/v1/plan/compare", Public, plan::compare_route).planning(),
        Route::post("/api/v1/plan/select", Public, plan::select_route).planning(),
        Route::post("/api/v1/plan/assign", Public, plan::assign_route).planning(),
        // Downloads and OGC API - Features.
        Route::get("/api/v1/export/{file}", Public, export::export),
        Route::get("/ogc", Public, ogc::landing),
        Route::get("/ogc/", Public, ogc::landing).alias(),
        Route::get("/ogc/api", Public, ogc::api),
        Route::get("/ogc/conformance", Public, ogc::conformance),
        Route::get("/ogc/collections", Public, ogc::collections),
        Route::get("/ogc/collections/{cid}", Public, ogc::collection),
        Route::get("/ogc/collections/{cid}/queryables", Public, ogc::queryables),
        Route::get("/ogc/collections/{cid}/schema", Public, ogc::schema),
        Route::get("/ogc/collections/{cid}/items", Public, ogc::items),
        Route::get("/ogc/collections/{cid}/items/{fid}", Public, ogc::item),
        // Vector tiles.
        Route::get("/tiles/{layers}", Public, tiles::tilejson),
        Route::get("/tiles/{layers}/{z}/{x}/{y}", Public, tiles::tile),
    ]
}
