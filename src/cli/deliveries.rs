//! `nosey deliveries`: what was sent, what waits, what died, and sending again.
//!
//! Reads and writes the store directly, so it works whether or not `nosey run` is running;
//! a running nosey notices retries within a second.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{Cli, load_config};
use crate::store::{DeliveryDetail, DeliveryRow, ListFilter, SqliteStore, Status, Store};

#[derive(Debug, Args)]
pub struct DeliveriesArgs {
    #[command(subcommand)]
    command: DeliveriesCommand,
}

#[derive(Debug, Subcommand)]
enum DeliveriesCommand {
    /// List deliveries, newest first.
    List {
        /// Only deliveries in this state.
        #[arg(long, value_parser = ["pending", "delivered", "dead"])]
        status: Option<String>,
        /// Only this route's.
        #[arg(long)]
        route: Option<String>,
        /// Only events whose name matches (`*` and `?` wildcards, backslashes literal).
        #[arg(long, value_name = "PATTERN")]
        event: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one delivery: its request, body and every attempt.
    Show {
        /// The delivery id (the webhook-id, `msg_…`).
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a delivery again, or every dead one.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "dead"])))]
    Retry {
        /// The delivery id to send again.
        id: Option<String>,
        /// Every dead delivery (of --route, if given).
        #[arg(long)]
        dead: bool,
        #[arg(long, requires = "dead")]
        route: Option<String>,
    },
}

pub async fn run(cli: &Cli, args: &DeliveriesArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let store = SqliteStore::open(&config.store.path).await?;
    let code = match &args.command {
        DeliveriesCommand::List {
            status,
            route,
            event,
            limit,
            json,
        } => {
            let filter = ListFilter {
                status: status.as_deref().and_then(Status::parse),
                route: route.clone(),
                event: event.clone(),
                limit: *limit,
            };
            let rows = store.list(&filter).await?;
            print_list(&rows, *json);
            ExitCode::SUCCESS
        }
        DeliveriesCommand::Show { id, json } => match store.show(id).await? {
            Some(d) => {
                print_detail(&d, *json)?;
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("no delivery {id}");
                ExitCode::FAILURE
            }
        },
        DeliveriesCommand::Retry { id, dead, route } => {
            retry(&store, id.as_deref(), *dead, route.as_deref()).await?
        }
    };
    store.close().await;
    Ok(code)
}

async fn retry(
    store: &SqliteStore,
    id: Option<&str>,
    dead: bool,
    route: Option<&str>,
) -> anyhow::Result<ExitCode> {
    if dead {
        let n = store.retry_dead(route).await?;
        println!("{n} dead deliveries queued to be sent again");
        return Ok(ExitCode::SUCCESS);
    }
    let id = id.unwrap_or_default();
    if store.retry(id).await? {
        println!("{id} queued to be sent again");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("no delivery {id}");
        Ok(ExitCode::FAILURE)
    }
}

/// Unix milliseconds as a UTC time, to the second.
pub(crate) fn time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn print_list(rows: &[DeliveryRow], json: bool) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        for r in rows {
            let _ = writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default());
        }
        return;
    }
    let _ = writeln!(
        out,
        "{:30}  {:9}  {:>3}  {:>6}  {:20}  {:16}  EVENT",
        "ID", "STATUS", "TRY", "LAST", "CREATED", "ROUTE"
    );
    for r in rows {
        let last = r
            .last_status
            .map(|s| s.to_string())
            .or_else(|| r.last_error.as_ref().map(|_| "error".to_string()))
            .unwrap_or_else(|| "-".into());
        let line = writeln!(
            out,
            "{:30}  {:9}  {:>3}  {:>6}  {:20}  {:16}  {} {}",
            r.id,
            r.status,
            r.attempts,
            last,
            time(r.created_at),
            r.route,
            r.eventname,
            r.object.as_deref().unwrap_or("")
        );
        if line.is_err() {
            return;
        }
    }
}

fn print_detail(d: &DeliveryDetail, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(d)?)?;
        return Ok(());
    }
    let r = &d.row;
    writeln!(out, "delivery   {}", r.id)?;
    writeln!(out, "route      {}", r.route)?;
    writeln!(
        out,
        "status     {} after {} attempt(s)",
        r.status, r.attempts
    )?;
    writeln!(out, "event      {} (log id {})", r.eventname, r.log_id)?;
    if let Some(o) = &r.object {
        writeln!(out, "object     {o}")?;
    }
    writeln!(out, "created    {}", time(r.created_at))?;
    if r.status == "pending" {
        writeln!(out, "next try   {}", time(r.next_attempt_at))?;
    }
    writeln!(out, "\nrequest headers")?;
    if let Some(h) = d.headers.as_object() {
        for (k, v) in h {
            writeln!(out, "  {k}: {}", v.as_str().unwrap_or_default())?;
        }
    }
    writeln!(out, "\nbody ({} bytes)\n  {}", d.body.len(), d.body)?;
    writeln!(out, "\nattempts")?;
    if d.attempts_log.is_empty() {
        writeln!(out, "  none yet")?;
    }
    for a in &d.attempts_log {
        let what = match (a.status_code, &a.error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "?".into(),
        };
        writeln!(
            out,
            "  #{} {}  {} ms  {}",
            a.n,
            time(a.started_at),
            a.duration_ms,
            what
        )?;
        if !a.response.is_empty() {
            writeln!(out, "     response: {}", a.response.replace('\n', " "))?;
        }
    }
    Ok(())
}
