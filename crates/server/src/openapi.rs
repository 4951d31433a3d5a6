//! The OpenAPI 3 document of the whole API, generated from the handlers' annotations.

use serde_json::{json, Value};
use utoipa::OpenApi;
use yizhan_core::crs::Crs;
use yizhan_core::io::gis::{self, Field};

use axum::body::Bytes;
use axum::http::Method;

use crate::auth::Access;
use crate::error::PROBLEM_JSON;
use crate::layers::Collection;
use crate::limits::Cost;
use crate::routes;
use crate::state::AppState;

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
        routes::service::readyz,
        routes::service::metrics,
        routes::service::config,
        routes::service::openapi,
        routes::stations::nearest,
        routes::stations::network,
        routes::stations::list,
        routes::stations::one,
        routes::export::export,
        routes::ogc::landing,
        routes::ogc::api,
        routes::ogc::conformance,
        routes::ogc::collections,
        routes::ogc::collection,
        routes::ogc::queryables,
        routes::ogc::schema,
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

/// The OpenAPI version of the served document: 3.0, the only one OGC API -
/// Features Part 1 has a conformance class for (`oas30`), which GDAL, QGIS and
/// OWSLib read.
pub const OPENAPI_VERSION: &str = "3.0.3";

/// The largest page of OGC items, as declared (`limit`'s `maximum`).
const OGC_ITEMS: &str = "/ogc/collections/{cid}/items";

/// The served document as JSON text, for the collections of `st`'s data: the
/// document of the routes in OpenAPI 3.0 ([`to_oas30`]), the `limit` of OGC items
/// with its default and maximum, and one items path per collection
/// (`/ogc/collections/stations/items` …) that declares the collection's property
/// filters, as OGC API Features recommends and GDAL reads to filter on the server.
/// The router builds it once and hands it to the handlers through the state.
pub fn document_json(st: &AppState) -> Bytes {
    serde_json::to_vec(&full_document(st))
        .unwrap_or_default()
        .into()
}

/// The document of the OGC API alone, as `/ogc/api` serves it (the landing page's
/// `service-desc`): the `/ogc` paths of [`document_json`] relative to the server
/// URL `/ogc` (`/collections/stations/items` …), the form OGC API Features and its
/// clients expect (GDAL finds the page-size maximum of `limit` there).
pub fn ogc_document_json(st: &AppState) -> Bytes {
    let mut doc = full_document(st);
    if let Some(paths) = doc["paths"].as_object_mut() {
        let ogc: serde_json::Map<String, Value> = std::mem::take(paths)
            .into_iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(OGC_ROOT)?;
                match rest {
                    "" => Some(("/".to_string(), v)),
                    r if r.starts_with('/') => Some((r.to_string(), v)),
                    _ => None,
                }
            })
            .collect();
        *paths = ogc;
    }
    doc["servers"] = json!([{ "url": OGC_ROOT, "description": "OGC API - Features" }]);
    doc["info"]["title"] = json!("yizhan: OGC API - Features");
    doc["tags"] = json!([{ "name": "ogc", "description": "OGC API - Features for city GIS" }]);
    serde_json::to_vec(&doc).unwrap_or_default().into()
}

/// Where OGC API Features is mounted.
const OGC_ROOT: &str = "/ogc";

/// The whole document as JSON (see [`document_json`]).
fn full_document(st: &AppState) -> Value {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    let cutoff = st.config().default_cutoff_m;
    let snap = st.snapshot();
    let fields: Vec<(Collection, Vec<Field>)> = Collection::ALL
        .into_iter()
        .map(|c| {
            let f = snap.features(c, Crs::Wgs84, cutoff);
            (c, f.map(|f| gis::fields(&f)).unwrap_or_default())
        })
        .collect();
    declare_ogc_items(&mut doc, &fields);
    to_oas30(&mut doc);
    doc
}

/// Declare `limit` (default and maximum) on the OGC items route and add one items
/// path per collection with its property filters.
fn declare_ogc_items(doc: &mut Value, fields: &[(Collection, Vec<Field>)]) {
    use crate::routes::ogc::{DEFAULT_LIMIT, MAX_LIMIT};
    let Some(op) = doc.pointer_mut("/paths/~1ogc~1collections~1{cid}~1items/get") else {
        return;
    };
    if let Some(params) = op["parameters"].as_array_mut() {
        for p in params.iter_mut().filter(|p| p["name"] == "limit") {
            p["schema"] = json!({
                "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
            });
        }
    }
    let generic = op.clone();
    let mut paths = Vec::new();
    for (c, fields) in fields {
        let mut op = generic.clone();
        let id = c.as_str();
        op["operationId"] = json!(format!("items_{id}"));
        op["summary"] = json!(format!("{}: items, filtered by any property", c.title()));
        if let Some(params) = op["parameters"].as_array_mut() {
            params.retain(|p| !(p["in"] == "path" && p["name"] == "cid"));
            let declared: Vec<Value> = params.iter().map(|p| p["name"].clone()).collect();
            // A property named as a parameter (the gaps' `cutoff_m`) is that parameter.
            for f in fields.iter().filter(|f| !declared.contains(&json!(f.name))) {
                params.push(json!({
                    "name": f.name,
                    "in": "query",
                    "required": false,
                    "description": format!("Only features whose {} equals this value", f.name),
                    "schema": { "type": f.ty.as_str() },
                }));
            }
        }
        let mut responses = op["responses"].take();
        if let Some(r) = responses.as_object_mut() {
            r.remove("404");
        }
        op["responses"] = responses;
        paths.push((format!("/ogc/collections/{id}/items"), json!({ "get": op })));
    }
    if let Some(all) = doc["paths"].as_object_mut() {
        for (path, item) in paths {
            all.insert(path, item);
        }
        debug_assert!(all.contains_key(OGC_ITEMS));
    }
}

/// OpenAPI 3.0 from the 3.1 that `utoipa` writes: the version, and each schema
/// `type: [T, "null"]` as `type: T, nullable: true` (the only 3.1 form the
/// document uses; the test validates the result as 3.0).
fn to_oas30(doc: &mut Value) {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Array(types)) = o.get("type") {
                    let nullable = types.iter().any(|t| t == "null");
                    let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                    match rest.as_slice() {
                        [one] => {
                            o.insert("type".into(), one.clone());
                        }
                        _ => {
                            o.remove("type");
                        }
                    }
                    if nullable {
                        o.insert("nullable".into(), Value::Bool(true));
                    }
                }
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(doc);
    doc["openapi"] = json!(OPENAPI_VERSION);
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
