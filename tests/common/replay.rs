//! Replaying the fixture run step by step: each record-bearing event finds its row as the
//! 2016 plugin saw it.

use serde_json::Value;

use super::{TestDb, fixtures, insert_log_sql, jsonl, sql_literal};

pub fn posts(run: &str) -> Vec<(String, String, Value)> {
    jsonl(&fixtures().join(run).join("plugin-posts.jsonl"))
        .into_iter()
        .map(|p| {
            let body = p["body"].as_str().unwrap().to_string();
            let parsed: Value = serde_json::from_str(&body).unwrap();
            (p["path"].as_str().unwrap().to_string(), body, parsed)
        })
        .collect()
}

/// Finds, for each POST in order, the index of its log row (same name, object and time).
pub fn match_rows(log: &[Value], posts: &[(String, String, Value)]) -> Vec<usize> {
    let mut from = 0;
    posts
        .iter()
        .map(|(_, _, body)| {
            let ev = &body["event"];
            let i = (from..log.len())
                .find(|&i| {
                    log[i]["eventname"] == ev["eventname"]
                        && log[i]["objectid"] == ev["objectid"]
                        && log[i]["timecreated"] == ev["timecreated"]
                })
                .unwrap_or_else(|| panic!("no log row for {ev}"));
            from = i + 1;
            i
        })
        .collect()
}

/// The six 2016 groups, as `--event` arguments.
pub const GROUPS: [&str; 10] = [
    r"\core\event\user_enrolment_created",
    r"\core\event\user_enrolment_deleted",
    r"\core\event\course_module_completion_updated",
    r"\core\event\course_completed",
    r"\core\event\course_created",
    r"\core\event\course_updated",
    r"\core\event\course_deleted",
    r"\core\event\course_category_created",
    r"\core\event\course_category_updated",
    r"\core\event\course_category_deleted",
];

/// Removes `"key":<value>` (a number or null) from a JSON text, wherever it appears.
pub fn drop_key(body: &str, key: &str) -> String {
    let needle = format!(",\"{key}\":");
    let Some(start) = body.find(&needle) else {
        return body.to_string();
    };
    let rest = &body[start + needle.len()..];
    let end = rest.find([',', '}']).unwrap();
    format!("{}{}", &body[..start], &rest[end..])
}

/// Puts the plugin's record into its table as the row, or deletes the row for deletes.
pub fn stage_row(db: &TestDb, event: &Value, record: &Value) -> Option<String> {
    let table = format!("mdl_{}", event["objecttable"].as_str()?);
    let id = event["objectid"].as_i64()?;
    let name = event["eventname"].as_str()?;
    let delete = format!("DELETE FROM {table} WHERE id = {id}");
    if name.ends_with("course_deleted") || name.ends_with("course_category_deleted") {
        return Some(delete);
    }
    let obj = record.as_object()?;
    let cols: Vec<&String> = obj
        .keys()
        .filter(|k| *k != "viewed" && *k != "portalid")
        .collect();
    let vals: Vec<String> = cols
        .iter()
        .map(|k| match &obj[*k] {
            Value::Null => "NULL".into(),
            Value::String(s) => sql_literal(&Value::String(s.clone())),
            other => format!("'{other}'"),
        })
        .collect();
    let cols: Vec<&str> = cols.iter().map(|c| c.as_str()).collect();
    let _ = db;
    Some(format!(
        "{delete}; INSERT INTO {table} ({}) VALUES ({})",
        cols.join(","),
        vals.join(",")
    ))
}

/// One step of the replay: the SQL that stages the row and inserts the log rows up to the
/// POST's own, and what the plugin POSTed.
pub struct Step {
    pub sql: String,
    pub path: String,
    pub raw: String,
    pub body: Value,
    pub log_id: i64,
}

/// The 16 steps of a fixture run, in order.
pub fn steps(db: &TestDb, run: &str) -> Vec<Step> {
    let log = jsonl(&fixtures().join(run).join("logstore.jsonl"));
    let posts = posts(run);
    let mut next_row = 0;
    let mut out = Vec::new();
    for ((path, raw, body), i) in posts.iter().zip(match_rows(&log, &posts)) {
        let mut sql = String::new();
        if let Some(stage) = stage_row(db, &body["event"], &body["record"]) {
            sql.push_str(&stage);
            sql.push_str("; ");
        }
        let rows: Vec<&Value> = log[next_row..=i].iter().collect();
        sql.push_str(&insert_log_sql(db.kind, &rows, true));
        next_row = i + 1;
        out.push(Step {
            sql,
            path: path.clone(),
            raw: raw.clone(),
            body: body.clone(),
            log_id: log[i]["id"].as_i64().unwrap(),
        });
    }
    out
}

/// The plugin's body and ours, with the keys the comparison leaves out removed: `viewed`
/// (not a column in 4.5) and, for deleted courses and categories, the keys Moodle changed
/// after the last update.
pub fn comparable(step: &Step, got: &str) -> (String, String) {
    let mut want = drop_key(&step.raw, "viewed");
    let mut got = got.to_string();
    let eventname = step.body["event"]["eventname"].as_str().unwrap();
    if eventname.ends_with("_deleted") && !eventname.contains("user_enrolment") {
        for k in ["cacherev", "coursecount"] {
            want = drop_key(&want, k);
            got = drop_key(&got, k);
        }
    }
    (want, got)
}

/// A database loaded with the run's final tables, its log cut back to before the run.
pub fn prepared(kind: super::Kind, run: &str) -> TestDb {
    let db = TestDb::with_schema(kind);
    db.load_file(&fixtures().join(run).join("tables-after.sql"));
    db.sql(&format!(
        "DELETE FROM mdl_logstore_standard_log WHERE id > {}",
        super::before_max_id(run)
    ));
    db
}
