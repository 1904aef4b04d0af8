//! `nosey demo` from a clean folder: every 2016 group arrives, signed, within seconds.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn the_demo_delivers_every_2016_group_signed() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(common::nosey_bin())
        .args(["demo", "--duration", "15s"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run nosey demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 40,
        "the demo stops after --duration"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty(), "no webhook printed:\n{stderr}");
    let routes: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l.ends_with("signature ok"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    for group in nosey::config::Preset::ALL {
        assert!(
            routes.contains(group.name()),
            "no verified {} webhook:\n{stdout}",
            group.name()
        );
    }
    assert!(!stdout.contains("INVALID"), "{stdout}");
    assert!(stderr.contains("summary after"), "{stderr}");
    assert!(
        stderr.contains(", 0 not"),
        "every signature valid: {stderr}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "the demo leaves nothing behind in the current folder"
    );
}
