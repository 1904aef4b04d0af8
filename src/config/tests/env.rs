//! `${VAR}` expansion and `NOSEY_…` overrides.

use std::time::Duration;

use super::*;

const TOKEN_ROUTE: &str = r#"[moodle]
url = "postgres://nosey:${DBPASS}@db/moodle"

[[route]]
name = "crm"
url = "https://${CRM_HOST}/hooks"
events = ['\core\event\${EVENT}']
auth = { bearer = "${CRM_TOKEN}" }
headers = { "X-Cost" = "$${NOT_A_VAR} and $5" }
"#;

fn token_env() -> MapEnv {
    MapEnv::from([
        ("DBPASS", "dbpass-value"),
        ("CRM_HOST", "crm.example.org"),
        ("EVENT", "course_created"),
        ("CRM_TOKEN", "token-value"),
    ])
}

#[test]
fn variables_expand_everywhere_and_dollar_dollar_escapes() {
    let c = load_env(TOKEN_ROUTE, &token_env()).unwrap();
    assert_eq!(
        c.moodle.url.expose(),
        "postgres://nosey:dbpass-value@db/moodle"
    );
    let r = c.route("crm").unwrap();
    assert_eq!(r.url.as_deref(), Some("https://crm.example.org/hooks"));
    assert_eq!(r.events, [r"\core\event\course_created"]);
    assert_eq!(r.auth, Some(Auth::Bearer(Secret::new("token-value"))));
    assert_eq!(r.headers[0].1.expose(), "${NOT_A_VAR} and $5");
}

#[test]
fn an_unset_variable_names_itself_and_the_key_but_no_value() {
    let mut env = token_env();
    env.0.remove("CRM_TOKEN");
    let err = load_env(TOKEN_ROUTE, &env).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, ConfigError::Env { var, .. } if var == "CRM_TOKEN"),
        "{text}"
    );
    assert!(text.contains("route \"crm\": auth.bearer"), "{text}");
    assert!(text.contains("line 8, column 19"), "{text}");
    assert!(!text.contains("dbpass-value"), "{text}");
}

#[test]
fn malformed_references_are_errors_with_position() {
    let err = error_of("[site]\nurl = \"https://${HOST\"\n");
    assert!(
        err.contains("line 2, column 7: site.url") && err.contains("not closed"),
        "{err}"
    );
    let err = error_of("[site]\nurl = \"https://${my host}\"\n");
    assert!(
        err.contains("variable name") && !err.contains("my host"),
        "{err}"
    );
}

#[test]
fn expanded_values_are_not_shown_in_type_errors() {
    let env = MapEnv::from([("T", "secret-ish")]);
    let text = format!("{MINIMAL}timeout = \"${{T}}\"\n");
    let err = load_env(&text, &env).unwrap_err().to_string();
    assert!(err.contains("\"${T}\" is not a duration"), "{err}");
    assert!(!err.contains("secret-ish"), "{err}");
}

#[test]
fn overrides_replace_section_keys_with_typed_values() {
    let env = MapEnv::from([
        ("NOSEY_MOODLE__URL", "mysql://other@db2/moodle"),
        ("NOSEY_MOODLE__BATCH_SIZE", "500"),
        ("NOSEY_MOODLE__INCLUDE_RESTORED", "true"),
        ("NOSEY_STORE__PATH", "/tmp/state.db"),
        ("NOSEY_SITE__URL", "https://lms.example.org"),
        ("NOSEY_REDACT__USER", "[\"email\"]"),
        ("NOSEY_DEFAULTS__TIMEOUT", "3s"),
        ("NOSEY_CONFIG", "/ignored"),
        ("NOSEY_LOG", "ignored"),
    ]);
    let c = load_env(MINIMAL, &env).unwrap();
    assert_eq!(c.moodle.url.expose(), "mysql://other@db2/moodle");
    assert_eq!(c.moodle.batch_size, 500);
    assert!(c.moodle.include_restored);
    assert_eq!(c.store.path, std::path::Path::new("/tmp/state.db"));
    assert_eq!(c.site.url.as_deref(), Some("https://lms.example.org"));
    assert!(c.redact["user"].contains(&"email".to_string()));
    assert_eq!(c.routes[0].timeout, Duration::from_secs(3));
}

#[test]
fn nosey_enabled_overrides_the_global_switch() {
    let env = MapEnv::from([("NOSEY_ENABLED", "false")]);
    assert!(!load_env(MINIMAL, &env).unwrap().enabled);
    let env = MapEnv::from([("NOSEY_ENABLED", "true")]);
    assert!(
        load_env(&format!("enabled = false\n{MINIMAL}"), &env)
            .unwrap()
            .enabled
    );
}

#[test]
fn route_keys_are_overridden_by_route_name() {
    let text = format!(
        "{MINIMAL}\n[[route]]\nname = \"crm-north\"\nurl = \"https://a/x\"\nevents = [\"*\"]\n"
    );
    let env = MapEnv::from([
        ("NOSEY_ROUTE__CRM_NORTH__URL", "https://b/y"),
        ("NOSEY_ROUTE__CRM_NORTH__CONCURRENCY", "4"),
        ("NOSEY_ROUTE__R__ENABLED", "false"),
        ("NOSEY_ROUTE__CRM_NORTH__AUTH", "{ bearer = \"tok\" }"),
        (
            "NOSEY_ROUTE__R__SECRETS",
            "[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]",
        ),
    ]);
    let c = load_env(&text, &env).unwrap();
    let north = c.route("crm-north").unwrap();
    assert_eq!(north.url.as_deref(), Some("https://b/y"));
    assert_eq!(north.concurrency, 4);
    assert_eq!(north.auth, Some(Auth::Bearer(Secret::new("tok"))));
    let r = c.route("r").unwrap();
    assert!(!r.enabled);
    assert_eq!(r.secrets.len(), 1);
}

#[test]
fn strings_that_look_like_other_types_stay_strings_where_a_string_is_wanted() {
    let env = MapEnv::from([("NOSEY_ROUTE__R__AUTH__BEARER", "12345")]);
    let c = load_env(MINIMAL, &env).unwrap();
    assert_eq!(c.routes[0].auth, Some(Auth::Bearer(Secret::new("12345"))));
}

#[test]
fn several_variables_can_fill_one_table() {
    let env = MapEnv::from([
        ("NOSEY_ROUTE__R__AUTH__BASIC__PASSWORD", "pw-from-env"),
        ("NOSEY_ROUTE__R__AUTH__BASIC__USERNAME", "moodle"),
    ]);
    let c = load_env(MINIMAL, &env).unwrap();
    let want = Auth::Basic {
        username: "moodle".into(),
        password: Secret::new("pw-from-env"),
    };
    assert_eq!(c.routes[0].auth, Some(want));
}

#[test]
fn the_variable_at_fault_is_named_among_good_ones() {
    let env = MapEnv::from([
        ("NOSEY_MOODLE__BATCH_SIZE", "500"),
        ("NOSEY_MOODLE__GAP_TIMEOUT", "whenever"),
        ("NOSEY_STORE__PATH", "/x"),
    ]);
    let err = load_env(MINIMAL, &env).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "environment variable NOSEY_MOODLE__GAP_TIMEOUT: \"***\" is not a duration"
        ),
        "{err}"
    );
}

#[test]
fn override_errors_name_the_variable_but_not_the_value() {
    let cases = [
        ("NOSEY_MOODLE__BATCH_SIZE", "lots-of-rows", "invalid type"),
        (
            "NOSEY_MOODLE__BATCHSIZE",
            "500",
            "unknown field `batchsize`",
        ),
        (
            "NOSEY_MOODLE__POLL_INTERVAL",
            "quick-please",
            "is not a duration",
        ),
        (
            "NOSEY_ROUTE__NOPE__URL",
            "https://x",
            "no [[route]] is named \"nope\"",
        ),
        ("NOSEY_ROUTE__R", "x", "NOSEY_ROUTE__<NAME>__<KEY>"),
        ("NOSEY_ENABLED__X", "1", "expected a boolean"),
        ("NOSEY_MOODLE__", "1", "is not of the form"),
    ];
    for (var, value, message) in cases {
        let err = load_env(MINIMAL, &MapEnv::from([(var, value)])).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, ConfigError::Env { var: v, .. } if v == var),
            "{text}"
        );
        assert!(text.contains(message), "{var}: {text}");
        assert!(value.len() < 4 || !text.contains(value), "{var}: {text}");
    }
}

#[test]
fn a_plain_closure_can_serve_as_the_environment() {
    let env = |name: &str| (name == "CRM_TOKEN").then(|| "from-closure".to_string());
    let text = with_route_keys("auth = { bearer = \"${CRM_TOKEN}\" }");
    let c = load_from_str(&text, None, &env).unwrap();
    assert_eq!(
        c.routes[0].auth,
        Some(Auth::Bearer(Secret::new("from-closure")))
    );
}
