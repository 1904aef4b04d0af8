//! `nosey routes`: the configured routes with their queues, and pausing or resuming one.
//!
//! A paused route keeps queuing its deliveries and sends them when resumed.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::deliveries::time;
use super::{Cli, load_config};
use crate::store::{SqliteStore, Store};

#[derive(Debug, Args)]
pub struct RoutesArgs {
    #[command(subcommand)]
    command: RoutesCommand,
}

#[derive(Debug, Subcommand)]
enum RoutesCommand {
    /// Each route: enabled, paused, and its deliveries by state.
    List,
    /// Stop sending on a route; its deliveries keep queuing.
    Pause { name: String },
    /// Send again on a paused route, its queue first.
    Resume { name: String },
}

pub async fn run(cli: &Cli, args: &RoutesArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let store = SqliteStore::open(&config.store.path).await?;
    match &args.command {
        RoutesCommand::List => {
            let stats = store.route_stats().await?;
            let paused = store.paused_routes().await?;
            println!(
                "{:20}  {:8}  {:6}  {:>8}  {:>9}  {:>6}  {:20}  URL",
                "ROUTE", "ENABLED", "PAUSED", "PENDING", "DELIVERED", "DEAD", "OLDEST PENDING"
            );
            for r in &config.routes {
                let s = stats.get(&r.name).cloned().unwrap_or_default();
                println!(
                    "{:20}  {:8}  {:6}  {:>8}  {:>9}  {:>6}  {:20}  {}",
                    r.name,
                    if r.enabled { "yes" } else { "no" },
                    if paused.contains(&r.name) {
                        "yes"
                    } else {
                        "no"
                    },
                    s.pending,
                    s.delivered,
                    s.dead,
                    s.oldest_pending_at.map(time).unwrap_or_else(|| "-".into()),
                    r.url
                        .as_deref()
                        .map(crate::config::mask_url)
                        .unwrap_or_default()
                );
            }
        }
        RoutesCommand::Pause { name } | RoutesCommand::Resume { name } => {
            if config.route(name).is_none() {
                eprintln!("no route named {name:?} in {}", cli.config.display());
                return Ok(ExitCode::FAILURE);
            }
            let pause = matches!(args.command, RoutesCommand::Pause { .. });
            store.set_paused(name, pause).await?;
            println!(
                "route {name} {}",
                if pause {
                    "paused: deliveries queue until `nosey routes resume`"
                } else {
                    "resumed"
                }
            );
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
