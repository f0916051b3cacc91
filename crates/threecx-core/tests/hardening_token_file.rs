//! Untrusted token cache records and folders (issue 12): absurd expiries, planted backoff
//! records, folders others can write to, a lock held by a stuck process. Loopback only.

mod common;

use common::logs::capture_logs;
use common::*;
use serde_json::json;
use threecx_core::Error;
use wiremock::matchers::method;
use wiremock::Mock;

/// The only token cache file in `dir`.
fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// A client with its own in-memory cache ("another process") using the cache folder `dir`.
fn process(
    server: &wiremock::MockServer,
    client_id: &str,
    dir: &std::path::Path,
    tune: impl FnOnce(threecx_core::ConfigBuilder) -> threecx_core::ConfigBuilder,
) -> threecx_core::Client {
    threecx_core::Client::new(
        tune(config(server, client_id))
            .token_cache_dir(dir)
            .isolated_token_cache(true)
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn absurd_expiries_in_the_token_cache_file_neither_panic_nor_last_forever() {
    let server = pbx_answering_every_get(TOKEN, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let req = get_user();
    process(&server, "disk-expiry", dir.path(), |b| b)
        .execute(&req)
        .await
        .unwrap();
    let file = only_file(dir.path());
    for (expires_at, lifetime) in [
        (u64::MAX, u64::MAX),
        (u64::MAX, 0),
        (u64::MAX - 1, 1),
        (i64::MAX as u64, u64::MAX / 2),
    ] {
        std::fs::write(
            &file,
            json!({"version": 1, "token": {"access_token": TOKEN,
                "expires_at_ms": expires_at, "lifetime_ms": lifetime}})
            .to_string(),
        )
        .unwrap();
        let client = process(&server, "disk-expiry", dir.path(), |b| b);
        let task = tokio::spawn({
            let req = req.clone();
            async move { client.execute(&req).await.map(|_| client.token_fetches()) }
        });
        match task.await {
            // Used, clamped (no fetch: the token mock allows only the first one).
            Ok(Ok(fetches)) => assert_eq!(fetches, 0),
            Ok(Err(e)) => panic!("{expires_at}/{lifetime}: {e}"),
            Err(_) => panic!("{expires_at}/{lifetime}: panicked"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Untrusted token backoff records (item 11)

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The wait an error announces ("the next one will be sent in 12.3 s"), if it does.
fn announced_wait(err: &Error) -> Option<f64> {
    let text = err.to_string();
    let rest = text.split("will be sent in ").nth(1)?;
    rest.split(" s").next()?.parse().ok()
}

#[tokio::test]
async fn planted_backoff_records_wait_at_most_the_configured_maximum() {
    const MAX: std::time::Duration = std::time::Duration::from_millis(300);
    let server = fresh_mock_server().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/connect/token"))
        .respond_with(
            wiremock::ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let req = get_user();
    let tune = |b: threecx_core::ConfigBuilder| {
        b.token_backoff(std::time::Duration::from_millis(50), MAX)
            .max_attempts(1)
    };
    // A real failure writes the record; then it is replaced with hostile or broken ones.
    process(&server, "disk-planted", dir.path(), tune)
        .execute(&req)
        .await
        .unwrap_err();
    let file = only_file(dir.path());
    let now = unix_ms();
    let day = 24 * 3600 * 1000;
    let records = [
        ("failure a day ahead", 1, now + day, vec![now + day]),
        ("failure at u64::MAX", u32::MAX, u64::MAX, vec![u64::MAX]),
        ("minute full of u64::MAX", 3, u64::MAX, vec![u64::MAX; 5]),
        (
            "all of them",
            u32::MAX,
            u64::MAX,
            vec![u64::MAX, now + day, 0, 1],
        ),
    ];
    for (name, consecutive, last_ms, recent_ms) in records {
        std::fs::write(
            &file,
            json!({"version": 1, "failures": {
                "backoff": {"consecutive": consecutive, "last_ms": last_ms, "recent_ms": recent_ms},
                "error": {"kind": "auth", "status": 400, "message": "invalid_client"}}})
            .to_string(),
        )
        .unwrap();
        let before = server.received_requests().await.unwrap().len();
        let client = process(&server, "disk-planted", dir.path(), tune);
        let started = std::time::Instant::now();
        let req = req.clone();
        let task = tokio::spawn(async move {
            // Call until a token request goes out again (the endpoint keeps refusing).
            loop {
                let err = client.execute(&req).await.unwrap_err();
                if client.token_fetches() > 0 {
                    return Ok(());
                }
                match announced_wait(&err) {
                    Some(wait) if wait <= MAX.as_secs_f64() + 0.05 => {}
                    _ => return Err(err.to_string()),
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        });
        match tokio::time::timeout(std::time::Duration::from_secs(5), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("{name}: {e}"),
            Ok(Err(_)) => panic!("{name}: panicked"),
            Err(_) => panic!("{name}: still backing off after 5 s"),
        }
        let waited = started.elapsed();
        // A day before the fix; here the wait plus scheduling slack on a busy machine.
        assert!(
            waited <= MAX + std::time::Duration::from_secs(1),
            "{name}: {waited:?}"
        );
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            before + 1,
            "{name}"
        );
        println!("{name}: next token request after {waited:?}");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&u64::MAX.to_string()), "{name}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// The token cache folder and its lock (item 16)

#[cfg(unix)]
#[tokio::test]
async fn a_token_cache_folder_others_can_write_to_is_tightened_or_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let server = pbx_answering_every_get(TOKEN, 2).await;
    let req = get_user();
    let (logs, _guard) = capture_logs(tracing::Level::WARN);

    // Our own folder, writable by everyone: its write bits for others are removed, and the
    // token is cached there as usual.
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    set(&open, 0o777);
    process(&server, "folder-open", &open, |b| b)
        .execute(&req)
        .await
        .unwrap();
    assert_eq!(mode(&open), 0o755);
    only_file(&open);
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("writable by other users"), "{text}");
    println!("{text}");

    // A shared folder such as /tmp (sticky, writable by all) is left alone and not used: the
    // call goes on with the token in memory.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    set(&shared, 0o1777);
    process(&server, "folder-shared", &shared, |b| b)
        .execute(&req)
        .await
        .unwrap();
    assert_eq!(mode(&shared), 0o1777);
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);
    let text = logs.text();
    assert!(text.contains("keeping the token in memory only"), "{text}");
    println!("{text}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_token_cache_lock_held_by_a_stuck_process_delays_a_call_by_seconds_not_forever() {
    let server = pbx_answering_every_get(TOKEN, 2).await;
    let req = get_user();
    let dir = tempfile::tempdir().unwrap();
    process(&server, "lock-stuck", dir.path(), |b| b)
        .execute(&req)
        .await
        .unwrap();
    // Another process takes the lock and never lets go (flock on its own open file).
    let file = only_file(dir.path());
    let stuck = std::fs::OpenOptions::new().read(true).open(&file).unwrap();
    fs4::FileExt::try_lock(&stuck).unwrap();
    // The next process cannot read the file's token without the lock: it waits, gives up and
    // fetches a token of its own, kept in memory.
    let (logs, _guard) = capture_logs(tracing::Level::WARN);
    let client = process(&server, "lock-stuck", dir.path(), |b| b);
    let started = std::time::Instant::now();
    let call = tokio::time::timeout(std::time::Duration::from_secs(15), client.execute(&req));
    call.await
        .expect("the call went on after the lock wait")
        .unwrap();
    let waited = started.elapsed();
    println!("call with a stuck lock took {waited:?}");
    assert!(
        waited >= std::time::Duration::from_secs(4) && waited < std::time::Duration::from_secs(8),
        "{waited:?}"
    );
    assert_eq!(client.token_fetches(), 1);
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("locked"), "{text}");
    println!("{text}");
    drop(stuck);
}
