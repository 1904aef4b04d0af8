//! Checks on single values: names, event patterns, header names. Each returns
//! a message for the administrator; callers prefix it with the key.

/// `[a-z][a-z0-9_]*`: Moodle's table and column names.
pub(crate) fn is_db_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Moodle's `$CFG->prefix`: a database name of at most 10 characters.
pub(crate) fn check_prefix(s: &str) -> Result<(), String> {
    if is_db_name(s) && s.len() <= 10 {
        return Ok(());
    }
    Err(format!(
        "\"{s}\" is not a Moodle table prefix (lowercase letters, digits and _, starting with a \
         letter, at most 10 characters; see $CFG->prefix in Moodle's config.php)"
    ))
}

pub(crate) fn check_db_name(s: &str) -> Result<(), String> {
    if is_db_name(s) {
        return Ok(());
    }
    Err(format!(
        "\"{s}\" is not a table or column name (lowercase letters, digits and _, starting with a letter)"
    ))
}

pub(crate) const MAX_ROUTE_NAME: usize = 64;

/// Route names appear in URLs, metrics and environment variables.
pub(crate) fn is_route_name(s: &str) -> bool {
    (1..=MAX_ROUTE_NAME).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub(crate) fn check_route_name(s: &str) -> Result<(), String> {
    if is_route_name(s) {
        return Ok(());
    }
    Err(format!(
        "\"{s}\" is not a route name (1 to {MAX_ROUTE_NAME} lowercase letters, digits, _ and -)"
    ))
}

const QUOTE_HINT: &str = "Moodle event names look like '\\core\\event\\course_created'; in TOML, \
                          write them in single quotes so the backslashes stay as typed";

/// An event-name pattern: a Moodle class name, `*` and `?` as wildcards.
pub(crate) fn check_event_pattern(p: &str) -> Result<(), String> {
    if p == "*" {
        return Ok(());
    }
    if !p.starts_with('\\') {
        return Err(format!(
            "\"{p}\" does not start with a backslash ({QUOTE_HINT})"
        ));
    }
    if p.contains("\\\\") {
        return Err(format!(
            "\"{p}\" has a doubled backslash ({QUOTE_HINT}, or write each as \\\\ in double quotes)"
        ));
    }
    let bad = p
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_\\*?".contains(*c)));
    match bad {
        Some(c) => Err(format!(
            "\"{p}\" contains '{c}', which no Moodle event name has (use letters, digits, _, \\, \
             and * or ? as wildcards)"
        )),
        None => Ok(()),
    }
}

/// RFC 9110 `token`: what a header name may be made of.
pub(crate) fn is_http_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// Headers nosey computes itself; letting a route set them would break the
/// body's framing or the signature.
pub(crate) const RESERVED_HEADERS: [&str; 7] = [
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

pub(crate) fn check_header_name(name: &str) -> Result<(), String> {
    if !is_http_token(name) {
        return Err(format!(
            "\"{name}\" is not a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)"
        ));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str()) {
        return Err(format!("\"{name}\" cannot be set: nosey sets it"));
    }
    if lower == "authorization" {
        return Err("\"Authorization\" is set with `auth`, not `headers`".into());
    }
    Ok(())
}

/// Header values are secrets, so the message never repeats the value.
pub(crate) fn check_header_value(value: &str) -> Result<(), String> {
    if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        return Err("the value contains a line break or NUL, which HTTP headers cannot".into());
    }
    Ok(())
}

/// `[a-z]+`: Moodle's `origin` column (web, ws, cli, restore, …).
pub(crate) fn is_origin(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase())
}

/// Frankenstyle component names: `core`, `mod_forum`, `core_course`.
pub(crate) fn is_component(s: &str) -> bool {
    is_db_name(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_db_name("logstore_standard_log"));
        assert!(!is_db_name("Log"));
        assert!(!is_db_name("1x"));
        assert!(!is_db_name(""));
        assert!(check_prefix("mdl_").is_ok());
        assert!(check_prefix("abcdefghij").is_ok());
        assert!(check_prefix("abcdefghijk").is_err());
        assert!(check_prefix("").is_err());
        assert!(is_route_name("crm-north_2"));
        assert!(!is_route_name("CRM"));
        assert!(!is_route_name(&"a".repeat(65)));
    }

    #[test]
    fn event_patterns() {
        for ok in [
            "*",
            r"\core\event\course_created",
            r"\mod_*\event\*",
            r"\core\event\?",
        ] {
            assert!(check_event_pattern(ok).is_ok(), "{ok}");
        }
        let err = check_event_pattern("core_event_course_created").unwrap_err();
        assert!(err.contains("single quotes"), "{err}");
        assert!(
            check_event_pattern(r"\\core\\event")
                .unwrap_err()
                .contains("doubled")
        );
        assert!(
            check_event_pattern(r"\core\event\x y")
                .unwrap_err()
                .contains("' '")
        );
        assert!(check_event_pattern("/core/event/x").is_err());
    }

    #[test]
    fn headers() {
        assert!(check_header_name("X-Tenant").is_ok());
        assert!(check_header_name("X Tenant").is_err());
        assert!(check_header_name("").is_err());
        assert!(
            check_header_name("Webhook-Signature")
                .unwrap_err()
                .contains("nosey sets it")
        );
        assert!(
            check_header_name("authorization")
                .unwrap_err()
                .contains("auth")
        );
        assert!(check_header_value("abc").is_ok());
        assert!(check_header_value("a\r\nX-Evil: 1").is_err());
    }
}
