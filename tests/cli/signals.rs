//! `threecx sandbox --data FILE` stopped by SIGTERM or SIGHUP (issue 12, item 4): like Ctrl-C it
//! saves the data file and exits 0, and the next start loads the changes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::{send_signal, threecx};

/// `threecx sandbox --port 0 --data FILE` (small), its URL once the banner is out.
fn start_sandbox(data: &Path) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_threecx"))
        .args([
            "sandbox",
            "--port",
            "0",
            "--users",
            "25",
            "--call-history",
            "500",
        ])
        .arg("--data")
        .arg(data)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start threecx sandbox");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut url = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            if let Some(rest) = line.trim().strip_prefix("URL") {
                url = Some(rest.trim().to_owned());
            }
            if line.starts_with("Press Ctrl-C") {
                let _ = tx.send(url.clone().unwrap_or_default());
            }
        }
        all
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the sandbox prints its banner");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url, reader)
}

fn call(url: &str, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["call"];
    all.extend_from_slice(args);
    threecx(all)
        .env("THREECX_URL", url)
        .env("THREECX_CLIENT_ID", threecx_sandbox::DEFAULT_CLIENT_ID)
        .env(
            "THREECX_CLIENT_SECRET",
            threecx_sandbox::DEFAULT_CLIENT_SECRET,
        )
        .run()
}

fn signal_saves_the_data(signal: &str, number: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pbx.json");
    let (mut child, url, reader) = start_sandbox(&data);
    let body = format!(
        r#"{{"body": {{"FirstName": "Kept", "LastName": "{signal}", "Number": "{number}"}}}}"#
    );
    call(&url, &["Users", "Create User", "--input", &body]).assert_code(0);

    let (status, took) = send_signal(&mut child, signal, Duration::from_secs(20));
    let out = reader.join().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "after SIG{signal}: {status:?}\n{out}"
    );
    assert!(out.contains("Saved the sandbox state"), "{out}");
    println!("SIG{signal}: threecx sandbox saved and exited 0 in {took:?}");

    let (mut again, url, reader) = start_sandbox(&data);
    let kept = call(
        &url,
        &[
            "Users",
            "Get User By Number",
            "--param",
            &format!("Number={number}"),
        ],
    );
    kept.assert_code(0);
    assert_eq!(kept.json()["LastName"], signal, "{}", kept.stdout);
    let (status, _) = send_signal(&mut again, "TERM", Duration::from_secs(20));
    let _ = reader.join();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_saves_the_sandbox_data_and_exits_0() {
    signal_saves_the_data("TERM", "781");
}

/// SIGHUP (the terminal closed) does what SIGTERM does: save, exit 0.
#[test]
fn sighup_saves_the_sandbox_data_and_exits_0() {
    signal_saves_the_data("HUP", "782");
}
