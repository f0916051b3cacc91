//! The package's own unit tests (`npm test`: node's test runner over the runtime).

use std::process::Command;

#[test]
fn the_packages_unit_tests_pass() {
    let dir = super::package::built();
    let output = Command::new("npm")
        .args(["test", "--silent"])
        .current_dir(dir)
        .output()
        .expect("run npm test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}\n{stderr}");
    assert!(output.status.success(), "npm test failed");
    // node's test runner closes with "# pass N" / "# fail N".
    let count = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert_eq!(count("# fail "), Some(0), "{stdout}");
    assert!(
        count("# pass ").unwrap_or(0) >= 10,
        "too few unit tests ran:\n{stdout}"
    );
}
