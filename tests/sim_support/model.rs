//! An in-memory replay of a simulated site: the tables the requests change, and checks that
//! every request changes only rows that exist and logs events that name them rightly.

use std::collections::{BTreeMap, HashMap, HashSet};

use nosey::moodle::other::decode_other;
use nosey::sim::{Change, LogEntry, Request, SqlValue, base_rows};
use serde_json::{Map, Value};

pub type Row = Vec<(&'static str, SqlValue)>;

/// The tables the simulator writes (besides the log).
pub const SIMULATED: [&str; 10] = [
    "course",
    "course_categories",
    "user",
    "user_enrolments",
    "enrol",
    "course_modules",
    "course_modules_completion",
    "course_completions",
    "context",
    "config_plugins",
];

#[derive(Default)]
pub struct Model {
    pub tables: HashMap<&'static str, BTreeMap<i64, Row>>,
    ever: HashSet<(&'static str, i64)>,
    /// (course, user) pairs with an enrolment, from the log.
    enrolled: HashSet<(i64, i64)>,
}

impl Model {
    /// A fresh install made at `installed_at`, as `install_base` writes it.
    pub fn fresh(installed_at: i64) -> Model {
        let mut m = Model::default();
        for change in base_rows(installed_at) {
            m.change(&change).unwrap();
        }
        m
    }

    pub fn get(&self, table: &str, id: i64) -> Option<&Row> {
        self.tables.get(table).and_then(|t| t.get(&id))
    }

    pub fn value(&self, table: &str, id: i64, column: &str) -> Option<&SqlValue> {
        self.get(table, id)
            .and_then(|row| row.iter().find(|(c, _)| *c == column).map(|(_, v)| v))
    }

    /// Applies one change; returns the deleted row for deletes.
    pub fn change(&mut self, change: &Change) -> Result<Option<Row>, String> {
        let table = change.table();
        let id = change.id().ok_or("change without id")?;
        let rows = self.tables.entry(table).or_default();
        match change {
            Change::Insert { values, .. } => {
                if !self.ever.insert((table, id)) {
                    return Err(format!("{table} id {id} inserted twice"));
                }
                rows.insert(id, values.clone());
                Ok(None)
            }
            Change::Update { set, .. } => {
                let row = rows
                    .get_mut(&id)
                    .ok_or(format!("update of missing {table} {id}"))?;
                for (column, value) in set {
                    match row.iter_mut().find(|(c, _)| c == column) {
                        Some(slot) => slot.1 = value.clone(),
                        None => row.push((column, value.clone())),
                    }
                }
                Ok(None)
            }
            Change::Delete { .. } => rows
                .remove(&id)
                .map(Some)
                .ok_or(format!("delete of missing {table} {id}")),
        }
    }

    /// Applies a request and checks its log rows against the state it leaves.
    pub fn request(&mut self, req: &Request) -> Result<(), String> {
        let mut deleted = HashMap::new();
        for change in &req.changes {
            if let Some(row) = self.change(change)? {
                deleted.insert((change.table(), change.id().unwrap()), row);
            }
        }
        for e in &req.log {
            self.check_entry(e, &deleted)
                .map_err(|why| format!("{}: {why}", e.eventname))?;
        }
        Ok(())
    }

    fn check_entry(
        &mut self,
        e: &LogEntry,
        deleted: &HashMap<(&'static str, i64), Row>,
    ) -> Result<(), String> {
        let gone = |t: &str, id: i64| deleted.keys().any(|(dt, did)| *dt == t && *did == id);
        if let (Some(table), Some(id)) = (e.objecttable.as_deref(), e.objectid)
            && SIMULATED.contains(&table)
        {
            let exists = self.get(table, id).is_some();
            match e.crud.as_str() {
                "d" if exists => return Err(format!("{table} {id} still exists")),
                "d" if !gone(table, id) => return Err(format!("{table} {id} never was")),
                "c" | "u" | "r" if !exists => return Err(format!("{table} {id} is gone")),
                _ => {}
            }
        }
        match self.get("context", e.contextid) {
            Some(_) => {
                let level = self.value("context", e.contextid, "contextlevel");
                let instance = self.value("context", e.contextid, "instanceid");
                if level != Some(&SqlValue::Int(e.contextlevel))
                    || instance != Some(&SqlValue::Int(e.contextinstanceid))
                {
                    return Err(format!("context {} does not match", e.contextid));
                }
            }
            None if e.crud == "d" && gone("context", e.contextid) => {}
            None => return Err(format!("context {} does not exist", e.contextid)),
        }
        for user in [Some(e.userid), e.relateduserid].into_iter().flatten() {
            if user != 0 && self.get("user", user).is_none() {
                return Err(format!("user {user} does not exist"));
            }
        }
        self.check_enrolments(e, deleted)
    }

    fn check_enrolments(
        &mut self,
        e: &LogEntry,
        deleted: &HashMap<(&'static str, i64), Row>,
    ) -> Result<(), String> {
        let course = e.courseid.unwrap_or(0);
        let user = e.relateduserid.unwrap_or(0);
        let name = e.eventname.rsplit('\\').next().unwrap_or_default();
        match name {
            "user_enrolment_created" => {
                self.enrolled.insert((course, user));
            }
            "user_enrolment_deleted" => {
                self.enrolled.remove(&(course, user));
                let row = deleted
                    .get(&("user_enrolments", e.objectid.unwrap_or(0)))
                    .ok_or("no deleted row")?;
                check_userenrolment(e, row, course)?;
            }
            "course_module_completion_updated" | "course_completed"
                if !self.enrolled.contains(&(course, user)) =>
            {
                return Err(format!("user {user} is not enrolled in course {course}"));
            }
            "course_deleted" if self.enrolled.iter().any(|(c, _)| *c == course) => {
                return Err(format!("course {course} still has enrolments"));
            }
            _ => {}
        }
        Ok(())
    }
}

/// `other.userenrolment` must be the deleted row, every value a PHP string, plus `courseid`,
/// `enrol` and `lastenrol`.
fn check_userenrolment(e: &LogEntry, row: &Row, course: i64) -> Result<(), String> {
    let other = decode_other(e.other.as_deref()).value;
    let mut want = Map::new();
    for (column, value) in row {
        want.insert(column.to_string(), value.to_php_string().into());
    }
    want.insert("courseid".into(), course.to_string().into());
    want.insert("enrol".into(), "manual".into());
    want.insert("lastenrol".into(), true.into());
    if other["userenrolment"] != Value::Object(want) || other["enrol"] != "manual" {
        return Err(format!(
            "other {other} does not match the deleted row {row:?}"
        ));
    }
    Ok(())
}
