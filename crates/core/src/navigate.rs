//! Deep links that open a station in a navigation app.
//!
//! Each Chinese map app takes the datum it publishes its maps in: Amap (高德) and
//! Tencent (腾讯) GCJ-02, Baidu (百度) BD-09 ([`crate::crs`]); the `geo:` URI
//! (RFC 5870) takes WGS 84, which every other app (Android's chooser, OsmAnd,
//! Organic Maps, Google Maps) reads. The links start at the phone's own position,
//! so they need only the destination:
//!
//! - Amap: `https://uri.amap.com/navigation?to=LON,LAT,NAME&mode=walk|ride&coordinate=gaode&callnative=1&src=yizhan`
//!   (the URI API's route to a point; `callnative=1` opens the app when installed).
//! - Baidu: `https://api.map.baidu.com/marker?location=LAT,LON&title=NAME&content=NAME&coord_type=bd09ll&output=html&src=yizhan`
//!   (the marker page, which needs no origin and offers 到这去 "go there"; the
//!   route URI needs an origin).
//! - Tencent: `https://apis.map.qq.com/uri/v1/routeplan?type=walk|bike&to=NAME&tocoord=LAT,LON&referer=yizhan`.
//! - `geo:LAT,LON?q=LAT,LON(NAME)` (RFC 5870, with the label query Android reads).
//!
//! Coordinates are written with 6 decimals (about 0.1 m). Names are
//! percent-encoded (UTF-8), so a link is plain ASCII.
//!
//! ```
//! use yizhan_core::{navigate::{links, Travel}, LonLat};
//! let l = links(LonLat::new(118.4716, 24.7196).unwrap(), "兴胜社区驿站", Travel::Walk);
//! assert!(l.amap.starts_with("https://uri.amap.com/navigation?to=118.47"));
//! assert!(l.geo.starts_with("geo:24.719600,118.471600?q="));
//! ```

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::crs::{wgs84_to_bd09, wgs84_to_gcj02};
use crate::geodesy::LonLat;

/// What the link opens when `src`/`referer` is asked for: this application.
pub const SOURCE: &str = "yizhan";

/// Characters left as they are in a name: the URL-safe unreserved set.
const NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How the courier travels, for the apps that plan a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Travel {
    /// On foot (Amap `walk`, Tencent `walk`).
    #[default]
    Walk,
    /// By bicycle or e-bike (Amap `ride`, Tencent `bike`).
    Ride,
}

impl Travel {
    fn amap(self) -> &'static str {
        match self {
            Travel::Walk => "walk",
            Travel::Ride => "ride",
        }
    }

    fn tencent(self) -> &'static str {
        match self {
            Travel::Walk => "walk",
            Travel::Ride => "bike",
        }
    }
}

/// The navigation links to one place (the `navigate` member of a courier answer).
/// Fields in alphabetical order, as JSON objects are written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Links {
    /// Amap (高德), GCJ-02.
    pub amap: String,
    /// Baidu (百度), BD-09.
    pub baidu: String,
    /// `geo:` URI (RFC 5870), WGS 84.
    pub geo: String,
    /// Tencent (腾讯), GCJ-02.
    pub tencent: String,
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NAME).to_string()
}

/// The links that take a courier to `to` (WGS 84), named `name`.
pub fn links(to: LonLat, name: &str, travel: Travel) -> Links {
    let g = wgs84_to_gcj02(to);
    let b = wgs84_to_bd09(to);
    let n = enc(name);
    Links {
        amap: format!(
            "https://uri.amap.com/navigation?to={:.6},{:.6},{n}&mode={}&policy=1&coordinate=gaode&callnative=1&src={SOURCE}",
            g.lon,
            g.lat,
            travel.amap()
        ),
        baidu: format!(
            "https://api.map.baidu.com/marker?location={:.6},{:.6}&title={n}&content={n}&coord_type=bd09ll&output=html&src={SOURCE}",
            b.lat, b.lon
        ),
        geo: format!(
            "geo:{:.6},{:.6}?q={:.6},{:.6}({n})",
            to.lat, to.lon, to.lat, to.lon
        ),
        tencent: format!(
            "https://apis.map.qq.com/uri/v1/routeplan?type={}&to={n}&tocoord={:.6},{:.6}&referer={SOURCE}",
            travel.tencent(),
            g.lat,
            g.lon
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::{bd09_to_wgs84, gcj02_to_wgs84};
    use crate::geodesy::haversine_m;

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).unwrap()
    }

    /// The query value of `key` in a link.
    fn param<'a>(url: &'a str, key: &str) -> &'a str {
        let q = url.split_once('?').map_or("", |(_, q)| q);
        q.split('&')
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("{key} in {url}"))
    }

    fn pair(s: &str) -> (f64, f64) {
        let mut it = s.split(',').map(|x| x.parse::<f64>().expect("a number"));
        (it.next().unwrap(), it.next().unwrap())
    }

    #[test]
    fn each_app_gets_its_datum() {
        let to = ll(118.4716, 24.7196);
        let l = links(to, "兴胜社区工会爱心驿站 (01)", Travel::Walk);
        // Amap: lon,lat,name in GCJ-02, which is ~500 m from WGS 84 here.
        let (lon, lat) = pair(
            param(&l.amap, "to")
                .rsplit_once(',')
                .expect("lon,lat,name")
                .0,
        );
        assert!(haversine_m(gcj02_to_wgs84(ll(lon, lat)), to) < 0.2);
        assert!(haversine_m(ll(lon, lat), to) > 300.0);
        assert_eq!(param(&l.amap, "coordinate"), "gaode");
        assert_eq!(param(&l.amap, "mode"), "walk");
        // Tencent: lat,lon in GCJ-02.
        let (lat, lon) = pair(param(&l.tencent, "tocoord"));
        assert!(haversine_m(gcj02_to_wgs84(ll(lon, lat)), to) < 0.2);
        assert_eq!(param(&l.tencent, "type"), "walk");
        // Baidu: lat,lon in BD-09, declared as bd09ll.
        let (lat, lon) = pair(param(&l.baidu, "location"));
        assert!(haversine_m(bd09_to_wgs84(ll(lon, lat)), to) < 0.2);
        assert!(haversine_m(ll(lon, lat), to) > 700.0);
        assert_eq!(param(&l.baidu, "coord_type"), "bd09ll");
        // geo: WGS 84, lat first.
        let (lat, lon) = pair(
            l.geo
                .strip_prefix("geo:")
                .unwrap()
                .split('?')
                .next()
                .unwrap(),
        );
        assert!(haversine_m(ll(lon, lat), to) < 0.2);
    }

    #[test]
    fn names_are_percent_encoded_utf8() {
        let l = links(ll(118.47, 24.72), "A&B 驿站?(1)", Travel::Ride);
        for url in [&l.amap, &l.baidu, &l.geo, &l.tencent] {
            assert!(url.is_ascii(), "{url}");
            assert!(!url.contains(' '), "{url}");
        }
        let name = "A%26B%20%E9%A9%BF%E7%AB%99%3F%281%29";
        assert!(l.tencent.contains(&format!("to={name}&")), "{}", l.tencent);
        assert!(l.geo.ends_with(&format!("({name})")), "{}", l.geo);
        assert_eq!(param(&l.amap, "mode"), "ride");
        assert_eq!(param(&l.tencent, "type"), "bike");
        // One `&` per parameter: the name's own was encoded.
        assert_eq!(l.baidu.matches('&').count(), 5, "{}", l.baidu);
    }

    #[test]
    fn outside_china_amap_and_tencent_are_wgs84() {
        // GCJ-02 is WGS 84 outside China; Baidu still shifts.
        let to = ll(24.94, 60.17);
        let l = links(to, "Helsinki", Travel::Walk);
        assert!(
            l.tencent.contains("tocoord=60.170000,24.940000&"),
            "{}",
            l.tencent
        );
        let (lat, lon) = pair(param(&l.baidu, "location"));
        assert!(haversine_m(ll(lon, lat), to) > 100.0);
    }
}
