//! Item 4: SELECT on every table the enabled routes will read.
//!
//! A route reads the `objecttable` of each event it matches (the record), `user` when it
//! sends the 2016 plugin's `seed` format (for `portalid`), and nosey reads `config_plugins`
//! for Moodle's log settings. Which events a route matches is worked out against nosey's
//! catalogue of core events, with the same wildcard rules the router uses; plugins' events
//! are not catalogued, so their tables cannot be known in advance.

use std::collections::BTreeMap;

use wildmatch::WildMatch;

use super::Item;
use super::database::{account, connect_fix};
use crate::config::{Format, RouteConfig};
use crate::moodle::MoodleDb;
use crate::moodle::catalog;
use crate::moodle::privileges::{Access, grant_select, probe_select};

/// Who reads `config_plugins`, in messages.
const SETTINGS_READER: &str = "Moodle's log settings";

/// Table (without prefix) → who needs it (`route enrolled`, …), for the enabled routes.
pub fn needed_tables(routes: &[RouteConfig]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    out.entry("config_plugins".into())
        .or_default()
        .push(SETTINGS_READER.into());
    for route in routes.iter().filter(|r| r.enabled) {
        let who = format!("route {}", route.name);
        for table in route_tables(route) {
            let users = out.entry(table.to_string()).or_default();
            if !users.contains(&who) {
                users.push(who.clone());
            }
        }
    }
    out
}

/// The tables one route reads, from the catalogued events its patterns match.
fn route_tables(route: &RouteConfig) -> Vec<&'static str> {
    let patterns: Vec<WildMatch> = route.event_patterns().map(WildMatch::new).collect();
    let mut tables: Vec<&'static str> = catalog::all()
        .iter()
        .filter(|e| patterns.iter().any(|p| p.matches(e.name)))
        .filter_map(|e| e.objecttable)
        .collect();
    if route.format == Format::Seed {
        tables.push("user");
    }
    tables.sort_unstable();
    tables.dedup();
    tables
}

/// Probes each needed table: an ok item for the readable ones, and one item per table that
/// is missing (a warning: a plugin that is not installed) or not readable (a failure).
pub(super) async fn check(db: &MoodleDb, routes: &[RouteConfig]) -> Vec<Item> {
    let mut readable = Vec::new();
    let mut problems = Vec::new();
    for (table, users) in needed_tables(routes) {
        let full = format!("{}{table}", db.prefix());
        let who = users.join(", ");
        match probe_select(db, &full).await {
            Ok(Access::Readable) => readable.push(full),
            Ok(Access::Missing) => problems.push(missing(&full, &who)),
            Ok(Access::Denied) => problems.push(denied(db, &full, &who).await),
            Err(e) => problems.push(Item::fail(
                &format!("table {full}"),
                e.to_string(),
                connect_fix(&e),
            )),
        }
    }
    let mut items = Vec::new();
    if !readable.is_empty() {
        items.push(Item::ok(
            "route tables",
            format!("SELECT on {}", readable.join(", ")),
        ));
    }
    items.extend(problems);
    items
}

fn missing(full: &str, who: &str) -> Item {
    Item::warn(
        &format!("table {full}"),
        format!("not in the database ({who} reads it): events on it go out with record false"),
        "install the plugin that owns the table, or take its events out of the route",
    )
}

async fn denied(db: &MoodleDb, full: &str, who: &str) -> Item {
    let account = account(db).await;
    Item::fail(
        &format!("table {full}"),
        format!(
            "user '{}' may not read it ({who} reads it), or it does not exist",
            db.target().user
        ),
        grant_select(db.engine(), &db.target().database, full, &account),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MapEnv, Preset, load_from_str};

    fn routes(toml: &str) -> Vec<RouteConfig> {
        let text = format!("[moodle]\nurl = \"postgres://u@h/db\"\n{toml}");
        load_from_str(&text, None, &MapEnv::default())
            .unwrap()
            .routes
    }

    #[test]
    fn presets_need_their_object_tables() {
        let presets: Vec<String> = Preset::ALL
            .iter()
            .map(|p| {
                format!(
                    "[[route]]\nname = \"{}\"\nurl = \"http://h\"\npreset = \"{}\"\n",
                    p.name().replace('_', "-"),
                    p.name()
                )
            })
            .collect();
        let needed = needed_tables(&routes(&presets.concat()));
        let tables: Vec<&str> = needed.keys().map(String::as_str).collect();
        assert_eq!(
            tables,
            [
                "config_plugins",
                "course",
                "course_categories",
                "course_completions",
                "course_modules_completion",
                "user_enrolments"
            ]
        );
        assert_eq!(
            needed["user_enrolments"],
            ["route enrolled", "route unenrolled"]
        );
        assert_eq!(needed["config_plugins"], [SETTINGS_READER]);
    }

    #[test]
    fn wildcards_seed_and_disabled_routes() {
        let needed = needed_tables(&routes(
            "[[route]]\nname = \"a\"\nurl = \"http://h\"\nevents = ['\\core\\event\\cohort_*']\nformat = \"seed\"\n\
             [[route]]\nname = \"off\"\nenabled = false\nevents = ['\\core\\event\\course_*']\n",
        ));
        let tables: Vec<&str> = needed.keys().map(String::as_str).collect();
        assert_eq!(tables, ["cohort", "config_plugins", "user"]);
        let only_plugins = needed_tables(&routes(
            "[[route]]\nname = \"p\"\nurl = \"http://h\"\nevents = ['\\mod_forum\\event\\*']\n",
        ));
        assert_eq!(only_plugins.len(), 1);
    }
}
