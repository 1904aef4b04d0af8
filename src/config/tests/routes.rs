//! `[defaults]`, route names, and what a route listens to.

use std::time::Duration;

use super::*;

const WITH_DEFAULTS: &str = r#"[moodle]
url = "postgres://u@h/db"

[defaults]
url = "https://default.example.org/hook"
timeout = "3s"
concurrency = 2
headers = { "X-Tenant" = "north", "X-Env" = "prod" }
retry = { schedule = ["10ms", "20ms"], max_age = "1s" }
auth = { bearer = "default-token" }
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
preset = "enrolled"

[[route]]
name = "inherits"

[[route]]
name = "overrides"
url = "https://own.example.org/hook"
timeout = "1s"
headers = { "x-tenant" = "south", "X-Own" = "1" }
retry = { max_age = "2h" }
secrets_file = "/dev/null"
events = ['\core\event\course_created']
"#;

#[test]
fn routes_inherit_defaults_and_override_whole_keys() {
    let c = load_text(WITH_DEFAULTS).unwrap();
    let a = c.route("inherits").unwrap();
    assert_eq!(a.url.as_deref(), Some("https://default.example.org/hook"));
    assert_eq!(a.timeout, Duration::from_secs(3));
    assert_eq!(a.concurrency, 2);
    assert_eq!(
        a.retry.schedule,
        [Duration::from_millis(10), Duration::from_millis(20)]
    );
    assert_eq!(a.retry.max_age, Duration::from_secs(1));
    assert_eq!(a.auth, Some(Auth::Bearer(Secret::new("default-token"))));
    assert_eq!(a.secrets.len(), 1);
    assert_eq!(a.presets, [Preset::Enrolled]);
    let headers: Vec<(&str, &str)> = a
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(headers, [("X-Env", "prod"), ("X-Tenant", "north")]);

    let b = c.route("overrides").unwrap();
    assert_eq!(b.url.as_deref(), Some("https://own.example.org/hook"));
    assert_eq!(b.timeout, Duration::from_secs(1));
    assert_eq!(b.concurrency, 2);
    // `retry` is replaced whole: the schedule comes from the built-in default.
    assert_eq!(b.retry.schedule, DEFAULT_RETRY_SCHEDULE);
    assert_eq!(b.retry.max_age, Duration::from_secs(7200));
    // `secrets_file` replaces the inherited `secrets` instead of clashing with it.
    assert!(b.secrets.is_empty());
    assert_eq!(b.presets, [Preset::Enrolled]);
    assert_eq!(b.events, [r"\core\event\course_created"]);
    let headers: Vec<(&str, &str)> = b
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    assert_eq!(
        headers,
        [("X-Env", "prod"), ("X-Own", "1"), ("x-tenant", "south")]
    );
}

#[test]
fn name_is_refused_in_defaults() {
    let err = error_of("[defaults]\nname = \"x\"\ntimeout = \"1s\"\n");
    assert!(err.contains("`name` cannot be set in [defaults]"), "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn route_names_are_required_valid_and_unique() {
    let route =
        |name: &str| format!("[[route]]\n{name}\nurl = \"https://h\"\npreset = \"enrolled\"\n");
    let text = format!(
        "[moodle]\nurl = \"postgres://u@h/db\"\n{}{}{}{}",
        route("name = \"crm\""),
        route("name = \"crm\""),
        route(""),
        route("name = \"CRM!\""),
    );
    let err = load_text(&text).unwrap_err();
    let p = err.problems();
    assert!(
        p.iter()
            .any(|p| p.starts_with("route \"crm\": the name is already used by [[route]] #1")),
        "{err}"
    );
    assert!(
        p.iter()
            .any(|p| p.starts_with("[[route]] #3: `name` is required")),
        "{err}"
    );
    assert!(
        p.iter()
            .any(|p| p.starts_with("[[route]] #4: name: \"CRM!\" is not a route name")),
        "{err}"
    );
    assert_eq!(p.len(), 3, "{err}");
    let long = "a".repeat(65);
    assert!(
        error_of(&with_route_keys("").replace("name = \"r\"", &format!("name = \"{long}\"")))
            .contains("1 to 64")
    );
}

#[test]
fn event_patterns_are_checked_with_a_hint() {
    let err = error_of(&with_route_keys("events = [\"core_event_course_created\"]"));
    assert!(
        err.contains("route \"r\": events[0]") && err.contains("single quotes"),
        "{err}"
    );
    let c = load_text(&with_route_keys("events = ['*', '\\mod_forum\\event\\*']")).unwrap();
    assert!(c.routes[0].matches_event(r"\mod_forum\event\post_created"));
}

#[test]
fn presets_take_one_name_or_a_list() {
    let c = load_text(
        &with_route_keys("").replace("\"enrolled\"", "[\"course_completed\", \"category_crud\"]"),
    )
    .unwrap();
    assert_eq!(
        c.routes[0].presets,
        [Preset::CourseCompleted, Preset::CategoryCrud]
    );
    let patterns: Vec<&str> = c.routes[0].event_patterns().collect();
    assert_eq!(patterns.len(), 4);
    assert_eq!(Preset::ActivityCompleted.path(), "/module/completed");
    assert_eq!(Preset::ALL.len(), 6);
}

#[test]
fn formats_orderings_and_sizes() {
    let text = with_route_keys(
        "format = \"cloudevents\"\nordering = \"course\"\nmax_body_size = 2048\nconcurrency = 1024",
    );
    let r = &load_text(&text).unwrap().routes[0];
    assert_eq!(
        (r.format, r.ordering, r.max_body_size, r.concurrency),
        (Format::CloudEvents, Ordering::Course, 2048, 1024)
    );
    for ordering in ["none", "user", "route", "object"] {
        assert!(load_text(&with_route_keys(&format!("ordering = \"{ordering}\""))).is_ok());
    }
    assert!(error_of(&with_route_keys("max_body_size = \"512B\"")).contains("below the minimum"));
    assert!(error_of(&with_route_keys("concurrency = 1025")).contains("1025 is out of range"));
    assert!(
        load_text(&with_route_keys("retry = { schedule = [] }"))
            .unwrap()
            .routes[0]
            .retry
            .schedule
            .is_empty()
    );
}
