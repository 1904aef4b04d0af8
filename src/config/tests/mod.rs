//! Tests of loading as a whole: text in, `Config` or message out.

mod env;
mod fuzz;
mod load;
mod routes;
mod secrets;

use super::*;

pub(super) const MINIMAL: &str = r#"[moodle]
url = "postgres://u@h/db"

[[route]]
name = "r"
url = "https://h/x"
preset = "enrolled"
"#;

pub(super) fn load_text(text: &str) -> Result<Config, ConfigError> {
    load_from_str(text, None, &MapEnv::new())
}

pub(super) fn load_env(text: &str, env: &MapEnv) -> Result<Config, ConfigError> {
    load_from_str(text, None, env)
}

/// The error message, for a text that must not load.
pub(super) fn error_of(text: &str) -> String {
    match load_text(text) {
        Ok(_) => panic!("loaded, but should not have:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// MINIMAL with `extra` appended to its route table.
pub(super) fn with_route_keys(extra: &str) -> String {
    format!("{MINIMAL}{extra}\n")
}
