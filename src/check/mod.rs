//! `nosey check`: everything that must hold for nosey to deliver, checked before the first
//! event needs it, as a list of items with a fix for each problem.
//!
//! The order is the order an admin fixes things in: the configuration, the database and the
//! privileges nosey's user needs, Moodle's log settings, the receivers, nosey's own store, and
//! finally how far behind nosey is. An item whose prerequisite failed is skipped with the
//! reason, so one mistake is reported once rather than as a cascade.
//!
//! Nothing here prints a secret: details are built from the database target (engine, host,
//! database, user), table names, receivers' host and port, and messages that mask passwords.

mod database;
mod handshake;
mod item;
mod receiver;
mod settings;
mod state;
mod tables;

use std::path::Path;

pub use item::{Item, Status};

use crate::config::Config;
use crate::moodle::MoodleDb;
use crate::moodle::settings::LogSettings;

/// Runs every check in order. `loaded` is the configuration, or the message saying why it
/// did not load.
pub async fn run(path: &Path, loaded: Result<Config, String>) -> Vec<Item> {
    let config = match loaded {
        Ok(config) => config,
        Err(message) => return config_failed(path, message),
    };
    let mut items = vec![config_item(path, &config)];
    let db = database::connect(&config, &mut items).await;
    let settings = database_checks(&config, db.as_ref(), &mut items).await;
    let opened = state::open(&config).await;
    let position = state::position(&config, db.as_ref(), &opened.store).await;
    items.push(settings::loglifetime(settings.as_ref(), &position));
    items.extend(receiver::check_all(&config).await);
    items.push(state::store_item(&config, &opened).await);
    items.push(state::lag_item(&position));
    items.push(state::deliveries_item(&config, &opened.store).await);
    if let Ok(store) = &opened.store {
        store.close().await;
    }
    if let Some(db) = &db {
        db.close().await;
    }
    items
}

/// Whether any item failed: `nosey check` then exits non-zero.
pub fn any_failed(items: &[Item]) -> bool {
    items.iter().any(|i| i.status == Status::Fail)
}

fn config_item(path: &Path, config: &Config) -> Item {
    let enabled = config.routes.iter().filter(|r| r.enabled).count();
    let detail = format!(
        "{}, {enabled} of {} routes enabled",
        path.display(),
        config.routes.len()
    );
    if config.enabled {
        Item::ok("configuration", detail)
    } else {
        Item::warn(
            "configuration",
            format!("{detail}; enabled = false: nosey reads the log but sends nothing"),
            format!(
                "set enabled = true in {} when deliveries should start",
                path.display()
            ),
        )
    }
}

/// Everything after a configuration that did not load is skipped.
fn config_failed(path: &Path, message: String) -> Vec<Item> {
    let fix = if path.exists() {
        "correct the keys named above (nosey.example.toml explains every key)".to_string()
    } else {
        "write one with `nosey init --moodle-config /path/to/moodle/config.php`, or pass --config"
            .to_string()
    };
    let mut items = vec![Item::fail("configuration", message, fix)];
    let reason = "the configuration did not load";
    items.extend(ITEMS[1..].iter().map(|c| Item::skip(c, reason)));
    items
}

/// Every item of the checklist, in order.
const ITEMS: [&str; 13] = [
    "configuration",
    "database",
    "log table",
    "route tables",
    "log store",
    "jsonformat",
    "buffersize",
    "logguests",
    "loglifetime",
    "receivers",
    "store",
    "lag",
    "deliveries",
];

/// The items that read Moodle's database once connected.
const DATABASE_ITEMS: std::ops::Range<usize> = 2..8;

/// Items 3 to 8: the log table, the routes' tables and Moodle's log settings. Returns the
/// settings for the loglifetime item, when they could be read.
async fn database_checks(
    config: &Config,
    db: Option<&MoodleDb>,
    items: &mut Vec<Item>,
) -> Option<LogSettings> {
    let Some(db) = db else {
        let reason = "needs the database (see above)";
        items.extend(ITEMS[DATABASE_ITEMS].iter().map(|c| Item::skip(c, reason)));
        return None;
    };
    if !database::log_table(db, items).await {
        let reason = "the log table was not found, so the prefix is probably wrong (see above)";
        items.extend(AFTER_LOG_TABLE.iter().map(|c| Item::skip(c, reason)));
        return None;
    }
    items.extend(tables::check(db, &config.routes).await);
    settings::check(db, items).await
}

/// What a wrong prefix makes pointless.
const AFTER_LOG_TABLE: [&str; 5] = [
    "route tables",
    "log store",
    "jsonformat",
    "buffersize",
    "logguests",
];
