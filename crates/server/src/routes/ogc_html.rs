//! The HTML encoding of the OGC API (OGC API - Features - Part 1, conformance class
//! `html`): plain server-rendered pages for the landing page, the conformance
//! classes, the collections, one collection, a page of items (with a small map of
//! them) and one item, so that a person can browse the data in any browser. Each
//! page is made from the same JSON document the JSON encoding sends, so the two
//! cannot disagree; every text from the data is escaped.
//!
//! The map is an inline SVG in an equirectangular projection scaled by the cosine
//! of the middle latitude (near-conformal at town and city scale): points, lines
//! and polygons of the page's features, each linked to its item page. No script,
//! no tiles, nothing fetched.

use std::fmt::Write as _;

use geojson::{Feature, GeometryValue as G, Position};
use serde_json::Value;

/// Escape text for HTML element content and double-quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `href` with `f=html` added, for links between the HTML pages.
pub(crate) fn html_href(href: &str) -> String {
    let sep = if href.contains('?') { '&' } else { '?' };
    format!("{href}{sep}f=html")
}

fn page(title: &str, crumbs: &[(String, String)], body: &str) -> String {
    let mut nav = String::new();
    for (i, (href, label)) in crumbs.iter().enumerate() {
        if i > 0 {
            nav.push_str(" › ");
        }
        let _ = write!(
            nav,
            "<a href=\"{}\">{}</a>",
            esc(&html_href(href)),
            esc(label)
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t}</title><style>\
body{{font:15px/1.45 system-ui,'Noto Sans CJK SC',sans-serif;margin:1rem auto;max-width:70rem;padding:0 1rem;color:#1a1a1a}}\
nav{{margin-bottom:.5rem}}a{{color:#0b57d0}}table{{border-collapse:collapse;margin:.5rem 0}}\
th,td{{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top}}\
th{{background:#f2f4f7}}svg{{border:1px solid #ccc;background:#f8faf7;max-width:100%;height:auto}}\
.links li{{margin:.1rem 0}}code{{font-size:90%}}</style></head>\
<body><nav>{nav}</nav><h1>{t}</h1>\n{body}\n</body></html>\n",
        t = esc(title),
    )
}

/// The links of a document as a list; links to pages that have an HTML form
/// (JSON documents of this API) also get an HTML link.
fn links_list(doc: &Value) -> String {
    let mut out = String::from("<h2>Links</h2><ul class=\"links\">");
    for l in doc["links"].as_array().into_iter().flatten() {
        let href = l["href"].as_str().unwrap_or_default();
        let ty = l["type"].as_str().unwrap_or_default();
        if ty == "text/html" {
            continue;
        }
        let title = l["title"].as_str().unwrap_or(href);
        let rel = l["rel"].as_str().unwrap_or_default();
        let _ = write!(
            out,
            "<li>{} (<code>{}</code>, <a href=\"{}\">{}</a>)",
            esc(title),
            esc(rel),
            esc(href),
            esc(ty)
        );
        let browsable = href.contains("/ogc") && !href.ends_with("/ogc/api");
        if browsable && (ty == "application/json" || ty == "application/geo+json") {
            let _ = write!(out, " · <a href=\"{}\">HTML</a>", esc(&html_href(href)));
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    out
}

fn root(base: &str) -> (String, String) {
    (format!("{base}/ogc"), "OGC API".to_string())
}

/// The landing page.
pub(crate) fn landing(base: &str, doc: &Value) -> String {
    let title = doc["title"].as_str().unwrap_or("yizhan");
    let body = format!(
        "<p>{}</p><p><a href=\"{}\">Collections</a> · <a href=\"{}\">Conformance</a></p>{}",
        esc(doc["description"].as_str().unwrap_or_default()),
        esc(&html_href(&format!("{base}/ogc/collections"))),
        esc(&html_href(&format!("{base}/ogc/conformance"))),
        links_list(doc)
    );
    page(title, &[root(base)], &body)
}

/// The conformance classes.
pub(crate) fn conformance(base: &str, doc: &Value) -> String {
    let mut body = String::from("<ul>");
    for c in doc["conformsTo"].as_array().into_iter().flatten() {
        let _ = write!(
            body,
            "<li><code>{}</code></li>",
            esc(c.as_str().unwrap_or_default())
        );
    }
    body.push_str("</ul>");
    page(
        "Conformance",
        &[
            root(base),
            (format!("{base}/ogc/conformance"), "Conformance".into()),
        ],
        &body,
    )
}

fn bbox_text(c: &Value) -> String {
    c["extent"]["spatial"]["bbox"][0]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|v| v.as_f64().map(|x| format!("{x:.5}")).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The collections, one table row each.
pub(crate) fn collections(base: &str, doc: &Value) -> String {
    let mut body = String::from(
        "<table><thead><tr><th>Collection</th><th>Description</th><th>Extent (west, south, east, north)</th><th>Items</th></tr></thead><tbody>",
    );
    for c in doc["collections"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td><a href=\"{}\">items</a></td></tr>",
            esc(&html_href(&format!("{base}/ogc/collections/{id}"))),
            esc(c["title"].as_str().unwrap_or(id)),
            esc(c["description"].as_str().unwrap_or_default()),
            esc(&bbox_text(c)),
            esc(&html_href(&format!("{base}/ogc/collections/{id}/items"))),
        );
    }
    body.push_str("</tbody></table>");
    page(
        "Collections",
        &[
            root(base),
            (format!("{base}/ogc/collections"), "Collections".into()),
        ],
        &body,
    )
}

/// One collection.
pub(crate) fn collection(base: &str, doc: &Value) -> String {
    let id = doc["id"].as_str().unwrap_or_default();
    let title = doc["title"].as_str().unwrap_or(id);
    let crs: Vec<String> = doc["crs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(|c| format!("<code>{}</code>", esc(c))))
        .collect();
    let body = format!(
        "<p>{}</p><table><tr><th>Extent (west, south, east, north)</th><td>{}</td></tr>\
<tr><th>Coordinate systems</th><td>{}</td></tr></table>\
<p><a href=\"{}\">Browse the items</a></p>{}",
        esc(doc["description"].as_str().unwrap_or_default()),
        esc(&bbox_text(doc)),
        crs.join(", "),
        esc(&html_href(&format!("{base}/ogc/collections/{id}/items"))),
        links_list(doc)
    );
    page(
        title,
        &[
            root(base),
            (format!("{base}/ogc/collections"), "Collections".into()),
            (format!("{base}/ogc/collections/{id}"), title.to_string()),
        ],
        &body,
    )
}

/// A property value as table text (arrays and objects as compact JSON).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => esc(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => format!("<code>{}</code>", esc(&other.to_string())),
    }
}

/// What a page of items needs besides the features.
pub(crate) struct ItemsPage<'a> {
    pub(crate) base: &'a str,
    pub(crate) collection: &'a str,
    pub(crate) title: &'a str,
    pub(crate) matched: usize,
    pub(crate) offset: usize,
    /// The `next` and `prev` links of the JSON page.
    pub(crate) next: Option<String>,
    pub(crate) prev: Option<String>,
}

fn item_href(base: &str, collection: &str, id: &str) -> String {
    html_href(&format!(
        "{base}/ogc/collections/{collection}/items/{}",
        super::ogc::encode(id)
    ))
}

/// A page of items: a map and one table row per feature with every property.
pub(crate) fn items(p: &ItemsPage<'_>, feats: &[Feature]) -> String {
    let mut names: Vec<String> = Vec::new();
    for f in feats {
        for k in f.properties.iter().flat_map(|m| m.keys()) {
            if k != "id" && !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let ids: Vec<String> = feats.iter().map(feature_id).collect();
    let mut body = format!(
        "<p>Features {}–{} of {}.</p>",
        if feats.is_empty() {
            p.offset
        } else {
            p.offset + 1
        },
        p.offset + feats.len(),
        p.matched
    );
    body.push_str(&svg_map(feats, &ids, |id| {
        item_href(p.base, p.collection, id)
    }));
    let mut pager = String::new();
    if let Some(prev) = &p.prev {
        let _ = write!(
            pager,
            "<a rel=\"prev\" href=\"{}\">← previous</a> ",
            esc(&html_href(prev))
        );
    }
    if let Some(next) = &p.next {
        let _ = write!(
            pager,
            "<a rel=\"next\" href=\"{}\">next →</a>",
            esc(&html_href(next))
        );
    }
    let _ = write!(body, "<p>{pager}</p>");
    body.push_str("<table class=\"items\"><thead><tr><th>id</th>");
    for n in &names {
        let _ = write!(body, "<th>{}</th>", esc(n));
    }
    body.push_str("</tr></thead><tbody>");
    for (f, id) in feats.iter().zip(&ids) {
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a></td>",
            esc(&item_href(p.base, p.collection, id)),
            esc(id)
        );
        for n in &names {
            let v = f
                .properties
                .as_ref()
                .and_then(|m| m.get(n))
                .unwrap_or(&Value::Null);
            let _ = write!(body, "<td>{}</td>", cell(v));
        }
        body.push_str("</tr>");
    }
    body.push_str("</tbody></table>");
    let _ = write!(body, "<p>{pager}</p>");
    page(
        &format!("{} — items", p.title),
        &[
            root(p.base),
            (format!("{}/ogc/collections", p.base), "Collections".into()),
            (
                format!("{}/ogc/collections/{}", p.base, p.collection),
                p.title.to_string(),
            ),
        ],
        &body,
    )
}

/// One item: its map and a table of its properties.
pub(crate) fn item(base: &str, collection: &str, title: &str, f: &Feature) -> String {
    let id = feature_id(f);
    let mut body = svg_map(std::slice::from_ref(f), std::slice::from_ref(&id), |id| {
        item_href(base, collection, id)
    });
    body.push_str("<table class=\"item\"><tbody>");
    for (k, v) in f.properties.iter().flatten() {
        let _ = write!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(k), cell(v));
    }
    body.push_str("</tbody></table>");
    page(
        &format!("{title}: {id}"),
        &[
            root(base),
            (format!("{base}/ogc/collections"), "Collections".into()),
            (
                format!("{base}/ogc/collections/{collection}"),
                title.to_string(),
            ),
            (
                format!("{base}/ogc/collections/{collection}/items"),
                "items".into(),
            ),
        ],
        &body,
    )
}

fn feature_id(f: &Feature) -> String {
    match &f.id {
        Some(geojson::feature::Id::String(s)) => s.clone(),
        Some(geojson::feature::Id::Number(n)) => n.to_string(),
        None => f
            .properties
            .as_ref()
            .and_then(|p| p.get("id"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string(),
    }
}

/// Every finite position of a geometry value.
fn positions(g: &G, out: &mut Vec<[f64; 2]>) {
    crate::layers::each_position(g, &mut |p| {
        if p.len() >= 2 && p[0].is_finite() && p[1].is_finite() {
            out.push([p[0], p[1]]);
        }
    });
}

const MAP_W: f64 = 640.0;
const MAP_H: f64 = 360.0;

/// An SVG map of the features (see the module docs), each shape linked by `href`
/// of its id; empty when no feature has a geometry.
fn svg_map(feats: &[Feature], ids: &[String], href: impl Fn(&str) -> String) -> String {
    let mut all = Vec::new();
    for f in feats {
        if let Some(g) = &f.geometry {
            positions(&g.value, &mut all);
        }
    }
    if all.is_empty() {
        return String::new();
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for [x, y] in &all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    let k = ((y0 + y1) / 2.0).to_radians().cos().max(0.01);
    // A little room around the features; a single point gets a ~1 km window.
    let pad = ((x1 - x0) * k).max(y1 - y0).max(0.01) * 0.05;
    let (wx, wy) = ((x1 - x0) * k + 2.0 * pad, (y1 - y0) + 2.0 * pad);
    let s = (MAP_W / wx).min(MAP_H / wy);
    let ox = (MAP_W - wx * s) / 2.0;
    let oy = (MAP_H - wy * s) / 2.0;
    let px = |p: &Position| -> (f64, f64) {
        (
            ox + ((p[0] - x0) * k + pad) * s,
            oy + ((y1 - p[1]) + pad) * s,
        )
    };
    let ring = |r: &[Position]| -> String {
        let mut d = String::new();
        for (i, p) in r.iter().filter(|p| p.len() >= 2).enumerate() {
            let (x, y) = px(p);
            let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { 'M' } else { 'L' });
        }
        d
    };
    let mut shapes = String::new();
    for (f, id) in feats.iter().zip(ids) {
        let Some(g) = &f.geometry else { continue };
        let mut d = String::new();
        let mut dots = String::new();
        let mut filled = false;
        let draw = |g: &G, d: &mut String, dots: &mut String, filled: &mut bool| match g {
            G::Point { coordinates: p } if p.len() >= 2 => {
                let (x, y) = px(p);
                let _ = write!(dots, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\"/>");
            }
            G::MultiPoint { coordinates: ps } => {
                for p in ps.iter().filter(|p| p.len() >= 2) {
                    let (x, y) = px(p);
                    let _ = write!(dots, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\"/>");
                }
            }
            G::LineString { coordinates: l } => d.push_str(&ring(l)),
            G::MultiLineString { coordinates: ls } => ls.iter().for_each(|l| d.push_str(&ring(l))),
            G::Polygon { coordinates: rs } => {
                *filled = true;
                rs.iter().for_each(|r| {
                    d.push_str(&ring(r));
                    d.push('Z');
                });
            }
            G::MultiPolygon { coordinates: ps } => {
                *filled = true;
                ps.iter().flatten().for_each(|r| {
                    d.push_str(&ring(r));
                    d.push('Z');
                });
            }
            _ => {}
        };
        match &g.value {
            G::GeometryCollection { geometries: gs } => {
                for g in gs {
                    draw(&g.value, &mut d, &mut dots, &mut filled);
                }
            }
            v => draw(v, &mut d, &mut dots, &mut filled),
        }
        let _ = write!(
            shapes,
            "<a href=\"{}\"><title>{}</title>",
            esc(&href(id)),
            esc(id)
        );
        if !d.is_empty() {
            let fill = if filled {
                "rgba(11,87,208,.12)"
            } else {
                "none"
            };
            let _ = write!(
                shapes,
                "<path d=\"{d}\" fill=\"{fill}\" fill-rule=\"evenodd\" stroke=\"#0b57d0\" stroke-width=\"1.2\"/>"
            );
        }
        if !dots.is_empty() {
            let _ = write!(shapes, "<g fill=\"#c2410c\" stroke=\"#fff\">{dots}</g>");
        }
        shapes.push_str("</a>");
    }
    format!(
        "<svg class=\"map\" role=\"img\" aria-label=\"Map of the features\" viewBox=\"0 0 {MAP_W} {MAP_H}\" width=\"{MAP_W}\" height=\"{MAP_H}\" xmlns=\"http://www.w3.org/2000/svg\">{shapes}</svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_data_is_escaped() {
        assert_eq!(
            esc(r#"<b a="1">&'驿站'</b>"#),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;驿站&#39;&lt;/b&gt;"
        );
        assert_eq!(html_href("/ogc"), "/ogc?f=html");
        assert_eq!(html_href("/ogc/x?limit=10"), "/ogc/x?limit=10&f=html");
    }

    #[test]
    fn the_map_places_every_point_inside_the_frame_with_north_up() {
        let pts = [(118.40, 24.60), (118.60, 24.80), (118.50, 24.70)];
        let feats: Vec<Feature> = pts
            .iter()
            .map(|&(x, y)| Feature {
                geometry: Some(geojson::Geometry::new(G::Point {
                    coordinates: Position::from(vec![x, y]),
                })),
                ..Default::default()
            })
            .collect();
        let ids: Vec<String> = (0..3).map(|i| format!("p{i}")).collect();
        let svg = svg_map(&feats, &ids, |id| format!("/x/{id}"));
        let circles: Vec<(f64, f64)> = svg
            .split("<circle ")
            .skip(1)
            .map(|c| {
                let num = |k: &str| -> f64 {
                    let s = &c[c.find(k).unwrap() + k.len()..];
                    s[..s.find('"').unwrap()].parse().unwrap()
                };
                (num("cx=\""), num("cy=\""))
            })
            .collect();
        assert_eq!(circles.len(), 3);
        for &(x, y) in &circles {
            assert!(
                (0.0..=MAP_W).contains(&x) && (0.0..=MAP_H).contains(&y),
                "{x},{y}"
            );
        }
        // West is left, north is up, the middle point in the middle.
        assert!(circles[0].0 < circles[2].0 && circles[2].0 < circles[1].0);
        assert!(circles[0].1 > circles[2].1 && circles[2].1 > circles[1].1);
        assert!((circles[2].0 - MAP_W / 2.0).abs() < 1.0);
        for id in &ids {
            assert!(svg.contains(&format!("href=\"/x/{id}\"")));
        }
    }
}
