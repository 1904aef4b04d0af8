//! The figures: each run's, their medians against the targets, as a table and as JSON.

use serde_json::{Value, json};

use crate::Args;
use crate::phases::RunFigures;
use crate::site::Site;

/// (key in `RunFigures`, label, unit, target, whether more is better).
const METRICS: [(&str, &str, &str, Option<f64>, bool); 11] = [
    ("scan_rows_per_s", "scan", "rows/s", Some(250_000.0), true),
    (
        "scan_peak_rss_mib",
        "scan peak RSS",
        "MiB",
        Some(100.0),
        false,
    ),
    ("deliver_per_s", "deliver", "events/s", Some(20_000.0), true),
    (
        "ceiling_per_s",
        "ceiling (bare reqwest loop)",
        "requests/s",
        None,
        true,
    ),
    (
        "deliver_vs_ceiling",
        "deliver / ceiling",
        "",
        Some(0.40),
        true,
    ),
    (
        "latency_p50_ms",
        "live latency p50",
        "ms",
        Some(60.0),
        false,
    ),
    (
        "latency_p99_ms",
        "live latency p99",
        "ms",
        Some(150.0),
        false,
    ),
    ("latency_max_ms", "live latency max", "ms", None, false),
    (
        "deliver_peak_rss_mib",
        "deliver peak RSS",
        "MiB",
        Some(100.0),
        false,
    ),
    ("cpu_s_per_10k", "CPU per 10k events", "s", None, false),
    (
        "store_bytes_per_100k",
        "store per 100k deliveries",
        "MB",
        None,
        false,
    ),
];

pub struct Report {
    header: Value,
    runs: Vec<Value>,
    medians: Vec<(usize, f64)>,
}

impl Report {
    pub fn new(
        args: &Args,
        site: &Site,
        generate_rate: f64,
        read_share: f64,
        runs: Vec<RunFigures>,
    ) -> Report {
        let runs: Vec<Value> = runs
            .iter()
            .map(|r| serde_json::to_value(r).expect("serializes"))
            .collect();
        let medians = METRICS
            .iter()
            .enumerate()
            .map(|(i, (key, ..))| {
                (
                    i,
                    median(runs.iter().filter_map(|r| r[key].as_f64()).collect()),
                )
            })
            .collect();
        let header = json!({
            "machine": {
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            },
            "versions": {
                "nosey": env!("CARGO_PKG_VERSION"),
                "database": format!("{} {}", site.engine.name(), site.server_version),
                "rustc": rustc_version(),
            },
            "parameters": {
                "rows": args.rows,
                "backlog": args.backlog,
                "rate": args.rate,
                "latency_for_s": args.latency_for.as_secs_f64(),
                "concurrency": args.concurrency,
                "runs": args.runs,
                "other": if args.serialized { "serialize" } else { "json" },
                "poll_interval_ms": 100,
            },
            "site": {
                "generate_rows_per_s": generate_rate.round(),
                "read_share": read_share,
            },
        });
        Report {
            header,
            runs,
            medians,
        }
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "\nnosey-bench: {} on {} cores\n\n{:<28} {:>14} {:>14}  {:<10} {}\n",
            self.header["versions"]["database"].as_str().unwrap_or(""),
            self.header["machine"]["cores"],
            "measure",
            "median",
            "target",
            "unit",
            "runs"
        );
        for &(i, median) in &self.medians {
            let (key, label, unit, target, more) = METRICS[i];
            let show = |v: f64| display(key, v);
            let runs: Vec<String> = self
                .runs
                .iter()
                .filter_map(|r| r[key].as_f64())
                .map(show)
                .collect();
            let target = target.map_or(String::new(), |t| {
                let met = if more { median >= t } else { median <= t };
                format!(
                    "{}{} {}",
                    if more { "≥" } else { "≤" },
                    show(t),
                    if met { "ok" } else { "MISSED" }
                )
            });
            out += &format!(
                "{label:<28} {:>14} {target:>14}  {unit:<10} {}\n",
                show(median),
                runs.join(" / ")
            );
        }
        out
    }

    pub fn json(&self) -> Value {
        let mut v = self.header.clone();
        v["runs"] = Value::Array(self.runs.clone());
        let mut med = serde_json::Map::new();
        let mut targets = serde_json::Map::new();
        for &(i, m) in &self.medians {
            let (key, _, _, target, more) = METRICS[i];
            med.insert(key.into(), json!(m));
            if let Some(t) = target {
                let met = if more { m >= t } else { m <= t };
                targets.insert(
                    key.into(),
                    json!({ "target": t, "at_least": more, "met": met }),
                );
            }
        }
        v["median"] = Value::Object(med);
        v["targets"] = Value::Object(targets);
        v
    }
}

fn display(key: &str, v: f64) -> String {
    match key {
        "deliver_vs_ceiling" => format!("{:.0}%", v * 100.0),
        "store_bytes_per_100k" => format!("{:.1}", v / 1e6),
        k if k.ends_with("_ms") || k.ends_with("_mib") || k.starts_with("cpu") => format!("{v:.1}"),
        _ => format!("{v:.0}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn rustc_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn medians() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![4.0, 1.0]), 2.5);
        assert!(super::median(vec![]).is_nan());
    }
}
