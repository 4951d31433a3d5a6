//! Store commands: `yizhan import` and `yizhan token`.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use yizhan_store::{Location, Role, Store};

use crate::common::Ctx;

/// Arguments of `yizhan import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The store to write: a GeoPackage file (created if missing) or a PostgreSQL
    /// database (postgres://USER@HOST:PORT/DB, with PostGIS). Its layers are replaced.
    #[arg(long)]
    store: Location,
}

/// `yizhan token …`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    cmd: TokenCmd,
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Make a token and print it once (only its hash is stored).
    Create {
        /// admin, planner or operator:<station id>.
        #[arg(long)]
        role: Role,
        /// Who the token is for.
        #[arg(long)]
        label: Option<String>,
        /// The store: a GeoPackage file or postgres://USER@HOST:PORT/DB.
        #[arg(long)]
        store: Location,
    },
    /// Revoke a token by its id.
    Revoke {
        /// Token id (see `yizhan token list`).
        id: i64,
        /// The store: a GeoPackage file or postgres://USER@HOST:PORT/DB.
        #[arg(long)]
        store: Location,
    },
    /// List tokens (never their secrets).
    List {
        /// The store: a GeoPackage file or postgres://USER@HOST:PORT/DB.
        #[arg(long)]
        store: Location,
    },
}

/// Open the store at `at` (a GeoPackage file is created if missing).
pub fn open(at: &Location) -> Result<Store> {
    Store::open_at(at).with_context(|| format!("cannot open store {at}"))
}

/// `yizhan import`.
pub fn import(ctx: &Ctx, a: ImportArgs) -> Result<ExitCode> {
    let data = ctx.load()?;
    let mut store = open(&a.store)?;
    let bar = if std::io::stderr().is_terminal() {
        let total =
            (data.stations.len() + data.hotspots.len() + data.cells.len() + data.candidates.len())
                as u64;
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} features ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("importing");
        Some(bar)
    } else {
        None
    };
    let summary = store
        .import(&data, &mut |done, _| {
            if let Some(b) = &bar {
                b.set_position(done);
            }
        })
        .with_context(|| format!("cannot import into {}", a.store))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    eprintln!(
        "imported {} stations, {} hotspots, {} cells, {} candidates, {} boundary into {}",
        summary.stations,
        summary.hotspots,
        summary.cells,
        summary.candidates,
        summary.boundary,
        a.store
    );
    Ok(ExitCode::SUCCESS)
}

/// `yizhan token`.
pub fn token(_ctx: &Ctx, a: TokenArgs) -> Result<ExitCode> {
    match a.cmd {
        TokenCmd::Create { role, label, store } => {
            let mut s = open(&store)?;
            let (info, secret) = s.create_token(&role, label.as_deref())?;
            eprintln!(
                "token {} for role {} (shown once; keep it secret):",
                info.id, info.role
            );
            println!("{secret}");
        }
        TokenCmd::Revoke { id, store } => {
            open(&store)?.revoke_token(id)?;
            eprintln!("token {id} revoked");
        }
        TokenCmd::List { store } => {
            for t in open(&store)?.tokens()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.role,
                    t.label.unwrap_or_default(),
                    t.created_at,
                    t.revoked_at
                        .map_or("active".to_string(), |r| format!("revoked {r}"))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
