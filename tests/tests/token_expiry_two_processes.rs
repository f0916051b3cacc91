//! Token expiry under load: a sandbox whose tokens live 2 s and that keeps one active token per
//! client (a new token invalidates the previous one, as 3CX does), two separate processes with
//! the same credentials sharing the on-disk token cache, 60 s of calls: no call may fail.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use threecx_sandbox::{Sandbox, SandboxConfig};

const SECONDS: u64 = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_the_disk_cache_never_fail() {
    let sandbox = Sandbox::start(SandboxConfig {
        token_lifetime: Duration::from_secs(2),
        one_active_token_per_client: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let cache = tempfile::tempdir().expect("cache dir");
    let workers: Vec<_> = (0..2)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_token_worker"))
                .args([
                    sandbox.url(),
                    sandbox.client_id().to_owned(),
                    sandbox.client_secret().to_owned(),
                    cache.path().display().to_string(),
                    SECONDS.to_string(),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("start worker")
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        workers
            .into_iter()
            .map(|w| w.wait_with_output().expect("worker"))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    let mut total_calls = 0;
    for (i, out) in outputs.iter().enumerate() {
        assert!(
            out.status.success(),
            "worker {i} exited with {}",
            out.status
        );
        let summary: Value = serde_json::from_slice(&out.stdout).expect("worker summary");
        eprintln!("worker {i}: {summary}");
        assert_eq!(summary["failures"], 0, "worker {i}: {summary}");
        let calls = summary["calls"].as_u64().unwrap();
        assert!(calls > 100, "worker {i} made too few calls: {summary}");
        total_calls += calls;
    }
    let tokens = sandbox.token_requests();
    eprintln!(
        "{SECONDS} s, 2 processes: {total_calls} calls, 0 failed, {tokens} token requests \
         (a token lives 2 s)"
    );
    // Shared through the file, the processes refresh about once per lifetime, not once each
    // and not in a loop of mutual invalidation.
    assert!(
        tokens <= (SECONDS as usize / 2) * 2 + 4,
        "{tokens} token requests in {SECONDS} s"
    );
}
