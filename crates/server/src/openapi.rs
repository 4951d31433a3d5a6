//! The OpenAPI 3 document of the whole API, generated from the handlers' annotations.

use std::sync::OnceLock;

use utoipa::OpenApi;

use axum::body::Bytes;
use axum::http::Method;

use crate::auth::Access;
use crate::error::PROBLEM_JSON;
use crate::limits::Cost;
use crate::routes;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "yizhan",
        description = "Rest stations for outdoor workers: courier and planner API (JSON, GeoJSON) and OGC API - Features. Errors are application/problem+json (RFC 9457).",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        routes::service::healthz,
        routes::service::metrics,
        routes::service::config,
        routes::service::openapi,
        routes::stations::nearest,
        routes::stations::list,
        routes::stations::one,
        routes::export::export,
        routes::ogc::landing,
        routes::ogc::api,
        routes::ogc::conformance,
        routes::ogc::collections,
        routes::ogc::collection,
        routes::ogc::queryables,
        routes::ogc::items,
        routes::ogc::item,
        routes::tiles::tilejson,
        routes::tiles::tile,
        routes::live::stream_route,
        routes::edit::create_station,
        routes::edit::update_station,
        routes::edit::retire_station,
        routes::edit::set_occupancy,
        routes::edit::list_scenarios,
        routes::edit::save_scenario,
        routes::edit::get_scenario,
        routes::edit::delete_scenario,
        routes::edit::history,
    ),
    components(schemas(routes::edit::OccupancyIn, routes::edit::ScenarioIn)),
    modifiers(&BearerAuth),
    tags(
        (name = "stations", description = "Courier API: find stations"),
        (name = "plan", description = "Planner API: coverage, gaps, new sites"),
        (name = "edit", description = "Writes (bearer token): stations and scenarios (planner), occupancy (the station's operator), history"),
        (name = "export", description = "GeoJSON downloads"),
        (name = "ogc", description = "OGC API - Features for city GIS"),
        (name = "tiles", description = "Mapbox Vector Tiles and TileJSON of every layer"),
        (name = "service", description = "Health, metrics, configuration"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme of the write routes.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let comps = doc.components.get_or_insert_with(Default::default);
        comps.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token made by `yizhan token create --role planner|admin|operator:<station id>`",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, with the planner routes merged in and what the route table
/// says of each route added ([`RouteAnswers`]).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::plan::PlanDoc::openapi());
    utoipa::Modify::modify(&RouteAnswers, &mut doc);
    doc
}

/// Adds to each operation the answers that follow from its route and its form,
/// so the document cannot drift from the guards and limits: from the route table
/// ([`routes::all`]), a guarded route's bearer requirement and its 401 and 403,
/// a planning route's 503 when the planning cap is reached; from the operation,
/// the 404 of a path with parameters, the 400 of query parameters, and the 400,
/// 413 and 415 of a JSON body (where the annotation does not say them already).
struct RouteAnswers;

impl utoipa::Modify for RouteAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityRequirement;
        for r in routes::all() {
            let Some(item) = doc.paths.paths.get_mut(r.path) else {
                continue;
            };
            let op = match r.method {
                Method::GET => item.get.as_mut(),
                Method::POST => item.post.as_mut(),
                Method::PUT => item.put.as_mut(),
                Method::DELETE => item.delete.as_mut(),
                _ => None,
            };
            let Some(op) = op else {
                continue;
            };
            declare_path_params(r.path, op);
            // (status, description, whether it replaces what the annotation says)
            let mut answers: Vec<(&str, String, bool)> = Vec::new();
            if r.access != Access::Public {
                let who = r.access.who();
                answers.push(("401", "No or bad token".into(), true));
                answers.push((
                    "403",
                    format!("The token's role may not call this route (it is for {who})"),
                    true,
                ));
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
            if r.path.contains('{') {
                let d = "Nothing with this id (the problem says what was looked for)";
                answers.push(("404", d.into(), false));
            }
            let query = op
                .parameters
                .iter()
                .flatten()
                .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query);
            if query {
                let d = "A query parameter is invalid (the problem names it)";
                answers.push(("400", d.into(), false));
            }
            if op.request_body.is_some() {
                let d = "The body is invalid (the problem names the field)";
                answers.push(("400", d.into(), false));
                answers.push(("413", "The body is larger than the limit".into(), false));
                answers.push(("415", "The body is not JSON".into(), false));
            }
            if r.cost == Cost::Planning {
                let d = "Too many analyses running at once; retry after Retry-After seconds";
                answers.push(("503", d.into(), true));
            }
            let responses = &mut op.responses.responses;
            for (status, description, replace) in answers {
                if replace || !responses.contains_key(status) {
                    responses.insert(status.to_string(), problem(description));
                }
            }
        }
    }
}

/// The path parameters of the route templates, described once (the scenario
/// routes declare their whole-number `id` themselves).
const PATH_PARAMS: [(&str, &str); 4] = [
    ("id", "Station id"),
    ("cid", "Collection id: stations, hotspots, cells, gaps, boundary or candidates"),
    ("fid", "Feature id"),
    (
        "file",
        "The layer's file: stations.geojson, hotspots.geojson, cells.geojson, gaps.geojson, boundary.geojson or candidates.geojson",
    ),
];

/// Declare the path parameters of `path` that `op` does not declare yet, from
/// [`PATH_PARAMS`], first and in the template's order.
fn declare_path_params(path: &str, op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;
    let names = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'));
    let mut missing = Vec::new();
    for name in names {
        let declared = op
            .parameters
            .iter()
            .flatten()
            .any(|p| p.name == name && p.parameter_in == ParameterIn::Path);
        if !declared {
            let description = PATH_PARAMS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d);
            missing.push(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(description)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
        }
    }
    if !missing.is_empty() {
        op.parameters
            .get_or_insert_with(Vec::new)
            .splice(0..0, missing);
    }
}

/// A problem+json answer of the document.
fn problem(description: String) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{schema::ObjectBuilder, ContentBuilder, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(ObjectBuilder::new().build()))
                .build(),
        )
        .build()
        .into()
}

/// The document as JSON text (built once; the router hands it to the handlers
/// that serve it through the state).
pub fn document_json() -> Bytes {
    static DOC: OnceLock<Bytes> = OnceLock::new();
    let doc = DOC.get_or_init(|| {
        document()
            .to_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
            .into()
    });
    doc.clone()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The operations of an OpenAPI path item.
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// (method, path) of every operation of the document.
    fn documented() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(document()).expect("the document is JSON");
        let paths = doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some_and(serde_json::Value::is_object))
                    .map(move |m| (m.to_ascii_uppercase(), path.clone()))
            })
            .collect()
    }

    /// The document describes every route the router mounts, and nothing else;
    /// the routes left out are aliases of documented ones.
    #[test]
    fn the_document_describes_exactly_the_mounted_routes() {
        let all = routes::all();
        let mounted: BTreeSet<(String, String)> = all
            .iter()
            .filter(|r| r.documented)
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        let doc = documented();
        assert!(mounted.len() > 20, "{mounted:?}");
        let undocumented: Vec<_> = mounted.difference(&doc).collect();
        assert!(
            undocumented.is_empty(),
            "mounted, not in OpenAPI: {undocumented:?}"
        );
        let unmounted: Vec<_> = doc.difference(&mounted).collect();
        assert!(
            unmounted.is_empty(),
            "in OpenAPI, not mounted: {unmounted:?}"
        );
        let doc_json = serde_json::to_value(document()).expect("JSON");
        for r in all.iter().filter(|r| r.access != Access::Public) {
            let op = &doc_json["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
            assert!(op["security"].is_array(), "{r:?}");
            assert!(op["responses"]["401"].is_object(), "{r:?}");
            assert!(op["responses"]["403"].is_object(), "{r:?}");
        }
        for r in all.iter().filter(|r| r.path.contains('{')) {
            let op = &doc_json["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
            for seg in r.path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(['{', '}']);
                let params = op["parameters"].as_array().expect("parameters");
                let p = params
                    .iter()
                    .find(|p| p["name"] == name && p["in"] == "path");
                assert!(
                    p.is_some_and(|p| p["required"] == true && p["description"].is_string()),
                    "{r:?}: {name}"
                );
            }
        }
        for r in all.iter().filter(|r| r.cost == Cost::Planning) {
            let op = &doc_json["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
            assert!(op["responses"]["503"].is_object(), "{r:?}");
        }
        for r in all.iter().filter(|r| !r.documented) {
            let of = (
                r.method.to_string(),
                r.path.trim_end_matches('/').to_string(),
            );
            assert!(
                doc.contains(&of),
                "{r:?} is not an alias of a documented route"
            );
        }
    }
}
