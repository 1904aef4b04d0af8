//! `nosey run` as a subprocess with a configuration written for the test, and the other
//! subcommands against the same configuration.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::{Proc, TestDb, nosey_bin, write_config_moodle};

pub struct Nosey {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub proc: Option<Proc>,
    env: Vec<(String, String)>,
}

impl Nosey {
    /// Writes a config for `db` with `routes` (TOML) and starts `nosey run` with `env`.
    pub fn start(db: &TestDb, routes: &str, env: &[(&str, &str)]) -> Nosey {
        Nosey::start_moodle(&format!("url = \"{}\"", db.url), routes, env)
    }

    /// Like [`Nosey::start`], with the `[moodle]` section's keys given as TOML lines.
    pub fn start_moodle(moodle: &str, routes: &str, env: &[(&str, &str)]) -> Nosey {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config_moodle(dir.path(), moodle, routes);
        let mut n = Nosey {
            dir,
            config,
            proc: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        n.restart();
        n
    }

    /// Starts `nosey run` (again), keeping the store.
    pub fn restart(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.proc = Some(Proc::spawn_env(
            &["--config", self.config.to_str().unwrap(), "run"],
            &env,
            &self.dir.path().join("stderr.log"),
        ));
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// SIGKILL, as a crash.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut p = self.proc.take().expect("running");
        p.terminate();
        p.wait(30)
    }

    /// Runs another subcommand with the same configuration.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(nosey_bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("NO_COLOR", "1")
            .output()
            .expect("run nosey")
    }

    /// `deliveries list --json` as values.
    pub fn deliveries(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["deliveries", "list", "--json", "--limit", "100000"];
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}
