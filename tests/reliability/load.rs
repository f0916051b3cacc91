//! Load: 1,000 concurrent by-name calls through one client, with 1% of the API requests
//! answered 503 (seeded), all starting cold (no token yet).

use std::time::{Duration, Instant};

use serde_json::json;
use threecx_core::{Client, Error};
use threecx_sandbox::{Fault, FaultConfig, FaultRule, SandboxConfig};

use crate::support::{ms, report, EXCLUSIVE};
use threecx_test_support::sandbox::{small_sandbox_config, start_sandbox};

const CALLS: usize = 1000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_through_one_client() {
    let _alone = EXCLUSIVE.lock().await;
    let pbx = start_sandbox(SandboxConfig {
        seed: 42,
        faults: FaultConfig::default()
            .with(FaultRule::new(Fault::unavailable()).rate(0.01).api_only()),
        ..small_sandbox_config("rel-load")
    })
    .await;
    let client = Client::new(
        pbx.client_config()
            .timeout(Duration::from_secs(20))
            .backoff(Duration::from_millis(10), Duration::from_millis(100))
            .build()
            .unwrap(),
    )
    .unwrap();

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let client = client.clone();
        tasks.push(tokio::spawn(call_number(client, i)));
    }
    let (ok, failed, panics, mut latencies) = outcomes(tasks).await;
    let wall = started.elapsed();
    latencies.sort();

    assert_eq!(panics, 0, "no call may panic");
    // The only failure allowed: a 503 whose retries were refused (retry budget) or ran out.
    for e in &failed {
        assert!(
            matches!(e, Error::Api { status: 503, .. }),
            "a failure must be a typed 503: {e:?}"
        );
    }
    assert_eq!(ok + failed.len(), CALLS);
    assert_eq!(
        pbx.token_requests(),
        1,
        "1,000 cold concurrent calls share one token request"
    );
    assert_eq!(client.token_fetches(), 1);
    let log = pbx.requests();
    let api = log.iter().filter(|r| r.path.starts_with("/xapi/")).count();
    let injected = log.iter().filter(|r| r.status == 503).count();
    assert!(injected > 0, "the 1% rate injected some 503s");
    assert_eq!(
        api,
        CALLS + client.retries() as usize,
        "one request per call plus retries"
    );

    report(
        "load",
        &format!(
            "Load: {CALLS} concurrent by-name calls (Get User / List User / Get System Status) \
             through one Client, 1% of API requests answered 503 (seeded), cold start:\n\n\
             | calls | succeeded | failed (typed `Api 503`) | panics | 503s injected | retries | \
             token requests | p50 | p90 | p99 | max | wall time |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n\
             | {CALLS} | {ok} | {} | {panics} | {injected} | {} | {} | {} | {} | {} | {} | {} |\n",
            failed.len(),
            client.retries(),
            pbx.token_requests(),
            ms(percentile(&latencies, 50.0)),
            ms(percentile(&latencies, 90.0)),
            ms(percentile(&latencies, 99.0)),
            ms(*latencies.last().unwrap()),
            ms(wall),
        ),
    );
}

/// Call number `i`: Get User, List User or Get System Status in turn; its time and answer.
async fn call_number(client: Client, i: usize) -> (Duration, Result<serde_json::Value, Error>) {
    let registry = threecx_ops::registry();
    let (resource, action, input) = match i % 3 {
        0 => ("Users", "Get User", json!({"Id": 1 + (i % 25)})),
        1 => (
            "Users",
            "List User",
            json!({"$top": 5, "$skip": i % 20, "$select": ["Id", "Number"]}),
        ),
        _ => ("System Status", "Get System Status", json!({})),
    };
    let t = Instant::now();
    let result = registry.call(&client, resource, action, input).await;
    (t.elapsed(), result.map(|r| r.to_json()))
}

/// What the calls gave: successes, failures, panics and each call's time.
async fn outcomes(
    tasks: Vec<tokio::task::JoinHandle<(Duration, Result<serde_json::Value, Error>)>>,
) -> (usize, Vec<Error>, usize, Vec<Duration>) {
    let (mut ok, mut failed, mut panics) = (0usize, Vec::new(), 0usize);
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok((elapsed, result)) => {
                latencies.push(elapsed);
                match result {
                    Ok(v) => {
                        assert!(v.is_object(), "{v}");
                        ok += 1;
                    }
                    Err(e) => failed.push(e),
                }
            }
            Err(e) if e.is_panic() => panics += 1,
            Err(e) => panic!("task cancelled: {e}"),
        }
    }
    (ok, failed, panics, latencies)
}
