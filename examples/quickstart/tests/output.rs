//! Runs the quickstart binary and checks what it prints, so the example cannot rot.

use std::process::Command;

fn run() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_renraku-quickstart")).output().expect("the example runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the example failed: {}\n{stdout}\n{stderr}", output.status);
    assert!(stderr.is_empty(), "the example wrote to stderr: {stderr}");
    stdout
}

#[track_caller]
fn assert_line(stdout: &str, expected: &str) {
    assert!(stdout.lines().any(|line| line.contains(expected)), "no line contains {expected:?}:\n{stdout}");
}

#[test]
fn the_quickstart_runs_start_to_finish() {
    let stdout = run();
    assert_line(&stdout, "created 3 contacts in case 42 with one bulk create");
    assert_line(
        &stdout,
        "a bulk create with invalid rows stored nothing: row 1 first_name (invalid_name), row 2 phone (invalid_phone)",
    );
    assert_line(&stdout, ": version 1 -> 2");
    assert_line(&stdout, "setting the same email again changes nothing: still version 2");
    assert_line(&stdout, "conflict: clerk-7 expected version 1, the contact is at version 2");
    assert_line(&stdout, "retried on version 2: the contact is now at version 3");
    assert_line(&stdout, "phone search across cases: 2 contacts, in cases 42, 2024-117");
    assert_line(&stdout, "case 42: 3 contacts, first created ");
    assert_line(&stdout, "erased 3 contacts of case 42");
    assert_line(&stdout, "afterwards: no contact data found for case 42");
    assert_line(
        &stdout,
        "the audit trail keeps 7 events; the last: case_erased by supervisor-2 on the whole case: []",
    );
    assert_line(&stdout, "case 2024-117 still has 1 contact(s)");
}

#[test]
fn the_audit_trail_shows_field_names_in_order() {
    let stdout = run();
    let trail: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("audit trail of case 42"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .collect();
    let shapes: Vec<String> = trail
        .iter()
        .map(|line| {
            // Drop the contact id, which differs between runs.
            let (head, fields) = line.trim().split_once(": ").expect("an audit line");
            let head: Vec<&str> = head.split(' ').take(3).collect();
            format!("{} {fields}", head.join(" "))
        })
        .collect();
    assert_eq!(
        shapes,
        [
            "created by clerk-7 [title, first_name, last_name, phone, relationship]",
            "created by clerk-7 [first_name, last_name, email, relationship]",
            "created by clerk-7 [first_name, last_name, phone, relationship]",
            "updated by clerk-7 [email]",
            "updated by supervisor-2 [relationship]",
            "updated by clerk-7 [email]",
        ],
        "{stdout}"
    );
}

#[test]
fn the_quickstart_prints_no_personal_values() {
    let stdout = run();
    for value in [
        "Nguy",
        "Mai",
        "Minh",
        "Zoë",
        "Brien",
        "Lovelace",
        "1234567",
        "12345678",
        "example.org",
        "key holder",
    ] {
        assert!(!stdout.contains(value), "the output shows {value:?}:\n{stdout}");
    }
}
