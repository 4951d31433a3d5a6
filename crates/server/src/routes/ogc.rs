//! OGC API - Features - Part 1: Core, with the GeoJSON and OpenAPI 3.0 conformance
//! classes, under `/ogc`. Paths are the canonical ones, since clients such as QGIS
//! and GDAL build their own URLs from the collection ids.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use geojson::Feature;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};
use yizhan_core::crs::Crs;

use crate::error::ApiError;
use crate::extract::{Params, PathParam};
use crate::layers::{self, Collection};
use crate::routes::common::{base_url, GeoJson, GEO_JSON};
use crate::routes::ogc_html::{self, ItemsPage};
use crate::state::AppState;

/// The storage CRS (WGS 84 longitude, latitude).
pub const CRS84: &str = yizhan_core::crs::CRS84_URI;
/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 10;
/// The largest page; larger `limit`s are served as this (as the standard requires).
pub const MAX_LIMIT: u64 = 10_000;
/// Conformance classes implemented.
pub const CONFORMANCE: [&str; 5] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];
const OAS_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";
/// Query parameters the items route understands itself; any other name is a
/// property filter.
const RESERVED: [&str; 8] = [
    "limit", "offset", "bbox", "bbox-crs", "crs", "f", "datetime", "cutoff_m",
];

fn link(href: String, rel: &str, ty: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": ty, "title": title })
}

const HTML_TYPE: &str = "text/html";

/// The encoding asked for: `f=json` / `f=geojson` or `f=html` by name; without
/// `f`, HTML when the `Accept` header names `text/html` (a browser), else JSON.
/// Other formats are refused by name.
fn wants_html(p: &Params, accept: Option<&str>) -> Result<bool, ApiError> {
    match p.get("f") {
        Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(false),
        Some("html" | "text/html") => Ok(true),
        None => Ok(accept.is_some_and(|a| a.split(',').any(|t| t.trim().starts_with(HTML_TYPE)))),
        Some(other) => Err(ApiError::param(
            "f",
            format!("format {other:?} is not offered (use json or html)"),
        )),
    }
}

/// An HTML page, which varies with `Accept` as its JSON twin does.
fn html_page(text: String) -> Response {
    (
        [(header::VARY, HeaderValue::from_static("accept"))],
        Html(text),
    )
        .into_response()
}

/// A JSON document of a negotiated resource.
fn json_doc(v: Value) -> Response {
    (
        [(header::VARY, HeaderValue::from_static("accept"))],
        Json(v),
    )
        .into_response()
}

/// An OGC request's query parameters, with the format (`f`) checked, and the base
/// URL of its links.
#[derive(Debug)]
pub struct OgcQuery {
    /// The base URL for links ([`base_url`]).
    pub base: String,
    /// The query parameters.
    pub p: Params,
    /// Whether the HTML encoding was asked for ([`wants_html`]).
    pub html: bool,
}

impl OgcQuery {
    /// For a resource with a JSON encoding only: `f=html` is a 400; a browser's
    /// `Accept` alone gets the JSON.
    fn json_only(&self) -> Result<(), ApiError> {
        match self.p.get("f") {
            Some("html" | "text/html") => Err(ApiError::param(
                "f",
                "this resource is JSON only (use json)",
            )),
            _ => Ok(()),
        }
    }
}

impl FromRequestParts<AppState> for OgcQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let p = Params::from_query(parts.uri.query())?;
        let accept = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let html = wants_html(&p, accept)?;
        Ok(Self {
            base: base_url(st, &parts.headers),
            p,
            html,
        })
    }
}

/// The CRSs every collection offers (OGC API Features Part 2): WGS 84 (CRS84,
/// the storage CRS) and GCJ-02 for Chinese map apps.
fn offered_crs() -> Vec<&'static str> {
    Crs::ALL.map(Crs::uri).to_vec()
}

/// The CRS named by `crs` or `bbox-crs`: one of the collection's listed URIs
/// (CRS84 when absent); any other value is a 400 naming the list.
fn ogc_crs(p: &Params, name: &str) -> Result<Crs, ApiError> {
    match p.get(name) {
        None => Ok(Crs::Wgs84),
        Some(c) => Crs::from_uri(c).ok_or_else(|| {
            ApiError::param(
                name,
                format!(
                    "{c:?} is not offered (use one of {})",
                    offered_crs().join(", ")
                ),
            )
        }),
    }
}

/// An answer in `crs` with its `Content-Crs` header (the URI in angle brackets).
fn with_content_crs(crs: Crs, body: GeoJson) -> Response {
    let value = HeaderValue::from_str(&format!("<{}>", crs.uri()))
        .unwrap_or_else(|_| HeaderValue::from_static("<>"));
    ([("content-crs", value)], body).into_response()
}

/// Check an OGC `datetime` (RFC 3339: an instant, a date, or an interval `a/b` whose
/// ends may be open, `..` or empty). The layers have no time, so a valid one
/// filters nothing (as the standard says of collections without a temporal
/// property); an invalid one is a 400.
fn check_datetime(p: &Params) -> Result<(), ApiError> {
    let Some(raw) = p.get("datetime") else {
        return Ok(());
    };
    let instant = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s).is_ok()
            || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
    };
    let ok = match raw.split_once('/') {
        None => instant(raw),
        Some((a, b)) => {
            let open = |s: &str| s.is_empty() || s == "..";
            (open(a) || instant(a)) && (open(b) || instant(b)) && !(open(a) && open(b))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::param(
            "datetime",
            format!("{raw:?} is not an RFC 3339 date-time, date or interval (e.g. 2026-07-01T12:00:00Z or 2026-07-01/..)"),
        ))
    }
}

/// Landing page.
#[utoipa::path(get, path = "/ogc", tag = "ogc",
    params(("f" = Option<String>, Query, description = "json or html (without it: html when Accept names text/html)")),
    responses((status = 200, description = "Landing page with service-desc, conformance and data links", body = Object)))]
pub async fn landing(State(st): State<AppState>, q: OgcQuery) -> Result<Response, ApiError> {
    let b = &q.base;
    let doc = json!({
        "title": format!("yizhan: {}", st.config().dataset_name),
        "description": "Rest stations for outdoor workers, worker hotspots, grid cells and coverage gaps (OGC API - Features).",
        "links": [
            link(format!("{b}/ogc"), "self", "application/json", "This document"),
            link(format!("{b}/ogc?f=html"), "alternate", HTML_TYPE, "This document as HTML"),
            link(format!("{b}/ogc/api"), "service-desc", OAS_TYPE, "The API definition"),
            link(format!("{b}/ogc/conformance"), "conformance", "application/json", "Conformance classes"),
            link(format!("{b}/ogc/conformance"), "http://www.opengis.net/def/rel/ogc/1.0/conformance", "application/json", "Conformance classes"),
            link(format!("{b}/ogc/collections"), "data", "application/json", "Collections"),
            link(format!("{b}/ogc/collections"), "http://www.opengis.net/def/rel/ogc/1.0/data", "application/json", "Collections"),
        ],
    });
    Ok(if q.html {
        html_page(ogc_html::landing(b, &doc))
    } else {
        json_doc(doc)
    })
}

/// The definition of the OGC API (its paths relative to `/ogc`), as the OGC
/// `service-desc` link announces it.
#[utoipa::path(get, path = "/ogc/api", tag = "ogc",
    responses((status = 200, description = "OpenAPI 3.0 document", content_type = "application/vnd.oai.openapi+json;version=3.0", body = Object)))]
pub async fn api(State(st): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(OAS_TYPE))],
        st.ogc_document(),
    )
        .into_response()
}

/// Conformance classes.
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc",
    responses((status = 200, description = "Conformance classes", body = Object)))]
pub async fn conformance(q: OgcQuery) -> Result<Response, ApiError> {
    let doc = json!({ "conformsTo": CONFORMANCE });
    Ok(if q.html {
        html_page(ogc_html::conformance(&q.base, &doc))
    } else {
        json_doc(doc)
    })
}

fn collection_doc(st: &AppState, b: &str, c: Collection) -> Result<Value, ApiError> {
    let snap = st.snapshot();
    let feats = snap.features(c, Crs::Wgs84, st.config().default_cutoff_m)?;
    let e = layers::extent(&feats);
    let id = c.as_str();
    Ok(json!({
        "id": id,
        "title": c.title(),
        "description": c.description(),
        "itemType": "feature",
        "extent": { "spatial": { "bbox": [e], "crs": CRS84 } },
        "crs": offered_crs(),
        "storageCrs": CRS84,
        "links": [
            link(format!("{b}/ogc/collections/{id}"), "self", "application/json", c.title()),
            link(format!("{b}/ogc/collections/{id}?f=html"), "alternate", HTML_TYPE, "As HTML"),
            link(format!("{b}/ogc/collections/{id}/items"), "items", GEO_JSON, "Features"),
            link(format!("{b}/api/v1/export/{id}.geojson"), "enclosure", GEO_JSON, "Download all"),
            link(format!("{b}/ogc/collections/{id}/queryables"), "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON, "Queryable properties"),
            link(format!("{b}/ogc/collections/{id}/schema"), "http://www.opengis.net/def/rel/ogc/1.0/schema", SCHEMA_JSON, "Schema of the features"),
        ],
    }))
}

/// The collections.
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc",
    responses((status = 200, description = "Collections with extents", body = Object)))]
pub async fn collections(State(st): State<AppState>, q: OgcQuery) -> Result<Response, ApiError> {
    let b = &q.base;
    let list = Collection::ALL
        .into_iter()
        .map(|c| collection_doc(&st, b, c))
        .collect::<Result<Vec<_>, _>>()?;
    let doc = json!({
        "links": [
            link(format!("{b}/ogc/collections"), "self", "application/json", "Collections"),
            link(format!("{b}/ogc/collections?f=html"), "alternate", HTML_TYPE, "Collections as HTML"),
        ],
        "collections": list,
    });
    Ok(if q.html {
        html_page(ogc_html::collections(b, &doc))
    } else {
        json_doc(doc)
    })
}

/// One collection.
#[utoipa::path(get, path = "/ogc/collections/{cid}", tag = "ogc",
    responses(
        (status = 200, description = "The collection", body = Object)))]
pub async fn collection(
    State(st): State<AppState>,
    PathParam(cid): PathParam<String>,
    q: OgcQuery,
) -> Result<Response, ApiError> {
    let c: Collection = cid.parse()?;
    let doc = collection_doc(&st, &q.base, c)?;
    Ok(if q.html {
        html_page(ogc_html::collection(&q.base, &doc))
    } else {
        json_doc(doc)
    })
}

/// Every property name of the features, sorted.
fn property_names(feats: &[Feature]) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for f in feats {
        if let Some(p) = &f.properties {
            names.extend(p.keys().cloned());
        }
    }
    names.into_iter().collect()
}

/// The JSON Schema media type of queryables and schemas.
const SCHEMA_JSON: &str = "application/schema+json";

/// The JSON Schema (2020-12) of a collection's features in the GIS form: each
/// property with its type (from `yizhan_core::io::gis::fields`); with
/// `geometry`, also the feature id and the geometry with their OGC roles
/// (Part 5, the collection schema), else the queryables (Part 3).
fn schema_doc(
    st: &AppState,
    b: &str,
    c: Collection,
    what: &str,
    geometry: bool,
) -> Result<Response, ApiError> {
    let snap = st.snapshot();
    let feats = snap.features(c, Crs::Wgs84, st.config().default_cutoff_m)?;
    let mut props = Map::new();
    for f in yizhan_core::io::gis::fields(&feats) {
        let ty = f.ty.as_str();
        let ty = if f.nullable {
            json!([ty, "null"])
        } else {
            json!(ty)
        };
        let mut p = json!({ "title": f.name, "type": ty });
        if geometry && f.name == "id" {
            p["x-ogc-role"] = json!("id");
        }
        props.insert(f.name, p);
    }
    if geometry {
        let kinds: std::collections::BTreeSet<&str> = feats
            .iter()
            .filter_map(|f| match f.geometry.as_ref()?.value {
                geojson::GeometryValue::Point { .. } => Some("geometry-point"),
                geojson::GeometryValue::Polygon { .. } => Some("geometry-polygon"),
                geojson::GeometryValue::MultiPolygon { .. } => Some("geometry-multipolygon"),
                _ => Some("geometry-any"),
            })
            .collect();
        let format = match kinds.len() {
            1 => kinds.into_iter().next().unwrap_or("geometry-any"),
            _ => "geometry-any",
        };
        props.insert(
            "geometry".into(),
            json!({ "x-ogc-role": "primary-geometry", "format": format }),
        );
    }
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{b}/ogc/collections/{}/{what}", c.as_str()),
        "type": "object",
        "title": c.title(),
        "properties": props,
        "additionalProperties": false,
    });
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(SCHEMA_JSON))],
        body.to_string(),
    )
        .into_response())
}

/// The properties that can be used as equality filters (OGC API Features Part 3).
#[utoipa::path(get, path = "/ogc/collections/{cid}/queryables", tag = "ogc",
    responses((status = 200, description = "JSON Schema of the queryable properties", content_type = "application/schema+json", body = Object)))]
pub async fn queryables(
    State(st): State<AppState>,
    PathParam(cid): PathParam<String>,
    q: OgcQuery,
) -> Result<Response, ApiError> {
    q.json_only()?;
    let c: Collection = cid.parse()?;
    schema_doc(&st, &q.base, c, "queryables", false)
}

/// The schema of the features (OGC API Features Part 5).
#[utoipa::path(get, path = "/ogc/collections/{cid}/schema", tag = "ogc",
    responses((status = 200, description = "JSON Schema of the features: properties, id and geometry", content_type = "application/schema+json", body = Object)))]
pub async fn schema(
    State(st): State<AppState>,
    PathParam(cid): PathParam<String>,
    q: OgcQuery,
) -> Result<Response, ApiError> {
    q.json_only()?;
    let c: Collection = cid.parse()?;
    schema_doc(&st, &q.base, c, "schema", true)
}

/// Whether a property value equals a filter value given as text (arrays: contains).
fn value_matches(v: &Value, want: &str) -> bool {
    match v {
        Value::String(s) => s == want,
        Value::Number(n) => {
            n.to_string() == want
                || want
                    .parse::<f64>()
                    .ok()
                    .zip(n.as_f64())
                    .is_some_and(|(a, b)| a == b)
        }
        Value::Bool(b) => b.to_string() == want,
        Value::Array(a) => a.iter().any(|x| value_matches(x, want)),
        Value::Null | Value::Object(_) => false,
    }
}

fn feature_id(f: &Feature) -> Option<String> {
    match &f.id {
        Some(geojson::feature::Id::String(s)) => Some(s.clone()),
        Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
        None => None,
    }
}

/// What a query component or path segment keeps as it is: RFC 3986's unreserved
/// characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode a query component or path segment.
pub(crate) fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Items of a collection, a page at a time.
#[utoipa::path(get, path = "/ogc/collections/{cid}/items", tag = "ogc",
    params(
        ("limit" = Option<u32>, Query, description = "Page size (1..10000, default 10; larger values are served as 10000)"),
        ("offset" = Option<u32>, Query, description = "Features to skip"),
        ("bbox" = Option<String>, Query, description = "west,south,east,north (CRS84)"),
        ("bbox-crs" = Option<String>, Query, description = "CRS of bbox: one of the collection's `crs` (CRS84, or urn:x-yizhan:def:crs:GCJ-02); others are a 400"),
        ("crs" = Option<String>, Query, description = "CRS of the answer's coordinates: one of the collection's `crs` (CRS84, or urn:x-yizhan:def:crs:GCJ-02), said back in Content-Crs; others are a 400"),
        ("datetime" = Option<String>, Query, description = "RFC 3339 instant or interval; the layers have no time, so a valid one filters nothing, an invalid one is a 400"),
        ("cutoff_m" = Option<f64>, Query, description = "gaps only: walking cutoff in metres"),
        ("f" = Option<String>, Query, description = "json or html (without it: html when Accept names text/html)"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev links", content_type = "application/geo+json", body = Object)))]
pub async fn items(
    State(st): State<AppState>,
    PathParam(cid): PathParam<String>,
    OgcQuery { base: b, p, html }: OgcQuery,
) -> Result<Response, ApiError> {
    let c: Collection = cid.parse()?;
    let crs = ogc_crs(&p, "crs")?;
    let bbox_crs = ogc_crs(&p, "bbox-crs")?;
    check_datetime(&p)?;
    let limit = match p.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => {
            let v: u64 = raw
                .trim()
                .parse()
                .map_err(|_| ApiError::param("limit", format!("{raw:?} is not a whole number")))?;
            if v == 0 {
                return Err(ApiError::param("limit", "must be at least 1"));
            }
            v.min(MAX_LIMIT)
        }
    } as usize;
    let offset = p.count("offset", 0, u64::from(u32::MAX))?.unwrap_or(0) as usize;
    let bbox = p.bbox(bbox_crs)?;
    let cutoff = p
        .number("cutoff_m", 0.0, 100_000.0)?
        .filter(|_| c == Collection::Gaps);
    let snap = st.snapshot();
    let default_cutoff = st.config().default_cutoff_m;
    let all = match cutoff {
        Some(m) if m != default_cutoff => {
            std::sync::Arc::new(layers::build(&snap.data, c, Crs::Wgs84, m)?)
        }
        _ => snap.features(c, Crs::Wgs84, default_cutoff)?,
    };
    // Property filters: every non-reserved parameter must name a property.
    let filters: Vec<(&str, &str)> =
        p.0.iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
    if !filters.is_empty() {
        let names = property_names(&all);
        if let Some((k, _)) = filters.iter().find(|(k, _)| !names.iter().any(|n| n == k)) {
            return Err(ApiError::param(
                *k,
                format!(
                    "unknown parameter (reserved: {}; or filter by a property: {})",
                    RESERVED.join(", "),
                    names.join(", ")
                ),
            ));
        }
    }
    // Points in the box come from the layer's spatial index; polygons are
    // tested by their extents.
    let in_bbox: Vec<&Feature> = match &bbox {
        None => all.iter().collect(),
        Some(b) => match layers::indexed_in_bbox(&snap.data, c, b) {
            Some(at) => at.into_iter().filter_map(|i| all.get(i)).collect(),
            None => all.iter().filter(|f| layers::intersects(f, b)).collect(),
        },
    };
    let matched: Vec<&Feature> = in_bbox
        .into_iter()
        .filter(|f| {
            filters.iter().all(|(k, want)| {
                f.properties
                    .as_ref()
                    .and_then(|p| p.get(*k))
                    .is_some_and(|v| value_matches(v, want))
            })
        })
        .collect();
    let number_matched = matched.len();
    let page: Vec<Feature> = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|f| {
            if crs == Crs::Wgs84 {
                f.clone()
            } else {
                reproject(f, crs)
            }
        })
        .collect();
    let number_returned = page.len();

    let kept: String =
        p.0.iter()
            .filter(|(k, _)| k != "limit" && k != "offset" && k != "f")
            .map(|(k, v)| format!("&{}={}", encode(k), encode(v)))
            .collect();
    let page_url = |off: usize| {
        format!(
            "{b}/ogc/collections/{}/items?limit={limit}&offset={off}{kept}",
            c.as_str()
        )
    };
    let mut links = vec![
        link(page_url(offset), "self", GEO_JSON, "This page"),
        link(
            format!("{b}/api/v1/export/{}.geojson", c.as_str()),
            "alternate",
            GEO_JSON,
            "All features as one download",
        ),
        link(
            format!("{b}/ogc/collections/{}", c.as_str()),
            "collection",
            "application/json",
            c.title(),
        ),
    ];
    links.push(link(
        ogc_html::html_href(&page_url(offset)),
        "alternate",
        HTML_TYPE,
        "This page as HTML",
    ));
    let next = (offset + number_returned < number_matched).then(|| page_url(offset + limit));
    let prev = (offset > 0).then(|| page_url(offset.saturating_sub(limit)));
    if let Some(u) = &next {
        links.push(link(u.clone(), "next", GEO_JSON, "Next page"));
    }
    if let Some(u) = &prev {
        links.push(link(u.clone(), "prev", GEO_JSON, "Previous page"));
    }
    if html {
        let page_doc = ItemsPage {
            base: &b,
            collection: c.as_str(),
            title: c.title(),
            matched: number_matched,
            offset,
            next,
            prev,
        };
        return Ok(html_page(ogc_html::items(&page_doc, &page)));
    }
    let mut members = Map::new();
    members.insert("numberMatched".into(), json!(number_matched));
    members.insert("numberReturned".into(), json!(number_returned));
    members.insert(
        "timeStamp".into(),
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    members.insert("links".into(), Value::Array(links));
    if crs != Crs::Wgs84 {
        members.insert(
            yizhan_core::io::CRS_MEMBER.into(),
            json!({ "name": crs.label(), "uri": crs.uri() }),
        );
    }
    Ok(with_content_crs(
        crs,
        GeoJson::collection_with(&page, members),
    ))
}

/// A feature's coordinates moved from WGS 84 to `crs` (to 7 decimals), marked
/// with the CRS (`yizhan_core::io::mark_crs`).
fn reproject(f: &Feature, crs: Crs) -> Feature {
    let mut f = f.clone();
    yizhan_core::io::mark_crs(std::slice::from_mut(&mut f), crs);
    if let Some(g) = &mut f.geometry {
        layers::each_position_mut(&mut g.value, &mut |p| {
            if p.len() >= 2 {
                let q = crs.from_wgs84(yizhan_core::LonLat {
                    lon: p[0],
                    lat: p[1],
                });
                p[0] = (q.lon * 1e7).round() / 1e7;
                p[1] = (q.lat * 1e7).round() / 1e7;
            }
        });
    }
    f
}

/// One feature of a collection.
#[utoipa::path(get, path = "/ogc/collections/{cid}/items/{fid}", tag = "ogc",
    responses(
        (status = 200, description = "GeoJSON Feature", content_type = "application/geo+json", body = Object),
        (status = 404, description = "Unknown collection or feature", content_type = "application/problem+json", body = Object)))]
pub async fn item(
    State(st): State<AppState>,
    PathParam((cid, fid)): PathParam<(String, String)>,
    OgcQuery { base: b, p, html }: OgcQuery,
) -> Result<Response, ApiError> {
    let c: Collection = cid.parse()?;
    let crs = ogc_crs(&p, "crs")?;
    let snap = st.snapshot();
    let all = snap.features(c, Crs::Wgs84, st.config().default_cutoff_m)?;
    let f = all
        .iter()
        .find(|f| feature_id(f).as_deref() == Some(fid.as_str()))
        .ok_or_else(|| ApiError::NotFound {
            what: "feature",
            id: fid.clone(),
            expected: None,
        })?;
    let mut f = if crs == Crs::Wgs84 {
        f.clone()
    } else {
        reproject(f, crs)
    };
    let id = c.as_str();
    if html {
        return Ok(html_page(ogc_html::item(&b, id, c.title(), &f)));
    }
    let mut fm = Map::new();
    fm.insert(
        "links".into(),
        json!([
            link(
                format!("{b}/ogc/collections/{id}/items/{}", encode(&fid)),
                "self",
                GEO_JSON,
                "This feature"
            ),
            link(
                format!("{b}/ogc/collections/{id}/items/{}?f=html", encode(&fid)),
                "alternate",
                HTML_TYPE,
                "This feature as HTML"
            ),
            link(
                format!("{b}/ogc/collections/{id}"),
                "collection",
                "application/json",
                c.title()
            ),
        ]),
    );
    f.foreign_members = Some(fm);
    Ok(with_content_crs(crs, GeoJson::feature(f)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_encode_all_but_unreserved_characters() {
        assert_eq!(
            super::encode("a-b._~Z9 &=/?%+驿"),
            "a-b._~Z9%20%26%3D%2F%3F%25%2B%E9%A9%BF"
        );
    }
}
