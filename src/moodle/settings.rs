//! Moodle's log settings, read from `{prefix}config_plugins`, with Moodle's own defaults when a
//! row is absent.
//!
//! They decide what nosey can see: a disabled standard log store means no events at all; a
//! `buffersize` above 1 means a CLI script or cron run holds its events until it ends.

use sqlx::Row;

use super::db::{MoodleDb, Pool};
use super::error::MoodleError;

/// The settings that matter to a log reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `tool_log/enabled_stores`: comma-separated plugin names.
    pub enabled_stores: Vec<String>,
    /// `logstore_standard/jsonformat`: `other` written as JSON (else PHP serialize).
    pub jsonformat: bool,
    /// `logstore_standard/buffersize`: rows buffered per PHP process before writing.
    pub buffersize: i64,
    /// `logstore_standard/loglifetime`: days kept; 0 = forever.
    pub loglifetime_days: i64,
    /// `logstore_standard/logguests`: whether guests' events are logged.
    pub logguests: bool,
}

impl LogSettings {
    pub fn standard_store_enabled(&self) -> bool {
        self.enabled_stores.iter().any(|s| s == "logstore_standard")
    }

    /// Problems worth telling the admin about at start, one line each.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.standard_store_enabled() {
            out.push(format!(
                "Moodle's standard log store is not enabled (tool_log/enabled_stores = '{}'): \
                 Moodle writes no rows for nosey to read. Enable \"Standard log\" under Site \
                 administration > Plugins > Logging > Manage log stores",
                self.enabled_stores.join(",")
            ));
        }
        if self.buffersize > 1 {
            out.push(format!(
                "logstore_standard/buffersize is {}: Moodle holds up to that many events per \
                 PHP process and writes them when the process ends, so events from CLI scripts \
                 and cron can reach nosey minutes late, after the rows they name have changed \
                 or gone. Set it to 1 (costs Moodle about 1-2 ms per event)",
                self.buffersize
            ));
        }
        out
    }
}

/// Moodle's code defaults when a setting has no row.
const DEFAULTS: [(&str, &str, &str); 5] = [
    ("tool_log", "enabled_stores", ""),
    ("logstore_standard", "jsonformat", "0"),
    ("logstore_standard", "buffersize", "50"),
    ("logstore_standard", "loglifetime", "0"),
    ("logstore_standard", "logguests", "1"),
];

pub async fn read(db: &MoodleDb) -> Result<LogSettings, MoodleError> {
    let table = format!("{}config_plugins", db.prefix());
    let sql = format!(
        "SELECT plugin, name, value FROM {} WHERE plugin IN ('tool_log', 'logstore_standard')",
        db.dialect().ident(&table)
    );
    let sql = sqlx::AssertSqlSafe(sql);
    macro_rules! run {
        ($pool:expr) => {
            sqlx::query(sql).fetch_all($pool).await.and_then(|rows| {
                rows.iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                    .collect::<Result<Vec<(String, String, String)>, sqlx::Error>>()
            })
        };
    }
    let rows = match db.pool() {
        Pool::Postgres(p) => run!(p),
        Pool::MySql(p) => run!(p),
        Pool::Sqlite(p) => run!(p),
    }
    .map_err(|e| db.error(e, Some(&table), "reading Moodle's log settings"))?;
    Ok(from_rows(&rows))
}

fn from_rows(rows: &[(String, String, String)]) -> LogSettings {
    let get = |plugin: &str, name: &str| -> String {
        rows.iter()
            .find(|(p, n, _)| p == plugin && n == name)
            .map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| {
                DEFAULTS
                    .iter()
                    .find(|(p, n, _)| *p == plugin && *n == name)
                    .map_or(String::new(), |(_, _, v)| v.to_string())
            })
    };
    let int = |plugin: &str, name: &str, default: i64| {
        get(plugin, name).trim().parse().unwrap_or(default)
    };
    LogSettings {
        enabled_stores: get("tool_log", "enabled_stores")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        jsonformat: int("logstore_standard", "jsonformat", 0) != 0,
        buffersize: int("logstore_standard", "buffersize", 50),
        loglifetime_days: int("logstore_standard", "loglifetime", 0),
        logguests: int("logstore_standard", "logguests", 1) != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(p: &str, n: &str, v: &str) -> (String, String, String) {
        (p.into(), n.into(), v.into())
    }

    #[test]
    fn absent_rows_take_moodles_defaults() {
        let s = from_rows(&[]);
        assert!(s.enabled_stores.is_empty());
        assert!(!s.jsonformat);
        assert_eq!(s.buffersize, 50);
        assert_eq!(s.loglifetime_days, 0);
        assert!(s.logguests);
        assert_eq!(s.warnings().len(), 2);
    }

    #[test]
    fn a_well_set_site_has_no_warnings() {
        let s = from_rows(&[
            row(
                "tool_log",
                "enabled_stores",
                "logstore_standard,logstore_database",
            ),
            row("logstore_standard", "jsonformat", "1"),
            row("logstore_standard", "buffersize", "1"),
            row("logstore_standard", "loglifetime", "365"),
        ]);
        assert!(s.standard_store_enabled());
        assert!(s.jsonformat);
        assert_eq!(s.loglifetime_days, 365);
        assert!(s.warnings().is_empty());
    }
}
