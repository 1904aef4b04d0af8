//! Route matching: which routes want a log row.
//!
//! Matching runs on the raw row, before `other` is decoded or any record is read, so rows no
//! route wants cost nothing beyond the scan. Event-name patterns are resolved once per
//! distinct event name (a site emits a few hundred), then each row only pays a hash lookup
//! and a few integer comparisons.

use std::collections::HashMap;
use std::sync::Mutex;

use wildmatch::WildMatch;

use crate::config::{Filter, RouteConfig};
use crate::moodle::LogRow;

/// The matching half of a route.
#[derive(Debug, Clone)]
pub struct RouteMatcher {
    pub name: String,
    patterns: Vec<WildMatch>,
    filter: Filter,
    exclude_users: Vec<i64>,
    exclude_origins: Vec<String>,
}

impl RouteMatcher {
    pub fn new(route: &RouteConfig) -> Self {
        RouteMatcher {
            name: route.name.clone(),
            patterns: route.event_patterns().map(WildMatch::new).collect(),
            filter: route.filter.clone(),
            exclude_users: route.exclude_users.clone(),
            exclude_origins: route.exclude_origins.clone(),
        }
    }

    /// A matcher for ad-hoc use (`nosey tail --event`): names only, no filters.
    pub fn for_patterns<'a>(name: &str, patterns: impl IntoIterator<Item = &'a str>) -> Self {
        RouteMatcher {
            name: name.to_string(),
            patterns: patterns.into_iter().map(WildMatch::new).collect(),
            filter: Filter::default(),
            exclude_users: Vec::new(),
            exclude_origins: Vec::new(),
        }
    }

    fn matches_name(&self, eventname: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(eventname))
    }

    fn passes_filters(&self, row: &LogRow) -> bool {
        let f = &self.filter;
        let crud = row.crud.chars().next().unwrap_or(' ');
        (f.courseid.is_empty() || row.courseid.is_some_and(|c| f.courseid.contains(&c)))
            && (f.crud.is_empty() || f.crud.contains(&crud))
            && (f.component.is_empty() || f.component.contains(&row.component))
            && (f.edulevel.is_empty() || f.edulevel.contains(&row.edulevel))
            && (f.contextlevel.is_empty() || f.contextlevel.contains(&row.contextlevel))
            && !self.exclude_users.contains(&row.userid)
            && !row
                .origin
                .as_ref()
                .is_some_and(|o| self.exclude_origins.contains(o))
    }
}

/// All routes, with a cache of which routes each event name can match.
#[derive(Debug)]
pub struct Router {
    routes: Vec<RouteMatcher>,
    by_name: Mutex<HashMap<String, Vec<usize>>>,
}

impl Router {
    pub fn new(routes: Vec<RouteMatcher>) -> Self {
        Router {
            routes,
            by_name: Mutex::new(HashMap::new()),
        }
    }

    pub fn routes(&self) -> &[RouteMatcher] {
        &self.routes
    }

    /// Indexes of the routes that want `row`, in configuration order.
    pub fn matches(&self, row: &LogRow) -> Vec<usize> {
        let candidates = self.candidates(&row.eventname);
        candidates
            .into_iter()
            .filter(|&i| self.routes[i].passes_filters(row))
            .collect()
    }

    fn candidates(&self, eventname: &str) -> Vec<usize> {
        let mut cache = self.by_name.lock().unwrap();
        if let Some(hit) = cache.get(eventname) {
            return hit.clone();
        }
        let hit: Vec<usize> = (0..self.routes.len())
            .filter(|&i| self.routes[i].matches_name(eventname))
            .collect();
        // Event names come from plugins too; bound the cache against a flood of odd names.
        if cache.len() < 10_000 {
            cache.insert(eventname.to_string(), hit.clone());
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(eventname: &str) -> LogRow {
        LogRow {
            id: 1,
            eventname: eventname.into(),
            component: "core".into(),
            action: "created".into(),
            target: "course".into(),
            objecttable: Some("course".into()),
            objectid: Some(2),
            crud: "c".into(),
            edulevel: 1,
            contextid: 12,
            contextlevel: 50,
            contextinstanceid: 2,
            userid: 2,
            courseid: Some(12),
            relateduserid: None,
            anonymous: 0,
            other: None,
            timecreated: 0,
            origin: Some("web".into()),
            ip: None,
            realuserid: None,
        }
    }

    #[test]
    fn backslashes_are_literal_and_stars_are_wild() {
        let r = Router::new(vec![RouteMatcher::for_patterns(
            "a",
            [r"\core\event\course_*"],
        )]);
        assert_eq!(r.matches(&row(r"\core\event\course_created")), vec![0]);
        assert!(r.matches(&row(r"\core\event\user_created")).is_empty());
        assert!(
            r.matches(&row(r"\mod_forum\event\course_created"))
                .is_empty()
        );
    }

    #[test]
    fn filters_and_exclusions_apply() {
        let mut m = RouteMatcher::for_patterns("a", ["*"]);
        m.filter.courseid = vec![12];
        m.filter.crud = vec!['c', 'd'];
        let mut excluded = m.clone();
        excluded.exclude_users = vec![2];
        let mut ws_only = m.clone();
        ws_only.exclude_origins = vec!["web".into()];
        let r = Router::new(vec![m, excluded, ws_only]);
        let mut ev = row(r"\core\event\course_created");
        assert_eq!(r.matches(&ev), vec![0]);
        ev.courseid = Some(13);
        assert!(r.matches(&ev).is_empty());
        ev.courseid = Some(12);
        ev.crud = "u".into();
        assert!(r.matches(&ev).is_empty());
    }
}
