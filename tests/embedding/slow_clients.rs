//! Slow, idle and half-open clients against the gateway's accept loop (issue 12, item 1): they
//! are closed within the configured timeouts, they cannot starve other callers, and they cannot
//! keep a shutdown from completing. Everything on 127.0.0.1, bounded in count and time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use threecx_gateway::gateway::{self, GatewayState, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::{self, KEY};

/// A gateway with `options` on 127.0.0.1:<free port>; send on the sender to stop it, await the
/// handle to see it stopped.
async fn start(
    pbx: &threecx_sandbox::SandboxHandle,
    options: ServeOptions,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<Result<(), threecx_gateway::ServeError>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = GatewayState::new(threecx_test_support::sandbox::sandbox_client(pbx), KEY).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(gateway::serve_listener_with(
        listener,
        state,
        options,
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop, task)
}

/// A fresh HTTP client (no pooled connection), so each call opens its own connection.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Waits until the server closes `stream` (EOF or error); how long that took from `since`,
/// or `None` if it is still open at `deadline`.
async fn closed_after(
    mut stream: TcpStream,
    since: Instant,
    deadline: Instant,
) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(since.elapsed()),
            // hyper may answer a timed-out head (408) before closing.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_idle_and_dribbling_clients_neither_starve_callers_nor_stay_open() {
    const IDLE: usize = 250;
    const DRIBBLING: usize = 250;
    let timeout = Duration::from_secs(2);
    let pbx = support::sandbox().await;
    let (addr, stop, task) = start(
        &pbx,
        ServeOptions::default()
            .header_read_timeout(timeout)
            .max_connections(600),
    )
    .await;

    let opened = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Dribblers send a request head one byte every 200 ms, never finishing it.
    let mut dribblers = Vec::with_capacity(DRIBBLING);
    for _ in 0..DRIBBLING {
        let stream = TcpStream::connect(addr).await.unwrap();
        dribblers.push(tokio::spawn(dribble(stream)));
    }
    // One keep-alive connection that made a call and then idles.
    let keep_alive = keep_alive_after_one_call(addr).await;
    let keep_alive_since = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // With 501 clients holding connections: liveness and an authenticated call to the PBX.
    let (healthz_ms, call_ms) = callers_are_served_quickly(addr).await;

    // Every one of them is closed within the header-read timeout (plus scheduling slack).
    let slack = Duration::from_millis(1500);
    let deadline = opened + timeout * 3 + slack;
    let mut idle_max = Duration::ZERO;
    let waits: Vec<_> = idle
        .into_iter()
        .map(|s| tokio::spawn(closed_after(s, opened, deadline)))
        .collect();
    for w in waits {
        let closed = w.await.unwrap().expect("an idle connection still open");
        idle_max = idle_max.max(closed);
    }
    let mut dribble_max = Duration::ZERO;
    for d in dribblers {
        let closed = d.await.unwrap().expect("a dribbling connection still open");
        dribble_max = dribble_max.max(closed);
    }
    let keep_alive_closed = closed_after(keep_alive, keep_alive_since, deadline)
        .await
        .expect("the idle keep-alive connection still open");
    println!(
        "{IDLE} idle + {DRIBBLING} dribbling connections: /healthz answered in {healthz_ms} ms, \
         an authenticated call in {call_ms} ms; header-read timeout {timeout:?}: idle closed \
         after at most {idle_max:?}, dribbling after {dribble_max:?}, an idle keep-alive \
         connection after {keep_alive_closed:?}"
    );
    assert!(
        idle_max <= timeout + slack,
        "idle closed after {idle_max:?}"
    );
    assert!(
        dribble_max <= timeout + slack,
        "dribbling closed after {dribble_max:?}"
    );
    assert!(
        keep_alive_closed <= timeout + slack,
        "keep-alive closed after {keep_alive_closed:?}"
    );
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_new_clients_wait_until_a_slot_frees() {
    let pbx = support::sandbox().await;
    let timeout = Duration::from_secs(1);
    let (addr, stop, task) = start(
        &pbx,
        ServeOptions::default()
            .header_read_timeout(timeout)
            .max_connections(20),
    )
    .await;
    let opened = Instant::now();
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The 21st is not served while the 20 hold their slots...
    let client = http();
    let started = Instant::now();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(health.status(), 200);
    // ...and is served once the header-read timeout has closed them.
    let freed_at = opened + timeout;
    assert!(
        started + waited >= freed_at,
        "served after {waited:?}, before the cap's connections were closed"
    );
    assert!(waited < timeout + Duration::from_millis(1500), "{waited:?}");
    println!(
        "at the cap of 20: the 21st client waited {waited:?} (header-read timeout {timeout:?})"
    );
    drop(held);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the gateway stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_half_sent_head_does_not_hold_up_the_shutdown() {
    let pbx = support::sandbox().await;
    let grace = Duration::from_millis(500);
    // A header-read timeout far longer than the grace period: the grace period must end it.
    let (addr, stop, task) = start(
        &pbx,
        ServeOptions::default()
            .header_read_timeout(Duration::from_secs(60))
            .shutdown_grace(grace),
    )
    .await;
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Half: ")
        .await
        .unwrap();
    let idle = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the gateway stops within the grace period")
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    println!("shutdown with a half-sent head open: {took:?} (grace {grace:?})");
    assert!(took < grace + Duration::from_millis(700), "{took:?}");
    let deadline = Instant::now() + Duration::from_secs(2);
    assert!(closed_after(half, started, deadline).await.is_some());
    assert!(closed_after(idle, started, deadline).await.is_some());
    // And nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

/// Sends a request head one byte every 200 ms, never finishing it (at most 15 s): how long
/// until the gateway closed the connection, `None` if it never did.
async fn dribble(mut stream: TcpStream) -> Option<Duration> {
    let since = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: ";
    if stream.write_all(head).await.is_err() {
        return Some(since.elapsed());
    }
    // Bounded: at most 15 s of dribbling.
    for _ in 0..75 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if stream.write_all(b"a").await.is_err() {
            return Some(since.elapsed());
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(1), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(since.elapsed()),
            _ => {}
        }
    }
    None
}

/// A keep-alive connection that made one `/healthz` call (answered 200).
async fn keep_alive_after_one_call(addr: SocketAddr) -> TcpStream {
    let mut keep_alive = TcpStream::connect(addr).await.unwrap();
    keep_alive
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = keep_alive.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    keep_alive
}

/// `/healthz` and an authenticated call both answer 200 within a second: their times in ms.
async fn callers_are_served_quickly(addr: SocketAddr) -> (u128, u128) {
    let client = http();
    let started = Instant::now();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    let healthz_ms = started.elapsed().as_millis();
    assert_eq!(health.status(), 200);
    let started = Instant::now();
    let call = client
        .post(format!(
            "http://{addr}/v1/actions/SystemStatus/GetSystemStatus"
        ))
        .header("X-Api-Key", KEY)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    let call_ms = started.elapsed().as_millis();
    let status = call.status();
    let text = call.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(healthz_ms < 1000, "/healthz took {healthz_ms} ms");
    assert!(call_ms < 1000, "the authenticated call took {call_ms} ms");
    (healthz_ms, call_ms)
}
