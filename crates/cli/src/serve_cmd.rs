//! `yizhan serve`: the map server (API, OGC API Features, web page).

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Args;
use yizhan_server::{AppState, CorsConfig, ServerConfig};

use crate::common::Ctx;

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
    /// HTTP methods allowed cross-origin, comma-separated.
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
}

/// A parsed list of HTTP methods.
#[derive(Debug, Clone)]
pub struct MethodList(pub Vec<yizhan_server::Method>);

fn parse_methods(s: &str) -> Result<MethodList, String> {
    yizhan_server::parse_methods(s).map(MethodList)
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
    let data = ctx.load()?;
    let name = ctx
        .data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ctx.data.display().to_string());
    let config = ServerConfig {
        dataset_name: name.clone(),
        cors: CorsConfig {
            origins: a.cors_origins,
            methods: a.cors_methods.0,
        },
        basemap_url: a.basemap_url,
        public_url: a.public_url,
        default_cutoff_m: a.cutoff_m,
    };
    let state = AppState::new(data, config);
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
