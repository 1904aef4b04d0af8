//! What can go wrong writing a simulated site into a database.

use thiserror::Error;

use crate::moodle::db::is_safe_identifier;
use crate::moodle::error::Engine;

#[derive(Debug, Error)]
pub enum SimError {
    #[error(
        "table prefix {0:?} is not a Moodle prefix: use lowercase letters, digits and \
         underscores, at most 10 characters, like \"mdl_\""
    )]
    BadPrefix(String),

    #[error("{0:?} is not a plain lowercase SQL name; the simulator never writes it")]
    BadName(String),

    #[error("{what} on {engine} failed: {source}")]
    Database {
        what: &'static str,
        engine: Engine,
        #[source]
        source: sqlx::Error,
    },
}

/// Moodle's rule for `$CFG->prefix` (at most 10 characters since 4.3), with the characters
/// that keep every table name a plain identifier.
pub fn check_prefix(prefix: &str) -> Result<(), SimError> {
    let plain = prefix
        .chars()
        .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'));
    let starts_ok = prefix.is_empty() || prefix.starts_with(|c: char| c.is_ascii_lowercase());
    if plain && starts_ok && prefix.len() <= 10 {
        Ok(())
    } else {
        Err(SimError::BadPrefix(prefix.to_string()))
    }
}

/// A table or column name that may go into SQL text.
pub fn check_name(name: &str) -> Result<(), SimError> {
    if is_safe_identifier(name) {
        Ok(())
    } else {
        Err(SimError::BadName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("mdl_").is_ok());
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("m2_").is_ok());
        assert!(check_prefix("MDL_").is_err());
        assert!(check_prefix("x\"; drop").is_err());
        assert!(check_prefix("_mdl").is_err());
        assert!(check_prefix("averylongprefix_").is_err());
        assert!(check_name("course_modules").is_ok());
        assert!(check_name("Course").is_err());
    }
}
