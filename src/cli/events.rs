//! `nosey events`: the Moodle events nosey knows, and with `--site` how often each really
//! occurs on this site (plugins' own events included).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::{Cli, connect_moodle, load_config};
use crate::moodle::catalog::{self, EventInfo};
use crate::moodle::logstore;
use crate::moodle::tailer::now_ms;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    nosey events                  # the catalogue, no database needed\n  \
    nosey events --site --days 30 # what this site emitted in the last 30 days\n  \
    nosey events --json")]
pub struct EventsArgs {
    /// Also count each event on this site (reads the log through its timecreated index).
    #[arg(long)]
    site: bool,

    /// With --site: how many days back to count.
    #[arg(long, default_value_t = 7, value_name = "N", requires = "site")]
    days: u32,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    eventname: &'a str,
    objecttable: Option<&'a str>,
    crud: Option<char>,
    contextlevel: Option<&'a str>,
    meaning: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<i64>,
}

pub async fn run(cli: &Cli, args: &EventsArgs) -> anyhow::Result<ExitCode> {
    let counts = if args.site {
        let config = load_config(cli)?;
        let db = connect_moodle(&config).await?;
        let since = now_ms() / 1000 - i64::from(args.days) * 86_400;
        Some(logstore::event_counts(&db, since).await?)
    } else {
        None
    };
    let rows = rows(counts.as_deref());
    if args.json {
        let _ = writeln!(
            std::io::stdout(),
            "{}",
            serde_json::to_string_pretty(&rows)?
        );
    } else {
        print_table(&rows, args.site.then_some(args.days));
    }
    Ok(ExitCode::SUCCESS)
}

fn rows(counts: Option<&[(String, i64)]>) -> Vec<Row<'_>> {
    let by_name: BTreeMap<&str, i64> = counts
        .unwrap_or_default()
        .iter()
        .map(|(n, c)| (n.as_str(), *c))
        .collect();
    let mut rows: Vec<Row> = catalog::all()
        .iter()
        .map(|e: &EventInfo| Row {
            eventname: e.name,
            objecttable: e.objecttable,
            crud: Some(e.crud.as_char()),
            contextlevel: e
                .contextlevel
                .map(|l| catalog::contextlevel_name(i64::from(l))),
            meaning: e.meaning,
            count: counts.map(|_| by_name.get(e.name).copied().unwrap_or(0)),
        })
        .collect();
    // Events the site emits that the catalogue does not know: plugins' own, mostly.
    for (name, count) in counts.unwrap_or_default() {
        if catalog::lookup(name).is_none() {
            rows.push(Row {
                eventname: name,
                objecttable: None,
                crud: None,
                contextlevel: None,
                meaning: "(not in nosey's catalogue: a plugin's or a newer Moodle's event)",
                count: Some(*count),
            });
        }
    }
    if counts.is_some() {
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.eventname.cmp(b.eventname)));
    }
    rows
}

fn print_table(rows: &[Row], days: Option<u32>) {
    let objects: Vec<String> = rows
        .iter()
        .map(|r| match (r.objecttable, r.crud) {
            (Some(t), Some(c)) => format!("{t} ({c})"),
            (None, Some(c)) => format!("- ({c})"),
            _ => "?".to_string(),
        })
        .collect();
    let w = rows.iter().map(|r| r.eventname.len()).max().unwrap_or(10);
    let ow = objects.iter().map(String::len).max().unwrap_or(6);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let count_head = days.map(|d| format!("{:>9}  ", format!("LAST {d}D")));
    let mut lines = vec![format!(
        "{}{:w$}  {:ow$}  MEANING",
        count_head.unwrap_or_default(),
        "EVENT",
        "OBJECT"
    )];
    for (r, object) in rows.iter().zip(&objects) {
        let count = r.count.map(|n| format!("{n:>9}  ")).unwrap_or_default();
        lines.push(format!(
            "{count}{:w$}  {object:ow$}  {}",
            r.eventname, r.meaning
        ));
    }
    // A closed pipe (`| head`) ends the listing quietly.
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}
