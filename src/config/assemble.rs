//! From the parsed file to `Config`: built-in defaults filled in, secrets
//! read from their files, and every value checked, all problems collected.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::error::{ConfigError, Problems};
use super::files::{self, SecretKey};
use super::raw::{RawConfig, RawMoodle, RawStore};
use super::route_build::build_routes;
use super::url::{DbUrl, check_http_url};
use super::validate::{check_db_name, check_prefix};
use super::{Config, MoodleConfig, SiteConfig, StoreConfig};

pub const DEFAULT_PREFIX: &str = "mdl_";
pub const DEFAULT_TABLE: &str = "logstore_standard_log";
pub const DEFAULT_BATCH_SIZE: u32 = 1000;
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(100);
pub const DEFAULT_GAP_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_OPEN_GAPS: usize = 10_000;
pub const DEFAULT_STORE_PATH: &str = "nosey.db";
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Columns that never leave, whatever the config says: Moodle's password
/// hashes, per-user secrets and addresses.
pub const DEFAULT_REDACT: [(&str, &[&str]); 2] = [
    ("user", &["password", "secret", "lastip"]),
    ("enrol", &["password"]),
];

const BATCH_SIZE: std::ops::RangeInclusive<u32> = 1..=100_000;

pub(crate) fn build(raw: RawConfig, base: Option<&Path>) -> Result<Config, ConfigError> {
    let mut p = Problems::default();
    let site = site(raw.site.and_then(|s| s.url), &mut p);
    let moodle = moodle(raw.moodle.unwrap_or_default(), base, &mut p);
    let redact = redact(raw.redact.unwrap_or_default(), &mut p);
    let store = store(raw.store.unwrap_or_default(), base);
    let defaults = raw.defaults.map(|d| d.0).unwrap_or_default();
    let routes = build_routes(raw.route.unwrap_or_default(), &defaults, base, &mut p);
    match moodle {
        Some(moodle) if p.is_empty() => Ok(Config {
            enabled: raw.enabled.unwrap_or(true),
            site,
            moodle,
            redact,
            store,
            routes,
            source_path: None,
        }),
        _ => Err(p.into_error()),
    }
}

fn site(url: Option<String>, p: &mut Problems) -> SiteConfig {
    if let Some(u) = &url
        && let Err(m) = check_http_url(u)
    {
        p.push("site.url", m);
    }
    SiteConfig { url }
}

fn moodle(raw: RawMoodle, base: Option<&Path>, p: &mut Problems) -> Option<MoodleConfig> {
    let url = db_url(raw.url, p);
    let key = SecretKey {
        prefix: "moodle.",
        key: "password",
        inline: raw.password,
        file: raw.password_file,
    };
    let password = files::pick_secret(key, base, p);
    let prefix = raw.prefix.unwrap_or_else(|| DEFAULT_PREFIX.into());
    if let Err(m) = check_prefix(&prefix) {
        p.push("moodle.prefix", m);
    }
    let table = raw.table.unwrap_or_else(|| DEFAULT_TABLE.into());
    if let Err(m) = check_db_name(&table) {
        p.push("moodle.table", m);
    }
    let batch_size = raw.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
    if !BATCH_SIZE.contains(&batch_size) {
        p.push(
            "moodle.batch_size",
            format!("{batch_size} is out of range (1 to 100000)"),
        );
    }
    let poll_interval = raw.poll_interval.map_or(DEFAULT_POLL_INTERVAL, |d| d.0);
    if poll_interval < Duration::from_millis(1) {
        p.push("moodle.poll_interval", "must be at least 1ms");
    }
    let max_open_gaps = raw.max_open_gaps.unwrap_or(DEFAULT_MAX_OPEN_GAPS);
    if max_open_gaps == 0 {
        p.push("moodle.max_open_gaps", "must be at least 1");
    }
    let url = with_password(url?, password, p)?;
    Some(MoodleConfig {
        url,
        prefix,
        table,
        batch_size,
        poll_interval,
        gap_timeout: raw.gap_timeout.map_or(DEFAULT_GAP_TIMEOUT, |d| d.0),
        max_open_gaps,
        start: raw.start.unwrap_or_default(),
        include_restored: raw.include_restored.unwrap_or(false),
    })
}

fn db_url(url: Option<String>, p: &mut Problems) -> Option<DbUrl> {
    let Some(url) = url else {
        p.push(
            "moodle.url",
            "is required: the Moodle database, e.g. url = \"postgres://nosey@db.example.org/moodle\"",
        );
        return None;
    };
    DbUrl::parse(&url).map_err(|m| p.push("moodle.url", m)).ok()
}

fn with_password(url: DbUrl, password: Option<super::Secret>, p: &mut Problems) -> Option<DbUrl> {
    let Some(password) = password else {
        return Some(url);
    };
    if !url.has_user() {
        p.push(
            "moodle.url",
            "names no user, but a password is set (write it as postgres://USER@host/database)",
        );
        return None;
    }
    Some(url.with_password(password))
}

fn redact(
    configured: BTreeMap<String, Vec<String>>,
    p: &mut Problems,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = DEFAULT_REDACT
        .iter()
        .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
        .collect();
    for (table, columns) in configured {
        if let Err(m) = check_db_name(&table) {
            p.push(format!("redact.{table}"), m);
        }
        let list = out.entry(table.clone()).or_default();
        for (i, column) in columns.into_iter().enumerate() {
            if let Err(m) = check_db_name(&column) {
                p.push(format!("redact.{table}[{i}]"), m);
            }
            if !list.contains(&column) {
                list.push(column);
            }
        }
    }
    out
}

fn store(raw: RawStore, base: Option<&Path>) -> StoreConfig {
    let path = raw.path.unwrap_or_else(|| DEFAULT_STORE_PATH.into());
    StoreConfig {
        path: files::resolve(base, &path),
        retention: raw.retention.map_or(DEFAULT_RETENTION, |d| d.0),
    }
}
