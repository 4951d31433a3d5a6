//! Planning commands (coverage, gaps, assign, compare, site). Filled in by the planning work.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::common::Ctx;

/// Planning subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {}

/// Run a planning subcommand.
pub fn run(_ctx: &Ctx, c: PlanCommand) -> Result<ExitCode> {
    match c {}
}
