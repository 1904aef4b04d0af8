//! The file as serde sees it: every key optional and unknown keys refused, so
//! toml reports a misspelt key or a wrong type with its line and column before
//! any meaning is given to the values.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IntoDeserializer, SeqAccess, Visitor};

use super::duration::Dur;
use super::preset::Preset;
use super::route::{Format, Ordering};
use super::size::ByteSize;
use super::start::StartAt;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub enabled: Option<bool>,
    pub site: Option<RawSite>,
    pub moodle: Option<RawMoodle>,
    pub redact: Option<BTreeMap<String, Vec<String>>>,
    pub store: Option<RawStore>,
    pub defaults: Option<RawDefaults>,
    pub route: Option<Vec<RawRoute>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSite {
    pub url: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMoodle {
    pub url: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<String>,
    pub prefix: Option<String>,
    pub table: Option<String>,
    pub batch_size: Option<u32>,
    pub poll_interval: Option<Dur>,
    pub gap_timeout: Option<Dur>,
    pub max_open_gaps: Option<usize>,
    pub start: Option<StartAt>,
    pub include_restored: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    pub path: Option<String>,
    pub retention: Option<Dur>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub name: Option<String>,
    pub url: Option<String>,
    pub enabled: Option<bool>,
    pub events: Option<Vec<String>>,
    pub preset: Option<OneOrMany<Preset>>,
    pub filter: Option<RawFilter>,
    pub exclude_users: Option<Vec<i64>>,
    pub exclude_origins: Option<Vec<String>>,
    pub format: Option<Format>,
    pub headers: Option<BTreeMap<String, String>>,
    pub auth: Option<RawAuth>,
    pub secrets: Option<Vec<String>>,
    pub secrets_file: Option<String>,
    pub tls: Option<RawTls>,
    pub timeout: Option<Dur>,
    pub concurrency: Option<usize>,
    pub ordering: Option<Ordering>,
    pub retry: Option<RawRetry>,
    pub max_body_size: Option<ByteSize>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    #[serde(default)]
    pub courseid: OneOrMany<i64>,
    #[serde(default)]
    pub crud: OneOrMany<String>,
    #[serde(default)]
    pub component: OneOrMany<String>,
    #[serde(default)]
    pub edulevel: OneOrMany<i64>,
    #[serde(default)]
    pub contextlevel: OneOrMany<i64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuth {
    pub bearer: Option<String>,
    pub bearer_file: Option<String>,
    pub basic: Option<RawBasic>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasic {
    pub username: String,
    pub password: Option<String>,
    pub password_file: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub ca: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub client_key_password: Option<String>,
    pub client_key_password_file: Option<String>,
    pub insecure_skip_verify: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    pub schedule: Option<Vec<Dur>>,
    pub max_age: Option<Dur>,
}

/// `[defaults]`: a route without a name. Refusing `name` inside `Deserialize`
/// lets toml point at the table.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawDefaults(pub RawRoute);

impl<'de> Deserialize<'de> for RawDefaults {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let route = RawRoute::deserialize(d)?;
        if route.name.is_some() {
            return Err(de::Error::custom(
                "`name` cannot be set in [defaults]: each [[route]] needs its own name",
            ));
        }
        Ok(RawDefaults(route))
    }
}

impl RawRoute {
    /// Fills every key the route leaves unset from `[defaults]`. Keys replace
    /// whole; only `headers` merge, the route's own winning.
    pub(crate) fn inherit(mut self, d: &RawRoute) -> RawRoute {
        macro_rules! inherit {
            ($($key:ident),*) => {$(
                if self.$key.is_none() {
                    self.$key = d.$key.clone();
                }
            )*};
        }
        inherit!(
            url,
            enabled,
            events,
            preset,
            filter,
            exclude_users,
            exclude_origins,
            format,
            auth,
            tls,
            timeout,
            concurrency,
            ordering,
            retry,
            max_body_size
        );
        // `secrets` and `secrets_file` are one setting written two ways.
        if self.secrets.is_none() && self.secrets_file.is_none() {
            self.secrets = d.secrets.clone();
            self.secrets_file = d.secrets_file.clone();
        }
        self.headers = merge_headers(d.headers.as_ref(), self.headers);
        self
    }
}

/// Header names are case-insensitive, so `x-tenant` in a route replaces
/// `X-Tenant` from `[defaults]`.
fn merge_headers(
    defaults: Option<&BTreeMap<String, String>>,
    own: Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    let Some(defaults) = defaults else {
        return own;
    };
    let own = own.unwrap_or_default();
    let mut merged: BTreeMap<String, String> = defaults
        .iter()
        .filter(|(k, _)| !own.keys().any(|o| o.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    merged.extend(own);
    Some(merged)
}

/// A key that takes one value or a list of them: `preset = "enrolled"` or
/// `preset = ["enrolled", "unenrolled"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

struct OneOrManyVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
    type Value = OneOrMany<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value or a list of values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OneOrMany(items))
    }
}
