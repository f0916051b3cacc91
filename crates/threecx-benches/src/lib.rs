//! Shared parts of the issue-6 performance figures: a cheap loopback PBX stand-in that answers
//! from precomputed bytes (so the figures measure the client, not the server), the SDK and bare
//! reqwest clients pointed at it, and the workloads both the criterion benches and the figure
//! binaries run.

pub mod fixture;
pub mod server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use serde_json::{json, Value};
use threecx_ops::core::{Client, Config, PreparedRequest, Response};
use threecx_ops::registry_api::Registry;

/// The access token the stand-in issues (and the bare reqwest client sends as is).
pub const TOKEN: &str = "t";
/// The id the Get User workload asks for.
pub const USER_ID: i64 = 1;
/// Calls in flight for the throughput figure (b).
pub const CONCURRENCY: usize = 64;

/// A client runtime: one thread, like the CLI's. The server runs on its own thread, so on a
/// 2-core machine client and server each get a core instead of contending inside one runtime.
pub fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The SDK's settings for the stand-in at `addr` (defaults otherwise), with its own token cache
/// (benches must not share tokens with anything else in the process).
pub fn sdk_config(addr: SocketAddr) -> Config {
    Config::builder()
        .base_url(format!("http://{addr}"))
        .client_id("bench")
        .client_secret("bench".to_owned())
        .isolated_token_cache(true)
        .build()
        .expect("valid config")
}

/// The SDK client for the stand-in at `addr`.
pub fn sdk_client(addr: SocketAddr) -> Client {
    Client::new(sdk_config(addr)).expect("client")
}

/// One plain reqwest client and the request the SDK's Get User sends, header for header
/// (user agent, `Authorization: Bearer`, `Accept: application/json`). The authorization value is
/// built once, the cheapest way to use reqwest directly.
pub struct Bare {
    pub http: reqwest::Client,
    pub user_url: String,
    auth: HeaderValue,
}

impl Bare {
    pub fn new(addr: SocketAddr) -> Bare {
        Bare::with(addr, reqwest::Client::builder())
    }

    /// Bare reqwest with the SDK's default per-request timeouts (30 s, connect 10 s): the part of
    /// the SDK's overhead that is reqwest's own timer per request.
    pub fn with_sdk_timeouts(addr: SocketAddr) -> Bare {
        let config = sdk_config(addr);
        Bare::with(
            addr,
            reqwest::Client::builder()
                .timeout(config.timeout())
                .connect_timeout(config.connect_timeout()),
        )
    }

    fn with(addr: SocketAddr, builder: reqwest::ClientBuilder) -> Bare {
        let http = builder
            .user_agent(sdk_config(addr).user_agent())
            .build()
            .expect("reqwest client");
        Bare {
            http,
            user_url: format!("http://{addr}/xapi/v1/Users({USER_ID})"),
            auth: HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header"),
        }
    }

    /// GET the user and decode it, as an application using reqwest directly would.
    pub async fn get_user(&self) -> Value {
        self.http
            .get(&self.user_url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .send()
            .await
            .expect("send")
            .json::<Value>()
            .await
            .expect("json")
    }
}

/// Get User by name: lookup + validation + build + send + JSON decode.
pub async fn sdk_get_user(registry: &Registry, client: &Client) -> Value {
    match registry
        .call(client, "Users", "Get User", json!({ "Id": USER_ID }))
        .await
        .expect("Get User")
    {
        Response::Json(v) => v,
        other => panic!("expected JSON, got {other:?}"),
    }
}

/// Get User's request, looked up, validated and built once.
pub fn sdk_get_user_request(registry: &Registry) -> PreparedRequest {
    registry
        .prepare_named("Users", "Get User", json!({ "Id": USER_ID }))
        .and_then(|call| call.into_request())
        .expect("Get User")
}

/// Sends a request prepared beforehand: the SDK's transport alone (token, request, retries,
/// decoding), without the by-name work.
pub async fn sdk_execute(client: &Client, request: &PreparedRequest) -> Value {
    match client.execute(request).await.expect("Get User") {
        Response::Json(v) => v,
        other => panic!("expected JSON, got {other:?}"),
    }
}

/// Keeps the calling thread on `cpu` (Linux), so that client and server each have a core of
/// their own for a whole run: left to the scheduler, on a 2-core machine they sometimes share
/// one, and a run's figures then move by a fifth. Returns whether it worked (e.g. not on a
/// machine with fewer CPUs).
pub fn pin_current_thread(cpu: usize) -> bool {
    // SAFETY: `set` is a valid, zeroed cpu_set_t; CPU_SET checks `cpu` against its size; pid 0
    // is the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
            return false;
        }
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// CPU time the calling thread has used. The client runtime is one thread, so this is the
/// client's CPU: not the server thread's, and (unlike wall time) not inflated by other processes.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `n` calls one after the other; the wall time they took.
pub async fn sequential<F, Fut>(n: u64, mut call: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(call().await);
    }
    start.elapsed()
}

/// `n` calls with [`CONCURRENCY`] in flight through one client; the wall time they took.
pub async fn concurrent<F, Fut>(n: u64, call: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    let start = Instant::now();
    stream::iter(0..n)
        .map(|_| call())
        .buffer_unordered(CONCURRENCY)
        .for_each(|v| {
            std::hint::black_box(v);
            async {}
        })
        .await;
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{spawn_thread, Fixture};
    use threecx_ops::call_history_view::ListCallHistoryView;
    use threecx_ops::core::Collection;
    use threecx_ops::models::CallHistoryView;

    #[test]
    fn history_rows_fit_the_generated_model() {
        let page: Collection<CallHistoryView> =
            serde_json::from_slice(&fixture::history_page(3)).unwrap();
        assert_eq!(page.value.len(), 3);
        let row = &page.value[2];
        assert_eq!(row.segment_id, Some(3));
        assert!(row
            .segment_start_time
            .as_deref()
            .unwrap()
            .starts_with("2024-01-01T"));
        assert!(row.call_time.as_deref().unwrap().starts_with("PT"));
    }

    #[test]
    fn sdk_and_bare_reqwest_get_the_same_user_and_pages_are_complete() {
        let addr = spawn_thread(Fixture::new(2_500));
        let client = sdk_client(addr);
        let rt = client_runtime();
        rt.block_on(async {
            let sdk = sdk_get_user(threecx_ops::registry(), &client).await;
            assert_eq!(sdk, Bare::new(addr).get_user().await);
            assert_eq!(sdk["Number"], "100");

            let rows = threecx_ops::paginate(&client, &ListCallHistoryView::default(), 1_000)
                .unwrap()
                .fold(0u64, |n, row| async move {
                    row.unwrap();
                    n + 1
                })
                .await;
            assert_eq!(rows, 2_500);
        });
        assert_eq!(client.token_fetches(), 1);
    }
}
