//! Proxies from the environment are bypassed for a PBX on loopback: plain http is allowed only
//! there, and a proxy would otherwise read the client secret in clear.
//!
//! A test binary of its own with a single test: it sets `HTTP_PROXY` and friends, which are
//! process-global and would reroute the requests of tests running in parallel.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::Mock;

/// A "proxy" on loopback that records whatever it receives and answers 502.
async fn recording_proxy() -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                if let Ok(Ok(n)) =
                    tokio::time::timeout(std::time::Duration::from_secs(1), stream.read(&mut buf))
                        .await
                {
                    record.lock().unwrap().extend_from_slice(&buf[..n]);
                }
                let _ = stream
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    (url, seen)
}

#[tokio::test]
async fn proxies_from_the_environment_are_bypassed_for_a_loopback_pbx() {
    let (proxy, seen) = recording_proxy().await;
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::set_var(name, &proxy);
    }
    for name in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
        std::env::remove_var(name);
    }

    let server = fresh_mock_server().await;
    // One token per base URL (127.0.0.1 and localhost are two token caches).
    token_mock(TOKEN, 2).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({"Id": 1})))
        .mount(&server)
        .await;
    for base in [server.uri(), server.uri().replace("127.0.0.1", "localhost")] {
        let client = threecx_core::Client::new(
            threecx_core::Config::builder()
                .base_url(&base)
                .client_id("proxy")
                .client_secret(SECRET)
                .max_attempts(1)
                .build()
                .unwrap(),
        )
        .unwrap();
        let req = get_user();
        let got = client.execute(&req).await;
        let received = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        assert!(
            received.is_empty(),
            "{base}: the proxy received:\n{received}"
        );
        assert!(got.is_ok(), "{base}: {got:?}");
    }
    // Everything went straight to the PBX: two token requests and two calls.
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}
