//! Items 11 and 12: nosey's own store, how far behind Moodle's log nosey is, and the queues.

use super::Item;
use crate::config::{Config, StartAt};
use crate::moodle::tailer::now_ms;
use crate::moodle::{MoodleDb, logstore};
use crate::store::{SqliteStore, Store, StoreError};

/// Where nosey stands in Moodle's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Position {
    /// Not known; the reason says which item to look at.
    Unknown(String),
    /// No saved cursor: nosey has not run yet and will begin at `start`.
    NotStarted { start: StartAt },
    At {
        /// Every id up to here has been read (or given up on).
        watermark: i64,
        max_id: i64,
        /// The oldest unread row: its id and its age in seconds.
        behind: Option<(i64, i64)>,
    },
}

/// The store as `nosey run` opens it (creating it when it is missing).
pub(super) struct OpenedStore {
    pub(super) store: Result<SqliteStore, StoreError>,
    /// It did not exist before `check` opened it.
    pub(super) created: bool,
}

pub(super) async fn open(config: &Config) -> OpenedStore {
    let created = !config.store.path.exists();
    OpenedStore {
        store: SqliteStore::open(&config.store.path).await,
        created,
    }
}

pub(super) async fn position(
    config: &Config,
    db: Option<&MoodleDb>,
    store: &Result<SqliteStore, StoreError>,
) -> Position {
    let Ok(store) = store else {
        return Position::Unknown("the store could not be opened (see store)".into());
    };
    let cursor = match store.load_cursor().await {
        Ok(Some(cursor)) => cursor,
        Ok(None) => {
            return Position::NotStarted {
                start: config.moodle.start,
            };
        }
        Err(e) => return Position::Unknown(format!("cannot read the saved position: {e}")),
    };
    let Some(db) = db else {
        return Position::Unknown("needs the database (see above)".into());
    };
    let watermark = cursor.watermark();
    let read = async {
        let max_id = logstore::max_id(db).await?;
        let first = logstore::first_after(db, watermark).await?;
        Ok::<_, crate::moodle::MoodleError>((max_id, first))
    };
    match read.await {
        Ok((max_id, first)) => Position::At {
            watermark,
            max_id,
            behind: first.map(|(id, created)| (id, (now_ms() / 1000 - created).max(0))),
        },
        Err(e) => Position::Unknown(format!("cannot read the log: {e}")),
    }
}

/// Item 11: the store opens and takes a write.
pub(super) async fn store_item(config: &Config, opened: &OpenedStore) -> Item {
    let path = config.store.path.display().to_string();
    let written = match &opened.store {
        Ok(store) => store.check_writable().await,
        Err(e) => return store_failure(&path, e),
    };
    match written {
        Ok(()) if opened.created => Item::ok(
            "store",
            format!("{path} is writable (created now: let the user nosey runs as own it)"),
        ),
        Ok(()) => Item::ok("store", format!("{path} is writable")),
        Err(e) => store_failure(&path, &e),
    }
}

fn store_failure(path: &str, e: &StoreError) -> Item {
    let fix = if e.is_full() {
        "free space on the disk that holds it".to_string()
    } else {
        format!(
            "let the user nosey runs as create and write {path} and its folder (permissions, a \
             read-only mount), or set [store] path elsewhere"
        )
    };
    Item::fail("store", e.to_string(), fix)
}

/// Item 12: rows between nosey's position and the newest log row.
pub(super) fn lag_item(position: &Position) -> Item {
    match position {
        Position::Unknown(reason) => Item::skip("lag", reason.clone()),
        Position::NotStarted { start } => Item::ok(
            "lag",
            format!(
                "nosey has not run yet; it will start {} ([moodle] start = \"{start}\")",
                describe_start(*start)
            ),
        ),
        Position::At {
            watermark, max_id, ..
        } if watermark > max_id => Item::warn(
            "lag",
            format!(
                "the saved position (log id {watermark}) is past the newest log row ({max_id}): \
                 nosey skips new rows until the log passes it"
            ),
            "if Moodle's database was restored or replaced, start again with `nosey run \
             --reset-cursor` (it applies [moodle] start)",
        ),
        Position::At {
            watermark,
            max_id,
            behind: None,
        } => Item::ok(
            "lag",
            format!("caught up: read up to log id {watermark}, newest is {max_id}"),
        ),
        Position::At {
            watermark,
            max_id,
            behind: Some((id, age)),
        } => Item::ok(
            "lag",
            format!(
                "{} rows behind (read up to log id {watermark}, newest is {max_id}); the oldest \
                 unread row, id {id}, is {} old",
                (max_id - watermark).max(0),
                span(*age)
            ),
        ),
    }
}

fn describe_start(start: StartAt) -> String {
    match start {
        StartAt::Now => "after the newest log row at its first start".into(),
        StartAt::Beginning => "from the oldest log row".into(),
        StartAt::After(id) => format!("after log id {id}"),
        StartAt::Time(_) => "from the first log row at or after that time".into(),
    }
}

/// Deliveries waiting and dead, per route.
pub(super) async fn deliveries_item(
    config: &Config,
    store: &Result<SqliteStore, StoreError>,
) -> Item {
    let Ok(store) = store else {
        return Item::skip("deliveries", "the store could not be opened (see store)");
    };
    let stats = match store.route_stats().await {
        Ok(stats) => stats,
        Err(e) => {
            return Item::fail("deliveries", e.to_string(), "see the store item above");
        }
    };
    let mut names: Vec<&String> = stats.keys().collect();
    for r in &config.routes {
        if !names.contains(&&r.name) {
            names.push(&r.name);
        }
    }
    names.sort();
    if names.is_empty() {
        return Item::ok("deliveries", "no routes, no deliveries");
    }
    let parts: Vec<String> = names
        .iter()
        .map(|n| {
            let s = stats.get(*n).cloned().unwrap_or_default();
            format!("{n}: {} pending, {} dead", s.pending, s.dead)
        })
        .collect();
    let dead: u64 = stats.values().map(|s| s.dead).sum();
    let detail = parts.join("; ");
    if dead > 0 {
        Item::warn(
            "deliveries",
            detail,
            "see why with `nosey deliveries list --status dead`, fix the receiver, then \
             `nosey deliveries retry --dead`",
        )
    } else {
        Item::ok("deliveries", detail)
    }
}

/// A duration for people: "45s", "12m", "3h 5m", "2d 4h".
pub(super) fn span(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    #[test]
    fn spans_read_like_config_durations() {
        assert_eq!(span(-3), "0s");
        assert_eq!(span(45), "45s");
        assert_eq!(span(12 * 60 + 5), "12m");
        assert_eq!(span(3 * 3600 + 5 * 60), "3h 5m");
        assert_eq!(span(2 * 86_400 + 4 * 3600 + 7), "2d 4h");
    }

    #[test]
    fn lag_lines() {
        let item = lag_item(&Position::NotStarted {
            start: StartAt::Beginning,
        });
        assert_eq!(item.status, Status::Ok);
        assert!(item.detail.contains("has not run yet"), "{}", item.detail);
        assert!(item.detail.contains("start = \"beginning\""));
        let item = lag_item(&Position::At {
            watermark: 10,
            max_id: 25,
            behind: Some((11, 90)),
        });
        assert!(item.detail.starts_with("15 rows behind"), "{}", item.detail);
        assert!(item.detail.contains("1m old"));
        let item = lag_item(&Position::At {
            watermark: 90,
            max_id: 25,
            behind: None,
        });
        assert_eq!(item.status, Status::Warn);
        assert!(item.fix.unwrap().contains("--reset-cursor"));
        let item = lag_item(&Position::Unknown("no db".into()));
        assert_eq!(item.status, Status::Skip);
    }
}
