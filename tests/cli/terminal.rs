//! What only happens on a terminal, run on a real pseudo-terminal (util-linux `script`): the
//! confirmation prompt of a destructive action, and the progress bar of `--all`.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{threecx, TestPbx, SECRET};

/// Runs `threecx ARGS [> redirect]` inside `script`, so stdin, stdout and stderr are a terminal
/// (unless redirected), against `pbx`, typing `typed` on its keyboard: exit code and everything
/// the terminal showed.
fn on_terminal(pbx: &TestPbx, args: &[&str], redirect: Option<&str>, typed: &str) -> (i32, String) {
    let mut line = shell_words::join(
        std::iter::once(env!("CARGO_BIN_EXE_threecx")).chain(args.iter().copied()),
    );
    if let Some(file) = redirect {
        line.push_str(" > ");
        line.push_str(&shell_words::quote(file));
    }
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env(
            "THREECX_CONFIG",
            "/nonexistent/threecx-cli-tests/config.toml",
        )
        .env("THREECX_TOKEN_CACHE", cache.path())
        .env("THREECX_AUDIT_LOG", cache.path().join("audit.jsonl"))
        .env("THREECX_URL", pbx.handle.url())
        .env("THREECX_CLIENT_ID", pbx.handle.client_id())
        .env("THREECX_CLIENT_SECRET", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the CLI on a pseudo-terminal (apt-get install bsdutils)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!shown.contains(SECRET), "{shown}");
    (out.status.code().expect("exited"), shown)
}

const PURGE: [&str; 5] = [
    "call",
    "Purge Settings",
    "Purge Chats",
    "--input",
    r#"{"period":{"All":true}}"#,
];

#[test]
fn a_destructive_action_asks_on_a_terminal_and_answering_no_sends_nothing() {
    let pbx = TestPbx::small();
    let (code, shown) = on_terminal(&pbx, &PURGE, None, "n\n");
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains("Purge Settings / Purge Chats is destructive. Send it?"),
        "{shown}"
    );
    assert!(shown.contains("nothing was sent"), "{shown}");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 0);
    assert_eq!(pbx.handle.token_requests(), 0, "not even a token request");

    let (code, shown) = on_terminal(&pbx, &PURGE, None, "y\n");
    assert_eq!(code, 0, "{shown}");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);
}

#[test]
fn all_shows_a_progress_bar_on_a_terminal_and_none_otherwise() {
    let pbx = TestPbx::small();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.ndjson");
    let list = [
        "call",
        "Users",
        "List User",
        "--all",
        "--page-size",
        "5",
        "--output",
        "ndjson",
    ];
    let (code, shown) = on_terminal(&pbx, &list, Some(file.to_str().unwrap()), "");
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(" items ("),
        "progress bar on the terminal: {shown:?}"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.lines().count(), 25, "every user in the file");
    assert!(
        !shown.contains(r#""Number""#),
        "items go to the file, not the terminal"
    );

    // Not a terminal: no bar, nothing but the items.
    let run = threecx(list).sandbox(&pbx).run();
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 25);
    assert!(!run.stderr.contains("items ("), "{}", run.stderr);
}
