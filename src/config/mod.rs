//! nosey's configuration: the `nosey.toml` schema, how it is loaded (file,
//! `${VAR}`, `X_file` keys, `NOSEY_…` overrides, `[defaults]`), and the checks
//! that turn a mistake into a message naming the key rather than a failure
//! at the first delivery.

mod assemble;
mod document;
mod duration;
mod env;
mod error;
mod files;
mod keypath;
mod preset;
mod raw;
mod route;
mod route_build;
mod secret;
mod size;
mod start;
mod url;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use assemble::{
    DEFAULT_BATCH_SIZE, DEFAULT_GAP_TIMEOUT, DEFAULT_MAX_OPEN_GAPS, DEFAULT_POLL_INTERVAL,
    DEFAULT_PREFIX, DEFAULT_REDACT, DEFAULT_RETENTION, DEFAULT_STORE_PATH, DEFAULT_TABLE,
};
pub use duration::{DurationError, parse_duration};
pub use env::{EnvSource, MapEnv, SystemEnv};
pub use error::ConfigError;
pub use preset::Preset;
pub use route::{
    Auth, DEFAULT_CONCURRENCY, DEFAULT_MAX_BODY_SIZE, DEFAULT_RETRY_MAX_AGE,
    DEFAULT_RETRY_SCHEDULE, DEFAULT_TIMEOUT, Filter, Format, Ordering, RetryConfig, RouteConfig,
    TlsConfig,
};
pub use secret::{SIGNING_KEY_BYTES, Secret};
pub use size::{SizeError, parse_size};
pub use start::{StartAt, StartAtError};
pub use url::{DbKind, DbUrl, mask_password as mask_url};

/// The whole configuration, defaults applied and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Global switch: when false nosey keeps reading but sends and queues nothing.
    pub enabled: bool,
    pub site: SiteConfig,
    pub moodle: MoodleConfig,
    /// Table -> columns never sent. Always holds the built-in defaults; the
    /// file can only add to them.
    pub redact: BTreeMap<String, Vec<String>>,
    pub store: StoreConfig,
    pub routes: Vec<RouteConfig>,
    /// The file the configuration was loaded from, if any.
    pub source_path: Option<PathBuf>,
}

/// `[site]`.
#[derive(Debug, Clone, Default)]
pub struct SiteConfig {
    /// Moodle's wwwroot.
    pub url: Option<String>,
}

/// `[moodle]`: the database and how its log is read.
#[derive(Debug, Clone)]
pub struct MoodleConfig {
    pub url: DbUrl,
    pub prefix: String,
    pub table: String,
    pub batch_size: u32,
    pub poll_interval: Duration,
    pub gap_timeout: Duration,
    pub max_open_gaps: usize,
    pub start: StartAt,
    pub include_restored: bool,
}

/// `[store]`: nosey's own state.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Resolved against the config file's directory.
    pub path: PathBuf,
    pub retention: Duration,
}

impl Config {
    pub fn route(&self, name: &str) -> Option<&RouteConfig> {
        self.routes.iter().find(|r| r.name == name)
    }
}

/// Loads a configuration file, with the process environment for `${VAR}`
/// and `NOSEY_…` overrides. Errors start with the file's path.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut config =
        load_from_str(&text, path.parent(), &SystemEnv).map_err(|e| e.in_file(path))?;
    config.source_path = Some(path.to_path_buf());
    Ok(config)
}

/// Loads a configuration from text. `base_dir` is where relative paths
/// start (the config file's directory); `env` is the only source of
/// variables.
pub fn load_from_str(
    text: &str,
    base_dir: Option<&Path>,
    env: &dyn EnvSource,
) -> Result<Config, ConfigError> {
    let mut parsed = document::parse(text)?;
    let expansions = env::expand_document(text, &mut parsed.doc, env)?;
    let raw = document::deserialize(text, &parsed, &expansions)?;
    let raw = env::apply_overrides(raw, &parsed.doc, env)?;
    assemble::build(raw, base_dir)
}

/// A complete, commented configuration that loads as it is.
pub fn example() -> &'static str {
    include_str!("../../nosey.example.toml")
}
