//! A private PostgreSQL cluster with PostGIS, for tests (this crate's conformance
//! suite and the end-to-end tests in `tests/`; feature `test-support`).
//!
//! [`Cluster::start`] runs `initdb` into a temporary folder and `pg_ctl start` on a
//! free port of 127.0.0.1 (its unix socket in the same folder), as the `postgres`
//! user when the tests run as root (PostgreSQL refuses root). Dropping the
//! [`Cluster`] stops the server (`pg_ctl stop -m fast`) and removes the folder.
//! Without PostgreSQL or PostGIS on the machine it returns `None` after a loud
//! SKIP message, and panics instead when `CI=true`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian package that brings PostGIS (for the skip message).
const INSTALL_HINT: &str =
    "apt-get install postgresql postgresql-15-postgis-3, or set YIZHAN_PG_BIN to PostgreSQL's bin folder";

/// The superuser of the private cluster (trust authentication, 127.0.0.1 only).
pub const SUPERUSER: &str = "postgres";

/// A running private cluster, stopped when dropped.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
    dir: tempfile::TempDir,
    next_db: std::sync::atomic::AtomicUsize,
}

/// Whether tests run in CI (`CI=true`), where a missing PostgreSQL is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// PostgreSQL's bin folder: `YIZHAN_PG_BIN`, else the newest
/// `/usr/lib/postgresql/N/bin` (Debian's layout).
fn pg_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("YIZHAN_PG_BIN") {
        return Some(PathBuf::from(p));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether the PostGIS extension is installed for the PostgreSQL in `bin`.
fn has_postgis(bin: &Path) -> bool {
    let share = Command::new(bin.join("pg_config"))
        .arg("--sharedir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    share.is_some_and(|s| s.join("extension/postgis.control").exists())
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Cluster {
    /// Start a private cluster with PostGIS available, or `None` (after a loud
    /// SKIP; a panic in CI) when PostgreSQL or PostGIS is not installed.
    pub fn start() -> Option<Cluster> {
        let bin = pg_bin().filter(|b| has_postgis(b));
        let Some(bin) = bin else {
            let msg = format!("PostgreSQL with PostGIS is not available ({INSTALL_HINT})");
            assert!(!in_ci(), "CI=true and {msg}");
            eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("yizhan-pg-")
            .tempdir()
            .expect("a temporary folder");
        let as_postgres = running_as_root();
        if as_postgres {
            std::os::unix::fs::chown(dir.path(), Some(postgres_uid()), None)
                .expect("chown the cluster folder to postgres");
        }
        let data = dir.path().join("data");
        let mut c = Cluster {
            bin,
            data,
            port: 0,
            as_postgres,
            dir,
            next_db: Default::default(),
        };
        c.run(
            "initdb",
            &[
                "-D".as_ref(),
                c.data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
            ],
        );
        // A port picked free may be taken before the server binds it: try a few.
        for attempt in 0..3 {
            c.port = free_port();
            let ok = c.pg_ctl_start();
            if ok.is_ok() {
                break;
            }
            let tail = std::fs::read_to_string(c.dir.path().join("log")).unwrap_or_default();
            assert!(attempt < 2, "pg_ctl start failed: {ok:?}\n{tail}");
        }
        c.admin("postgres")
            .batch_execute("CREATE DATABASE yizhan_template")
            .expect("create the template database");
        c.admin("yizhan_template")
            .batch_execute("CREATE EXTENSION postgis")
            .expect("CREATE EXTENSION postgis");
        Some(c)
    }

    /// The URL of database `db` as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// The GDAL connection string of database `db` (`ogrinfo PG:…`).
    pub fn gdal(&self, db: &str) -> String {
        format!(
            "PG:host=127.0.0.1 port={} user={SUPERUSER} dbname={db}",
            self.port
        )
    }

    /// A new empty database with PostGIS (made from a template, so quickly);
    /// returns its name. Names start with `prefix` (letters, digits, `_`).
    pub fn create_database(&self, prefix: &str) -> String {
        let n = self
            .next_db
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name: String = format!("{prefix}_{n}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        self.admin("postgres")
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE yizhan_template"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        name
    }

    /// A superuser connection to database `db`.
    pub fn admin(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.url(db)))
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn try_run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("{tool} does not run: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        if let Err(e) = self.try_run(tool, args) {
            panic!("{e}");
        }
    }

    /// `pg_ctl start` on this cluster's folder and port, waiting until it accepts
    /// connections.
    fn pg_ctl_start(&self) -> Result<(), String> {
        let log = self.dir.path().join("log");
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        self.try_run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-o".as_ref(),
                opts.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )
    }

    /// Start the cluster again after [`Cluster::stop`], on the same port with the
    /// same data (a database restart, as clients see it).
    pub fn start_again(&self) {
        if let Err(e) = self.pg_ctl_start() {
            let tail = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
            panic!("restarting the cluster: {e}\n{tail}");
        }
    }

    /// Stop the server now and wait for it ("fast": clients are disconnected).
    pub fn stop(&self) {
        let _ = self.try_run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The uid of the `postgres` user (from /etc/passwd).
fn postgres_uid() -> u32 {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.first() == Some(&"postgres"))
                    .then(|| f.get(2)?.parse().ok())
                    .flatten()
            })
        })
        .expect("a postgres user to run the cluster as (PostgreSQL refuses root)")
}
