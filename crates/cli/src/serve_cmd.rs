//! `yizhan serve`: the map server (API, OGC API Features, web page).
//!
//! With `--store FILE.gpkg` the server serves and writes that GeoPackage store;
//! with `--store postgres://USER@HOST:PORT/DB`, that PostGIS database.
//! Without it, the `--data` folder is imported into an in-memory store: the write
//! routes work the same but nothing outlives the process, and the only token is
//! the admin token written to `--admin-token-file` (if given).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Args;
use yizhan_server::{AppState, CorsConfig, ServerConfig};
use yizhan_store::{Location, Role, Store};

use crate::common::{parse_age, Ctx};

/// Default listening address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Arguments of `yizhan serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "YIZHAN_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,
    /// Origin allowed to call the API from another site (repeatable; default: any origin).
    #[arg(
        long = "cors-origin",
        env = "YIZHAN_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// HTTP methods allowed cross-origin, comma-separated (add e.g. POST,PUT,DELETE
    /// to allow writes from the --cors-origin sites; same-origin pages always can).
    #[arg(long, env = "YIZHAN_CORS_METHODS", default_value = "GET,HEAD", value_parser = parse_methods)]
    pub cors_methods: MethodList,
    /// Basemap style or tile URL for the web page (served at /api/v1/config).
    #[arg(long, env = "YIZHAN_BASEMAP_URL")]
    pub basemap_url: Option<String>,
    /// Public base URL used in OGC API links (default: from the request's Host header).
    #[arg(long, env = "YIZHAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Default walking cutoff for coverage and gaps, in metres.
    #[arg(long, default_value_t = yizhan_server::state::DEFAULT_CUTOFF_M)]
    pub cutoff_m: f64,
    /// Store to serve and write (made by `yizhan import`): a GeoPackage file or a
    /// PostgreSQL database (postgres://USER@HOST:PORT/DB, with PostGIS). Without it
    /// the --data folder is served from a temporary in-memory store.
    #[arg(long, env = "YIZHAN_STORE")]
    pub store: Option<Location>,
    /// Occupancy reports older than this are shown as unknown (e.g. 90s, 30m, 2h, 1d).
    #[arg(long, default_value = "2h", value_parser = parse_age)]
    pub occupancy_max_age: Duration,
    /// Longest time to answer one request (e.g. 90s, 2m); slower answers are 504.
    #[arg(long, env = "YIZHAN_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_timeout)]
    pub request_timeout: Duration,
    /// Planning requests (coverage, gaps, compare, select, assign) that may run at
    /// once; more are answered 503 with Retry-After at once.
    #[arg(long, env = "YIZHAN_MAX_PLANNING", default_value_t = yizhan_server::limits::DEFAULT_MAX_PLANNING,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub max_planning: usize,
    /// Without --store: write a fresh admin token for the in-memory store to this
    /// file (mode 0600), so the write routes can be used.
    #[arg(long, conflicts_with = "store")]
    pub admin_token_file: Option<PathBuf>,
}

/// Parse a request timeout: an age (see [`parse_age`]) of at least one second.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    parse_age(s).and_then(|d| {
        if d.is_zero() {
            Err(format!("{s:?}: the request timeout must be at least 1s"))
        } else {
            Ok(d)
        }
    })
}

/// Open the store to serve: it must exist and hold stations.
fn open_store(at: &Location) -> Result<Store> {
    anyhow::ensure!(
        at.exists(),
        "store {at} does not exist; make it with `yizhan import --data DIR --store {at}`"
    );
    let store = Store::open_at(at).with_context(|| format!("cannot open store {at}"))?;
    let n = store
        .stations()
        .with_context(|| format!("cannot read the stations of {at}"))?
        .len();
    anyhow::ensure!(
        n > 0,
        "store {at} has no stations yet; fill it with `yizhan import --data DIR --store {at}`"
    );
    Ok(store)
}

/// Write a secret to a new file readable only by its owner.
fn write_secret(path: &std::path::Path, secret: &str) -> Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(f, "{secret}").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A parsed list of HTTP methods.
#[derive(Debug, Clone)]
pub struct MethodList(pub Vec<yizhan_server::Method>);

fn parse_methods(s: &str) -> Result<MethodList, String> {
    yizhan_server::parse_methods(s).map(MethodList)
}

/// Apply the dataset folder's sample occupancy reports
/// ([`yizhan_core::occupancy::SAMPLE_REPORTS_FILE`], times relative to now), if
/// it has them, so that the sample town shows free seats on any day.
fn apply_sample_reports(dir: &std::path::Path, data: &mut yizhan_core::Dataset) -> Result<()> {
    use yizhan_core::occupancy::{read_sample_reports, SAMPLE_REPORTS_FILE};
    let path = dir.join(SAMPLE_REPORTS_FILE);
    if !path.is_file() {
        return Ok(());
    }
    let mut reports: std::collections::HashMap<String, yizhan_core::model::Occupancy> =
        read_sample_reports(&path, chrono::Utc::now())?
            .into_iter()
            .collect();
    let total = reports.len();
    // Into the station records themselves: the store imports those.
    let stations: Vec<_> = data
        .stations
        .items()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(o) = reports.remove(&s.id) {
                s.occupancy = Some(o);
            }
            s
        })
        .collect();
    data.set_stations(stations);
    for id in reports.keys() {
        eprintln!(
            "yizhan: {}: no station {id:?}, report ignored",
            path.display()
        );
    }
    let applied = total - reports.len();
    eprintln!(
        "yizhan: {applied} synthetic occupancy reports from {} (made minutes before now)",
        path.display()
    );
    Ok(())
}

/// Run `yizhan serve`.
pub fn run(ctx: &Ctx, a: ServeArgs) -> Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    anyhow::ensure!(
        a.cutoff_m.is_finite() && a.cutoff_m > 0.0,
        "--cutoff-m must be a positive number of metres"
    );
    let (store, name, files) = match &a.store {
        Some(at) => (open_store(at)?, at.name(), None),
        None => {
            let mut data = ctx.load()?;
            apply_sample_reports(&ctx.data, &mut data)?;
            let mut store = Store::open_in_memory().context("cannot make an in-memory store")?;
            store
                .import(&data, &mut |_, _| {})
                .context("cannot import the dataset into the in-memory store")?;
            if let Some(f) = &a.admin_token_file {
                let (_, secret) = store
                    .create_token(&Role::Admin, Some("serve --admin-token-file"))
                    .context("cannot make the admin token")?;
                write_secret(f, &secret)?;
            }
            let name = ctx
                .data
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| ctx.data.display().to_string());
            (store, name, Some(data))
        }
    };
    let config = ServerConfig {
        dataset_name: name.clone(),
        cors: CorsConfig {
            origins: a.cors_origins,
            methods: a.cors_methods.0,
        },
        basemap_url: a.basemap_url,
        public_url: a.public_url,
        default_cutoff_m: a.cutoff_m,
        occupancy_max_age: a.occupancy_max_age,
        limits: yizhan_server::limits::Limits {
            request_timeout: a.request_timeout,
            max_planning: a.max_planning,
        },
    };
    // Roads and water are not in the store: served from the --data folder's files.
    let state = AppState::with_store_and_files(store, config, files.as_ref())
        .context("cannot read the store")?;
    if ctx.data.is_dir() {
        let started = std::time::Instant::now();
        match yizhan_net::Networks::for_dataset_dir(&ctx.data)
            .context("cannot read the street network")?
        {
            Some((nets, how)) => {
                eprintln!(
                    "yizhan: street network {how} in {:.2} s ({} walk vertices, {} e-bike vertices)",
                    started.elapsed().as_secs_f64(),
                    nets.walk.report().nodes,
                    nets.ebike.report().nodes
                );
                state.set_networks(Some(nets));
            }
            None => eprintln!("yizhan: no roads in the dataset: nearest answers straight lines (by=walk|ebike answer 409)"),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.addr)
            .await
            .with_context(|| format!("cannot listen on {}", a.addr))?;
        let addr = listener.local_addr().context("no local address")?;
        println!("yizhan serving {name} at http://{addr}/");
        yizhan_server::serve(listener, state, shutdown_signal())
            .await
            .context("server failed")?;
        eprintln!("yizhan: shut down");
        Ok(ExitCode::SUCCESS)
    })
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
