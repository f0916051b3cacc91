//! A sandbox PBX and a gateway in front of it, both on loopback.

use std::time::Duration;

use serde_json::Value;
use threecx_gateway::gateway::{self, GatewayState};
use threecx_sandbox::{SandboxConfig, SandboxHandle, SeedSizes};
use threecx_test_support::sandbox::{sandbox_client, small_seed, start_sandbox, unique_client_id};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The gateway's API key in these tests.
pub const KEY: &str = "embedding-test-key-0123456789abcdef";

/// A sandbox PBX with a distinctive client secret (so tests can check it never leaks), and a
/// fresh client ID (the SDK keeps one token cache per URL and client ID in the process).
pub async fn sandbox() -> SandboxHandle {
    // The extension's actions are in the registry the sandbox and gateway see.
    threecx_example_user_offboarding::ensure_linked();
    let client_id = unique_client_id("embedding");
    start_sandbox(SandboxConfig {
        sizes: SeedSizes {
            call_history: 500,
            ..small_seed()
        },
        client_secret: format!("pbx-secret-never-shown-{client_id}"),
        client_id,
        ..SandboxConfig::default()
    })
    .await
}

/// A gateway serving on 127.0.0.1:<free port>; stopped when dropped.
pub struct Gateway {
    pub base: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Gateway {
    pub async fn start(state: GatewayState) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(gateway::serve_listener(listener, state, async {
            let _ = stopped.await;
        }));
        Gateway {
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .no_proxy()
                .build()
                .unwrap(),
            stop: Some(stop),
        }
    }

    /// A gateway in front of `pbx` with [`KEY`].
    pub async fn for_pbx(pbx: &SandboxHandle) -> Gateway {
        Gateway::start(GatewayState::new(sandbox_client(pbx), KEY).expect("state")).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Answer {
        Answer::read(
            self.http
                .get(self.url(path))
                .header("X-Api-Key", KEY)
                .send()
                .await
                .expect("gateway answers"),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        Answer::read(
            self.http
                .post(self.url(path))
                .header("X-Api-Key", KEY)
                .json(body)
                .send()
                .await
                .expect("gateway answers"),
        )
        .await
    }
}

/// An answer read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Answer {
            status,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Everything a client could see: headers and body.
    pub fn everything(&self) -> String {
        let mut out = format!("{}\n", self.status);
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or_default()));
        }
        out.push_str(&self.text);
        out
    }
}

/// The number of requests the sandbox received for the XAPI (not the token endpoint).
pub fn api_requests(pbx: &SandboxHandle) -> usize {
    pbx.count("*", "/xapi/")
}
