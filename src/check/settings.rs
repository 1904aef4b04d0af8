//! Items 5 to 9: Moodle's log settings (`config_plugins`) and what they mean for nosey.

use super::Item;
use super::state::{Position, span};
use crate::moodle::MoodleDb;
use crate::moodle::settings::{self, LogSettings};

const DAY: i64 = 86_400;

/// Reads the settings and adds the log store, jsonformat, buffersize and logguests items.
pub(super) async fn check(db: &MoodleDb, items: &mut Vec<Item>) -> Option<LogSettings> {
    match settings::read(db).await {
        Ok(s) => {
            items.extend([log_store(&s), jsonformat(&s), buffersize(&s), logguests(&s)]);
            Some(s)
        }
        Err(e) => {
            items.push(Item::skip(
                "log store",
                format!("cannot read Moodle's log settings: {e}"),
            ));
            let reason = "needs Moodle's log settings (see log store)";
            items.extend(
                ["jsonformat", "buffersize", "logguests"]
                    .iter()
                    .map(|c| Item::skip(c, reason)),
            );
            None
        }
    }
}

pub(super) fn log_store(s: &LogSettings) -> Item {
    let stores = if s.enabled_stores.is_empty() {
        "none".to_string()
    } else {
        s.enabled_stores.join(", ")
    };
    if s.standard_store_enabled() {
        return Item::ok("log store", format!("enabled log stores: {stores}"));
    }
    Item::fail(
        "log store",
        format!(
            "Moodle's standard log store is not enabled (enabled: {stores}), so Moodle writes no \
             rows for nosey to read"
        ),
        "enable \"Standard log\" in Site administration > Plugins > Logging > Manage log stores, \
         or run: php admin/cli/cfg.php --component=tool_log --name=enabled_stores \
         --set=logstore_standard (keep any other store in the list, comma-separated)",
    )
}

pub(super) fn jsonformat(s: &LogSettings) -> Item {
    let detail = if s.jsonformat {
        "1: Moodle writes `other` as JSON (nosey decodes it)"
    } else {
        "0: Moodle writes `other` with PHP serialize() (nosey decodes it)"
    };
    Item::ok("jsonformat", detail)
}

pub(super) fn buffersize(s: &LogSettings) -> Item {
    if s.buffersize <= 1 {
        return Item::ok(
            "buffersize",
            format!("{}: Moodle writes each event at once", s.buffersize),
        );
    }
    Item::warn(
        "buffersize",
        format!(
            "{}: Moodle buffers log rows per PHP process and writes them when the process ends, \
             so events from CLI scripts and cron can arrive minutes late, after the rows they \
             name have changed or been deleted; buffersize 1 costs Moodle about 0.6-2.5 ms per \
             event",
            s.buffersize
        ),
        "php admin/cli/cfg.php --component=logstore_standard --name=buffersize --set=1",
    )
}

pub(super) fn logguests(s: &LogSettings) -> Item {
    if s.logguests {
        return Item::ok("logguests", "1: guests' events are logged");
    }
    Item::warn(
        "logguests",
        "0: events of guests and of users not logged in are not logged, so nosey never sees \
         them (e.g. self sign-up's user_created)",
        "php admin/cli/cfg.php --component=logstore_standard --name=logguests --set=1",
    )
}

/// Item 9: will Moodle delete log rows before nosey reads them?
pub(super) fn loglifetime(s: Option<&LogSettings>, position: &Position) -> Item {
    const CHECK: &str = "loglifetime";
    let Some(s) = s else {
        return Item::skip(CHECK, "needs Moodle's log settings (see above)");
    };
    let days = s.loglifetime_days;
    if days <= 0 {
        return Item::ok(CHECK, "0: Moodle keeps log rows forever");
    }
    let kept = format!("Moodle deletes log rows after {days} days");
    let behind = match position {
        Position::Unknown(reason) => return Item::skip(CHECK, format!("{kept}; {reason}")),
        Position::NotStarted { .. } => None,
        Position::At { behind, .. } => behind.map(|(_, secs)| secs),
    };
    let lifetime = days * DAY;
    match behind {
        Some(secs) if secs > lifetime - DAY => Item::fail(
            CHECK,
            format!(
                "{kept} and nosey is {} behind: rows will be deleted before nosey reads them",
                span(secs)
            ),
            "keep `nosey run` running until it catches up, and raise loglifetime: php \
             admin/cli/cfg.php --component=logstore_standard --name=loglifetime --set=<days>",
        ),
        Some(secs) if secs > lifetime - 2 * DAY => Item::warn(
            CHECK,
            format!(
                "{kept} and nosey is {} behind: close to losing rows",
                span(secs)
            ),
            "keep `nosey run` running until it catches up",
        ),
        _ if days <= 2 => Item::warn(
            CHECK,
            format!("{kept}: a stop of nosey longer than a day can lose events"),
            "php admin/cli/cfg.php --component=logstore_standard --name=loglifetime --set=7 \
             (or more)",
        ),
        Some(secs) => Item::ok(CHECK, format!("{kept}; nosey is {} behind", span(secs))),
        None => Item::ok(CHECK, format!("{kept}; nosey is not behind")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Status;

    fn settings(stores: &[&str], buffersize: i64, lifetime: i64, guests: bool) -> LogSettings {
        LogSettings {
            enabled_stores: stores.iter().map(|s| s.to_string()).collect(),
            jsonformat: true,
            buffersize,
            loglifetime_days: lifetime,
            logguests: guests,
        }
    }

    fn at(behind_secs: Option<i64>) -> Position {
        Position::At {
            watermark: 10,
            max_id: 20,
            behind: behind_secs.map(|s| (11, s)),
        }
    }

    #[test]
    fn store_buffersize_guests() {
        let good = settings(&["logstore_standard"], 1, 0, true);
        assert_eq!(log_store(&good).status, Status::Ok);
        assert_eq!(buffersize(&good).status, Status::Ok);
        assert_eq!(logguests(&good).status, Status::Ok);
        let bad = settings(&["logstore_database"], 50, 0, false);
        let item = log_store(&bad);
        assert_eq!(item.status, Status::Fail);
        assert!(item.fix.unwrap().contains("--set=logstore_standard"));
        let item = buffersize(&bad);
        assert_eq!(item.status, Status::Warn);
        assert!(item.detail.contains("minutes late"));
        assert_eq!(logguests(&bad).status, Status::Warn);
    }

    #[test]
    fn loglifetime_against_the_lag() {
        let status = |lifetime, pos: &Position| {
            loglifetime(Some(&settings(&[], 1, lifetime, true)), pos).status
        };
        assert_eq!(status(0, &at(Some(100 * DAY))), Status::Ok);
        assert_eq!(status(30, &at(None)), Status::Ok);
        assert_eq!(status(30, &at(Some(DAY))), Status::Ok);
        assert_eq!(status(30, &at(Some(28 * DAY - 1))), Status::Ok);
        assert_eq!(status(30, &at(Some(28 * DAY + 1))), Status::Warn);
        assert_eq!(status(30, &at(Some(29 * DAY + 1))), Status::Fail);
        assert_eq!(status(2, &at(None)), Status::Warn);
        let not_started = Position::NotStarted {
            start: crate::config::StartAt::Now,
        };
        assert_eq!(status(30, &not_started), Status::Ok);
        assert_eq!(
            status(30, &Position::Unknown("no store".into())),
            Status::Skip
        );
        assert_eq!(loglifetime(None, &at(None)).status, Status::Skip);
    }
}
