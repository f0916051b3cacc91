//! The library-embedding example (`cargo run -p threecx-gateway --example dispatch`): another
//! Rust program dispatching actions by name against an in-process sandbox, run as its user would.
#[test]
fn the_dispatch_example_runs_end_to_end() {
    let built = threecx_test_support::build::cargo_build("threecx-gateway")
        .example("dispatch")
        .run()
        .expect("cargo build --example dispatch");
    let out = built
        .command()
        .env_clear()
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "603 actions in 133 resources",
            "Users / Get User By Number: [\"Number\"]",
            "PBX version \"20.0.10\"",
            "refused: /period/Start: expected a date-time such as 2024-01-01T00:00:00Z or null",
            "unconfirmed purge: Purge Settings / Purge Chats is destructive and was not confirmed; \
             nothing was sent",
            "25 users: 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 \
             119 120 121 122 123 124",
            "disabled: {\"Enabled\":false,\"Id\":1,\"Number\":\"100\",\"WasEnabled\":true}",
        ]
    );
}
