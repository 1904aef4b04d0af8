//! `nosey run`: the service. Reads Moodle's log, queues a delivery per matched event and
//! route, and sends them, until SIGTERM or Ctrl-C.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{Cli, load_config, shutdown_token};
use crate::config::parse_duration;
use crate::service::{ServeOptions, serve};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Forget the saved position in Moodle's log and start again where [moodle] start says
    /// (for a deliberate replay or backfill).
    #[arg(long)]
    reset_cursor: bool,

    /// On shutdown, how long requests already in flight may take to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    grace: Duration,
}

pub async fn run(cli: &Cli, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let opts = ServeOptions {
        reset_cursor: args.reset_cursor,
        grace: args.grace,
    };
    serve(&config, &opts, shutdown_token()).await?;
    Ok(ExitCode::SUCCESS)
}
