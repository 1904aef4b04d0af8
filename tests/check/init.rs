//! `nosey init` on Moodle's real `config.php` files and on hand-written variants: the TOML
//! loads as written, names the right database, prefix and site, and the password lives only
//! in a 0600 file.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::common::fixtures;
use super::{init, text};

/// What a generated configuration must say.
struct Expected<'a> {
    /// `[moodle] url` as written (no password).
    url: &'a str,
    prefix: &'a str,
    site: Option<&'a str>,
    password: Option<&'a str>,
}

/// Runs `init` on `php` and checks files, configuration and output. Returns stdout.
fn init_and_verify(php: &str, expected: &Expected) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config_php = dir.path().join("config.php");
    std::fs::write(&config_php, php).unwrap();
    let out = init(&config_php, dir.path(), &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    verify(dir.path(), expected, &stdout, &text(&out.stderr));
    stdout
}

fn verify(dir: &Path, expected: &Expected, stdout: &str, stderr: &str) {
    let toml_path = dir.join("nosey.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    assert!(
        toml.contains(&format!("\nurl = \"{}\"\n", expected.url)),
        "{toml}"
    );
    let config = nosey::config::load(&toml_path).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(config.moodle.prefix, expected.prefix);
    assert_eq!(config.site.url.as_deref(), expected.site);
    assert_eq!(config.routes.len(), 6);
    assert!(config.routes.iter().all(|r| !r.enabled));
    assert_eq!(config.store.path, dir.join("nosey.db"));
    let password_file = dir.join("nosey-db-password");
    match expected.password {
        Some(pw) => {
            let masked = expected.url.replacen('@', ":***@", 1);
            assert_eq!(config.moodle.url.to_string(), masked);
            assert_eq!(
                std::fs::read_to_string(&password_file).unwrap(),
                format!("{pw}\n")
            );
            let mode = std::fs::metadata(&password_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            for shown in [stdout, stderr, toml.as_str()] {
                assert!(!shown.contains(pw), "the password shows in:\n{shown}");
            }
        }
        None => {
            assert_eq!(config.moodle.url.to_string(), expected.url);
            assert!(!password_file.exists());
            assert!(
                toml.contains("\n# password_file = \"nosey-db-password\"\n"),
                "{toml}"
            );
        }
    }
}

#[test]
fn init_reads_moodles_real_config_files() {
    let cases = [
        (
            "pg",
            "postgres://moodle@127.0.0.1:55432/moodle",
            "http://127.0.0.1:8080",
            "CREATE ROLE nosey LOGIN PASSWORD '",
        ),
        (
            "mariadb",
            "mysql://moodle@127.0.0.1:33307/moodle",
            "http://127.0.0.1:8081",
            "GRANT SELECT ON `moodle`.* TO 'nosey'@'%';",
        ),
    ];
    for (dir, url, site, sql) in cases {
        let php = std::fs::read_to_string(fixtures().join(dir).join("config.php")).unwrap();
        let stdout = init_and_verify(
            &php,
            &Expected {
                url,
                prefix: "mdl_",
                site: Some(site),
                password: Some("moodlepass"),
            },
        );
        assert!(stdout.contains(sql), "{stdout}");
        for step in [" check   #", " tail    #", " run     #"] {
            assert!(stdout.contains(step), "{stdout}");
        }
    }
}

#[test]
fn init_reads_hand_written_variants() {
    let head = |dbtype: &str| {
        format!(
            "<?php\nunset($CFG);\n$CFG = new stdClass();\n$CFG->dbtype = '{dbtype}';\n$CFG->dbname = 'moodle';\n$CFG->dbuser = 'moodle';\n"
        )
    };
    let cases: Vec<(String, Expected)> = vec![
        (
            format!(
                "{}$CFG->dbhost = 'localhost';\n$CFG->dbpass = 'Sock-Pg-Pw';\n$CFG->dboptions = array('dbsocket' => '/var/run/postgresql', 'dbport' => 5433);\n",
                head("pgsql")
            ),
            Expected {
                url: "postgres://moodle@localhost:5433/moodle?host=/var/run/postgresql",
                prefix: "mdl_",
                site: None,
                password: Some("Sock-Pg-Pw"),
            },
        ),
        (
            format!(
                "{}$CFG->dbhost = 'localhost';\n$CFG->dbpass = 'Sock-My-Pw';\n$CFG->dboptions = ['dbsocket' => '/run/mysqld/mysqld.sock'];\n$CFG->wwwroot = 'https://moodle.example.org';\n",
                head("mysqli")
            ),
            Expected {
                url: "mysql://moodle@localhost/moodle?socket=/run/mysqld/mysqld.sock",
                prefix: "mdl_",
                site: Some("https://moodle.example.org"),
                password: Some("Sock-My-Pw"),
            },
        ),
        (
            format!(
                "{}$CFG->dbhost = 'db.example.org';\n$CFG->dbpass = 'Port-Pw';\n$CFG->dboptions = array('dbport' => '6543');\n",
                head("pgsql")
            ),
            Expected {
                url: "postgres://moodle@db.example.org:6543/moodle",
                prefix: "mdl_",
                site: None,
                password: Some("Port-Pw"),
            },
        ),
        (
            format!(
                "{}$CFG->dbhost = 'db.example.org:3307';\n$CFG->dbpass = 'HostPort-Pw';\n$CFG->prefix = 'mdl2_';\n",
                head("mariadb")
            ),
            Expected {
                url: "mysql://moodle@db.example.org:3307/moodle",
                prefix: "mdl2_",
                site: None,
                password: Some("HostPort-Pw"),
            },
        ),
        (
            format!(
                "{}$CFG->dbhost = \"db.example.org\";\n$CFG->dbpass = \"Dq-p\\$ss\\\"w\\\\ord\";\n$CFG->prefix = \"m2_\";\n$CFG->wwwroot = \"https://moodle.example.org/sub\";\n",
                head("pgsql")
            ),
            Expected {
                url: "postgres://moodle@db.example.org/moodle",
                prefix: "m2_",
                site: Some("https://moodle.example.org/sub"),
                password: Some("Dq-p$ss\"w\\ord"),
            },
        ),
        (
            format!(
                "{}$CFG->dbhost = '10.0.0.5';\n$CFG->dbpass = 'Spread-Pw';\n$CFG->dboptions = array (\n  // Moodle's port\n  'dbpersist' => 0, # not needed\n  /* a block\n     comment */ 'dbport' => 5434,\n  'dbsocket' => '',\n);\n",
                head("pgsql")
            ),
            Expected {
                url: "postgres://moodle@10.0.0.5:5434/moodle",
                prefix: "mdl_",
                site: None,
                password: Some("Spread-Pw"),
            },
        ),
    ];
    for (php, expected) in &cases {
        init_and_verify(php, expected);
    }
}

#[test]
fn init_without_a_literal_password_writes_no_password_file() {
    let base = "<?php\n$CFG->dbtype = 'pgsql';\n$CFG->dbhost = 'db';\n$CFG->dbname = 'moodle';\n$CFG->dbuser = 'moodle';\n";
    let stdout = init_and_verify(
        &format!("{base}$CFG->dbpass = getenv('MOODLE_DB_PASS');\n"),
        &Expected {
            url: "postgres://moodle@db/moodle",
            prefix: "mdl_",
            site: None,
            password: None,
        },
    );
    assert!(
        stdout.contains("config.php computes the password (getenv('MOODLE_DB_PASS'))"),
        "{stdout}"
    );
    let stdout = init_and_verify(
        &format!("{base}$CFG->dbpass = '';\n"),
        &Expected {
            url: "postgres://moodle@db/moodle",
            prefix: "mdl_",
            site: None,
            password: None,
        },
    );
    assert!(stdout.contains("config.php sets no password"), "{stdout}");
}

#[test]
fn init_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let config_php = fixtures().join("pg/config.php");
    assert!(init(&config_php, dir.path(), &[]).status.success());
    let toml = dir.path().join("nosey.toml");
    std::fs::write(&toml, "# edited by hand\n").unwrap();
    let again = init(&config_php, dir.path(), &[]);
    assert!(!again.status.success());
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("nosey.toml already exists: pass --force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&toml).unwrap(),
        "# edited by hand\n"
    );

    // The password file alone also stops it, before anything is written.
    std::fs::remove_file(&toml).unwrap();
    let again = init(&config_php, dir.path(), &[]);
    assert!(text(&again.stderr).contains("nosey-db-password already exists"));
    assert!(!toml.exists());

    let forced = init(&config_php, dir.path(), &["--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    nosey::config::load(&toml).unwrap();
}

#[test]
fn init_password_file_can_live_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets/db");
    let out = init(
        &fixtures().join("mariadb/config.php"),
        dir.path(),
        &["--password-file", secrets.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = std::fs::read_to_string(dir.path().join("nosey.toml")).unwrap();
    assert!(
        toml.contains(&format!("password_file = \"{}\"", secrets.display())),
        "{toml}"
    );
    let config = nosey::config::load(&dir.path().join("nosey.toml")).unwrap();
    assert!(config.moodle.url.expose().contains(":moodlepass@"));
    assert_eq!(
        std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn init_explains_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let cases = [
        (dir.path().join("missing.php"), "cannot read"),
        (
            write("hello.php", "<?php echo 'hello';\n"),
            "not a Moodle config.php",
        ),
        (
            write(
                "sqlsrv.php",
                "<?php $CFG->dbtype = 'sqlsrv'; $CFG->dbname = 'm'; $CFG->dbuser = 'u';",
            ),
            "nosey reads PostgreSQL, MySQL and MariaDB; this site uses sqlsrv",
        ),
        (
            write(
                "oci.php",
                "<?php $CFG->dbtype = 'oci'; $CFG->dbname = 'm'; $CFG->dbuser = 'u';",
            ),
            "this site uses oci",
        ),
    ];
    for (path, message) in cases {
        let out = init(&path, dir.path(), &[]);
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(stderr.contains(message), "{}: {stderr}", path.display());
        assert!(!dir.path().join("nosey.toml").exists());
    }
}
