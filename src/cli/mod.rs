//! The command line: one file per subcommand, this file for what they share (global options,
//! logging, loading the configuration, shutdown on Ctrl-C or SIGTERM).

mod check;
mod deliveries;
mod demo;
mod events;
mod init;
mod listen;
mod routes;
mod run;
mod tail;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config};

/// nosey tails Moodle's event log and delivers each change (courses, categories, enrolments,
/// completions, and any other Moodle event) to your systems as a signed webhook.
#[derive(Debug, Parser)]
#[command(
    name = "nosey",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "Getting started:\n  \
        nosey demo                                          see it work, no Moodle needed\n  \
        nosey init --moodle-config /var/www/moodle/config.php   write nosey.toml\n  \
        nosey check                                         check everything nosey needs\n  \
        nosey tail                                          watch the events go by\n  \
        nosey run                                           deliver them"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "NOSEY_CONFIG",
        default_value = "nosey.toml"
    )]
    pub config: PathBuf,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "NOSEY_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// How much to log: error, warn, info, debug or trace. RUST_LOG, when set, overrides it.
    #[arg(long, global = true, default_value = "info", env = "NOSEY_LOG",
          value_parser = ["error", "warn", "info", "debug", "trace"])]
    pub log_level: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// See nosey work with no Moodle and no database: a simulated Moodle, nosey, and a local
    /// receiver printing each signed webhook.
    Demo(demo::DemoArgs),
    /// Run the service: read Moodle's log and deliver webhooks until stopped.
    Run(run::RunArgs),
    /// Write nosey.toml (and the database password file) from Moodle's config.php.
    Init(init::InitArgs),
    /// Check the configuration, the database and its privileges, Moodle's log settings, the
    /// receivers and the store, with a fix for each problem.
    Check(check::CheckArgs),
    /// Print Moodle's events as JSON lines, as a route would send them, without delivering.
    Tail(tail::TailArgs),
    /// List the Moodle events nosey knows; with --site, how often each occurs on your site.
    Events(events::EventsArgs),
    /// Inspect deliveries (list, show) and send them again (retry).
    Deliveries(deliveries::DeliveriesArgs),
    /// List routes with their queues; pause or resume one.
    Routes(routes::RoutesArgs),
    /// A local webhook receiver for trying routes: prints each webhook and checks signatures.
    Listen(listen::ListenArgs),
}

/// Parses the command line and runs the command; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, &cli.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("nosey: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("nosey: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Demo(args) => demo::run(args).await,
        Command::Run(args) => run::run(&cli, args).await,
        Command::Init(args) => init::run(args),
        Command::Check(args) => check::run(&cli, args).await,
        Command::Tail(args) => tail::run(&cli, args).await,
        Command::Events(args) => events::run(&cli, args).await,
        Command::Deliveries(args) => deliveries::run(&cli, args).await,
        Command::Routes(args) => routes::run(&cli, args).await,
        Command::Listen(args) => listen::run(args).await,
    }
}

fn init_logging(format: LogFormat, level: &str) {
    use tracing_subscriber::EnvFilter;
    // Other crates' chatter stays at warn unless asked for through RUST_LOG.
    let default = format!("nosey={level},warn");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Loads the configuration named by `--config`, with a hint when it is missing.
pub(crate) fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    if !cli.config.exists() {
        anyhow::bail!(
            "no configuration file at {}: write one with `nosey init --moodle-config /path/to/moodle/config.php`, \
             start from nosey.example.toml, or pass --config",
            cli.config.display()
        );
    }
    config::load(&cli.config).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A token cancelled on Ctrl-C or SIGTERM.
pub(crate) fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub(crate) use crate::service::{connect as connect_moodle, warn_about_settings};
