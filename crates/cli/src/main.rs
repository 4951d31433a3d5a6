//! `yizhan`: find rest stations for outdoor workers and plan new ones.
#![forbid(unsafe_code)]

mod common;
mod demand_cmd;
mod gen_cmd;
mod plan_cmds;
mod query;
mod roads_cmd;
mod serve_cmd;
mod store_cmds;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use common::Ctx;

/// yizhan (驿站): a locator and capacity planner for outdoor workers' rest stations.
#[derive(Debug, Parser)]
#[command(
    name = "yizhan",
    version,
    about = "yizhan (驿站): find and plan rest stations for outdoor workers",
    long_about = None
)]
struct Cli {
    #[command(flatten)]
    ctx: Ctx,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The k nearest stations to a point, with filters.
    Nearest(query::NearestArgs),
    /// Stations within a radius of a point, or inside a bounding box.
    Within(query::WithinArgs),
    /// Check GeoJSON layer files and report every problem.
    Validate(query::ValidateArgs),
    /// Write one layer of the dataset as GeoJSON.
    Export(query::ExportArgs),
    /// Generate a synthetic dataset (town, city or country scale) from a seed.
    Gen(gen_cmd::GenArgs),
    /// Run the map server.
    Serve(serve_cmd::ServeArgs),
    /// Import the dataset folder into a GeoPackage store.
    Import(store_cmds::ImportArgs),
    /// Create, list and revoke access tokens of a store.
    Token(store_cmds::TokenArgs),
    /// Hotspots with hourly demand profiles from GPS traces (aggregates only).
    Demand(demand_cmd::DemandArgs),
    /// The street network: import an OpenStreetMap extract.
    #[command(subcommand)]
    Roads(roads_cmd::RoadsCommand),
    #[command(flatten)]
    Plan(plan_cmds::PlanCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    return ExitCode::SUCCESS;
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    return ExitCode::from(2);
                }
                _ => {}
            }
            // One line: clap's message without the usage block.
            let text = e.render().to_string();
            let msg: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            eprintln!("{} (see yizhan --help)", msg.join(" "));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Nearest(a) => query::nearest(&cli.ctx, a),
        Command::Within(a) => query::within(&cli.ctx, a),
        Command::Validate(a) => query::validate(&cli.ctx, a),
        Command::Export(a) => query::export(&cli.ctx, a),
        Command::Gen(a) => gen_cmd::run(&cli.ctx, a),
        Command::Serve(a) => serve_cmd::run(&cli.ctx, a),
        Command::Import(a) => store_cmds::import(&cli.ctx, a),
        Command::Token(a) => store_cmds::token(&cli.ctx, a),
        Command::Demand(a) => demand_cmd::run(&cli.ctx, a),
        Command::Roads(c) => roads_cmd::run(&cli.ctx, c),
        Command::Plan(c) => plan_cmds::run(&cli.ctx, c),
    };
    match result {
        Ok(code) => code,
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // The reader went away (`| head`): not an error of ours.
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line, the whole cause chain, no backtrace.
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
