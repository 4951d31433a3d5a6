//! One module per resource, and [`all`]: the single list of API routes the router
//! mounts. The small service routes (health, metrics, config, OpenAPI) are in
//! [`service`], the glue the route modules share in `common`; route modules never
//! import each other or this module.

pub(crate) mod common;
pub mod edit;
pub mod export;
pub mod live;
pub mod ogc;
pub mod plan;
pub mod service;
pub mod stations;

use crate::auth::Route;

pub use common::{GeoJson, GEO_JSON};
pub use service::{config, healthz, metrics, no_route, openapi, wrong_method};

/// Every API route with its method and required access: the single list the
/// router is built from (and the route-enumeration test walks). The web page's
/// static files are added separately (public GETs).
pub fn all() -> Vec<Route> {
    let mut v = service::routes();
    v.extend(stations::routes());
    v.extend(edit::routes());
    v.extend(live::routes());
    v.extend(plan::routes().into_iter().map(Route::planning));
    v.extend(export::routes());
    v.extend(ogc::routes());
    v
}
