//! Secrets: read from files, never printed.

use std::path::Path;

use super::*;

const SIGNING: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SIGNING_2: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

fn load_in(dir: &Path, text: &str) -> Result<Config, ConfigError> {
    load_from_str(text, Some(dir), &MapEnv::new())
}

#[test]
fn file_keys_read_trimmed_secrets_relative_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "db-password", "p@ss/w:rd\n");
    write(dir.path(), "token", "  bearer-from-file \n");
    write(dir.path(), "basic", "basic-from-file");
    write(
        dir.path(),
        "secrets",
        &format!("# current\n{SIGNING}\n\n  {SIGNING_2}  \n# old\n"),
    );
    write(dir.path(), "key-pass", "key-pass-from-file\n");
    write(dir.path(), "client.pem", "cert");
    write(dir.path(), "client.key", "key");
    let text = format!(
        r#"[moodle]
url = "postgres://nosey@db/moodle"
password_file = "db-password"

[[route]]
name = "a"
url = "https://h/a"
preset = "enrolled"
auth = {{ bearer_file = "token" }}
secrets_file = "secrets"
tls = {{ ca = "client.pem", client_cert = "client.pem", client_key = "client.key", client_key_password_file = "key-pass" }}

[[route]]
name = "b"
url = "https://h/b"
preset = "enrolled"
auth = {{ basic = {{ username = "moodle", password_file = "{}" }} }}
"#,
        dir.path().join("basic").display()
    );
    let c = load_in(dir.path(), &text).unwrap();
    assert_eq!(
        c.moodle.url.expose(),
        "postgres://nosey:p%40ss%2Fw%3Ard@db/moodle"
    );
    assert_eq!(c.moodle.url.to_string(), "postgres://nosey:***@db/moodle");
    let a = c.route("a").unwrap();
    assert_eq!(a.auth, Some(Auth::Bearer(Secret::new("bearer-from-file"))));
    let secrets: Vec<&str> = a.secrets.iter().map(Secret::expose).collect();
    assert_eq!(secrets, [SIGNING, SIGNING_2]);
    assert_eq!(
        a.tls.client_cert.as_deref(),
        Some(dir.path().join("client.pem").as_path())
    );
    assert_eq!(
        a.tls.client_key_password.as_ref().unwrap().expose(),
        "key-pass-from-file"
    );
    let b = c.route("b").unwrap();
    let want = Auth::Basic {
        username: "moodle".into(),
        password: Secret::new("basic-from-file"),
    };
    assert_eq!(b.auth, Some(want));
}

#[test]
fn missing_files_name_the_key_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"[moodle]
url = "postgres://nosey@db/moodle"
password_file = "no-db-password"

[[route]]
name = "a"
url = "https://h/a"
preset = "enrolled"
auth = { bearer_file = "no-token" }
secrets_file = "no-secrets"
tls = { ca = "no-ca.pem", client_cert = "no-cert.pem", client_key = "no-key.pem", client_key_password_file = "no-pass" }
"#;
    let err = load_in(dir.path(), text).unwrap_err();
    let expected = [
        ("moodle.password_file", "no-db-password"),
        ("route \"a\": auth.bearer_file", "no-token"),
        ("route \"a\": secrets_file", "no-secrets"),
        ("route \"a\": tls.ca", "no-ca.pem"),
        ("route \"a\": tls.client_cert", "no-cert.pem"),
        ("route \"a\": tls.client_key:", "no-key.pem"),
        ("route \"a\": tls.client_key_password_file", "no-pass"),
    ];
    for (key, file) in expected {
        let found = err
            .problems()
            .iter()
            .any(|p| p.starts_with(key) && p.contains(file));
        assert!(found, "missing {key} / {file} in\n{err}");
    }
    assert_eq!(err.problems().len(), expected.len(), "{err}");
}

#[test]
fn setting_a_value_and_its_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "x");
    let cases = [
        (
            "[moodle]\nurl = \"postgres://u@h/db\"\npassword = \"a\"\npassword_file = \"f\"\n",
            "moodle.password: set either `password` or `password_file`",
        ),
        (
            &with_route_keys("auth = { bearer = \"a\", bearer_file = \"f\" }"),
            "auth.bearer: set either",
        ),
        (
            &with_route_keys(
                "auth = { basic = { username = \"u\", password = \"a\", password_file = \"f\" } }",
            ),
            "auth.basic.password: set either",
        ),
        (
            &with_route_keys(&format!("secrets = [\"{SIGNING}\"]\nsecrets_file = \"f\"")),
            "secrets: set either",
        ),
        (
            &with_route_keys(
                "tls = { client_cert = \"f\", client_key = \"f\", client_key_password = \"a\", client_key_password_file = \"f\" }",
            ),
            "tls.client_key_password: set either",
        ),
    ];
    for (text, message) in cases {
        let err = load_in(dir.path(), text).unwrap_err().to_string();
        assert!(err.contains(message), "{message}\n{err}");
    }
}

#[test]
fn auth_and_tls_shapes_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", "x");
    let cases = [
        (
            "auth = { bearer = \"a\", basic = { username = \"u\", password = \"p\" } }",
            "set exactly one",
        ),
        ("auth = {}", "set exactly one"),
        (
            "auth = { basic = { username = \"u\" } }",
            "set `password` or `password_file`",
        ),
        (
            "auth = { basic = { username = \"a:b\", password = \"p\" } }",
            "auth.basic.username",
        ),
        ("tls = { client_cert = \"f\" }", "go together"),
        ("tls = { ca = \".\" }", "is a directory"),
        (
            "tls = { client_key_password = \"p\" }",
            "`client_key` is not",
        ),
        (
            &format!("secrets = [\"{SIGNING}\", \"whsec_tooshort\"]"),
            "secrets[1]: not a valid signing secret",
        ),
    ];
    for (extra, message) in cases {
        let err = load_in(dir.path(), &with_route_keys(extra))
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{extra}\n{err}");
        assert!(!err.contains("whsec_tooshort"), "{err}");
    }
}

#[test]
fn a_password_needs_a_user_in_the_url() {
    let err = error_of("[moodle]\nurl = \"postgres://db/moodle\"\npassword = \"p\"\n");
    assert!(err.contains("names no user"), "{err}");
}

#[test]
fn debug_output_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "key-pass", "SECRET-KEY-PASSWORD");
    write(dir.path(), "cert", "c");
    let env = MapEnv::from([("CRM_TOKEN", "SECRET-BEARER")]);
    let signing = "whsec_U0VDUkVULVNJR05JTkctS0VZLVNFQ1JFVC1TSUdO";
    let text = format!(
        r#"[moodle]
url = "postgres://nosey:SECRET-URL-PASSWORD@db/moodle"

[[route]]
name = "a"
url = "https://user:SECRET-ROUTE-URL-PASSWORD@h/a"
preset = "enrolled"
auth = {{ bearer = "${{CRM_TOKEN}}" }}
secrets = ["{signing}"]
headers = {{ "X-Api-Key" = "SECRET-HEADER" }}
tls = {{ client_cert = "cert", client_key = "cert", client_key_password_file = "key-pass" }}

[[route]]
name = "b"
url = "https://h/b"
preset = "enrolled"
auth = {{ basic = {{ username = "u", password = "SECRET-BASIC" }} }}
"#
    );
    let c = load_from_str(&text, Some(dir.path()), &env).unwrap();
    let mut with_db_password = c.clone();
    with_db_password.moodle.url = c
        .moodle
        .url
        .clone()
        .with_password(Secret::new("SECRET-DB-FILE"));
    for config in [&c, &with_db_password] {
        let debug = format!("{config:?} {config:#?}");
        for secret in [
            "SECRET-URL-PASSWORD",
            "SECRET-ROUTE-URL-PASSWORD",
            "SECRET-BEARER",
            signing,
            "SECRET-HEADER",
            "SECRET-KEY-PASSWORD",
            "SECRET-BASIC",
            "SECRET-DB-FILE",
        ] {
            assert!(!debug.contains(secret), "{secret} shows in\n{debug}");
        }
        assert!(debug.contains("X-Api-Key") && debug.contains("***"));
    }
    assert_eq!(
        with_db_password.moodle.url.expose(),
        "postgres://nosey:SECRET-DB-FILE@db/moodle"
    );
}
