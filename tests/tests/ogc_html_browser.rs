//! The OGC API's HTML pages in a real browser: the real `yizhan serve` on the sample
//! town, Debian's headless Chromium rendering the landing page, the collections, a
//! page of items and one item. The DOM Chromium builds must hold exactly the
//! features the JSON page holds, with the links between the pages and a map;
//! screenshots go under `target/screenshots/` for a person to look at.
//!
//! Without Chromium the test is skipped with a loud message, except when `CI=true`.

use std::path::PathBuf;
use std::process::Command;

use yizhan_tests::{repo_root, sample_data, skip_unless, Server};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Chromium, headless, on `url` with `extra` (e.g. `--dump-dom`): its stdout.
fn chrome(bin: &PathBuf, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--window-size=1100,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The ids in the first cell of each row of the items table, as the DOM has them.
fn row_ids(dom: &str) -> Vec<String> {
    let Some(start) = dom.find("<table class=\"items\">") else {
        return Vec::new();
    };
    let table = &dom[start
        ..dom[start..]
            .find("</table>")
            .map_or(dom.len(), |e| start + e)];
    table
        .split("<tr><td><a href=\"")
        .skip(1)
        .filter_map(|r| r.split('>').nth(1)?.split('<').next().map(str::to_string))
        .collect()
}

#[test]
fn ogc_html_pages_in_a_real_browser() {
    let Some(bin) = chromium() else {
        skip_unless(
            false,
            "Chromium",
            "apt-get install chromium, or set CHROMIUM",
        );
        return;
    };
    let server = Server::start(&sample_data(), &[]);
    let b = &server.base;
    let shots = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    // A browser asks for text/html: the landing page, without f=html.
    let landing = chrome(&bin, &format!("{b}/ogc"), &["--dump-dom"]);
    assert!(landing.contains("<h1>"), "{landing}");
    assert!(landing.contains("/ogc/collections?f=html"), "{landing}");
    let cs = chrome(
        &bin,
        &format!("{b}/ogc/collections?f=html"),
        &["--dump-dom"],
    );
    for c in [
        "stations",
        "hotspots",
        "cells",
        "candidates",
        "boundary",
        "gaps",
    ] {
        assert!(
            cs.contains(&format!("/ogc/collections/{c}/items?f=html")),
            "{c}"
        );
    }

    for (c, q) in [
        ("stations", "limit=100"),
        ("hotspots", "limit=50&offset=10"),
        ("cells", "limit=30"),
    ] {
        let json = server
            .get(&format!("/ogc/collections/{c}/items?{q}"))
            .json();
        let ids: Vec<String> = json["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!ids.is_empty(), "{c}");
        let url = format!("{b}/ogc/collections/{c}/items?{q}&f=html");
        let dom = chrome(&bin, &url, &["--dump-dom"]);
        assert_eq!(row_ids(&dom), ids, "{c}: the table is the JSON page");
        // One map shape per feature, each linked to its item page.
        let shapes = dom.matches("<a href=\"").count();
        assert!(
            shapes >= 2 * ids.len(),
            "{c}: {shapes} links for {}",
            ids.len()
        );
        assert!(dom.contains("<svg class=\"map\""), "{c}");
        let shot = shots.join(format!("ogc-{c}-items.png"));
        chrome(&bin, &url, &[&format!("--screenshot={}", shot.display())]);
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
            "{shot:?}"
        );
    }

    // One station: its Chinese name rendered as text, every property a row.
    let s = server.get("/ogc/collections/stations/items?limit=1").json();
    let f = &s["features"][0];
    let id = f["id"].as_str().unwrap();
    let dom = chrome(
        &bin,
        &format!("{b}/ogc/collections/stations/items/{id}?f=html"),
        &["--dump-dom"],
    );
    let props = f["properties"].as_object().unwrap();
    for k in props.keys() {
        assert!(dom.contains(&format!("<th>{k}</th>")), "{k} missing");
    }
    if let Some(zh) = props.get("name_zh").and_then(|v| v.as_str()) {
        assert!(dom.contains(zh), "{zh}");
    }
    let shot = shots.join("ogc-station.png");
    chrome(
        &bin,
        &format!("{b}/ogc/collections/stations/items/{id}?f=html"),
        &[&format!("--screenshot={}", shot.display())],
    );
    assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000));
}
