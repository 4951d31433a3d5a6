//! Build the web page (`web/`, an npm project) and embed it in the server binary.
//!
//! - `npm ci` when `web/node_modules` is missing or older than `package-lock.json`,
//!   then `npm run build` into a cache folder under the target directory, keyed by a
//!   hash of the web sources: `cargo build`, `cargo test` and `cargo clippy` share one
//!   build, and nothing runs again until a source changes.
//! - Without Node.js/npm (or with `YIZHAN_SKIP_WEB=1`), or when the npm build fails,
//!   the Rust build still succeeds: a cargo warning says why, and `/` serves a page
//!   telling how to build the web UI.
//!
//! The generated `$OUT_DIR/web_assets.rs` lists each built file with its content type
//! and `include_bytes!` of its absolute path.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::fs;
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// Web sources whose change rebuilds the page (relative to `web/`).
const INPUTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "index.html",
    "vite.config.js",
    "src",
    "public",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let web = manifest.join("../../web");
    println!("cargo:rerun-if-env-changed=YIZHAN_SKIP_WEB");
    println!("cargo:rerun-if-changed=build.rs");
    for i in INPUTS {
        // A path that does not exist would make cargo rerun this script on every build.
        if web.join(i).exists() {
            println!("cargo:rerun-if-changed={}", web.join(i).display());
        }
    }

    let outcome = if !web.join("package.json").is_file() {
        Err("the web/ folder is missing".to_string())
    } else {
        build_page(&web, &out)
    };
    let generated = match outcome {
        Ok(dist) => embed(&dist),
        Err(reason) => {
            println!("cargo:warning=yizhan web UI not built: {reason}");
            if reason.contains("Node.js") || reason.contains("npm is not installed") {
                // Check again on the next build, so that installing Node.js is enough:
                // a path that does not exist makes cargo rerun this script every time.
                println!(
                    "cargo:rerun-if-changed={}",
                    web.join("node_modules/.rerun-until-node-is-installed")
                        .display()
                );
            }
            not_built(&reason)
        }
    };
    fs::write(out.join("web_assets.rs"), generated).expect("write web_assets.rs");
}

/// Build the page (or reuse a cached build) and return the folder of built files.
fn build_page(web: &Path, out: &Path) -> Result<PathBuf, String> {
    let hash = hash_inputs(web);
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: cache beside the profile's files.
    let cache = out.ancestors().nth(3).unwrap_or(out).join("yizhan-web");
    let dist = cache.join(format!("{hash:016x}"));
    if dist.join("index.html").is_file() {
        return Ok(dist);
    }
    if std::env::var("YIZHAN_SKIP_WEB").is_ok_and(|v| v == "1") {
        return Err(
            "YIZHAN_SKIP_WEB=1 is set and no build of the current web sources exists".into(),
        );
    }
    fs::create_dir_all(&cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let _lock = Lock::take(&cache.join(".lock"))?;
    if dist.join("index.html").is_file() {
        return Ok(dist); // another cargo process built it while we waited
    }

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let node = if cfg!(windows) { "node.exe" } else { "node" };
    let version = Command::new(node)
        .arg("--version")
        .output()
        .map_err(|_| "Node.js is not installed (no `node` on PATH): install Node.js 20.19 or later with npm, then rebuild".to_string())?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(format!(
            "Node.js {version} is too old: install Node.js 20.19 or later, then rebuild"
        ));
    }
    if Command::new(npm).arg("--version").output().is_err() {
        return Err("npm is not installed: install Node.js with npm, then rebuild".into());
    }

    let stamp = web.join("node_modules/.package-lock.json");
    if !web.join("node_modules").is_dir() || newer(&web.join("package-lock.json"), &stamp) {
        println!("cargo:warning=yizhan: installing the web page's npm packages (npm ci)");
        run(Command::new(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(web))?;
    }
    // Under the lock, any half-made build left here is from a build that was killed.
    if let Ok(entries) = fs::read_dir(&cache) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(".tmp") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = cache.join(format!("{hash:016x}.tmp{}", std::process::id()));
    run(Command::new(npm)
        .args(["run", "build", "--", "--outDir"])
        .arg(&tmp)
        .arg("--emptyOutDir")
        .current_dir(web))?;
    if !tmp.join("index.html").is_file() {
        return Err("npm run build made no index.html".into());
    }
    fs::rename(&tmp, &dist).map_err(|e| format!("cannot move the build into place: {e}"))?;
    // Keep the cache small: the three newest builds stay (another profile's OUT_DIR
    // may still point at one of them until its build script runs again).
    if let Ok(entries) = fs::read_dir(&cache) {
        let mut builds: Vec<(SystemTime, PathBuf)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                p.is_dir() && !name.starts_with('.') && !name.contains(".tmp") && *p != dist
            })
            .map(|p| {
                let t = fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                (t, p)
            })
            .collect();
        builds.sort();
        let old = builds.len().saturating_sub(2);
        for (_, p) in builds.into_iter().take(old) {
            let _ = fs::remove_dir_all(&p);
        }
    }
    Ok(dist)
}

/// Run a command, returning the tail of its output as the error.
fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    let tail: Vec<&str> = text.lines().rev().take(12).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{shown} failed ({}): {}",
        out.status,
        tail.join(" | ")
    ))
}

fn newer(a: &Path, b: &Path) -> bool {
    let m = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (m(a), m(b)) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A hash of the names and contents of the web sources.
fn hash_inputs(web: &Path) -> u64 {
    let mut files = Vec::new();
    for i in INPUTS {
        collect(&web.join(i), &mut files);
    }
    files.sort();
    let mut h = DefaultHasher::new();
    for f in files {
        h.write(
            f.strip_prefix(web)
                .unwrap_or(&f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.write(&fs::read(&f).unwrap_or_default());
        h.write_u8(0);
    }
    h.finish()
}

fn collect(p: &Path, files: &mut Vec<PathBuf>) {
    if p.is_file() {
        files.push(p.to_path_buf());
    } else if let Ok(entries) = fs::read_dir(p) {
        for e in entries.flatten() {
            collect(&e.path(), files);
        }
    }
}

/// A lock folder, so concurrent cargo runs don't run npm in one folder at once.
struct Lock(PathBuf);

impl Lock {
    fn take(path: &Path) -> Result<Lock, String> {
        let start = SystemTime::now();
        loop {
            match fs::create_dir(path) {
                Ok(()) => return Ok(Lock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|m| m.elapsed().ok())
                        .unwrap_or_default();
                    if age > Duration::from_secs(900) {
                        let _ = fs::remove_dir(path); // left by a killed build
                    } else if start.elapsed().unwrap_or_default() > Duration::from_secs(900) {
                        return Err(format!("timed out waiting for the lock {}", path.display()));
                    } else {
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
                Err(e) => return Err(format!("cannot take the lock {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.0);
    }
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Rust source embedding every built file.
fn embed(dist: &Path) -> String {
    let mut files = Vec::new();
    collect(dist, &mut files);
    files.sort();
    let mut s = String::from(
        "/// Whether the page was built.\npub const BUILT: bool = true;\n\
         /// Why the page was not built (empty when it was).\npub const NOT_BUILT_REASON: &str = \"\";\n\
         /// Built files: URL path, content type, bytes.\npub static ASSETS: &[(&str, &str, &[u8])] = &[\n",
    );
    for f in files {
        let rel = f.strip_prefix(dist).unwrap_or(&f);
        let url = format!(
            "/{}",
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        );
        let abs = f.canonicalize().unwrap_or(f.clone());
        let _ = writeln!(
            s,
            "    ({url:?}, {:?}, include_bytes!({:?})),",
            content_type(&f),
            abs.to_string_lossy()
        );
    }
    s.push_str("];\n");
    s
}

fn not_built(reason: &str) -> String {
    format!(
        "/// Whether the page was built.\npub const BUILT: bool = false;\n\
         /// Why the page was not built (empty when it was).\npub const NOT_BUILT_REASON: &str = {reason:?};\n\
         /// Built files: URL path, content type, bytes.\npub static ASSETS: &[(&str, &str, &[u8])] = &[];\n"
    )
}
