//! The deployment files in `deploy/`: the README shows them verbatim, and the systemd unit
//! passes `systemd-analyze verify` and scores what it says in `systemd-analyze security`.
//! (`tests/nginx.rs` runs `deploy/nginx.conf`.)
//!
//! The systemd checks need `systemd-analyze` (Debian's `systemd` package). Where it is
//! absent, as in containers without systemd, they print a note and pass.

use std::path::Path;
use std::process::{Command, Output};

const README: &str = include_str!("../README.md");
const NGINX: &str = include_str!("../deploy/nginx.conf");
const UNIT: &str = include_str!("../deploy/renraku-web.service");
const BIN: &str = env!("CARGO_BIN_EXE_renraku-web");

/// The exposure the unit, the README and this test state.
const SCORE: &str = "0.9";

#[test]
fn the_readme_shows_the_deployment_files_verbatim() {
    for (language, file, name) in
        [("nginx", NGINX, "deploy/nginx.conf"), ("ini", UNIT, "deploy/renraku-web.service")]
    {
        let block = format!("```{language}\n{file}```\n");
        assert!(README.contains(&block), "README.md should show {name} verbatim in a ```{language} block");
    }
}

#[test]
fn the_unit_states_its_score() {
    let stated = format!("systemd-analyze security renraku-web: {SCORE}");
    assert!(UNIT.contains(&stated), "the unit should say {stated:?}");
    assert!(README.contains(&format!("`systemd-analyze security renraku-web` scores {SCORE}")));
}

fn systemd_analyze(args: &[&str]) -> Option<Output> {
    match Command::new("systemd-analyze").args(args).output() {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("NOTE: systemd-analyze is not installed: the systemd unit was not checked");
            None
        }
        Err(e) => panic!("systemd-analyze: {e}"),
    }
}

/// A root directory with systemd's own units, the unit where the README puts it, and the
/// binary where the README installs it.
fn root_with_the_unit() -> tempfile::TempDir {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let units = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .map(Path::new)
        .find(|dir| dir.join("sysinit.target").is_file())
        .expect("systemd's units (sysinit.target) beside systemd-analyze");
    let copy = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(units).unwrap() {
        let entry = entry.unwrap();
        let to = copy.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), to).unwrap();
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
    let etc = root.path().join("etc/systemd/system");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("renraku-web.service"), UNIT).unwrap();
    let bin = root.path().join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    // `install -m 0755 target/release/renraku-web /usr/local/bin/renraku-web`, in the root.
    let installed = bin.join("renraku-web");
    std::fs::hard_link(BIN, &installed).or_else(|_| std::fs::copy(BIN, &installed).map(drop)).unwrap();
    root
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn the_systemd_unit_verifies() {
    if systemd_analyze(&["--version"]).is_none() {
        return;
    }
    let root = root_with_the_unit();
    let root_arg = format!("--root={}", root.path().display());
    let output = systemd_analyze(&["verify", &root_arg, "renraku-web.service"]).unwrap();
    assert!(output.status.success(), "systemd-analyze verify:\n{}", text(&output));
    assert!(!text(&output).contains("renraku-web"), "warnings:\n{}", text(&output));
}

#[test]
fn the_systemd_unit_scores_what_it_says_in_systemd_analyze_security() {
    if systemd_analyze(&["--version"]).is_none() {
        return;
    }
    let root = root_with_the_unit();
    let root_arg = format!("--root={}", root.path().display());
    // At most 1.0 (the threshold is in tenths).
    let args = ["security", "--offline=true", "--threshold=10", &root_arg, "renraku-web.service"];
    let output = systemd_analyze(&args).unwrap();
    let report = text(&output);
    assert!(output.status.success(), "systemd-analyze security:\n{report}");
    let overall = report.lines().find(|line| line.contains("Overall exposure level")).unwrap_or_default();
    eprintln!("{overall}");
    assert!(overall.contains(&format!(": {SCORE} ")), "the unit says {SCORE}:\n{report}");
}
