//! The web page in a real browser: starts the real `yizhan serve` on a free port and
//! runs `web/tests/browser.mjs` (playwright-core driving Debian's headless Chromium).
//!
//! The browser script checks that the map reaches `idle` with the station layer drawn,
//! that tapping the map lists the same nearest stations as the API, that the planner's
//! compare table gets a row for a dropped candidate, that the language switch changes
//! the labels, and that failing basemap tiles leave the data layers with a notice.
//! Screenshots are saved under `target/screenshots/` for a person to look at.
//!
//! Without Node.js, Chromium or a built page the test is skipped with a loud message,
//! except when `CI=true`, where it fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Skip loudly, or fail under CI.
fn skip(why: &str) {
    assert!(!in_ci(), "browser tests cannot run under CI=true: {why}");
    eprintln!("\n=============================================================");
    eprintln!("SKIPPED web browser tests: {why}");
    eprintln!("=============================================================\n");
}

/// The `yizhan` binary beside this test executable (built by `cargo test --workspace`),
/// built on demand when this test runs alone.
fn yizhan_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target profile folder");
    let bin = dir.join(format!("yizhan{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(repo())
            .args(["build", "-p", "yizhan-cli", "--bin", "yizhan"])
            .status()
            .expect("cargo build runs");
        assert!(status.success(), "cargo build of yizhan failed");
    }
    bin
}

fn chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn node_ok() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `yizhan serve` on a free port; returns the server and its base URL.
fn start_server() -> (Server, String) {
    let root = repo();
    let mut child = Command::new(yizhan_bin())
        .current_dir(&root)
        .args(["--data"])
        .arg(root.join("data/anhai"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("YIZHAN_BASEMAP_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("yizhan serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    // "yizhan serving anhai at http://127.0.0.1:PORT/"
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(i) = line.find("http://") {
                let _ = tx.send(line[i..].trim().trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("yizhan serve printed its address");
    (server, url)
}

/// Status code and body of a plain HTTP GET (std only).
fn http_get(base: &str, path: &str) -> (u16, String) {
    let hostport = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(hostport).expect("connect to the server");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read the answer");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

#[test]
fn web_page_in_a_real_browser() {
    let root = repo();
    if !node_ok() {
        return skip("Node.js (`node`) is not installed");
    }
    let Some(chrome) = chromium() else {
        return skip("Chromium is not installed (apt-get install chromium, or set CHROMIUM)");
    };
    if !root.join("web/node_modules/playwright-core").is_dir() {
        return skip("web/node_modules is missing: the server build runs `npm ci` in web/ when Node.js is there");
    }
    let (_server, url) = start_server();
    let (code, body) = http_get(&url, "/");
    if code == 503 && body.contains("not built") {
        return skip(
            "the web page was not built into the server (see the cargo warning of yizhan-server)",
        );
    }
    assert_eq!(code, 200, "GET / answered {code}: {body}");
    assert!(body.contains("id=\"map\""), "GET / is not the map page");

    let shots = root.join("target/screenshots");
    let out = Command::new("node")
        .current_dir(root.join("web"))
        .arg("tests/browser.mjs")
        .arg(&url)
        .arg(&shots)
        .env("CHROMIUM", &chrome)
        .stdin(Stdio::null())
        .output()
        .expect("node runs the browser tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Echo the script's own report (cargo shows it on failure or with --nocapture).
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "browser tests failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for f in ["courier.png", "planner.png"] {
        assert!(shots.join(f).is_file(), "screenshot {f} saved");
    }
}
