//! The README's test command is the one CI runs.

const README: &str = include_str!("../../../README.md");
const CI: &str = include_str!("../../../.ci/run");

#[test]
fn ci_runs_the_readmes_test_command() {
    let (_, after) = README.split_once("Run every test").expect("the README says how to run every test");
    let (_, block) = after.split_once("```sh\n").expect("a sh block follows");
    let (command, _) = block.split_once("```").expect("the block ends");
    let command = command.trim();
    assert_eq!(command.lines().count(), 1, "the README's test command is one line: {command:?}");
    assert!(
        CI.lines().any(|line| line.trim() == command),
        ".ci/run does not run the README's test command {command:?} as a line of its own"
    );
}
