//! The `nosey.toml` that `nosey init` writes: the site and database from `config.php`, the
//! reading keys with their defaults as comments, and the 2016 plugin's six endpoints as
//! disabled example routes. It loads as written (a disabled route needs no url).

use std::fmt::Write as _;
use std::time::Duration;

use super::MoodleSite;
use crate::config::{
    DEFAULT_BATCH_SIZE, DEFAULT_GAP_TIMEOUT, DEFAULT_MAX_OPEN_GAPS, DEFAULT_POLL_INTERVAL,
    DEFAULT_RETENTION, DEFAULT_TABLE, Preset, StartAt,
};

/// Where the database password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// A literal in config.php: written to the password file.
    Literal,
    /// Computed by PHP (`getenv(…)`): the expression.
    Computed(String),
    /// Empty or not set: the server lets the user in without one.
    Empty,
}

/// What goes into the file besides the site itself.
#[derive(Debug, Clone)]
pub struct TomlInput<'a> {
    pub site: &'a MoodleSite,
    /// `password_file` as written in the TOML: relative to its folder, or absolute.
    pub password_file: &'a str,
    /// When there is no password to write, the key is left as a comment.
    pub password: PasswordSource,
    /// `[store] path` as written in the TOML.
    pub store: &'a str,
}

/// The whole file.
pub fn render(input: &TomlInput) -> String {
    let mut out = String::new();
    header(&mut out, input.site);
    site(&mut out, input.site);
    moodle(&mut out, input);
    store(&mut out, input.store);
    routes(&mut out);
    out
}

/// A TOML string. `${` would be read as an environment variable, so it is escaped.
fn quote(s: &str) -> String {
    toml::Value::String(s.replace("${", "$${")).to_string()
}

/// A default duration the way people write them in nosey.toml: "100ms", "60s", "7d".
fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 {
        format!("{}ms", d.as_millis())
    } else if secs > 0 && secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else {
        format!("{secs}s")
    }
}

fn header(out: &mut String, site: &MoodleSite) {
    let _ = writeln!(
        out,
        "# nosey.toml, written by `nosey init` from {}.\n\
         # Every key is explained in nosey.example.toml. Durations are strings with a unit\n\
         # (\"100ms\", \"30s\", \"7d\"); relative paths start at this file's folder.\n",
        site.config_php.display()
    );
}

fn site(out: &mut String, site: &MoodleSite) {
    out.push_str("[site]\n# Moodle's $CFG->wwwroot: the `source` of CloudEvents bodies, and links in logs.\n");
    match &site.wwwroot {
        Some(url) => {
            let _ = writeln!(out, "url = {}\n", quote(url));
        }
        None => out.push_str(
            "# config.php does not give it as plain text: set it by hand.\n\
             # url = \"https://moodle.example.org\"\n\n",
        ),
    }
}

fn moodle(out: &mut String, input: &TomlInput) {
    let c = &input.site.connection;
    out.push_str(
        "[moodle]\n\
         # Moodle's database, from config.php ($CFG->dbtype, dbhost, dboptions, dbname, dbuser),\n\
         # without the password. nosey only reads: a read-only user is safer than Moodle's own\n\
         # (`nosey init` printed the SQL to create one).\n",
    );
    let _ = writeln!(out, "url = {}", quote(&c.url_without_password()));
    password_file(out, input);
    let _ = writeln!(out, "# $CFG->prefix\nprefix = {}", quote(&c.prefix));
    let _ = writeln!(
        out,
        "# How the log is read; these are the defaults.\n\
         # table = {}\n\
         # batch_size = {DEFAULT_BATCH_SIZE}\n\
         # poll_interval = {}\n\
         # gap_timeout = {}\n\
         # max_open_gaps = {DEFAULT_MAX_OPEN_GAPS}\n\
         # Where the first run starts: \"now\" | \"beginning\" | \"after:<log id>\" | \"time:<RFC 3339>\"\n\
         # start = {}\n\
         # include_restored = false\n",
        quote(DEFAULT_TABLE),
        quote(&duration(DEFAULT_POLL_INTERVAL)),
        quote(&duration(DEFAULT_GAP_TIMEOUT)),
        quote(&StartAt::default().to_string()),
    );
}

fn password_file(out: &mut String, input: &TomlInput) {
    let line = format!("password_file = {}", quote(input.password_file));
    match &input.password {
        PasswordSource::Literal => {
            let _ = writeln!(out, "# Holds $CFG->dbpass (mode 0600).\n{line}");
        }
        PasswordSource::Computed(expression) => {
            let _ = writeln!(
                out,
                "# config.php computes the password ({}), so no password file was written:\n\
                 # put the password in a file only nosey can read, and uncomment this line.\n# {line}",
                expression.replace('\n', " ")
            );
        }
        PasswordSource::Empty => {
            let _ = writeln!(
                out,
                "# config.php sets no password. If the server asks for one, put it in a file only\n\
                 # nosey can read, and uncomment this line.\n# {line}"
            );
        }
    }
}

fn store(out: &mut String, path: &str) {
    let _ = writeln!(
        out,
        "[store]\n\
         # nosey's own state: where it is in the log, and deliveries waiting to be sent.\n\
         path = {}\n\
         # Delivered deliveries are kept this long, for `nosey deliveries`.\n\
         # retention = {}\n",
        quote(path),
        quote(&duration(DEFAULT_RETENTION)),
    );
}

fn routes(out: &mut String) {
    out.push_str(
        "# The six endpoints of the 2016 local_nosey plugin, one route each (the preset names the\n\
         # events that endpoint received). Each is disabled until it has a receiver: set its url,\n\
         # then delete `enabled = false`. Filters, auth, headers, TLS and retries: see\n\
         # nosey.example.toml.\n",
    );
    for preset in Preset::ALL {
        let _ = writeln!(
            out,
            "\n[[route]]\n\
             name = {}\n\
             preset = {}\n\
             # format = \"seed\" sends the 2016 plugin's exact bytes; \"cloudevents\" wraps the body in CloudEvents.\n\
             format = \"nosey\"\n\
             # Disabled until it has a url.\n\
             enabled = false\n\
             # url = {}\n\
             # Sign each request (Standard Webhooks), with a key made by: echo \"whsec_$(openssl rand -base64 32)\"\n\
             # secrets_file = \"/etc/nosey/{}-secret\"",
            quote(&preset.name().replace('_', "-")),
            quote(preset.name()),
            quote(&format!(
                "https://your-receiver.example.org{}",
                preset.path()
            )),
            preset.name().replace('_', "-"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MapEnv, load_from_str};
    use crate::moodle::config_php::parse_config_php;

    fn site(php: &str) -> MoodleSite {
        let parsed = parse_config_php(php).unwrap();
        MoodleSite {
            config_php: "/var/www/moodle/config.php".into(),
            connection: parsed.connection().unwrap(),
            wwwroot: parsed.wwwroot.clone(),
        }
    }

    const PHP: &str = "<?php $CFG->dbtype = 'pgsql'; $CFG->dbhost = 'db.example.org'; \
                       $CFG->dbname = 'moodle'; $CFG->dbuser = 'moodle'; $CFG->dbpass = 'pw'; \
                       $CFG->prefix = 'm_'; $CFG->wwwroot = 'https://m.example.org/${x}';";

    #[test]
    fn loads_as_written_without_the_password_line() {
        let site = site(PHP);
        let text = render(&TomlInput {
            site: &site,
            password_file: "nosey-db-password",
            password: PasswordSource::Computed("getenv('PW')".into()),
            store: "nosey.db",
        });
        let config = load_from_str(&text, None, &MapEnv::default()).unwrap();
        assert_eq!(config.moodle.prefix, "m_");
        assert_eq!(
            config.moodle.url.to_string(),
            "postgres://moodle@db.example.org/moodle"
        );
        assert_eq!(
            config.site.url.as_deref(),
            Some("https://m.example.org/${x}")
        );
        assert_eq!(config.routes.len(), 6);
        assert!(config.routes.iter().all(|r| !r.enabled && r.url.is_none()));
        let names: Vec<&str> = config.routes.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "enrolled",
                "unenrolled",
                "activity-completed",
                "course-completed",
                "course-crud",
                "category-crud"
            ]
        );
        assert!(text.contains("# password_file = \"nosey-db-password\""));
        assert!(text.contains("getenv('PW')"));
        assert!(text.contains("# url = \"https://your-receiver.example.org/module/completed\""));
        assert!(!text.contains("'pw'") && !text.contains("\"pw\""));
    }

    #[test]
    fn defaults_read_like_the_example() {
        assert_eq!(duration(DEFAULT_POLL_INTERVAL), "100ms");
        assert_eq!(duration(DEFAULT_GAP_TIMEOUT), "60s");
        assert_eq!(duration(DEFAULT_RETENTION), "7d");
    }

    #[test]
    fn a_literal_password_is_named_not_written() {
        let site = site(PHP);
        let text = render(&TomlInput {
            site: &site,
            password_file: "/etc/nosey/db password",
            password: PasswordSource::Literal,
            store: "/var/lib/nosey/nosey.db",
        });
        assert!(text.contains("\npassword_file = \"/etc/nosey/db password\"\n"));
        assert!(text.contains("\npath = \"/var/lib/nosey/nosey.db\"\n"));
        assert!(!text.contains("pw\""));
    }
}
