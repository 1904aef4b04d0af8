//! The example, the defaults, and errors that carry a position.

use std::path::Path;
use std::time::Duration;

use super::*;

#[test]
fn the_example_loads_with_every_value_as_written() {
    let c = load_text(example()).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.enabled);
    assert_eq!(c.site.url.as_deref(), Some("https://moodle.example.org"));
    let m = &c.moodle;
    assert_eq!(m.url.expose(), "postgres://nosey@db.example.org/moodle");
    assert_eq!(m.url.kind(), DbKind::Postgres);
    assert_eq!(
        (m.prefix.as_str(), m.table.as_str()),
        ("mdl_", "logstore_standard_log")
    );
    assert_eq!(m.batch_size, 1000);
    assert_eq!(m.poll_interval, Duration::from_millis(100));
    assert_eq!(m.gap_timeout, Duration::from_secs(60));
    assert_eq!(m.max_open_gaps, 10_000);
    assert_eq!(m.start, StartAt::Now);
    assert!(!m.include_restored);
    assert_eq!(c.redact["user"], ["password", "secret", "lastip"]);
    assert_eq!(c.redact["enrol"], ["password"]);
    assert_eq!(c.store.path, Path::new("/var/lib/nosey/nosey.db"));
    assert_eq!(c.store.retention, Duration::from_secs(7 * 86_400));
    assert_eq!(c.routes.len(), 2);

    let r = c.route("enrolments").unwrap();
    assert_eq!(
        r.url.as_deref(),
        Some("https://crm.example.org/hooks/moodle")
    );
    assert!(r.enabled);
    assert_eq!(
        r.events,
        [
            r"\core\event\user_enrolment_created",
            r"\core\event\user_enrolment_*"
        ]
    );
    assert_eq!(r.presets, [Preset::Enrolled, Preset::Unenrolled]);
    assert_eq!(r.filter.courseid, [12, 14]);
    assert_eq!(r.filter.crud, ['c', 'd']);
    assert_eq!(r.exclude_users, [5]);
    assert_eq!(r.exclude_origins, ["ws"]);
    assert_eq!(r.format, Format::Nosey);
    assert_eq!(r.headers[0].0, "X-Tenant");
    assert_eq!(r.headers[0].1.expose(), "north");
    assert!(r.auth.is_none());
    assert_eq!(
        r.secrets[0].expose(),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    );
    assert_eq!(r.tls, TlsConfig::default());
    assert_eq!(r.timeout, Duration::from_secs(10));
    assert_eq!(r.concurrency, 16);
    assert_eq!(r.ordering, Ordering::Object);
    assert_eq!(r.retry, RetryConfig::default());
    assert_eq!(r.max_body_size, 1 << 20);

    let legacy = c.route("legacy-courses").unwrap();
    assert_eq!(legacy.presets, [Preset::CourseCrud]);
    assert_eq!(legacy.format, Format::Seed);
    assert_eq!(legacy.retry.schedule.len(), 3);
    assert_eq!(legacy.retry.max_age, Duration::from_secs(86_400));
    assert!(legacy.matches_event(r"\core\event\course_updated"));
}

#[test]
fn a_minimal_config_gets_every_default() {
    let c = load_text(MINIMAL).unwrap();
    assert!(c.enabled);
    assert!(c.site.url.is_none());
    let m = &c.moodle;
    assert_eq!(m.prefix, DEFAULT_PREFIX);
    assert_eq!(m.table, DEFAULT_TABLE);
    assert_eq!(m.batch_size, 1000);
    assert_eq!(m.poll_interval, Duration::from_millis(100));
    assert_eq!(m.gap_timeout, Duration::from_secs(60));
    assert_eq!(m.max_open_gaps, 10_000);
    assert_eq!(m.start, StartAt::Now);
    assert!(!m.include_restored);
    let redact: Vec<_> = c
        .redact
        .iter()
        .map(|(t, c)| (t.as_str(), c.len()))
        .collect();
    assert_eq!(redact, [("enrol", 1), ("user", 3)]);
    assert_eq!(c.store.path, Path::new("nosey.db"));
    assert_eq!(c.store.retention, DEFAULT_RETENTION);
    assert!(c.source_path.is_none());

    let r = &c.routes[0];
    assert!(r.enabled && r.events.is_empty() && r.exclude_users.is_empty());
    assert!(r.exclude_origins.is_empty() && r.headers.is_empty() && r.secrets.is_empty());
    assert_eq!(r.filter, Filter::default());
    assert_eq!(r.format, Format::Nosey);
    assert!(r.auth.is_none());
    assert_eq!(r.tls, TlsConfig::default());
    assert_eq!(r.timeout, DEFAULT_TIMEOUT);
    assert_eq!(r.concurrency, DEFAULT_CONCURRENCY);
    assert_eq!(r.ordering, Ordering::Object);
    let schedule: Vec<String> = r
        .retry
        .schedule
        .iter()
        .map(|d| humantime::format_duration(*d).to_string())
        .collect();
    assert_eq!(
        schedule,
        [
            "5s", "30s", "2m", "10m", "30m", "1h", "3h", "6h", "12h", "1day"
        ]
    );
    assert_eq!(r.retry.max_age, Duration::from_secs(3 * 86_400));
    assert_eq!(r.max_body_size, 1_048_576);
}

#[test]
fn load_reads_a_file_and_resolves_paths_against_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nosey.toml");
    std::fs::write(&path, MINIMAL).unwrap();
    let c = load(&path).unwrap();
    assert_eq!(c.source_path.as_deref(), Some(path.as_path()));
    assert_eq!(c.store.path, dir.path().join("nosey.db"));
}

#[test]
fn errors_from_a_file_start_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nosey.toml");
    std::fs::write(&path, format!("{MINIMAL}bogus = 1\n")).unwrap();
    let err = load(&path).unwrap_err().to_string();
    let expected = format!("{}: TOML parse error at line 8, column 1", path.display());
    assert!(err.starts_with(&expected), "{err}");
    let err = load(&dir.path().join("absent.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot read") && err.contains("absent.toml"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_reported_with_line_column_and_key() {
    let cases = [
        ("colour = \"red\"\n", "colour", 1),
        (
            "[moodle]\nurl = \"postgres://u@h/db\"\nbatchsize = 5\n",
            "batchsize",
            3,
        ),
        (&with_route_keys("naem = \"x\""), "naem", 8),
        (
            &with_route_keys("filter = { courseid = [1], course = [2] }"),
            "course",
            8,
        ),
        (&with_route_keys("tls = { ca_file = \"x\" }"), "ca_file", 8),
        ("[defaults]\nretry = { tries = 3 }\n", "tries", 2),
    ];
    for (text, key, line) in cases {
        let err = error_of(text);
        assert!(
            err.contains(&format!("at line {line}, column")),
            "{key}: {err}"
        );
        assert!(
            err.contains(&format!("unknown field `{key}`")),
            "{key}: {err}"
        );
    }
}

#[test]
fn errors_name_the_key_in_the_route() {
    let err = error_of(&with_route_keys(
        "retry = { schedule = [\"5s\", \"30s\", \"5x\"] }",
    ));
    assert!(err.contains("line 8, column 36"), "{err}");
    let expected =
        r#"route "r": retry.schedule[2]: "5x" is not a duration (use e.g. "30s", "10m", "7d")"#;
    assert!(err.contains(expected), "{err}");
}

#[test]
fn bad_values_are_reported_at_their_position() {
    let cases = [
        (
            "[moodle]\nurl = \"postgres://u@h/db\"\npoll_interval = \"fast\"\n",
            "line 3, column 17",
            "is not a duration",
        ),
        (
            "[store]\nretention = 7\n",
            "line 2, column 13",
            "expected a duration",
        ),
        (
            "[moodle]\nbatch_size = \"many\"\n",
            "line 2, column 14",
            "moodle.batch_size: invalid type",
        ),
        (
            "[moodle]\nstart = \"yesterday\"\n",
            "line 2, column 9",
            "is not a start position",
        ),
        (
            "enabled = \"yes\"\n",
            "line 1, column 11",
            "invalid type: string",
        ),
        (
            "[[route]]\nformat = \"xml\"\n",
            "line 2, column 10",
            "unknown variant `xml`",
        ),
        (
            "[[route]]\npreset = [\"enroled\"]\n",
            "line 2, column 11",
            "unknown variant `enroled`",
        ),
        (
            "[[route]]\nmax_body_size = \"1 parsec\"\n",
            "line 2, column 17",
            "is not a size",
        ),
        (
            "[[route]]\nevents = \"\\core\"\n",
            "line 2, column 12",
            "single quotes",
        ),
        ("[route]\nname = \"x\"\n", "line 1", "expected a sequence"),
        (
            "[defaults]\nname = \"x\"\n",
            "line 1",
            "`name` cannot be set in [defaults]",
        ),
    ];
    for (text, position, message) in cases {
        let err = error_of(text);
        assert!(
            err.contains(position) && err.contains(message),
            "{text}\n{err}"
        );
    }
}

#[test]
fn syntax_errors_show_the_line() {
    let err = error_of("[moodle]\nurl = \"postgres://u@h/db\n");
    assert!(err.starts_with("TOML parse error at line 2"), "{err}");
    assert!(err.contains("url = \"postgres://u@h/db"), "{err}");
}

#[test]
fn single_values_where_lists_are_usual() {
    let c = load_text(&with_route_keys(
        "filter = { courseid = 12, crud = \"u\", component = \"core\" }",
    ))
    .unwrap();
    let f = &c.routes[0].filter;
    assert_eq!(
        (f.courseid.as_slice(), f.crud.as_slice()),
        (&[12][..], &['u'][..])
    );
    assert_eq!(f.component, ["core"]);
}

#[test]
fn start_positions_and_moodle_values() {
    let text = "[moodle]\nurl = \"mariadb://u@h/db\"\nstart = \"time:2026-01-02T03:04:05Z\"\n\
                prefix = \"m_\"\nbatch_size = 500\npoll_interval = \"1ms\"\ninclude_restored = true\n";
    let c = load_text(text).unwrap();
    assert_eq!(c.moodle.start, StartAt::Time(1_767_323_045));
    assert_eq!(c.moodle.url.kind(), DbKind::MySql);
    assert_eq!(c.moodle.url.expose(), "mysql://u@h/db");
    assert_eq!(c.moodle.prefix, "m_");
    assert_eq!(c.moodle.batch_size, 500);
    assert!(c.moodle.include_restored);
    assert!(c.routes.is_empty());
    for (start, want) in [
        ("now", StartAt::Now),
        ("beginning", StartAt::Beginning),
        ("after:42", StartAt::After(42)),
    ] {
        let c = load_text(&format!(
            "[moodle]\nurl = \"sqlite://x.db\"\nstart = \"{start}\"\n"
        ))
        .unwrap();
        assert_eq!(c.moodle.start, want);
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
[moodle]
url = "oracle://u@h/db"
prefix = "Moodle_Prefix_Too_Long"
table = "Log"
batch_size = 0
poll_interval = "0s"
max_open_gaps = 0

[redact]
user = ["Password"]
"My Table" = ["x"]

[[route]]
name = "Bad Name"
url = "ftp://h"
events = ["core_event_x"]
filter = { crud = ["x"], edulevel = [3], component = ["Mod Forum"], courseid = [-1] }
exclude_origins = ["Web"]
concurrency = 0
timeout = "0s"
max_body_size = 10
secrets = ["whsec_short"]
headers = { "Content-Type" = "text/plain", "Bad Header" = "x" }

[[route]]
name = "x"
enabled = true
"#;
    let err = load_text(text).unwrap_err();
    let problems = err.problems();
    let expected = [
        "moodle.url: the scheme \"oracle\"",
        "moodle.prefix",
        "moodle.table",
        "moodle.batch_size: 0 is out of range",
        "moodle.poll_interval",
        "moodle.max_open_gaps",
        "redact.user[0]",
        "redact.My Table",
        "[[route]] #1: name",
        "[[route]] #1: url: the scheme \"ftp\"",
        "[[route]] #1: events[0]",
        "[[route]] #1: filter.crud[0]",
        "[[route]] #1: filter.edulevel[0]",
        "[[route]] #1: filter.component[0]",
        "[[route]] #1: filter.courseid[0]",
        "[[route]] #1: exclude_origins[0]",
        "[[route]] #1: concurrency",
        "[[route]] #1: timeout",
        "[[route]] #1: max_body_size",
        "[[route]] #1: secrets[0]",
        "[[route]] #1: headers.Content-Type",
        "[[route]] #1: headers.Bad Header",
        "route \"x\": url: is required",
        "route \"x\": set `events` or `preset`",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "missing {e:?} in\n{err}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{err}");
    let text = err.to_string();
    assert!(text.starts_with("invalid configuration:\n  - "), "{text}");
    assert_eq!(text.lines().count(), expected.len() + 1);
}

#[test]
fn moodle_url_is_required() {
    let err = error_of("[[route]]\nname = \"r\"\nurl = \"https://h\"\npreset = \"enrolled\"\n");
    assert!(err.contains("moodle.url: is required"), "{err}");
}

#[test]
fn disabled_routes_need_no_url() {
    let c = load_text("[moodle]\nurl = \"postgres://u@h/db\"\n[[route]]\nname = \"off\"\nenabled = false\nevents = [\"*\"]\n")
        .unwrap();
    assert!(!c.routes[0].enabled && c.routes[0].url.is_none());
}

#[test]
fn redact_lists_add_to_the_defaults() {
    let text = format!(
        "{MINIMAL}[redact]\nuser = [\"email\", \"password\", \"phone1\"]\ncourse = [\"summary\"]\n"
    );
    let c = load_text(&text).unwrap();
    assert_eq!(
        c.redact["user"],
        ["password", "secret", "lastip", "email", "phone1"]
    );
    assert_eq!(c.redact["enrol"], ["password"]);
    assert_eq!(c.redact["course"], ["summary"]);
    let c = load_text(&format!("[redact]\nuser = []\n{MINIMAL}")).unwrap();
    assert_eq!(c.redact["user"], ["password", "secret", "lastip"]);
}
