//! The README's command-line examples are true: every `threecx ...` line in its shell blocks runs
//! (calls as `--dry-run`, so nothing needs a PBX, except those with `--sandbox`, which bring their
//! own and run for real), and the documented dry-run output matches.
//!
//! `threecx snapshot` and `threecx diff` lines run on a `--sandbox` (added when missing), their
//! folders inside a temporary folder; snapshots of the same seed are equal, so each diff exits 0.
//!
//! `threecx sandbox ...` lines serve until Ctrl-C, so they cannot be run like the others (the
//! test would never end): each is started on a free port instead (`--port 0`, any `--data` file
//! moved into a temporary folder), must print its banner within a time limit, and is then
//! stopped with SIGINT, as Ctrl-C would, and must exit 0 (having saved its data file, if any).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::threecx;

/// How long a `threecx sandbox` line may take to start listening.
const SANDBOX_START_LIMIT: Duration = Duration::from_secs(60);

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md")
}

/// Lines of ```sh blocks, with `\` continuations joined.
fn shell_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = line.split(" # ").next().unwrap_or("").trim_end();
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        lines.push(std::mem::take(&mut pending).trim().to_owned());
    }
    lines
}

/// The `threecx` arguments of a README line: `threecx ARGS` or `cargo run [--release] -p
/// threecx-cli -- ARGS` (without anything after a ` > ` redirection).
fn threecx_args(line: &str) -> Option<Vec<String>> {
    let line = line.split(" > ").next().unwrap();
    let mut words = shell_words::split(line).expect("shell syntax");
    if words.first().map(String::as_str) == Some("threecx") {
        words.remove(0);
        return Some(words);
    }
    let sep = words.iter().position(|w| w == "--")?;
    let head: Vec<&str> = words[..sep]
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "--release")
        .collect();
    (head == ["cargo", "run", "-p", "threecx-cli"]).then(|| words[sep + 1..].to_vec())
}

#[test]
fn every_threecx_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("period.json"),
        r#"{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"}}"#,
    )
    .unwrap();
    let lines = shell_lines(&readme());
    let examples: Vec<(String, Vec<String>)> = lines
        .iter()
        .filter_map(|l| threecx_args(l).map(|args| (l.clone(), args)))
        // `cargo run` lines need a PBX unless they use the sandbox or only print the request.
        .filter(|(l, args)| {
            l.starts_with("threecx ") || args.iter().any(|a| a == "--sandbox" || a == "--dry-run")
        })
        .collect();
    assert!(examples.len() >= 10, "README examples: {examples:?}");
    assert!(
        examples
            .iter()
            .any(|(l, _)| l.starts_with("cargo run --release -p threecx-cli -- --sandbox call")),
        "the main command runs on the sandbox"
    );
    let mut sandboxes = 0;
    let mut servers = 0;
    let mut snapshots = 0;
    for (example, args) in examples {
        if args[0] == "sandbox" {
            run_sandbox_example(&example, args, dir.path());
            sandboxes += 1;
            continue;
        }
        if args.iter().any(|a| a == "serve" || a == "mcp") {
            run_server_example(&example, args);
            servers += 1;
            continue;
        }
        if matches!(args.first().map(String::as_str), Some("snapshot" | "diff")) {
            run_snapshot_example(&example, args, dir.path());
            snapshots += 1;
            continue;
        }
        let mut args = args;
        if args.iter().any(|a| a == "call")
            && !args.iter().any(|a| a == "--dry-run" || a == "--sandbox")
        {
            args.push("--dry-run".into());
        }
        let input_file = dir.path().join("period.json");
        let mut args: Vec<String> = args
            .into_iter()
            .map(|a| a.replace("@period.json", &format!("@{}", input_file.display())))
            .collect();
        // Files the example writes go to the temporary folder.
        for i in 1..args.len() {
            if args[i - 1] == "--out" {
                args[i] = dir.path().join(&args[i]).display().to_string();
            }
        }
        let run = threecx(&args).run();
        assert_eq!(run.code, 0, "README example `{example}` failed: {run:#?}");
    }
    assert!(sandboxes >= 2, "README shows `threecx sandbox`");
    assert!(
        servers >= 3,
        "README shows `threecx serve` and `threecx mcp`"
    );
    assert!(
        snapshots >= 3,
        "README shows `threecx snapshot` and `threecx diff`"
    );
}

/// Runs a `threecx snapshot DIR` or `threecx diff OLD [NEW|--live]` line on a `--sandbox`, with
/// its folders moved into `dir`; it must exit 0.
fn run_snapshot_example(example: &str, args: Vec<String>, dir: &std::path::Path) {
    let mut out = vec!["--sandbox".to_owned()];
    let mut takes_value = false;
    for (i, arg) in args.into_iter().enumerate() {
        let folder = i > 0 && !takes_value && !arg.starts_with('-');
        takes_value = matches!(
            arg.as_str(),
            "-o" | "--output" | "--page-size" | "--timeout"
        );
        out.push(if folder {
            dir.join(&arg).display().to_string()
        } else {
            arg
        });
    }
    let run = threecx(&out).run();
    assert_eq!(run.code, 0, "README example `{example}` failed: {run:#?}");
}

/// Runs a `threecx serve` or `threecx mcp` line against a sandbox (`--sandbox` added when the
/// line has none, as calls get `--dry-run`): `serve` on a free port until it prints its address,
/// then stopped with SIGINT; `mcp` through an MCP handshake, then stopped by closing stdin. Both
/// must exit 0.
fn run_server_example(example: &str, mut args: Vec<String>) {
    use std::io::Write;
    let serve = args.iter().any(|a| a == "serve");
    if !args.iter().any(|a| a == "--sandbox") {
        args.insert(0, "--sandbox".into());
    }
    if let Some(i) = args.iter().position(|a| a == "--listen") {
        args[i + 1] = "127.0.0.1:0".into();
    } else if serve {
        args.extend(["--listen".into(), "127.0.0.1:0".into()]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_threecx"))
        .args(&args)
        .env_clear()
        .env(
            "THREECX_CONFIG",
            "/nonexistent/threecx-cli-tests/config.toml",
        )
        .env("THREECX_GATEWAY_KEY", "readme-example-key-0123456789")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start threecx");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    if !serve {
        writeln!(
            stdin,
            r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"readme","version":"0"}}}}}}"#
        )
        .unwrap();
    }
    // serve prints its address; mcp answers the initialize request.
    let first = rx.recv_timeout(SANDBOX_START_LIMIT).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("README example `{example}` did not answer within {SANDBOX_START_LIMIT:?}")
    });
    if serve {
        assert!(
            first.starts_with("threecx gateway on http://127.0.0.1:"),
            "`{example}`: {first}"
        );
        let interrupted = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(interrupted.success());
    } else {
        assert!(first.contains(r#""serverInfo""#), "`{example}`: {first}");
        drop(stdin);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "`{example}` did not stop cleanly");
}

/// Starts a `threecx sandbox` line on a free port, waits for its banner, stops it with SIGINT.
fn run_sandbox_example(example: &str, mut args: Vec<String>, dir: &std::path::Path) {
    let mut data_file = None;
    for i in 1..args.len() {
        match args[i - 1].as_str() {
            "--port" => args[i] = "0".into(),
            "--data" => {
                let path = dir.join(&args[i]);
                let _ = std::fs::remove_file(&path);
                args[i] = path.display().to_string();
                data_file = Some(path);
            }
            _ => {}
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_threecx"))
        .args(&args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start threecx sandbox");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut banner = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            banner.push_str(&line);
            banner.push('\n');
            if line.starts_with("Press Ctrl-C") {
                let _ = tx.send(banner.clone());
            }
        }
        banner
    });
    let banner = match rx.recv_timeout(SANDBOX_START_LIMIT) {
        Ok(banner) => banner,
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "README example `{example}` printed no banner within {SANDBOX_START_LIMIT:?}: \
                 {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    assert!(
        banner.contains("THREECX_URL=http://127.0.0.1:"),
        "`{example}`: {banner}"
    );
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    let all = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "`{example}` after Ctrl-C: {all}");
    if let Some(path) = data_file {
        assert!(path.is_file(), "`{example}` saved {}", path.display());
        assert!(all.contains("Saved the sandbox state"), "{all}");
    }
}

#[test]
fn the_documented_dry_run_output_is_what_the_binary_prints() {
    let text = readme();
    let documented = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("prints `")
                .and_then(|rest| rest.split('`').next())
        })
        .expect("README documents a dry-run output");
    let command = shell_lines(&text)
        .into_iter()
        .find(|l| l.starts_with("cargo run -p threecx-cli -- ") && l.contains("--dry-run"))
        .expect("README shows a dry-run command");
    let mut args = shell_words::split(&command).unwrap();
    args.drain(..5); // cargo run -p threecx-cli --
    let run = threecx(&args).run();
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.stdout.lines().next(), Some(documented), "{run:#?}");
}
