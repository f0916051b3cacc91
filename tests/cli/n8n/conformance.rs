//! For every action, the n8n node's request (its dry-run entry point) equals the CLI's
//! `--dry-run --output json` for the same input: method, URL (path literals, query options),
//! headers and body. Inputs come from the action's example, enriched with strings that need
//! quoting and percent-encoding (quotes, spaces, `&/#?%+`, non-ASCII) and date-times with an
//! offset (`threecx_tests::inputs::enrich`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use threecx_tests::inputs::{enrich, Strings};

use crate::support::threecx;

const STRINGS: Strings = Strings {
    awkward: "O'Brien & co/#?%+ é",
    short_awkward: "O'B &/#?%+é",
    date_time: "2024-05-06T07:08:09.5+02:00",
};

const URL: &str = "https://pbx.example.com:5001";

/// The spellings a user may type: display names, canonical names, kebab case.
fn spelled(name: &str, display: &str, i: usize) -> String {
    match i % 3 {
        0 => display.to_owned(),
        1 => name.to_owned(),
        _ => display.to_lowercase().replace(' ', "-"),
    }
}

fn node_batch(lines: &[Value]) -> Vec<Value> {
    let dir = super::package::built();
    let mut child = Command::new("node")
        .arg(dir.join("dist/dry-run.js"))
        .arg("--batch")
        .env("THREECX_URL", URL)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.to_string());
        text.push('\n');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON line per request"))
        .collect()
}

#[test]
fn every_action_requests_the_same_as_the_cli() {
    let registry = threecx_ops::registry();
    let mut cases = Vec::new();
    for (i, op) in registry.actions().iter().enumerate() {
        let meta = op.meta();
        let input = enrich(registry, *op, registry.example_input(*op), &STRINGS);
        cases.push((
            spelled(meta.resource, meta.resource_display, i),
            spelled(meta.action, meta.action_display, i),
            input,
        ));
    }
    let lines: Vec<Value> = cases
        .iter()
        .map(|(r, a, input)| json!([r, a, input]))
        .collect();
    let node = node_batch(&lines);
    assert_eq!(node.len(), cases.len());

    // The CLI, two at a time (the machine has two cores).
    let cli: Vec<Value> = std::thread::scope(|s| {
        let halves: Vec<_> = cases
            .chunks(cases.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(r, a, input)| {
                            let run = threecx([
                                "call",
                                r,
                                a,
                                "--input",
                                &input.to_string(),
                                "--dry-run",
                                "--output",
                                "json",
                            ])
                            .env("THREECX_URL", URL)
                            .run();
                            run.assert_code(0);
                            run.json()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });

    let mut equal = 0;
    let mut differing = Vec::new();
    for (((r, a, input), n), c) in cases.iter().zip(&node).zip(&cli) {
        if n == c {
            equal += 1;
        } else {
            differing.push(format!("{r} / {a} with {input}:\n  node: {n}\n  CLI:  {c}"));
        }
    }
    println!("node = CLI: {equal}/{}", cases.len());
    assert_eq!(cases.len(), 601, "the built-in registry has 601 actions");
    assert!(
        differing.is_empty(),
        "{} action(s) differ:\n{}",
        differing.len(),
        differing.join("\n")
    );
    // The inputs did exercise what matters: quoting, encoding, offsets.
    let urls: String = cli.iter().map(|c| c["url"].as_str().unwrap()).collect();
    for needle in [
        "O''Brien%20%26%20co%2F%23%3F%25%2B%20%C3%A9",
        "%2B02:00",
        "$filter=",
    ] {
        assert!(urls.contains(needle), "no URL contains {needle}");
    }
}

#[test]
fn the_entry_point_takes_names_in_any_spelling_and_refuses_bad_input() {
    let dir = super::package::built();
    let dry_run = |args: &[&str]| {
        Command::new("node")
            .arg(dir.join("dist/dry-run.js"))
            .args(args)
            .env_remove("THREECX_URL")
            .output()
            .unwrap()
    };
    let period = r#"{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"}}"#;
    for (resource, action) in [
        ("Purge Settings", "Purge Chats"),
        ("purge-settings", "purge_chats"),
        ("PURGESETTINGS", "PurgeChats"),
    ] {
        let out = dry_run(&[resource, action, period]);
        assert!(out.status.success(), "{resource} / {action}");
        let node: Value = serde_json::from_slice(&out.stdout).unwrap();
        let cli = threecx([
            "call",
            resource,
            action,
            "--input",
            period,
            "--dry-run",
            "--output",
            "json",
        ])
        .run();
        assert_eq!(node, cli.json());
        assert_eq!(node["url"], "https://<THREECX_URL>/xapi/v1/PurgeChats");
        assert_eq!(node["headers"]["Authorization"], "Bearer [REDACTED]");
    }

    let out = dry_run(&[
        "Purge Settings",
        "Purge Chats",
        r#"{"period":{"Start":"yesterday"}}"#,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/period/Start") && stderr.contains("date-time"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let out = dry_run(&["Purge Settings", "Purge Chat", "{}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PurgeChats"));

    // A dry run refuses what the real call refuses: a header value with a line break.
    let crlf = r#"{"Id": 4, "If-Match": "*\r\nX-Evil: 1"}"#;
    let out = dry_run(&["Users", "Delete User", crlf]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/If-Match"), "{stderr}");
    let cli = threecx(["call", "Users", "Delete User", "--input", crlf, "--dry-run"]).run();
    cli.assert_code(2);
    assert!(cli.stderr.contains("/If-Match"), "{cli:#?}");
}

#[test]
fn the_readmes_dry_run_line_prints_what_the_cli_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("node integrations/n8n-nodes-threecx/dist/dry-run.js"))
        .collect();
    assert!(!lines.is_empty(), "the README shows the n8n dry run");
    super::package::built();
    for line in lines {
        let words = shell_words::split(line).unwrap();
        let out = Command::new(&words[0])
            .args(&words[1..])
            .current_dir(&root)
            .env_remove("THREECX_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let node: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut cli = vec!["call", words[2].as_str(), words[3].as_str()];
        if let Some(input) = words.get(4) {
            cli.extend(["--input", input.as_str()]);
        }
        cli.extend(["--dry-run", "--output", "json"]);
        assert_eq!(node, threecx(cli).run().json(), "{line}");
    }
}
