//! Finds the `$CFG` settings in a lexed `config.php` and evaluates the literal ones.
//!
//! It looks for `$CFG->key = value;` and `$CFG->key['index'] = value;` anywhere in the token
//! stream and skips everything else, so unrelated code (`require_once`, `if` blocks, function
//! calls) never makes a file unreadable. A value is kept when it is a literal (string, integer,
//! `true`/`false`/`null`, or for `dboptions` an array of those); anything else, and any
//! assignment made under an `if`/`else`, is kept as `PhpValue::Unsupported` with its source
//! text, because only PHP could say what it holds. A later assignment replaces an earlier one.

use std::collections::BTreeMap;

use super::lexer::{Tok, Token};
use super::{MoodleConfigPhp, PhpValue};

const SCALAR_KEYS: [&str; 7] = [
    "dbtype", "dbhost", "dbname", "dbuser", "dbpass", "prefix", "wwwroot",
];

#[derive(Default)]
pub(super) struct Collected {
    pub(super) saw_cfg: bool,
    scalars: BTreeMap<&'static str, PhpValue>,
    dboptions: BTreeMap<String, PhpValue>,
    /// Set when `$CFG->dboptions` itself is computed, so its entries are unknown.
    dboptions_computed: Option<String>,
}

enum Value {
    Scalar(PhpValue),
    Array(BTreeMap<String, PhpValue>),
}

/// `$CFG->key['index'] =`, found at a token position.
struct Target {
    key: String,
    indexes: Vec<String>,
    value_start: usize,
}

pub(super) fn collect(text: &str, tokens: &[Token]) -> Collected {
    let mut collected = Collected::default();
    let (mut depth, mut i) = (0usize, 0);
    while i < tokens.len() {
        match tokens[i].tok {
            Tok::LBrace => depth += 1,
            Tok::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
        let Some(target) = cfg_target(tokens, i) else {
            i += 1;
            continue;
        };
        let end = expression_end(tokens, target.value_start);
        let span = &tokens[target.value_start..end];
        let source = span_text(text, span);
        let value = if depth > 0 || follows_condition(text, tokens, i) {
            Value::Scalar(PhpValue::Unsupported(format!(
                "{source}, set under a PHP condition"
            )))
        } else {
            evaluate(text, span)
        };
        collected.apply(target, value, source);
        i = end;
    }
    collected
}

fn cfg_target(tokens: &[Token], i: usize) -> Option<Target> {
    let key = match tokens.get(i..i + 3)? {
        [a, b, c] => match (&a.tok, &b.tok, &c.tok) {
            (Tok::Var(v), Tok::Arrow, Tok::Ident(key)) if v == "CFG" => key.clone(),
            _ => return None,
        },
        _ => return None,
    };
    let (mut j, mut indexes) = (i + 3, Vec::new());
    while let Some([open, index, close]) = tokens.get(j..j + 3) {
        if open.tok != Tok::LBracket || close.tok != Tok::RBracket {
            break;
        }
        indexes.push(match &index.tok {
            Tok::Str(s) => s.clone(),
            Tok::Int(n) => n.to_string(),
            _ => return None,
        });
        j += 3;
    }
    (tokens.get(j)?.tok == Tok::Assign).then_some(Target {
        key,
        indexes,
        value_start: j + 1,
    })
}

/// `if (...) $CFG->x = 1;`, `else $CFG->x = 1;` and `if (...): $CFG->x = 1;` assign only
/// sometimes.
fn follows_condition(text: &str, tokens: &[Token], i: usize) -> bool {
    let Some(previous) = i.checked_sub(1).map(|p| &tokens[p]) else {
        return false;
    };
    match &previous.tok {
        Tok::RParen => true,
        Tok::Ident(word) => word.eq_ignore_ascii_case("else"),
        Tok::Op => text.get(previous.start..previous.end) == Some(":"),
        _ => false,
    }
}

/// The `;` that ends an expression, skipping nested brackets; stops early at an unmatched
/// closer so a missing `;` before `}` cannot swallow the rest of the file.
fn expression_end(tokens: &[Token], start: usize) -> usize {
    let mut nesting = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(start) {
        match token.tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => nesting += 1,
            Tok::RParen | Tok::RBracket | Tok::RBrace if nesting == 0 => return j,
            Tok::RParen | Tok::RBracket | Tok::RBrace => nesting -= 1,
            Tok::Semi if nesting == 0 => return j,
            _ => {}
        }
    }
    tokens.len()
}

fn span_text<'a>(text: &'a str, span: &[Token]) -> &'a str {
    match (span.first(), span.last()) {
        (Some(first), Some(last)) => text.get(first.start..last.end).unwrap_or(""),
        _ => "",
    }
}

fn evaluate(text: &str, span: &[Token]) -> Value {
    match array_items(span) {
        Some(items) => match array_entries(text, items) {
            Some(map) => Value::Array(map),
            None => Value::Scalar(PhpValue::Unsupported(span_text(text, span).to_string())),
        },
        None => Value::Scalar(scalar(text, span)),
    }
}

fn scalar(text: &str, span: &[Token]) -> PhpValue {
    literal(text, span).unwrap_or_else(|| PhpValue::Unsupported(span_text(text, span).to_string()))
}

fn literal(text: &str, span: &[Token]) -> Option<PhpValue> {
    let sign = |t: &Token| text.get(t.start..t.end);
    match span {
        [t] => match &t.tok {
            Tok::Str(s) => Some(PhpValue::Str(s.clone())),
            Tok::Int(n) => Some(PhpValue::Int(*n)),
            Tok::Ident(word) => match word.to_ascii_lowercase().as_str() {
                "true" => Some(PhpValue::Bool(true)),
                "false" => Some(PhpValue::Bool(false)),
                "null" => Some(PhpValue::Null),
                _ => None,
            },
            _ => None,
        },
        [s, t] => match (sign(s), &t.tok) {
            (Some("-"), Tok::Int(n)) => n.checked_neg().map(PhpValue::Int),
            (Some("+"), Tok::Int(n)) => Some(PhpValue::Int(*n)),
            _ => None,
        },
        _ => None,
    }
}

/// The inside of `array(...)` or `[...]` when the span is exactly that.
fn array_items(span: &[Token]) -> Option<&[Token]> {
    let second = span.get(1).map(|t| &t.tok);
    let open = match (&span.first()?.tok, second) {
        (Tok::Ident(w), Some(Tok::LParen)) if w.eq_ignore_ascii_case("array") => 1,
        (Tok::LBracket, _) => 0,
        _ => return None,
    };
    let close = span.len() - 1;
    (expression_end(span, open + 1) == close).then(|| &span[open + 1..close])
}

/// `'key' => value, ...`; `None` when a key is not a literal. Nested arrays and computed values
/// become `Unsupported` entries, since dboptions only needs scalars.
fn array_entries(text: &str, items: &[Token]) -> Option<BTreeMap<String, PhpValue>> {
    let (mut map, mut next_index) = (BTreeMap::new(), 0i64);
    let mut rest = items;
    while !rest.is_empty() {
        let end = expression_end_at_comma(rest);
        let element = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or(&[]);
        let arrow = element.iter().position(|t| t.tok == Tok::DoubleArrow);
        let (key, value) = match arrow {
            Some(a) => (array_key(text, &element[..a])?, &element[a + 1..]),
            None => (PhpValue::Int(next_index), element),
        };
        if value.is_empty() {
            return None;
        }
        let key = match key {
            PhpValue::Int(n) => {
                next_index = next_index.max(n.saturating_add(1));
                n.to_string()
            }
            other => other.as_str()?.to_string(),
        };
        let value = match array_items(value) {
            Some(_) => PhpValue::Unsupported(span_text(text, value).to_string()),
            None => scalar(text, value),
        };
        map.insert(key, value);
    }
    Some(map)
}

fn array_key(text: &str, span: &[Token]) -> Option<PhpValue> {
    literal(text, span).filter(|k| matches!(k, PhpValue::Str(_) | PhpValue::Int(_)))
}

/// Like `expression_end`, but an element of an array ends at a top-level comma.
fn expression_end_at_comma(tokens: &[Token]) -> usize {
    let mut nesting = 0usize;
    for (j, token) in tokens.iter().enumerate() {
        match token.tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => nesting += 1,
            Tok::RParen | Tok::RBracket | Tok::RBrace => nesting = nesting.saturating_sub(1),
            Tok::Comma if nesting == 0 => return j,
            _ => {}
        }
    }
    tokens.len()
}

impl Collected {
    fn apply(&mut self, target: Target, value: Value, source: &str) {
        self.saw_cfg = true;
        let as_scalar = |value: Value| match value {
            Value::Scalar(v) => v,
            Value::Array(_) => PhpValue::Unsupported(source.to_string()),
        };
        match (target.key.as_str(), target.indexes.as_slice()) {
            ("dboptions", []) => {
                self.dboptions.clear();
                self.dboptions_computed = match value {
                    Value::Array(map) => {
                        self.dboptions = map;
                        None
                    }
                    Value::Scalar(PhpValue::Null) => None,
                    Value::Scalar(PhpValue::Unsupported(e)) => Some(e),
                    Value::Scalar(_) => Some(source.to_string()),
                };
            }
            ("dboptions", [index, deeper @ ..]) => {
                let value = match deeper {
                    [] => as_scalar(value),
                    _ => PhpValue::Unsupported(source.to_string()),
                };
                self.dboptions.insert(index.clone(), value);
            }
            (key, []) => {
                if let Some(slot) = SCALAR_KEYS.iter().find(|k| **k == key) {
                    self.scalars.insert(slot, as_scalar(value));
                }
            }
            _ => {}
        }
    }

    pub(super) fn finish(mut self) -> MoodleConfigPhp {
        let mut unsupported = Vec::new();
        for key in SCALAR_KEYS {
            if let Some(PhpValue::Unsupported(e)) = self.scalars.get(key) {
                unsupported.push((key.to_string(), e.clone()));
            }
        }
        if let Some(e) = self.dboptions_computed.take() {
            unsupported.push(("dboptions".to_string(), e));
        }
        for option in ["dbport", "dbsocket"] {
            if let Some(PhpValue::Unsupported(e)) = self.dboptions.get(option) {
                unsupported.push((format!("dboptions['{option}']"), e.clone()));
            }
        }
        let mut text = |key: &str| match self.scalars.remove(key) {
            Some(PhpValue::Str(s)) => Some(s),
            Some(PhpValue::Int(n)) => Some(n.to_string()),
            _ => None,
        };
        MoodleConfigPhp {
            dbtype: text("dbtype"),
            dbhost: text("dbhost"),
            dbname: text("dbname"),
            dbuser: text("dbuser"),
            prefix: text("prefix"),
            wwwroot: text("wwwroot"),
            // PHP hands the driver a number as its decimal text.
            dbpass: self.scalars.remove("dbpass").map(|v| match v {
                PhpValue::Int(n) => PhpValue::Str(n.to_string()),
                other => other,
            }),
            dboptions: self.dboptions,
            unsupported,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, site, str_value};
    use super::*;

    #[test]
    fn hand_edited_layouts() {
        let text = r#"<?php
        # hand-edited
        $CFG->dbtype="pgsql";$CFG->dbhost = "db.example.org" ;
        $CFG->dbname = 'moodle' /* the main site */ ;
        $CFG->dbuser = 'moodle'; // owner
        $CFG->dboptions = array(
            'dbpersist' => false, // no pooling
            /* 'dbport' => 1, */
            'dbport'    # the usual
                => 6432,
            'connecttimeout' => null,
            'readonly' => ['instance' => ['db-ro']],
        );
        $CFG->prefix = 'm_';
        "#;
        let config = parse(text);
        let options = &config.dboptions;
        assert_eq!(options.get("dbpersist"), Some(&PhpValue::Bool(false)));
        assert_eq!(options.get("connecttimeout"), Some(&PhpValue::Null));
        let readonly = options.get("readonly");
        assert_eq!(
            readonly,
            Some(&PhpValue::Unsupported("['instance' => ['db-ro']]".into()))
        );
        let db = config.connection().unwrap();
        assert_eq!((db.port, db.prefix.as_str()), (Some(6432), "m_"));
        let expected = "postgres://moodle@db.example.org:6432/moodle";
        assert_eq!(db.url_without_password(), expected);
    }

    #[test]
    fn short_arrays_and_index_assignment() {
        let body = "$CFG->dbhost = 'db';\n\
                    $CFG->dboptions = [ 'dbport' => 5432, 'dbsocket' => '', ];\n\
                    $CFG->dboptions['dbport'] = 5433;\n\
                    $CFG->dboptions[\"dbcollation\"] = 'utf8mb4_bin';\n\
                    $CFG->dboptions['a']['b'] = 1;\n\
                    $CFG->dboptions[] = 'appended';";
        let config = site("mysqli", body);
        let options = &config.dboptions;
        assert_eq!(options.get("dbcollation"), Some(&str_value("utf8mb4_bin")));
        assert_eq!(options.get("a"), Some(&PhpValue::Unsupported("1".into())));
        assert_eq!(options.len(), 4, "{options:?}");
        assert_eq!(config.connection().unwrap().port, Some(5433));
        let list = site("pgsql", "$CFG->dboptions = array('a', 7 => 'b', 'c');");
        let keys: Vec<_> = list.dboptions.keys().map(String::as_str).collect();
        assert_eq!(keys, ["0", "7", "8"]);
    }

    #[test]
    fn computed_dboptions() {
        let config = site(
            "pgsql",
            "$CFG->dboptions = array_merge($a, ['dbport' => 1]);",
        );
        let expected = (
            "dboptions".to_string(),
            "array_merge($a, ['dbport' => 1])".to_string(),
        );
        assert_eq!(config.unsupported, [expected]);
        assert!(config.dboptions.is_empty());
        let bad_key = site("pgsql", "$CFG->dboptions = [KEY => 1];");
        assert_eq!(bad_key.unsupported[0].1, "[KEY => 1]");
        let port = site("pgsql", "$CFG->dboptions = ['dbport' => getenv('PORT')];");
        let expected = (
            "dboptions['dbport']".to_string(),
            "getenv('PORT')".to_string(),
        );
        assert_eq!(port.unsupported, [expected]);
    }

    #[test]
    fn later_assignments_override() {
        let body = "$CFG->dbhost = 'old'; $CFG->dbpass = getenv('X');\n\
                    $CFG->dbhost = 'new'; $CFG->dbpass = 'p';";
        let config = site("pgsql", body);
        assert_eq!(config.dbhost.as_deref(), Some("new"));
        assert_eq!(config.dbpass, Some(str_value("p")));
        assert!(config.unsupported.is_empty());
        let reset = site(
            "pgsql",
            "$CFG->dboptions = ['dbport' => 1];\n$CFG->dboptions = array();",
        );
        assert!(reset.dboptions.is_empty());
    }

    #[test]
    fn unrelated_code_is_skipped() {
        let body = r#"
            @error_reporting(E_ALL | E_STRICT);
            if ($CFG->dbtype == 'pgsql' && !empty($CFG->dboptions)) { echo "x"; }
            if ($CFG->dbhost === 'x') {}
            $CFG->debug = (E_ALL | E_STRICT);
            $CFG->forced_plugin_settings = ['tool_x' => ['a' => 1]];
            $CFG->admin .= 'x';
            define('CLI_SCRIPT', true);
            $CFG->dbhost = 'db';
            require_once(__DIR__ . '/lib/setup.php');
            $x = <<<EOT
            $CFG->dbhost = 'inside heredoc';
            EOT;
            // $CFG->dbhost = 'commented out';
            ?>
            <p>$CFG->dbhost = 'html';</p>
            <?php
            $CFG->prefix = 'p_';"#;
        let config = site("pgsql", body);
        assert_eq!(config.dbhost.as_deref(), Some("db"));
        assert_eq!(config.prefix.as_deref(), Some("p_"));
        assert!(config.unsupported.is_empty(), "{:?}", config.unsupported);
    }

    #[test]
    fn conditional_assignments_are_computed() {
        let block =
            "if (getenv('CI')) {\n  $CFG->dbhost = 'ci-db';\n} else {\n  $CFG->dbhost = 'db';\n}";
        let config = site("pgsql", block);
        let expected = (
            "dbhost".to_string(),
            "'db', set under a PHP condition".to_string(),
        );
        assert_eq!(config.unsupported, [expected]);
        for bare in [
            "if ($x) $CFG->dbhost = 'a';",
            "if ($x): $CFG->dbhost = 'a'; endif;",
        ] {
            assert_eq!(site("pgsql", bare).unsupported.len(), 1, "{bare}");
        }
        let after = site(
            "pgsql",
            "if ($x) { $CFG->dbhost = 'a'; }\n$CFG->dbhost = 'b';",
        );
        assert_eq!(after.dbhost.as_deref(), Some("b"));
        let no_semicolon = site(
            "pgsql",
            "if ($x) { $CFG->dbhost = 'a' }\n$CFG->prefix = 'p_';",
        );
        assert_eq!(no_semicolon.prefix.as_deref(), Some("p_"));
    }

    #[test]
    fn scalar_literals() {
        let body = "$CFG->dboptions = ['a' => 0x1F, 'b' => -5, 'c' => +5, 'd' => TRUE, \
                    'e' => Null, 'f' => 1.5, 'g' => 'x' . 'y', 'h' => -'x'];";
        let options = site("pgsql", body).dboptions;
        assert_eq!(options["a"], PhpValue::Int(31));
        assert_eq!(options["b"], PhpValue::Int(-5));
        assert_eq!(options["c"], PhpValue::Int(5));
        assert_eq!(options["d"], PhpValue::Bool(true));
        assert_eq!(options["e"], PhpValue::Null);
        for (key, source) in [("f", "1.5"), ("g", "'x' . 'y'"), ("h", "-'x'")] {
            assert_eq!(options[key], PhpValue::Unsupported(source.into()), "{key}");
        }
        let numeric = site("pgsql", "$CFG->dbname = 42; $CFG->dbpass = 1234;");
        assert_eq!(numeric.dbname.as_deref(), Some("42"));
        assert_eq!(numeric.dbpass, Some(str_value("1234")));
    }
}
