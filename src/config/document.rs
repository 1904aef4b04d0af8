//! Reading the TOML text into `RawConfig` while keeping toml's positions:
//! the document is parsed once with spans, `${VAR}` is expanded inside it,
//! and it is deserialized from there, so every error can say where it is.

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

use super::env::Expansion;
use super::error::ConfigError;
use super::keypath;
use super::raw::RawConfig;

pub(crate) type Document<'i> = Spanned<DeTable<'i>>;

/// The parsed document, and the secrets written in it (toml quotes the
/// offending source line in its errors; these are masked there).
pub(crate) struct Parsed<'i> {
    pub doc: Document<'i>,
    pub secrets: Vec<String>,
}

/// Parses the text; syntax errors carry line, column and the line itself.
pub(crate) fn parse(text: &str) -> Result<Parsed<'_>, ConfigError> {
    // The recovering parser still yields the well-formed part of a broken
    // file, so secrets on the line toml will quote can be found.
    let (doc, errors) = DeTable::parse_recoverable(text);
    let secrets = secret_literals(doc.get_ref());
    match errors.into_iter().next() {
        Some(e) => Err(error(text, None, e, &[], &secrets)),
        None => Ok(Parsed { doc, secrets }),
    }
}

/// Deserializes the (expanded) document; unknown keys, wrong types and bad
/// values are reported at their position, with the key they belong to.
pub(crate) fn deserialize(
    text: &str,
    parsed: &Parsed<'_>,
    expansions: &[Expansion],
) -> Result<RawConfig, ConfigError> {
    let doc = &parsed.doc;
    RawConfig::deserialize(Deserializer::from(doc.clone()))
        .map_err(|e| error(text, Some(doc.get_ref()), e, expansions, &parsed.secrets))
}

const QUOTE_HINT: &str = "(Moodle event names contain backslashes: in TOML write them in single \
                          quotes, '\\core\\event\\course_created')";

fn error(
    text: &str,
    doc: Option<&DeTable<'_>>,
    mut e: toml::de::Error,
    expansions: &[Expansion],
    secrets: &[String],
) -> ConfigError {
    e.set_input(Some(text));
    let mut message = e.to_string().trim_end().to_owned();
    let key = doc
        .zip(e.span())
        .and_then(|(d, span)| keypath::at(d, span.start));
    if let Some(key) = key
        && let Some(head) = message.strip_suffix(e.message())
    {
        message = format!("{head}{key}: {}", e.message());
    }
    if e.message().contains("escaped value") {
        message = format!("{message}\n{QUOTE_HINT}");
    }
    ConfigError::Parse {
        file: None,
        message: mask_snippet(&restore(message, expansions), secrets),
    }
}

/// Puts `${VAR}` back where serde quoted an expanded value, so an error
/// never shows what came from the environment.
fn restore(mut message: String, expansions: &[Expansion]) -> String {
    for x in expansions {
        for quoted in [format!("{:?}", x.expanded), format!("\"{}\"", x.expanded)] {
            message = message.replace(&quoted, &format!("\"{}\"", x.original));
        }
    }
    message
}

/// Keys whose string values are secrets wherever they appear.
const SECRET_KEYS: [&str; 3] = ["password", "bearer", "client_key_password"];

/// Every secret written in the file: passwords, tokens, signing secrets,
/// header values, and the password part of any `url`.
fn secret_literals(doc: &DeTable<'_>) -> Vec<String> {
    let mut out = Vec::new();
    collect_table(doc, None, &mut out);
    out.retain(|s| !s.is_empty());
    out
}

fn collect_table(t: &DeTable<'_>, parent: Option<&str>, out: &mut Vec<String>) {
    for (k, v) in t.iter() {
        let key = k.get_ref().as_ref();
        let secret = SECRET_KEYS.contains(&key) || key == "secrets" || parent == Some("headers");
        collect_value(v.get_ref(), key, secret, out);
    }
}

fn collect_value(v: &DeValue<'_>, key: &str, secret: bool, out: &mut Vec<String>) {
    match v {
        DeValue::String(s) if secret => out.push(s.to_string()),
        DeValue::String(s) if key == "url" => out.extend(url_password(s).map(str::to_owned)),
        DeValue::Table(t) => collect_table(t, Some(key), out),
        DeValue::Array(items) => {
            for item in items.iter() {
                collect_value(item.get_ref(), key, secret, out);
            }
        }
        _ => {}
    }
}

fn url_password(url: &str) -> Option<&str> {
    let after = url.split_once("://")?.1;
    let authority = &after[..after.find(['/', '?', '#']).unwrap_or(after.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(userinfo.split_once(':')?.1)
}

/// Masks secrets on the source lines toml quotes (`12 | password = "…"`).
fn mask_snippet(message: &str, secrets: &[String]) -> String {
    if secrets.is_empty() {
        return message.to_owned();
    }
    let lines: Vec<String> = message
        .split('\n')
        .map(|line| {
            if !is_snippet_line(line) {
                return line.to_owned();
            }
            secrets.iter().fold(line.to_owned(), |l, s| {
                // Opening quote only: an unterminated string has no closing one.
                l.replace(&format!("\"{s}"), "\"***")
                    .replace(&format!("'{s}"), "'***")
                    .replace(&format!(":{s}@"), ":***@")
            })
        })
        .collect();
    lines.join("\n")
}

fn is_snippet_line(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text).and_then(|p| deserialize(text, &p, &[])) {
            Ok(_) => panic!("parsed: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn secrets_on_the_quoted_line_are_masked() {
        let cases = [
            "[moodle]\npassword = \"hunter2\nx = 1\n",
            "[moodle]\nurl = \"postgres://u:hunter2@h/db\" x\n",
            "[[route]]\nsecrets = [\"hunter2\", 5, \"hunter2\"]\n",
            "[[route]]\nheaders = { \"X-Key\" = 'hunter2', \"X-B\" = 1 }\n",
            "[[route]]\nauth = { bearer = \"hunter2\", bearer = \"hunter2\" }\n",
            "[[route]]\ntls = { client_key_password = \"hunter2\", nope = 1 }\n",
        ];
        for text in cases {
            let e = err(text);
            assert!(e.contains(" | "), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn finds_url_passwords() {
        assert_eq!(url_password("postgres://u:p@w@h/db"), Some("p@w"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("https://h/a:b@c"), None);
    }
}
