//! From the `[[route]]` tables as written to `RouteConfig`s: `[defaults]`
//! applied, built-in defaults filled in, files read, every value checked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::error::Problems;
use super::files::{self, SecretKey};
use super::keypath::route_label;
use super::raw::{RawAuth, RawFilter, RawRetry, RawRoute, RawTls};
use super::route::{
    Auth, DEFAULT_CONCURRENCY, DEFAULT_MAX_BODY_SIZE, DEFAULT_TIMEOUT, Filter, RetryConfig,
    RouteConfig, TlsConfig,
};
use super::secret::{Secret, check_signing_secret};
use super::url::check_http_url;
use super::validate::{self, check_event_pattern, check_header_name, check_header_value};

const CONCURRENCY: std::ops::RangeInclusive<usize> = 1..=1024;
const MIN_BODY_SIZE: u64 = 1024;
const EDULEVELS: std::ops::RangeInclusive<i64> = 0..=2;

/// Builds every route, checking names are unique.
pub(crate) fn build_routes(
    raws: Vec<RawRoute>,
    defaults: &RawRoute,
    base: Option<&Path>,
    p: &mut Problems,
) -> Vec<RouteConfig> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut routes = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let route = build_route(i, raw.inherit(defaults), base, p);
        let first = *seen.entry(route.name.clone()).or_insert(i);
        if first != i && !route.name.is_empty() {
            let message = format!(
                "the name is already used by [[route]] #{} (names must be unique)",
                first + 1
            );
            p.push(route_label(i, Some(&route.name)), message);
        }
        routes.push(route);
    }
    routes
}

/// Everything the builder of one route needs to report a problem.
struct Ctx<'a> {
    label: String,
    base: Option<&'a Path>,
    p: &'a mut Problems,
}

impl Ctx<'_> {
    fn push(&mut self, key: &str, message: impl std::fmt::Display) {
        self.p.push(format!("{}: {key}", self.label), message);
    }
}

fn build_route(i: usize, raw: RawRoute, base: Option<&Path>, p: &mut Problems) -> RouteConfig {
    let mut cx = Ctx {
        label: route_label(i, raw.name.as_deref()),
        base,
        p,
    };
    let name = route_name(raw.name, &mut cx);
    let enabled = raw.enabled.unwrap_or(true);
    let url = route_url(raw.url, enabled, &mut cx);
    let events = raw.events.unwrap_or_default();
    let presets = raw.preset.map(|p| p.0).unwrap_or_default();
    check_events(&events, presets.is_empty(), &mut cx);
    RouteConfig {
        name,
        url,
        enabled,
        events,
        presets,
        filter: filter(raw.filter.unwrap_or_default(), &mut cx),
        exclude_users: raw.exclude_users.unwrap_or_default(),
        exclude_origins: origins(raw.exclude_origins.unwrap_or_default(), &mut cx),
        format: raw.format.unwrap_or_default(),
        headers: headers(raw.headers.unwrap_or_default(), &mut cx),
        auth: raw.auth.and_then(|a| auth(a, &mut cx)),
        secrets: secrets(raw.secrets, raw.secrets_file, &mut cx),
        tls: tls(raw.tls.unwrap_or_default(), &mut cx),
        timeout: timeout(raw.timeout.map(|d| d.0), &mut cx),
        concurrency: concurrency(raw.concurrency, &mut cx),
        ordering: raw.ordering.unwrap_or_default(),
        retry: retry(raw.retry, &mut cx),
        max_body_size: body_size(raw.max_body_size.map(|s| s.0), &mut cx),
    }
}

fn route_name(name: Option<String>, cx: &mut Ctx) -> String {
    match name {
        None => {
            cx.p.push(&cx.label, "`name` is required (e.g. name = \"crm\")");
            String::new()
        }
        Some(n) => {
            if let Err(m) = validate::check_route_name(&n) {
                cx.push("name", m);
            }
            n
        }
    }
}

fn route_url(url: Option<String>, enabled: bool, cx: &mut Ctx) -> Option<String> {
    match &url {
        Some(u) => {
            if let Err(m) = check_http_url(u) {
                cx.push("url", m);
            }
        }
        None if enabled => cx.push(
            "url",
            "is required (the receiver's address; or set enabled = false)",
        ),
        None => {}
    }
    url
}

fn check_events(events: &[String], no_presets: bool, cx: &mut Ctx) {
    for (i, e) in events.iter().enumerate() {
        if let Err(m) = check_event_pattern(e) {
            cx.push(&format!("events[{i}]"), m);
        }
    }
    if events.is_empty() && no_presets {
        cx.p.push(
            &cx.label,
            "set `events` or `preset` (or both): a route without them receives nothing",
        );
    }
}

fn filter(raw: RawFilter, cx: &mut Ctx) -> Filter {
    let crud = raw
        .crud
        .0
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s.as_str() {
            "c" | "r" | "u" | "d" => s.chars().next(),
            _ => {
                cx.push(
                    &format!("filter.crud[{i}]"),
                    format!("\"{s}\" is not one of \"c\", \"r\", \"u\", \"d\""),
                );
                None
            }
        })
        .collect();
    for (i, c) in raw.component.0.iter().enumerate() {
        if !validate::is_component(c) {
            let msg = format!("\"{c}\" is not a Moodle component (like \"core\" or \"mod_forum\")");
            cx.push(&format!("filter.component[{i}]"), msg);
        }
    }
    for (i, level) in raw.edulevel.0.iter().enumerate() {
        if !EDULEVELS.contains(level) {
            let msg = format!("{level} is not an edulevel (0 other, 1 teaching, 2 participating)");
            cx.push(&format!("filter.edulevel[{i}]"), msg);
        }
    }
    check_non_negative(&raw.courseid.0, "filter.courseid", cx);
    check_non_negative(&raw.contextlevel.0, "filter.contextlevel", cx);
    Filter {
        courseid: raw.courseid.0,
        crud,
        component: raw.component.0,
        edulevel: raw.edulevel.0,
        contextlevel: raw.contextlevel.0,
    }
}

fn check_non_negative(values: &[i64], key: &str, cx: &mut Ctx) {
    for (i, v) in values.iter().enumerate() {
        if *v < 0 {
            cx.push(&format!("{key}[{i}]"), format!("{v} cannot be negative"));
        }
    }
}

fn origins(origins: Vec<String>, cx: &mut Ctx) -> Vec<String> {
    for (i, o) in origins.iter().enumerate() {
        if !validate::is_origin(o) {
            let msg =
                format!("\"{o}\" is not an origin (lowercase letters, e.g. web, ws, cli, restore)");
            cx.push(&format!("exclude_origins[{i}]"), msg);
        }
    }
    origins
}

fn headers(raw: BTreeMap<String, String>, cx: &mut Ctx) -> Vec<(String, Secret)> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for (name, value) in raw {
        let key = format!("headers.{name}");
        if let Err(m) = check_header_name(&name).and_then(|()| check_header_value(&value)) {
            cx.push(&key, m);
        }
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            cx.push(&key, "is set twice (header names ignore case)");
        }
        seen.push(lower);
        out.push((name, Secret::new(value)));
    }
    out
}

fn auth(raw: RawAuth, cx: &mut Ctx) -> Option<Auth> {
    let kinds = [
        raw.bearer.is_some() || raw.bearer_file.is_some(),
        raw.basic.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        cx.push(
            "auth",
            "set exactly one of `bearer`, `bearer_file` or `basic`",
        );
        return None;
    }
    let prefix = format!("{}: ", cx.label);
    if let Some(basic) = raw.basic {
        if basic.username.is_empty() || basic.username.contains(':') {
            cx.push(
                "auth.basic.username",
                "must be non-empty and contain no ':'",
            );
        }
        if basic.password.is_none() && basic.password_file.is_none() {
            cx.push("auth.basic", "set `password` or `password_file`");
            return None;
        }
        let key = SecretKey {
            prefix: &prefix,
            key: "auth.basic.password",
            inline: basic.password,
            file: basic.password_file,
        };
        let password = files::pick_secret(key, cx.base, cx.p)?;
        return Some(Auth::Basic {
            username: basic.username,
            password,
        });
    }
    let key = SecretKey {
        prefix: &prefix,
        key: "auth.bearer",
        inline: raw.bearer,
        file: raw.bearer_file,
    };
    files::pick_secret(key, cx.base, cx.p).map(Auth::Bearer)
}

fn secrets(inline: Option<Vec<String>>, file: Option<String>, cx: &mut Ctx) -> Vec<Secret> {
    let (key, values) = match (inline, file) {
        (Some(_), Some(_)) => {
            cx.push(
                "secrets",
                "set either `secrets` or `secrets_file`, not both",
            );
            return Vec::new();
        }
        (Some(list), None) => ("secrets", list),
        (None, Some(path)) => match files::read(cx.base, &path) {
            Ok(text) => ("secrets_file", secret_lines(&text)),
            Err(m) => {
                cx.push("secrets_file", m);
                return Vec::new();
            }
        },
        (None, None) => return Vec::new(),
    };
    let secrets: Vec<Secret> = values.into_iter().map(Secret::new).collect();
    for (i, s) in secrets.iter().enumerate() {
        if let Err(m) = check_signing_secret(s) {
            let at = if key == "secrets" {
                format!("secrets[{i}]")
            } else {
                format!("secrets_file: secret #{}", i + 1)
            };
            cx.push(&at, m);
        }
    }
    secrets
}

/// One secret a line; blank lines and `#` comments skipped.
fn secret_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn tls(raw: RawTls, cx: &mut Ctx) -> TlsConfig {
    if raw.client_cert.is_some() != raw.client_key.is_some() {
        cx.push(
            "tls",
            "`client_cert` and `client_key` go together: set both or neither",
        );
    }
    let has_key_password =
        raw.client_key_password.is_some() || raw.client_key_password_file.is_some();
    if has_key_password && raw.client_key.is_none() {
        cx.push(
            "tls",
            "a client key password is set but `client_key` is not",
        );
    }
    let mut file = |key: &str, path: Option<String>| {
        let full = files::check_readable(cx.base, path.as_deref()?);
        full.map_err(|m| cx.push(&format!("tls.{key}"), m)).ok()
    };
    let ca = file("ca", raw.ca);
    let client_cert = file("client_cert", raw.client_cert);
    let client_key = file("client_key", raw.client_key);
    let prefix = format!("{}: ", cx.label);
    let key = SecretKey {
        prefix: &prefix,
        key: "tls.client_key_password",
        inline: raw.client_key_password,
        file: raw.client_key_password_file,
    };
    let client_key_password = files::pick_secret(key, cx.base, cx.p);
    TlsConfig {
        ca,
        client_cert,
        client_key,
        client_key_password,
        insecure_skip_verify: raw.insecure_skip_verify.unwrap_or(false),
    }
}

fn timeout(t: Option<Duration>, cx: &mut Ctx) -> Duration {
    let t = t.unwrap_or(DEFAULT_TIMEOUT);
    if t.is_zero() {
        cx.push("timeout", "must be longer than 0 (e.g. \"10s\")");
    }
    t
}

fn concurrency(c: Option<usize>, cx: &mut Ctx) -> usize {
    let c = c.unwrap_or(DEFAULT_CONCURRENCY);
    if !CONCURRENCY.contains(&c) {
        let msg = format!(
            "{c} is out of range ({} to {})",
            CONCURRENCY.start(),
            CONCURRENCY.end()
        );
        cx.push("concurrency", msg);
    }
    c
}

fn retry(raw: Option<RawRetry>, cx: &mut Ctx) -> RetryConfig {
    let default = RetryConfig::default();
    let Some(raw) = raw else {
        return default;
    };
    let schedule: Vec<Duration> = match raw.schedule {
        Some(s) => s.into_iter().map(|d| d.0).collect(),
        None => default.schedule,
    };
    for (i, d) in schedule.iter().enumerate() {
        if d.is_zero() {
            cx.push(
                &format!("retry.schedule[{i}]"),
                "must be longer than 0 (e.g. \"10ms\", \"5s\")",
            );
        }
    }
    RetryConfig {
        schedule,
        max_age: raw.max_age.map_or(default.max_age, |d| d.0),
    }
}

fn body_size(size: Option<u64>, cx: &mut Ctx) -> u64 {
    let size = size.unwrap_or(DEFAULT_MAX_BODY_SIZE);
    if size < MIN_BODY_SIZE {
        cx.push(
            "max_body_size",
            format!("{size} bytes is below the minimum of 1KiB"),
        );
    }
    size
}
