//! Secrets: every command of the `threecx` binary, at `RUST_LOG=trace`, against the sandbox;
//! neither the client secret (also a wrong one), nor any access token the sandbox issued, nor a
//! recognisable part of either appears in stdout or stderr. (`threecx serve` and `threecx mcp`,
//! which run until stopped, get the same check in `tests/cli/embedding.rs`.)

use std::time::Duration;

use threecx_sandbox::{Fault, FaultRule, SandboxConfig, SandboxHandle};

use crate::support::{report, run_threecx, Run};
use threecx_test_support::sandbox::{small_sandbox_config, start_sandbox};

/// The secret of the API client: a core no output may contain, plus characters that change
/// under form and percent encoding.
const SECRET: &str = "rel-Qx7S3cr3tZ/+=&%~end";
const SECRET_CORE: &str = "Qx7S3cr3tZ";
const WRONG_SECRET: &str = "rel-Wr0ngQx7/+=&";
const WRONG_CORE: &str = "Wr0ngQx7";
const PERIOD: &str = r#"{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"}}"#;

#[test]
fn no_command_prints_a_secret_or_a_token() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pbx = runtime.block_on(start_sandbox(SandboxConfig {
        client_secret: SECRET.to_owned(),
        ..small_sandbox_config("rel-secrets")
    }));
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret.txt");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let secret_file = secret_file.display().to_string();
    let url = pbx.url();
    let id = pbx.client_id().to_owned();
    let env = |secret: &'static str| {
        vec![
            ("RUST_LOG", "trace"),
            ("THREECX_URL", url.as_str()),
            ("THREECX_CLIENT_ID", id.as_str()),
            ("THREECX_CLIENT_SECRET", secret),
        ]
    };
    let no_secret_env = vec![
        ("RUST_LOG", "trace"),
        ("THREECX_URL", url.as_str()),
        ("THREECX_CLIENT_ID", id.as_str()),
    ];
    let cases = cases(&env, &no_secret_env, &secret_file);
    let runs = run_every_case(&pbx, &cases);
    let tokens = pbx.issued_tokens();
    // The purge's dry run sends no purge but counts what it would remove (the preview), so
    // it reaches the API too.
    assert_eq!(
        tokens.len(),
        7,
        "each of the 6 calls that reach the API, and the purge dry run's count, fetched one token"
    );
    let (scanned, table) = assert_no_output_holds_any_of(&runs, &secrets_and_tokens(&tokens));
    assert_the_log_was_on_and_the_dry_run_redacted(&runs);
    report(
        "secrets",
        &format!(
            "Secrets: {} runs of `threecx` at RUST_LOG=trace, {scanned} bytes of output scanned \
             for the secret, a wrong secret and {} issued tokens (whole and signature): none \
             found.\n\n{table}",
            runs.len(),
            tokens.len()
        ),
    );
}

/// One run of the binary: what it shows, its arguments and environment, the expected exit code.
type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>, i32);

/// Every command, with the right secret, a wrong one or a secret file (`env(secret)` and
/// `no_secret_env` give the environment).
fn cases<'a>(
    env: &dyn Fn(&'static str) -> Vec<(&'a str, &'a str)>,
    no_secret_env: &[(&'a str, &'a str)],
    secret_file: &'a str,
) -> Vec<Case<'a>> {
    let mut cases = listing_config_and_call_cases(env, no_secret_env, secret_file);
    cases.extend(more_call_and_other_cases(env));
    cases
}

/// list, describe, config and successful calls, with the secret or a secret file.
fn listing_config_and_call_cases<'a>(
    env: &dyn Fn(&'static str) -> Vec<(&'a str, &'a str)>,
    no_secret_env: &[(&'a str, &'a str)],
    secret_file: &'a str,
) -> Vec<Case<'a>> {
    let no_secret_env = no_secret_env.to_vec();
    vec![
        ("list", vec!["list"], env(SECRET), 0),
        ("list a resource", vec!["list", "Users"], env(SECRET), 0),
        (
            "describe",
            vec!["describe", "Users", "Get User"],
            env(SECRET),
            0,
        ),
        ("config", vec!["config"], env(SECRET), 0),
        (
            "config --output json, secret file",
            vec!["config", "--output", "json", "--secret-file", secret_file],
            no_secret_env.clone(),
            0,
        ),
        (
            "call (success)",
            vec!["call", "Users", "Get User", "--param", "Id=1"],
            env(SECRET),
            0,
        ),
        (
            "call, secret file",
            vec![
                "call",
                "Users",
                "Get User",
                "--param",
                "Id=2",
                "--secret-file",
                secret_file,
            ],
            no_secret_env,
            0,
        ),
    ]
}

/// Calls that fail (wrong secret, 404, invalid input) or are retried, destructive, paged, dry
/// runs; the exporter and completions.
fn more_call_and_other_cases<'a>(
    env: &dyn Fn(&'static str) -> Vec<(&'a str, &'a str)>,
) -> Vec<Case<'a>> {
    vec![
        (
            "call (auth failure)",
            vec!["call", "Users", "Get User", "--param", "Id=1"],
            env(WRONG_SECRET),
            3,
        ),
        (
            "call (API error 404)",
            vec!["call", "Users", "Get User", "--param", "Id=999999"],
            env(SECRET),
            4,
        ),
        (
            "call (503, retried)",
            vec!["call", "Users", "Get User", "--param", "Id=3"],
            env(SECRET),
            0,
        ),
        (
            "call --dry-run",
            vec![
                "call",
                "Purge Settings",
                "Purge Chats",
                "--input",
                PERIOD,
                "--dry-run",
            ],
            env(SECRET),
            0,
        ),
        (
            "call (destructive, --yes)",
            vec![
                "call",
                "Purge Settings",
                "Purge Chats",
                "--input",
                PERIOD,
                "--yes",
            ],
            env(SECRET),
            0,
        ),
        (
            "call --all",
            vec![
                "call",
                "Users",
                "List User",
                "--all",
                "--page-size",
                "7",
                "--output",
                "ndjson",
            ],
            env(SECRET),
            0,
        ),
        ("export n8n", vec!["export", "n8n"], env(SECRET), 0),
        ("completions", vec!["completions", "bash"], env(SECRET), 0),
        (
            "call (invalid input)",
            vec![
                "call",
                "Users",
                "Get User",
                "--param",
                "Id=x')/Pbx.BatchDelete",
            ],
            env(SECRET),
            2,
        ),
    ]
}

/// Runs every case (the 503 case with a fault armed first), checking each exit code; checks that
/// the 503 was retried.
fn run_every_case<'a>(pbx: &SandboxHandle, cases: &[Case<'a>]) -> Vec<(&'a str, Run)> {
    let limit = Duration::from_secs(60);
    let mut runs: Vec<(&'a str, Run)> = Vec::new();
    for (what, args, envs, code) in cases {
        if what.contains("503") {
            pbx.add_fault(
                FaultRule::new(Fault::unavailable())
                    .path_prefix("/xapi/v1/Users(3)")
                    .times(1),
            );
        }
        let run = run_threecx(args, envs, limit);
        assert_eq!(run.code, *code, "{what}: {run:#?}");
        runs.push((what, run));
    }
    assert_eq!(
        pbx.count("GET", "/xapi/v1/Users(3)"),
        2,
        "the 503 was retried"
    );

    runs
}

/// The right and the wrong secret (whole and their cores) and every issued token (whole and its
/// signature, enough to recognise one).
fn secrets_and_tokens(tokens: &[String]) -> Vec<String> {
    let mut needles: Vec<String> = vec![
        SECRET.to_owned(),
        SECRET_CORE.to_owned(),
        WRONG_SECRET.to_owned(),
        WRONG_CORE.to_owned(),
    ];
    for t in tokens {
        needles.push(t.clone());
        // The signature alone is enough to recognise a token.
        if let Some(sig) = t.rsplit('.').next().filter(|s| s.len() >= 16) {
            needles.push(sig.to_owned());
        }
    }
    needles
}

/// Asserts that no needle is on any run's stdout or stderr: the bytes scanned and a table.
fn assert_no_output_holds_any_of(runs: &[(&str, Run)], needles: &[String]) -> (usize, String) {
    let mut scanned = 0;
    let mut table = String::from(
        "| command | exit | stdout bytes | stderr bytes (trace log) | secret or token found |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for (what, run) in runs {
        for needle in needles {
            assert!(
                !run.stdout.contains(needle.as_str()),
                "{what}: stdout holds {needle}"
            );
            assert!(
                !run.stderr.contains(needle.as_str()),
                "{what}: stderr holds {needle}"
            );
        }
        scanned += run.stdout.len() + run.stderr.len();
        table.push_str(&format!(
            "| {what} | {} | {} | {} | no |\n",
            run.code,
            run.stdout.len(),
            run.stderr.len()
        ));
    }
    (scanned, table)
}

/// The log was on (else the scan would prove little) and the dry run redacted its token.
fn assert_the_log_was_on_and_the_dry_run_redacted(runs: &[(&str, Run)]) {
    // The log was on: the calls logged their requests (else this test would prove little).
    let (_, call) = runs.iter().find(|(w, _)| *w == "call (success)").unwrap();
    assert!(
        call.stderr.contains("TRACE") || call.stderr.contains("DEBUG"),
        "RUST_LOG=trace logs: {}",
        call.stderr
    );
    let (_, dry) = runs.iter().find(|(w, _)| *w == "call --dry-run").unwrap();
    assert!(dry.stdout.contains("[REDACTED]"), "{}", dry.stdout);
}
