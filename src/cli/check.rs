//! `nosey check`: the checklist of everything nosey needs, with a fix for each problem.
//! Exits non-zero when an item fails (warnings do not fail).

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use super::{Cli, load_config};
use crate::check;

#[derive(Debug, Args)]
#[command(
    after_help = "Marks: ✓ ok, ! warning, ✗ failure, - skipped (something it needs failed).\n\
    Exit status: 0 when nothing failed, 1 otherwise."
)]
pub struct CheckArgs {
    /// Print a JSON array of {"check", "status", "detail", "fix"} instead of the checklist.
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_config(cli).map_err(|e| format!("{e:#}"));
    let items = check::run(&cli.config, loaded).await;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
    } else {
        for item in &items {
            writeln!(out, "{}", item.render())?;
        }
        writeln!(out, "{}", summary(&items))?;
    }
    out.flush()?;
    Ok(if check::any_failed(&items) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The last line: what needs doing, counted.
fn summary(items: &[check::Item]) -> String {
    let count = |s: check::Status| items.iter().filter(|i| i.status == s).count();
    let (failed, warned) = (count(check::Status::Fail), count(check::Status::Warn));
    match (failed, warned) {
        (0, 0) => "\nall checks passed".into(),
        (0, w) => format!("\nno failures, {w} warning(s)"),
        (f, w) => format!("\n{f} failure(s), {w} warning(s)"),
    }
}
