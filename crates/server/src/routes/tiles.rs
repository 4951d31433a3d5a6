//! Mapbox Vector Tiles of the layers, as martin serves them:
//! `GET /tiles/{layers}/{z}/{x}/{y}.mvt` and the TileJSON 3.0 document
//! `GET /tiles/{layers}`, where `{layers}` is one layer id, a comma-separated
//! list of them, or `all`. An empty tile answers 204. Tiles carry an ETag of
//! their bytes (`If-None-Match` answers 304); tiles of layers that change with
//! writes (stations, gaps) must be revalidated, the others may be cached.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use yizhan_core::crs::Crs;
use yizhan_core::tiles::{TileEncoder, TileId, MAX_ZOOM};

use crate::error::ApiError;
use crate::extract::PathParam;
use crate::layers::{self, Collection};
use crate::routes::common::{base_url, blocking};
use crate::state::AppState;
use crate::tiles;

/// The media type of a vector tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// The layers named by a path segment: one id, a comma-separated list, or `all`.
fn parse_layers(s: &str) -> Result<Vec<Collection>, ApiError> {
    if s == "all" {
        return Ok(Collection::ALL.to_vec());
    }
    let mut out = Vec::new();
    for name in s.split(',') {
        let c = name.parse::<Collection>().map_err(|_| ApiError::NotFound {
            what: "tile layer",
            id: name.to_string(),
            expected: Some(format!("{}, or all", Collection::names())),
        })?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// A whole number path parameter.
fn whole(name: &str, raw: &str) -> Result<u32, ApiError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::param(
            name,
            format!("{raw:?} is not a whole number"),
        ));
    }
    raw.parse()
        .map_err(|_| ApiError::param(name, format!("{raw} is too large")))
}

/// The tile address of the path, checked.
fn tile_id(z: &str, x: &str, y: &str) -> Result<TileId, ApiError> {
    let y = y
        .strip_suffix(".mvt")
        .ok_or_else(|| ApiError::param("y", format!("{y:?}: a tile is asked for as {{y}}.mvt")))?;
    let (z, x, y) = (whole("z", z)?, whole("x", x)?, whole("y", y)?);
    TileId::new(z, x, y).map_err(ApiError::from)
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// One vector tile with the named layers.
#[utoipa::path(get, path = "/tiles/{layers}/{z}/{x}/{y}", tag = "tiles",
    params(
        ("layers" = String, Path, description = "A layer (stations, hotspots, cells, gaps, boundary, candidates), a comma-separated list of them, or all"),
        ("z" = u32, Path, description = "Zoom, 0..=22"),
        ("x" = u32, Path, description = "Column, 0..2^z, from the west"),
        ("y" = String, Path, description = "Row, 0..2^z, from the north, followed by .mvt (e.g. 5.mvt)"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag of this tile: answered 304 when it has not changed"),
    ),
    responses(
        (status = 200, description = "The tile (Mapbox Vector Tile 2.1), with an ETag", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "The tile has no features"),
        (status = 304, description = "The tile is the one named by If-None-Match"),
        (status = 400, description = "z, x or y is not a whole number, or outside the zoom's range", content_type = "application/problem+json"),
    ))]
pub async fn tile(
    State(st): State<AppState>,
    PathParam((names, z, x, y)): PathParam<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layers = parse_layers(&names)?;
    let t = tile_id(&z, &x, &y)?;
    let live = layers.iter().any(|c| tiles::spec(*c).live);
    let st2 = st.clone();
    let bytes = blocking(move || {
        let snap = st2.snapshot();
        let mut enc = TileEncoder::new(t);
        for c in layers {
            tiles::add_layer(&st2, &snap, c, &mut enc)?;
        }
        if enc.is_empty() {
            return Ok(None);
        }
        enc.into_bytes()
            .map(Some)
            .map_err(|e| ApiError::internal("tile encoding", e))
    })
    .await?;
    let cache = if live {
        HeaderValue::from_static("no-cache")
    } else {
        HeaderValue::from_str(&format!("public, max-age={}", tiles::STATIC_MAX_AGE_S))
            .map_err(|e| ApiError::internal("cache header", e))?
    };
    let Some(bytes) = bytes else {
        return Ok((StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, cache)]).into_response());
    };
    let digest = Sha256::digest(&bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{hex}\"");
    let etag_value =
        HeaderValue::from_str(&etag).map_err(|e| ApiError::internal("etag header", e))?;
    if matches(&headers, &etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(MVT)),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// The TileJSON 3.0 document of the named layers.
#[utoipa::path(get, path = "/tiles/{layers}", tag = "tiles",
    params(
        ("layers" = String, Path, description = "A layer (stations, hotspots, cells, gaps, boundary, candidates), a comma-separated list of them, or all"),
    ),
    responses(
        (status = 200, description = "TileJSON 3.0: the tiles URL template, zooms, bounds and each vector layer's fields", body = Object),
    ))]
pub async fn tilejson(
    State(st): State<AppState>,
    PathParam(names): PathParam<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let layers = parse_layers(&names)?;
    let base = base_url(&st, &headers);
    let st2 = st.clone();
    let (vector_layers, bounds) = blocking(move || {
        let snap = st2.snapshot();
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut out = Vec::new();
        for c in &layers {
            let feats = snap.features(*c, Crs::Wgs84, st2.config().default_cutoff_m)?;
            if !feats.is_empty() {
                let e = layers::extent(&feats);
                b = [
                    b[0].min(e[0]),
                    b[1].min(e[1]),
                    b[2].max(e[2]),
                    b[3].max(e[3]),
                ];
            }
            let spec = tiles::spec(*c);
            out.push(json!({
                "id": c.as_str(),
                "description": format!("{} {}", c.description(), spec.rule()),
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": tiles::fields(*c, &feats),
            }));
        }
        if !b[0].is_finite() {
            b = [-180.0, -85.051_128_78, 180.0, 85.051_128_78];
        }
        Ok((out, b))
    })
    .await?;
    let description: Vec<String> = vector_layers
        .iter()
        .filter_map(|l| {
            Some(format!(
                "{}: {}",
                l["id"].as_str()?,
                l["description"].as_str()?
            ))
        })
        .collect();
    let centre = [
        (bounds[0] + bounds[2]) / 2.0,
        (bounds[1] + bounds[3]) / 2.0,
        f64::from(12u8),
    ];
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": format!("yizhan {}: {names}", st.config().dataset_name),
        "description": description.join(" "),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{names}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "center": centre,
        "vector_layers": vector_layers,
    })))
}
