//! The courier view in a real browser (issue #18): starts the real `yizhan serve` on
//! the sample town on a free port and runs `web/tests/courier.mjs` (playwright-core
//! driving Debian's headless Chromium) on a phone-sized and a desktop window, in
//! Chinese and English.
//!
//! The script checks the navigation links of every card against the published
//! GCJ-02 / BD-09 formulas (written again in the script), that the chosen station is
//! framed, drawn above every layer and routed along the streets (walk by default,
//! the walk / e-bike / straight toggle remembered), free seats with the report's age
//! or "no recent report", and opening hours as people read them. Screenshots are
//! saved under `target/screenshots/`.
//!
//! Without Node.js, Chromium or a built page the test is skipped with a loud message,
//! except when `CI=true`, where it fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};

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

#[test]
fn courier_view_in_a_real_browser() {
    let root = repo_root();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !skip_unless(node, "Node.js (`node`)", "install Node.js 20.19+ with npm") {
        return;
    }
    let chrome = chromium();
    if !skip_unless(
        chrome.is_some(),
        "Chromium",
        "apt-get install chromium, or set CHROMIUM",
    ) {
        return;
    }
    // The server's build script installs web/node_modules when it builds the page; a
    // cached page (a shared target folder, YIZHAN_SKIP_WEB) leaves them out, so the
    // test installs the locked packages itself when they are missing.
    if !root.join("web/node_modules/playwright-core").is_dir() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(root.join("web"))
            .status();
        eprintln!("npm ci in web/: {status:?}");
    }
    let playwright = root.join("web/node_modules/playwright-core").is_dir();
    if !skip_unless(
        playwright,
        "web/node_modules",
        "run `npm ci` in web/ (building yizhan-server does it when Node.js is there)",
    ) {
        return;
    }
    let server = Server::start(&sample_data(), &[]);
    let page = server.get("/");
    let built = !(page.status == 503 && page.body.contains("not built"));
    if !skip_unless(
        built,
        "the built web page",
        "see the cargo warning of yizhan-server",
    ) {
        return;
    }
    assert_eq!(page.status, 200, "GET / answered {}", page.body);
    assert!(
        page.body.contains("id=\"map\""),
        "GET / is not the map page"
    );

    let shots = root.join("target/screenshots");
    let out = Command::new("node")
        .current_dir(root.join("web"))
        .arg("tests/courier.mjs")
        .arg(&server.base)
        .arg(&shots)
        .env("CHROMIUM", chrome.expect("checked above"))
        .stdin(Stdio::null())
        .output()
        .expect("node runs the browser tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The script's own report (cargo shows it on failure, or with --nocapture).
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "browser tests failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for f in [
        "courier-navigate-phone-zh.png",
        "courier-chosen-desktop-en.png",
        "courier-seats-phone-en.png",
        "courier-hours-desktop-zh.png",
    ] {
        assert!(shots.join(f).is_file(), "screenshot {f} saved");
    }
}
