//! `yizhan gen`: synthetic datasets. Filled in by the data work.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::common::Ctx;

/// Arguments of `yizhan gen`.
#[derive(Debug, Args)]
pub struct GenArgs {}

/// Run `yizhan gen`.
pub fn run(_ctx: &Ctx, _a: GenArgs) -> Result<ExitCode> {
    anyhow::bail!("yizhan gen is not available yet")
}
