//! One line of `nosey check`: what was checked, how it went, and what to do about it.

use serde::Serialize;

/// How an item went. Only `Fail` makes `nosey check` exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// Not checked because something it needs failed; `detail` says what.
    Skip,
}

impl Status {
    /// The mark at the start of the item's line.
    pub fn mark(self) -> char {
        match self {
            Status::Ok => '✓',
            Status::Warn => '!',
            Status::Fail => '✗',
            Status::Skip => '-',
        }
    }
}

/// One checked thing. Serialized as `{"check", "status", "detail", "fix"}` for `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub check: String,
    pub status: Status,
    pub detail: String,
    /// For warnings and failures: one line saying what to do.
    pub fix: Option<String>,
}

impl Item {
    pub fn ok(check: &str, detail: impl Into<String>) -> Item {
        Item::new(check, Status::Ok, detail.into(), None)
    }

    pub fn warn(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Item {
        Item::new(check, Status::Warn, detail.into(), Some(fix.into()))
    }

    pub fn fail(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Item {
        Item::new(check, Status::Fail, detail.into(), Some(fix.into()))
    }

    pub fn skip(check: &str, reason: impl Into<String>) -> Item {
        Item::new(
            check,
            Status::Skip,
            format!("skipped: {}", reason.into()),
            None,
        )
    }

    fn new(check: &str, status: Status, detail: String, fix: Option<String>) -> Item {
        Item {
            check: check.to_string(),
            status,
            // One line each: a driver's message may span several.
            detail: one_line(&detail),
            fix: fix.map(|f| one_line(&f)),
        }
    }

    /// The item as the checklist prints it: a marked line, and an indented fix for problems.
    pub fn render(&self) -> String {
        let mut out = format!("{} {}: {}", self.status.mark(), self.check, self.detail);
        if let (Status::Warn | Status::Fail, Some(fix)) = (self.status, &self.fix) {
            out.push_str(&format!("\n    fix: {fix}"));
        }
        out
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_fixes() {
        assert_eq!(Item::ok("store", "nosey.db").render(), "✓ store: nosey.db");
        let warn = Item::warn("buffersize", "50", "set it to 1");
        assert_eq!(warn.render(), "! buffersize: 50\n    fix: set it to 1");
        let fail = Item::fail("database", "refused\n  twice", "start it");
        assert_eq!(
            fail.render(),
            "✗ database: refused twice\n    fix: start it"
        );
        assert_eq!(
            Item::skip("lag", "no database").render(),
            "- lag: skipped: no database"
        );
    }

    #[test]
    fn json_shape() {
        let v = serde_json::to_value(Item::warn("logguests", "0", "set 1")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"check": "logguests", "status": "warn", "detail": "0", "fix": "set 1"})
        );
        let v = serde_json::to_value(Item::skip("lag", "x")).unwrap();
        assert_eq!(v["status"], "skip");
        assert!(v["fix"].is_null());
    }
}
