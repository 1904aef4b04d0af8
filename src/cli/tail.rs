//! `nosey tail`: Moodle's events as JSON lines on stdout, exactly the bodies a route of the
//! chosen format would POST, without storing or delivering anything.
//!
//! It keeps no state: it starts at `--from` and remembers records only in memory, so a
//! deleted course still shows its last copy if tail saw it earlier in the same run.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use tokio_util::sync::CancellationToken;

use super::{Cli, connect_moodle, load_config, shutdown_token, warn_about_settings};
use crate::config::{Format, StartAt};
use crate::moodle::record::RecordReader;
use crate::moodle::tailer::SinkError;
use crate::moodle::{Batch, BatchSink, Follow, Tailer, TailerOptions};
use crate::payload::{self, BodyContext};
use crate::pipeline::{MemoryRecords, Pipeline};
use crate::route::{RouteMatcher, Router};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    nosey tail                                   # new events from now on\n  \
    nosey tail --from beginning --no-follow      # the whole log, then exit\n  \
    nosey tail --event '\\core\\event\\course_*' --format seed\n  \
    nosey tail --from time:2026-01-02T00:00:00Z --count 10")]
pub struct TailArgs {
    /// Where to start: now, beginning, after:<log id>, or time:<RFC 3339 time>.
    #[arg(long, default_value = "now", value_name = "START")]
    from: StartAt,

    /// Only events whose name matches; repeatable. `*` and `?` are wildcards and backslashes
    /// are literal, so quote the pattern: --event '\core\event\user_enrolment_*'.
    #[arg(long = "event", value_name = "PATTERN")]
    events: Vec<String>,

    /// The body format to print.
    #[arg(long, value_enum, default_value_t = FormatArg::Nosey)]
    format: FormatArg,

    /// Do not look up the changed rows: print `"record": null` with record_state "skipped".
    #[arg(long)]
    no_record: bool,

    /// Exit after printing this many bodies.
    #[arg(long, value_name = "N")]
    count: Option<u64>,

    /// Exit once caught up with the log instead of following it.
    #[arg(long)]
    no_follow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// {"event", "record", "meta"} with real types.
    Nosey,
    /// The 2016 local_nosey plugin's bytes.
    Seed,
    /// CloudEvents 1.0 structured JSON.
    Cloudevents,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Nosey => Format::Nosey,
            FormatArg::Seed => Format::Seed,
            FormatArg::Cloudevents => Format::CloudEvents,
        }
    }
}

pub async fn run(cli: &Cli, args: &TailArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(cli)?;
    let db = connect_moodle(&config).await?;
    crate::moodle::logstore::check_readable(&db).await?;
    warn_about_settings(&db).await;

    let patterns: Vec<&str> = if args.events.is_empty() {
        vec!["*"]
    } else {
        args.events.iter().map(String::as_str).collect()
    };
    let router = Router::new(vec![RouteMatcher::for_patterns("tail", patterns)]);
    let format = Format::from(args.format);
    let records = (!args.no_record).then(|| RecordReader::new(db.clone(), config.redact.clone()));
    let pipeline = Pipeline::new(router, records, format == Format::Seed);

    let mut tailer =
        Tailer::start(db, &args.from, None, TailerOptions::from(&config.moodle)).await?;
    let shutdown = shutdown_token();
    let mut sink = TailSink {
        pipeline,
        memory: MemoryRecords::default(),
        format,
        site_url: config.site.url.clone(),
        remaining: args.count,
        shutdown: shutdown.clone(),
    };
    let follow = if args.no_follow {
        Follow::UntilCaughtUp
    } else {
        Follow::Forever
    };
    tailer.run(&mut sink, follow, &shutdown).await;
    Ok(ExitCode::SUCCESS)
}

struct TailSink {
    pipeline: Pipeline,
    memory: MemoryRecords,
    format: Format,
    site_url: Option<String>,
    remaining: Option<u64>,
    shutdown: CancellationToken,
}

impl BatchSink for TailSink {
    async fn store(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let processed = self.pipeline.process(&batch.rows, &mut self.memory).await?;
        self.memory.remember(&processed.read);
        let ctx = BodyContext {
            site_url: self.site_url.as_deref(),
            ..BodyContext::default()
        };
        let mut out = std::io::stdout().lock();
        for env in &processed.envelopes {
            if self.remaining == Some(0) {
                break;
            }
            let body = payload::render(self.format, env, &ctx);
            let written = out.write_all(&body).and_then(|()| out.write_all(b"\n"));
            if written.is_err() {
                // The reader went away (`| head`): stop quietly.
                self.shutdown.cancel();
                return Ok(());
            }
            self.remaining = self.remaining.map(|n| n - 1);
        }
        let _ = out.flush();
        if self.remaining == Some(0) {
            self.shutdown.cancel();
        }
        Ok(())
    }
}
