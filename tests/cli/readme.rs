//! The README's command-line examples are true: every `threecx ...` line in its shell blocks runs
//! (calls as `--dry-run`, so nothing needs a PBX), and the documented dry-run output matches.

use crate::support::threecx;

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

#[test]
fn every_threecx_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("period.json"),
        r#"{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"}}"#,
    )
    .unwrap();
    let examples: Vec<String> = shell_lines(&readme())
        .into_iter()
        .filter(|l| l.starts_with("threecx "))
        .collect();
    assert!(examples.len() >= 8, "README examples: {examples:?}");
    for example in examples {
        let example = example.split(" > ").next().unwrap().to_owned();
        let mut args = shell_words::split(&example).expect("shell syntax");
        args.remove(0);
        if args[0] == "call" && !args.iter().any(|a| a == "--dry-run") {
            args.push("--dry-run".into());
        }
        let input_file = dir.path().join("period.json");
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.replace("@period.json", &format!("@{}", input_file.display())))
            .collect();
        let run = threecx(&args).run();
        assert_eq!(run.code, 0, "README example `{example}` failed: {run:#?}");
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
