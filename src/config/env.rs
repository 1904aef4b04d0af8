//! The environment's part in the configuration: `${VAR}` in string values,
//! and `NOSEY_<SECTION>__<KEY>` variables that override keys of the file
//! (how containers and systemd units usually pass settings and secrets).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::de::{DeTable, DeValue, Deserializer};
use toml::{Spanned, Table, Value};

use super::error::ConfigError;
use super::keypath::{Seg, line_col, render, route_name};
use super::raw::RawConfig;

/// Where variables come from. `load` uses the process environment; tests
/// pass a `MapEnv`. A plain lookup closure works too (it offers no overrides).
pub trait EnvSource {
    fn get(&self, name: &str) -> Option<String>;
    /// Every variable, for finding the `NOSEY_…__…` overrides.
    fn vars(&self) -> Vec<(String, String)>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

impl EnvSource for SystemEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn vars(&self) -> Vec<(String, String)> {
        // Variables that are not UTF-8 cannot name nosey keys; skip them.
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }
}

/// A fixed set of variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapEnv(pub BTreeMap<String, String>);

impl MapEnv {
    pub fn new() -> Self {
        MapEnv::default()
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

impl<const N: usize> From<[(&str, &str); N]> for MapEnv {
    fn from(pairs: [(&str, &str); N]) -> Self {
        MapEnv(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl EnvSource for MapEnv {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn vars(&self) -> Vec<(String, String)> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl<F: Fn(&str) -> Option<String>> EnvSource for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }

    fn vars(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

// ---------------------------------------------------------------- ${VAR}

/// What went wrong in one string; the caller adds key and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    Unset(String),
    Unclosed,
    BadName,
}

/// Replaces `${NAME}` with the variable's value; `$${` stands for a literal
/// `${`. Returns `None` when the string has nothing to expand.
pub(crate) fn expand_vars(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ExpandError> {
    if !s.contains("${") {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or(ExpandError::Unclosed)?;
            let name = &after[..end];
            if !is_var_name(name) {
                return Err(ExpandError::BadName);
            }
            out.push_str(&lookup(name).ok_or_else(|| ExpandError::Unset(name.into()))?);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(Some(out))
}

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A string changed by expansion, remembered so error messages can show what
/// the file says rather than what the environment put there.
#[derive(Debug, Clone)]
pub(crate) struct Expansion {
    pub expanded: String,
    pub original: String,
}

/// Expands `${VAR}` in every string value of the document, in place; spans
/// still point into the original text, so later errors keep their position.
pub(crate) fn expand_document(
    text: &str,
    doc: &mut Spanned<DeTable<'_>>,
    env: &dyn EnvSource,
) -> Result<Vec<Expansion>, ConfigError> {
    let names: Vec<Option<String>> = (0..route_count(doc.get_ref()))
        .map(|i| route_name(doc.get_ref(), i).map(str::to_owned))
        .collect();
    let mut x = Expander {
        text,
        env,
        route_names: names,
        path: Vec::new(),
        done: Vec::new(),
    };
    x.table(doc.get_mut())?;
    Ok(x.done)
}

fn route_count(doc: &DeTable<'_>) -> usize {
    doc.iter()
        .find(|(k, _)| k.get_ref().as_ref() == "route")
        .and_then(|(_, v)| v.get_ref().as_array().map(|a| a.len()))
        .unwrap_or(0)
}

struct Expander<'a> {
    text: &'a str,
    env: &'a dyn EnvSource,
    route_names: Vec<Option<String>>,
    path: Vec<Seg>,
    done: Vec<Expansion>,
}

impl Expander<'_> {
    fn table(&mut self, t: &mut DeTable<'_>) -> Result<(), ConfigError> {
        for (k, v) in t.iter_mut() {
            self.path.push(Seg::Key(k.get_ref().to_string()));
            self.value(v)?;
            self.path.pop();
        }
        Ok(())
    }

    fn value(&mut self, v: &mut Spanned<DeValue<'_>>) -> Result<(), ConfigError> {
        let start = v.span().start;
        match v.get_mut() {
            DeValue::String(s) => self.string(s, start),
            DeValue::Table(t) => self.table(t),
            DeValue::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.path.push(Seg::Index(i));
                    self.value(item)?;
                    self.path.pop();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn string(
        &mut self,
        s: &mut std::borrow::Cow<'_, str>,
        start: usize,
    ) -> Result<(), ConfigError> {
        let env = self.env;
        match expand_vars(s, &|name| env.get(name)) {
            Ok(None) => Ok(()),
            Ok(Some(expanded)) => {
                if expanded != **s {
                    let original = s.to_string();
                    self.done.push(Expansion {
                        expanded: expanded.clone(),
                        original,
                    });
                }
                *s = expanded.into();
                Ok(())
            }
            Err(e) => Err(self.error(e, start)),
        }
    }

    fn error(&self, e: ExpandError, start: usize) -> ConfigError {
        let (line, col) = line_col(self.text, start);
        let route = match self.path.as_slice() {
            [Seg::Key(k), Seg::Index(i), ..] if k == "route" => {
                self.route_names.get(*i).cloned().flatten()
            }
            _ => None,
        };
        let key = render(&self.path, route.as_deref());
        let literal = "write \"$${\" for a literal \"${\"";
        let message = match e {
            ExpandError::Unset(var) => {
                let message = format!("is not set, but {key} uses it (line {line}, column {col})");
                return ConfigError::Env {
                    file: None,
                    var,
                    message,
                };
            }
            ExpandError::Unclosed => format!("\"${{\" is not closed by \"}}\" ({literal})"),
            ExpandError::BadName => {
                format!("\"${{…}}\" must hold a variable name: letters, digits and _ ({literal})")
            }
        };
        ConfigError::Parse {
            file: None,
            message: format!("line {line}, column {col}: {key}: {message}"),
        }
    }
}

// ---------------------------------------------------------------- NOSEY_*

/// The variables that override keys, sorted so the outcome never depends on
/// the order the system lists them in. `NOSEY_CONFIG`, `NOSEY_LOG` and the
/// like have no `__` and are left to whoever reads them.
fn override_vars(env: &dyn EnvSource) -> Vec<(String, String)> {
    let mut vars: Vec<_> = env
        .vars()
        .into_iter()
        .filter(|(k, _)| k == "NOSEY_ENABLED" || (k.starts_with("NOSEY_") && k.contains("__")))
        .collect();
    vars.sort();
    vars
}

/// One `NOSEY_…` variable, resolved.
struct Override {
    var: String,
    text: String,
    path: Vec<Seg>,
    value: Value,
}

/// Applies the overrides to the (expanded) document and deserializes again.
/// All are applied together (two variables may fill one table, like
/// `…__AUTH__BASIC__USERNAME` and `…__PASSWORD`); on failure the variable at
/// fault is found by leaving each out in turn.
pub(crate) fn apply_overrides(
    raw: RawConfig,
    doc: &Spanned<DeTable<'_>>,
    env: &dyn EnvSource,
) -> Result<RawConfig, ConfigError> {
    let vars = override_vars(env);
    if vars.is_empty() {
        return Ok(raw);
    }
    let base =
        Table::deserialize(Deserializer::from(doc.clone())).map_err(|e| ConfigError::Parse {
            file: None,
            message: e.message().to_owned(),
        })?;
    let mut overrides = Vec::with_capacity(vars.len());
    for (var, text) in vars {
        let path = target(&base, &var)?;
        let value = choose(&base, &path, &text);
        overrides.push(Override {
            var,
            text,
            path,
            value,
        });
    }
    let all: Vec<&Override> = overrides.iter().collect();
    match deserialize(&with(&base, &all)?) {
        Ok(raw) => Ok(raw),
        Err(e) => Err(blame(&base, &overrides, e.message())),
    }
}

fn deserialize(table: &Table) -> Result<RawConfig, toml::de::Error> {
    Value::Table(table.clone()).try_into::<RawConfig>()
}

/// The base table with these overrides set.
fn with(base: &Table, overrides: &[&Override]) -> Result<Table, ConfigError> {
    let mut table = base.clone();
    for o in overrides {
        set(&mut table, &o.path, o.value.clone()).map_err(|m| env_error(&o.var, m))?;
    }
    Ok(table)
}

/// The value is read as TOML (`500`, `true`, `["a"]`) unless only the plain
/// text fits the key: `123` is also a fine password.
fn choose(base: &Table, path: &[Seg], text: &str) -> Value {
    let plain = Value::String(text.into());
    let Ok(typed) = text.parse::<Value>() else {
        return plain;
    };
    let fits = |v: &Value| {
        let mut t = base.clone();
        set(&mut t, path, v.clone()).is_ok() && deserialize(&t).is_ok()
    };
    if typed.is_str() || fits(&typed) || !fits(&plain) {
        typed
    } else {
        plain
    }
}

fn blame(base: &Table, overrides: &[Override], message: &str) -> ConfigError {
    for (i, culprit) in overrides.iter().enumerate() {
        let others: Vec<&Override> = overrides
            .iter()
            .enumerate()
            .filter_map(|(j, o)| (j != i).then_some(o))
            .collect();
        if with(base, &others).is_ok_and(|t| deserialize(&t).is_ok()) {
            return env_error(&culprit.var, hide(message, &culprit.text));
        }
    }
    // Several variables at fault together: name them all.
    let names: Vec<&str> = overrides.iter().map(|o| o.var.as_str()).collect();
    let message = overrides
        .iter()
        .fold(message.to_owned(), |m, o| hide(&m, &o.text));
    env_error(&names.join(", "), message)
}

fn env_error(var: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Env {
        file: None,
        var: var.into(),
        message: message.into(),
    }
}

/// serde quotes the offending value in its messages; the value of an
/// environment variable may be a secret.
fn hide(message: &str, value: &str) -> String {
    if value.is_empty() {
        return message.to_owned();
    }
    message
        .replace(&format!("{value:?}"), "\"***\"")
        .replace(&format!("\"{value}\""), "\"***\"")
        .replace(&format!("`{value}`"), "`***`")
}

/// The key a variable names, as a path into the document.
fn target(table: &Table, var: &str) -> Result<Vec<Seg>, ConfigError> {
    if var == "NOSEY_ENABLED" {
        return Ok(vec![Seg::Key("enabled".into())]);
    }
    let rest = var.strip_prefix("NOSEY_").unwrap_or(var);
    let parts: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    if parts.iter().any(String::is_empty) {
        return Err(env_error(
            var,
            "is not of the form NOSEY_<SECTION>__<KEY> or NOSEY_ROUTE__<NAME>__<KEY>",
        ));
    }
    if parts[0] != "route" {
        return Ok(parts.into_iter().map(Seg::Key).collect());
    }
    route_target(table, var, &parts)
}

/// `NOSEY_ROUTE__<NAME>__<KEY>`. Names may contain `__` themselves, so the
/// longest name that matches a route wins.
fn route_target(table: &Table, var: &str, parts: &[String]) -> Result<Vec<Seg>, ConfigError> {
    if parts.len() < 3 {
        return Err(env_error(
            var,
            "is not of the form NOSEY_ROUTE__<NAME>__<KEY>",
        ));
    }
    let routes = table.get("route").and_then(Value::as_array);
    let index_of = |wanted: &str| {
        routes?.iter().position(|r| {
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            name.to_ascii_lowercase().replace('-', "_") == wanted
        })
    };
    for split in (2..parts.len()).rev() {
        if let Some(i) = index_of(&parts[1..split].join("__")) {
            let mut path = vec![Seg::Key("route".into()), Seg::Index(i)];
            path.extend(parts[split..].iter().cloned().map(Seg::Key));
            return Ok(path);
        }
    }
    Err(env_error(
        var,
        format!("no [[route]] is named \"{}\"", parts[1]),
    ))
}

/// Sets a value, creating missing tables on the way.
fn set(table: &mut Table, path: &[Seg], value: Value) -> Result<(), String> {
    let mut here = table;
    let mut i = 0;
    while i + 1 < path.len() {
        let next = match (&path[i], &path[i + 1]) {
            (Seg::Key(k), Seg::Index(n)) => {
                i += 1;
                here.get_mut(k)
                    .and_then(Value::as_array_mut)
                    .and_then(|a| a.get_mut(*n))
                    .ok_or("names a route that does not exist")?
            }
            (Seg::Key(k), _) => here
                .entry(k.clone())
                .or_insert_with(|| Value::Table(Table::new())),
            (Seg::Index(_), _) => return Err("names no key".into()),
        };
        i += 1;
        here = next
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is not a table", render(&path[..i], None)))?;
    }
    match path.last() {
        Some(Seg::Key(k)) => {
            here.insert(k.clone(), value);
            Ok(())
        }
        _ => Err("names no key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_and_escapes() {
        let x = |s: &str| expand_vars(s, &lookup);
        assert_eq!(x("plain").unwrap(), None);
        assert_eq!(x("a ${A} b").unwrap().unwrap(), "a alpha b");
        assert_eq!(x("${A}${A}").unwrap().unwrap(), "alphaalpha");
        assert_eq!(x("x${EMPTY}y").unwrap().unwrap(), "xy");
        assert_eq!(x("$${A}").unwrap().unwrap(), "${A}");
        assert_eq!(x("cost $5 ${A}").unwrap().unwrap(), "cost $5 alpha");
        assert_eq!(x("$$${A}").unwrap().unwrap(), "$${A}");
        assert_eq!(x("${B}"), Err(ExpandError::Unset("B".into())));
        assert_eq!(x("${A"), Err(ExpandError::Unclosed));
        assert_eq!(x("${}"), Err(ExpandError::BadName));
        assert_eq!(x("${a b}"), Err(ExpandError::BadName));
    }

    #[test]
    fn only_nosey_double_underscore_variables_override() {
        let env = MapEnv::from([
            ("NOSEY_CONFIG", "/etc/nosey.toml"),
            ("NOSEY_LOG", "debug"),
            ("NOSEY_ENABLED", "false"),
            ("NOSEY_MOODLE__URL", "x"),
            ("HOME", "/root"),
            ("XNOSEY_MOODLE__URL", "y"),
        ]);
        let names: Vec<String> = override_vars(&env).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["NOSEY_ENABLED", "NOSEY_MOODLE__URL"]);
    }

    #[test]
    fn hides_values_in_messages() {
        let m = "invalid type: string \"hunter2\", expected u32";
        assert_eq!(
            hide(m, "hunter2"),
            "invalid type: string \"***\", expected u32"
        );
    }
}
