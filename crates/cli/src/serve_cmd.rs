//! `yizhan serve`: the map server. Filled in by the server work.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::common::Ctx;

/// Arguments of `yizhan serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {}

/// Run `yizhan serve`.
pub fn run(_ctx: &Ctx, _a: ServeArgs) -> Result<ExitCode> {
    anyhow::bail!("yizhan serve is not available yet")
}
