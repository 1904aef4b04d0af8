//! The keys of a `[[route]]`: where matching events go, and how.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use wildmatch::WildMatch;

use super::preset::Preset;
use super::secret::Secret;
use super::url::mask_password;

/// One `[[route]]`, with `[defaults]` and built-in defaults applied.
#[derive(Clone)]
pub struct RouteConfig {
    pub name: String,
    pub url: Option<String>,
    pub enabled: bool,
    pub events: Vec<String>,
    pub presets: Vec<Preset>,
    pub filter: Filter,
    pub exclude_users: Vec<i64>,
    pub exclude_origins: Vec<String>,
    pub format: Format,
    pub headers: Vec<(String, Secret)>,
    pub auth: Option<Auth>,
    pub secrets: Vec<Secret>,
    pub tls: TlsConfig,
    pub timeout: Duration,
    pub concurrency: usize,
    pub ordering: Ordering,
    pub retry: RetryConfig,
    pub max_body_size: u64,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_CONCURRENCY: usize = 16;
pub const DEFAULT_MAX_BODY_SIZE: u64 = 1 << 20;

impl RouteConfig {
    /// Every pattern the route listens to: its `events` and its presets' events.
    pub fn event_patterns(&self) -> impl Iterator<Item = &str> {
        let presets = self.presets.iter().flat_map(|p| p.events().iter().copied());
        self.events.iter().map(String::as_str).chain(presets)
    }

    /// Whether an event name (`\core\event\course_created`) is one the route
    /// listens to. Filters and exclusions are not considered here.
    pub fn matches_event(&self, event_name: &str) -> bool {
        self.event_patterns()
            .any(|p| WildMatch::new(p).matches(event_name))
    }
}

// Written by hand so a password in the receiver URL never shows.
impl fmt::Debug for RouteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteConfig")
            .field("name", &self.name)
            .field("url", &self.url.as_deref().map(mask_password))
            .field("enabled", &self.enabled)
            .field("events", &self.events)
            .field("presets", &self.presets)
            .field("filter", &self.filter)
            .field("exclude_users", &self.exclude_users)
            .field("exclude_origins", &self.exclude_origins)
            .field("format", &self.format)
            .field("headers", &self.headers)
            .field("auth", &self.auth)
            .field("secrets", &self.secrets)
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .field("concurrency", &self.concurrency)
            .field("ordering", &self.ordering)
            .field("retry", &self.retry)
            .field("max_body_size", &self.max_body_size)
            .finish()
    }
}

/// Constraints on log-row columns; an empty list constrains nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub courseid: Vec<i64>,
    pub crud: Vec<char>,
    pub component: Vec<String>,
    pub edulevel: Vec<i64>,
    pub contextlevel: Vec<i64>,
}

/// The body shape a route posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Nosey,
    /// The 2016 plugin's `{"event": …, "record": …}`.
    Seed,
    CloudEvents,
}

/// What deliveries of one route are serialised on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ordering {
    /// Events about the same object arrive in order.
    #[default]
    Object,
    None,
    Course,
    User,
    /// One delivery at a time for the whole route.
    Route,
}

/// How nosey authenticates to the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

/// TLS to the receiver. Paths are already resolved against the config file's
/// directory and were readable at load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    pub ca: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub client_key_password: Option<Secret>,
    pub insecure_skip_verify: bool,
}

/// When failed deliveries are tried again: one attempt per schedule entry
/// after the first, and none once the event is older than `max_age`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    pub schedule: Vec<Duration>,
    pub max_age: Duration,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

pub const DEFAULT_RETRY_SCHEDULE: [Duration; 10] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * MINUTE),
    Duration::from_secs(10 * MINUTE),
    Duration::from_secs(30 * MINUTE),
    Duration::from_secs(HOUR),
    Duration::from_secs(3 * HOUR),
    Duration::from_secs(6 * HOUR),
    Duration::from_secs(12 * HOUR),
    Duration::from_secs(24 * HOUR),
];

pub const DEFAULT_RETRY_MAX_AGE: Duration = Duration::from_secs(72 * HOUR);

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
            max_age: DEFAULT_RETRY_MAX_AGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(events: &[&str], presets: &[Preset]) -> RouteConfig {
        RouteConfig {
            name: "r".into(),
            url: Some("https://u:pw@h/x".into()),
            enabled: true,
            events: events.iter().map(|s| s.to_string()).collect(),
            presets: presets.to_vec(),
            filter: Filter::default(),
            exclude_users: vec![],
            exclude_origins: vec![],
            format: Format::default(),
            headers: vec![],
            auth: None,
            secrets: vec![],
            tls: TlsConfig::default(),
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            ordering: Ordering::default(),
            retry: RetryConfig::default(),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }

    #[test]
    fn matches_patterns_and_presets() {
        let r = route(&[r"\mod_forum\event\*"], &[Preset::CourseCrud]);
        assert!(r.matches_event(r"\mod_forum\event\post_created"));
        assert!(r.matches_event(r"\core\event\course_updated"));
        assert!(!r.matches_event(r"\core\event\user_created"));
        assert!(route(&["*"], &[]).matches_event(r"\anything\event\x"));
        assert!(
            route(&[r"\core\event\course_?reated"], &[])
                .matches_event(r"\core\event\course_created")
        );
    }

    #[test]
    fn debug_masks_url_password() {
        let text = format!("{:?}", route(&["*"], &[]));
        assert!(!text.contains("pw@"), "{text}");
        assert!(text.contains("u:***@h"), "{text}");
    }
}
