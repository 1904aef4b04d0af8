//! `nosey init`: a first `nosey.toml` written from Moodle's own `config.php`, so an admin
//! copies no credentials by hand.
//!
//! The pieces: [`read_site`] reads `config.php` (without PHP), `render` writes the commented
//! TOML, `grants` the SQL for a read-only database user, and `files` puts the files on disk
//! (the password file with mode 0600 from its first byte). The password is written only to
//! the password file: never into the TOML, never to the terminal.

mod files;
mod grants;
mod render;

use std::path::{Path, PathBuf};

use thiserror::Error;
use zeroize::Zeroizing;

pub use files::{write_config, write_secret};
pub use grants::{ReadonlyUser, generate_password, readonly_user};
pub use render::{PasswordSource, TomlInput, render};

use crate::moodle::config_php::{ConfigPhpError, DbConnection, PhpValue, parse_config_php};

#[derive(Debug, Error)]
pub enum InitError {
    #[error(
        "cannot read {}: {source} (give the path to Moodle's config.php, in the folder Moodle is installed in)",
        path.display()
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    ConfigPhp {
        path: PathBuf,
        source: ConfigPhpError,
    },
    #[error(
        "{} already exists: pass --force to overwrite it, or choose another path",
        path.display()
    )]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration made from config.php would not load: {0}")]
    Invalid(String),
}

/// What nosey needs from a Moodle site's `config.php`.
#[derive(Debug, Clone)]
pub struct MoodleSite {
    pub config_php: PathBuf,
    pub connection: DbConnection,
    /// `$CFG->wwwroot`, when written as a literal.
    pub wwwroot: Option<String>,
}

impl MoodleSite {
    /// The password as a literal, if config.php has one that is not empty.
    pub fn password(&self) -> Option<Zeroizing<String>> {
        match &self.connection.password {
            PhpValue::Str(s) if !s.is_empty() => Some(Zeroizing::new(s.clone())),
            PhpValue::Int(n) => Some(Zeroizing::new(n.to_string())),
            _ => None,
        }
    }

    /// Why there is no password to write, for the TOML and the terminal.
    pub fn password_source(&self) -> PasswordSource {
        match &self.connection.password {
            _ if self.password().is_some() => PasswordSource::Literal,
            PhpValue::Unsupported(expression) => PasswordSource::Computed(expression.clone()),
            _ => PasswordSource::Empty,
        }
    }
}

/// Reads `config.php` and finds the database connection in it.
pub fn read_site(path: &Path) -> Result<MoodleSite, InitError> {
    let text = std::fs::read_to_string(path).map_err(|source| InitError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let php_error = |source| InitError::ConfigPhp {
        path: path.to_path_buf(),
        source,
    };
    let parsed = parse_config_php(&text).map_err(php_error)?;
    let connection = parsed.connection().map_err(php_error)?;
    let wwwroot = parsed.wwwroot.clone().filter(|w| is_web_url(w));
    Ok(MoodleSite {
        config_php: path.to_path_buf(),
        connection,
        wwwroot,
    })
}

/// `[site] url` must be an http(s) URL; anything else is left for the admin to set.
fn is_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(body: &str) -> Result<MoodleSite, InitError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.php");
        std::fs::write(&path, body).unwrap();
        read_site(&path)
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let missing = read_site(Path::new("/nonexistent/config.php")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read /nonexistent/config.php")
        );
        let not_moodle = site("<?php echo 'hi';").unwrap_err().to_string();
        assert!(
            not_moodle.contains("not a Moodle config.php"),
            "{not_moodle}"
        );
        let sqlsrv = site("<?php $CFG->dbtype = 'sqlsrv'; $CFG->dbname = 'm'; $CFG->dbuser = 'u';")
            .unwrap_err()
            .to_string();
        assert!(sqlsrv.contains("this site uses sqlsrv"), "{sqlsrv}");
    }

    #[test]
    fn passwords_literal_computed_or_empty() {
        let base = "<?php $CFG->dbtype = 'pgsql'; $CFG->dbname = 'm'; $CFG->dbuser = 'u'; $CFG->dbhost = 'db';";
        let s = site(&format!(
            "{base} $CFG->dbpass = 'pw'; $CFG->wwwroot = 'https://m.example.org';"
        ))
        .unwrap();
        assert_eq!(s.password().as_deref().map(String::as_str), Some("pw"));
        assert_eq!(s.wwwroot.as_deref(), Some("https://m.example.org"));
        let s = site(&format!(
            "{base} $CFG->dbpass = getenv('PW'); $CFG->wwwroot = $x;"
        ))
        .unwrap();
        assert!(s.password().is_none());
        assert_eq!(
            s.password_source(),
            PasswordSource::Computed("getenv('PW')".into())
        );
        assert_eq!(s.wwwroot, None);
        let s = site(&format!("{base} $CFG->dbpass = '';")).unwrap();
        assert_eq!(s.password_source(), PasswordSource::Empty);
    }
}
