//! End-to-end test helpers: build and locate the real `yizhan` binary, start the
//! server on a free port, talk HTTP to it, and decide whether an external client
//! (GDAL, Python) is available.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The bundled sample town.
pub fn sample_data() -> PathBuf {
    repo_root().join("data").join("anhai")
}

/// The `yizhan` binary, built once per test process with `cargo build -p yizhan-cli`
/// (so it is never stale). `YIZHAN_BIN` overrides it.
pub fn yizhan_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("YIZHAN_BIN") {
            return PathBuf::from(p);
        }
        let root = repo_root();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--quiet", "-p", "yizhan-cli", "--bin", "yizhan"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p yizhan-cli failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let bin = target
            .join("debug")
            .join(format!("yizhan{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} missing after build", bin.display());
        bin
    })
    .clone()
}

/// Run `yizhan ARGS` in the repository root and collect its output.
pub fn run_yizhan(args: &[&str]) -> std::process::Output {
    Command::new(yizhan_bin())
        .current_dir(repo_root())
        .args(args)
        .output()
        .expect("yizhan runs")
}

/// Run `yizhan ARGS`, assert that it succeeds, and return its standard output.
pub fn yizhan_ok(args: &[&str]) -> String {
    let out = run_yizhan(args);
    assert!(
        out.status.success(),
        "yizhan {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Run `yizhan ARGS`, assert that it succeeds, and parse its standard output as JSON.
pub fn yizhan_json(args: &[&str]) -> serde_json::Value {
    let text = yizhan_ok(args);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("yizhan {args:?}: not JSON ({e}): {text}"))
}

/// The id of a GeoJSON feature: its `id` member, else its `id` property.
pub fn feature_id(f: &serde_json::Value) -> String {
    let id = f["id"].as_str().or_else(|| f["properties"]["id"].as_str());
    id.unwrap_or_else(|| panic!("feature without an id: {f}"))
        .to_string()
}

/// The features of the GeoJSON FeatureCollection file `path`.
pub fn features_of(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut fc: serde_json::Value = serde_json::from_str(&text).expect("GeoJSON");
    match fc["features"].take() {
        serde_json::Value::Array(features) => features,
        other => panic!("{}: features is {other}", path.display()),
    }
}

/// The string `key` of every element of the JSON array `v`.
pub fn strings_of(v: &serde_json::Value, key: &str) -> Vec<String> {
    let items = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    let get = |o: &serde_json::Value| o[key].as_str().map(str::to_string);
    items.iter().map(|o| get(o).expect("a string")).collect()
}

/// Run `cmd`, assert that it succeeds, and return its standard output.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed: {err}{text}");
    text
}

/// Run `ogrinfo ARGS`, assert that it succeeds, and return the feature count it
/// reports (`Feature Count: N`) with its whole listing.
pub fn ogrinfo_count(args: &[&str]) -> (usize, String) {
    let text = stdout_of(Command::new("ogrinfo").args(args));
    let n = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Feature Count:"))
        .and_then(|n| n.trim().parse().ok());
    let n = n.unwrap_or_else(|| panic!("no feature count from ogrinfo {args:?}:\n{text}"));
    (n, text)
}

/// Whether tests run in CI (`CI=true`), where missing tools are failures.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `tool` (e.g. `ogrinfo`) runs. When it does not: in CI, panic; elsewhere
/// print a loud SKIP message and return false.
pub fn require_tool(tool: &str, version_arg: &str, install_hint: &str) -> bool {
    let ok = Command::new(tool)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    skip_unless(ok, tool, install_hint)
}

/// Panic in CI or print a loud SKIP when `ok` is false; returns `ok`.
pub fn skip_unless(ok: bool, what: &str, install_hint: &str) -> bool {
    if !ok {
        let msg = format!("{what} is not available ({install_hint})");
        assert!(!in_ci(), "CI=true and {msg}");
        eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    }
    ok
}

/// A Python interpreter that can `import module`: `YIZHAN_PYTHON`, else the repo's
/// `.venv`, else `python3`. `None` (after a loud skip, or a panic in CI) when none can.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("YIZHAN_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            repo_root().join(".venv/bin/python"),
            PathBuf::from("python3"),
        ])
        .collect();
    let found = candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    skip_unless(
        found.is_some(),
        &format!("Python with {module}"),
        "python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt",
    )
    .then_some(found)
    .flatten()
}

/// A Python interpreter with OWSLib (see [`python_with`]).
pub fn python_with_owslib() -> Option<PathBuf> {
    python_with("owslib.ogcapi.features")
}

/// How many requests the server counted for `route` (a route template) with a 2xx
/// answer, from its `/metrics`.
pub fn requests_to(s: &Server, route: &str) -> u64 {
    let m = s.get("/metrics").body;
    let want =
        format!("yizhan_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"2xx\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(want.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// A running `yizhan serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The first line the server printed.
    pub banner: String,
}

/// One request to the server: `METHOD path`, with an optional bearer token and
/// an optional JSON body.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// Path below the server's base URL.
    pub path: &'a str,
    /// Bearer token, if any.
    pub token: Option<&'a str>,
    /// JSON body, if any.
    pub body: Option<&'a str>,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// `Content-Disposition`, if any.
    pub disposition: Option<String>,
    /// `Retry-After`, if any.
    pub retry_after: Option<String>,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn answer(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut res = res.expect("HTTP request");
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type").unwrap_or_default();
    let disposition = header("content-disposition");
    let retry_after = header("retry-after");
    let status = res.status().as_u16();
    let body = res
        .body_mut()
        .with_config()
        .limit(200 * 1024 * 1024)
        .read_to_string()
        .expect("body");
    Answer {
        status,
        content_type,
        disposition,
        retry_after,
        body,
    }
}

impl Server {
    /// Start `yizhan --data DATA serve --addr 127.0.0.1:0 ARGS…` and wait for its banner.
    pub fn start(data: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(yizhan_bin())
            .current_dir(repo_root())
            .arg("--data")
            .arg(data)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("yizhan serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let n = reader.read_line(&mut line).unwrap_or(0);
        if n == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("yizhan serve exited before printing its address");
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        let banner = line.trim().to_string();
        let base = banner
            .split(" at ")
            .nth(1)
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| panic!("unexpected banner {banner:?}"));
        let s = Server {
            child,
            base,
            banner,
        };
        let t0 = Instant::now();
        while s.get("/healthz").status != 200 {
            assert!(t0.elapsed() < Duration::from_secs(30), "server not healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET a path (or a full URL).
    pub fn get(&self, path: &str) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        answer(agent().get(&url).call())
    }

    /// POST a JSON body.
    pub fn post_json(&self, path: &str, body: &str) -> Answer {
        answer(
            agent()
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .send(body),
        )
    }

    /// Send one request. `Err` when no HTTP answer arrived (connection refused or
    /// reset, e.g. the server died).
    pub fn try_send(&self, call: Call<'_>) -> Result<Answer, String> {
        let Call {
            method,
            path,
            token,
            body,
        } = call;
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        let req = match token {
            Some(t) => req.header("authorization", format!("Bearer {t}")),
            None => req,
        };
        let res = match body {
            Some(b) => agent().run(
                req.header("content-type", "application/json")
                    .body(b.to_string())
                    .map_err(|e| e.to_string())?,
            ),
            None => agent().run(req.body(()).map_err(|e| e.to_string())?),
        };
        match res {
            Ok(r) => Ok(answer(Ok(r))),
            Err(e) => Err(e.to_string()),
        }
    }

    /// As [`Server::try_send`], panicking when no answer arrives.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let call = Call {
            method,
            path,
            token,
            body,
        };
        self.try_send(call)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Kill the process at once (SIGKILL on Unix: no cleanup, no flush) and reap it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Send SIGTERM (Unix) and wait for the process; returns whether it exited cleanly.
    pub fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            return false;
        }
        let t0 = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if t0.elapsed() < Duration::from_secs(20) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => return false,
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
