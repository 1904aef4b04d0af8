//! The one error type `load` returns. Every message is written for the Moodle
//! administrator who edits `nosey.toml`, and none ever carries a secret value.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file itself could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML, or a key is unknown or has the wrong type.
    /// The message is toml's, with line, column and the offending line.
    #[error("{}{message}", at(.file))]
    Parse {
        file: Option<PathBuf>,
        message: String,
    },
    /// An environment variable was needed but unset, or an override was unusable.
    #[error("{}environment variable {var}: {message}", at(.file))]
    Env {
        file: Option<PathBuf>,
        var: String,
        message: String,
    },
    /// The file parsed, but some values make no sense; all of them are listed.
    #[error("{}invalid configuration:{}", at(.file), bullets(.problems))]
    Invalid {
        file: Option<PathBuf>,
        problems: Vec<String>,
    },
}

impl ConfigError {
    /// Names the file the error came from, so the message starts with it.
    pub(crate) fn in_file(mut self, path: &Path) -> Self {
        match &mut self {
            ConfigError::Io { .. } => {}
            ConfigError::Parse { file, .. }
            | ConfigError::Env { file, .. }
            | ConfigError::Invalid { file, .. } => *file = Some(path.to_path_buf()),
        }
        self
    }

    /// The individual problems of an `Invalid` error (empty for other kinds).
    pub fn problems(&self) -> &[String] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn at(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map(|f| format!("{}: ", f.display()))
        .unwrap_or_default()
}

fn bullets(problems: &[String]) -> String {
    let mut out = String::new();
    for p in problems {
        let _ = write!(out, "\n  - {p}");
    }
    out
}

/// Collects validation problems so the administrator sees all of them at once
/// instead of fixing one per restart.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, key: impl std::fmt::Display, message: impl std::fmt::Display) {
        self.0.push(format!("{key}: {message}"));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_error(self) -> ConfigError {
        ConfigError::Invalid {
            file: None,
            problems: self.0,
        }
    }
}
