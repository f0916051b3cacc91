//! Injected faults: each produces the status or behaviour promised, on the requests chosen.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use threecx_core::Error;
use threecx_sandbox::{Fault, FaultConfig, FaultRule, SandboxConfig, SandboxHandle};

use crate::support::{call, ok, status, Raw};
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

/// Raw GET of `/xapi/v1{path}`: status, headers, body bytes (or the transport error).
async fn raw_get(
    pbx: &SandboxHandle,
    token: &str,
    path: &str,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), reqwest::Error> {
    let r = Raw::new(pbx).get(path, Some(token)).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await?;
    Ok((status, headers, body.to_vec()))
}

async fn raw_send(
    pbx: &SandboxHandle,
    token: &str,
    path: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .get(format!("{}/xapi/v1{path}", pbx.url()))
        .bearer_auth(token)
        .send()
        .await
}

#[tokio::test]
async fn status_faults_on_the_nth_request_per_prefix() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let token = Raw::new(&pbx).token(&pbx).await;
    pbx.add_fault(
        FaultRule::new(Fault::too_many_requests(7))
            .nth(2)
            .path_prefix("/xapi/v1/Groups"),
    );
    pbx.add_fault(
        FaultRule::new(Fault::internal_error())
            .nth(1)
            .path_prefix("/xapi/v1/Users"),
    );
    pbx.add_fault(
        FaultRule::new(Fault::unavailable())
            .every(2)
            .path_prefix("/xapi/v1/Parkings")
            .times(2),
    );

    assert_eq!(raw_get(&pbx, &token, "/Groups").await.unwrap().0, 200);
    let (s, headers, body) = raw_get(&pbx, &token, "/Groups").await.unwrap();
    assert_eq!(s, 429);
    assert_eq!(headers["retry-after"], "7");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "", "3CX-shaped: {body}");
    assert!(body["error"]["message"].is_string());
    assert_eq!(raw_get(&pbx, &token, "/Groups").await.unwrap().0, 200);

    assert_eq!(raw_get(&pbx, &token, "/Users").await.unwrap().0, 500);
    assert_eq!(raw_get(&pbx, &token, "/Users").await.unwrap().0, 200);

    let parkings: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(raw_get(&pbx, &token, "/Parkings").await.unwrap().0);
        }
        v
    };
    assert_eq!(
        parkings,
        [200, 503, 200, 503, 200, 200],
        "every 2nd, at most twice"
    );

    let log = pbx.requests();
    let faulted: Vec<(&str, u16)> = log
        .iter()
        .filter(|r| r.fault.is_some())
        .map(|r| (r.path.as_str(), r.status))
        .collect();
    assert_eq!(
        faulted,
        [
            ("/xapi/v1/Groups", 429),
            ("/xapi/v1/Users", 500),
            ("/xapi/v1/Parkings", 503),
            ("/xapi/v1/Parkings", 503)
        ]
    );
    assert_eq!(pbx.count("GET", "/xapi/v1/Parkings"), 6);
}

#[tokio::test]
async fn rate_faults_are_reproducible_by_seed() {
    async fn run(seed: u64) -> Vec<u16> {
        let pbx = start_sandbox(SandboxConfig {
            seed,
            faults: FaultConfig::default()
                .with(FaultRule::new(Fault::unavailable()).rate(0.3).api_only()),
            ..small_sandbox_config("sandbox-test")
        })
        .await;
        let token = Raw::new(&pbx).token(&pbx).await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(raw_get(&pbx, &token, "/Groups").await.unwrap().0);
        }
        statuses
    }
    let a = run(11).await;
    assert_eq!(a, run(11).await);
    assert_ne!(a, run(12).await);
    let failed = a.iter().filter(|s| **s == 503).count();
    assert!((4..=20).contains(&failed), "{failed} of 40");
    assert!(a.iter().all(|s| *s == 200 || *s == 503));
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    ok(&c, "Groups", "List Group", json!({})).await; // token fetched outside the timing
    pbx.add_fault(
        FaultRule::new(Fault::Latency(Duration::from_millis(300)))
            .api_only()
            .times(1),
    );
    let started = Instant::now();
    ok(&c, "Groups", "List Group", json!({})).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let last = pbx.requests().pop().unwrap();
    assert_eq!(last.status, 200);
    assert!(last.elapsed >= Duration::from_millis(300));
    let started = Instant::now();
    ok(&c, "Groups", "List Group", json!({})).await;
    assert!(started.elapsed() < Duration::from_millis(300), "only once");
}

#[tokio::test]
async fn broken_connections_and_bodies() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let token = Raw::new(&pbx).token(&pbx).await;

    pbx.set_faults(
        FaultConfig::default().with(FaultRule::new(Fault::ConnectionReset).api_only().times(1)),
    );
    assert!(
        raw_send(&pbx, &token, "/Groups").await.is_err(),
        "closed without an answer"
    );
    assert_eq!(pbx.requests().last().unwrap().status, 0);

    pbx.set_faults(
        FaultConfig::default().with(FaultRule::new(Fault::TruncatedBody).api_only().times(1)),
    );
    let r = raw_send(&pbx, &token, "/Groups").await.unwrap();
    assert_eq!(r.status(), 200);
    let announced: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(announced > 10);
    assert!(r.bytes().await.is_err(), "the body ends early");

    pbx.set_faults(
        FaultConfig::default().with(
            FaultRule::new(Fault::NonJsonBody { status: 502 })
                .api_only()
                .times(1),
        ),
    );
    let (s, headers, body) = raw_get(&pbx, &token, "/Groups").await.unwrap();
    assert_eq!(s, 502);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(String::from_utf8(body).unwrap().contains("<html>"));

    pbx.set_faults(
        FaultConfig::default().with(FaultRule::new(Fault::MalformedJson).api_only().times(1)),
    );
    let (s, headers, body) = raw_get(&pbx, &token, "/Groups").await.unwrap();
    assert_eq!(s, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    pbx.clear_faults();
    assert_eq!(raw_get(&pbx, &token, "/Groups").await.unwrap().0, 200);
}

/// What the SDK makes of each fault. Faults hit `Users/Pbx.BatchDelete`, a POST the SDK never
/// sends twice, so the outcome does not depend on its retry policy.
#[tokio::test]
async fn the_sdk_reports_each_fault() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    ok(&c, "Groups", "List Group", json!({})).await;
    let batch = || call(&c, "Users", "Batch Delete", json!({"ids": []}));
    let rule = |fault: Fault| {
        FaultConfig::default().with(
            FaultRule::new(fault)
                .path_prefix("/xapi/v1/Users/Pbx.BatchDelete")
                .times(1),
        )
    };

    pbx.set_faults(rule(Fault::internal_error()));
    assert_eq!(status(&batch().await.unwrap_err()), 500);
    pbx.set_faults(rule(Fault::too_many_requests(1)));
    assert_eq!(status(&batch().await.unwrap_err()), 429);
    pbx.set_faults(rule(Fault::NonJsonBody { status: 503 }));
    let e = batch().await.unwrap_err();
    assert_eq!(status(&e), 503);
    assert!(e.is_retryable());
    pbx.set_faults(rule(Fault::MalformedJson));
    assert!(matches!(batch().await.unwrap_err(), Error::Decode { .. }));
    // Batch Delete is not safe to repeat: lost after sending, its outcome is unknown.
    pbx.set_faults(rule(Fault::ConnectionReset));
    let e = batch().await.unwrap_err();
    assert!(e.is_outcome_unknown() && !e.is_retryable(), "{e:?}");
    pbx.set_faults(rule(Fault::TruncatedBody));
    let e = batch().await.unwrap_err();
    assert!(
        matches!(e, Error::OutcomeUnknown { .. } | Error::Decode { .. }),
        "{e:?}"
    );
    assert_eq!(
        batch().await.unwrap(),
        json!({"value": []}),
        "no fault left"
    );

    // A failing token endpoint.
    let pbx = start_sandbox(SandboxConfig {
        faults: FaultConfig::default()
            .with(FaultRule::new(Fault::unavailable()).path_prefix("/connect/token")),
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let e = call(&sandbox_client(&pbx), "Groups", "List Group", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Api { status: 503, .. } | Error::Timeout { .. }),
        "{e:?}"
    );
    assert_eq!(pbx.count("*", "/xapi/v1"), 0);
}
