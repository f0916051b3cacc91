//! Large and slow downloads through `threecx call ... --out FILE`: streamed to disk in constant
//! memory (peak RSS measured with /usr/bin/time), complete (every block checked), and not bounded by the
//! per-request timeout as a whole (a 40 MiB file at 8 MiB/s with `--timeout 3`). The PBX is a
//! small hyper server on loopback that streams a deterministic file.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::stream;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::support::{report, threecx_bin};

const CHUNK: usize = 64 * 1024;
const MIB: u64 = 1024 * 1024;
const DOWNLOAD: &str = "/xapi/v1/CallHistoryView/Pbx.DownloadCallHistory()";

/// Block `k` of the served file: a fixed pattern with the block's number in its first 8 bytes,
/// so that a block lost, repeated or out of order shows.
fn block(k: u64) -> Vec<u8> {
    let mut b: Vec<u8> = (0..CHUNK as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    b[..8].copy_from_slice(&k.to_le_bytes());
    b
}

/// Whether the file at `path` is exactly the `size` bytes served.
fn intact(path: &Path, size: u64) -> bool {
    use std::io::Read;
    let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
    let template = block(0);
    let mut buf = vec![0u8; CHUNK];
    let mut k = 0u64;
    let mut total = 0u64;
    loop {
        let want = CHUNK.min((size - total.min(size)) as usize);
        if want == 0 {
            // Nothing may follow the announced size.
            return f.read(&mut [0u8; 1]).unwrap() == 0;
        }
        if f.read_exact(&mut buf[..want]).is_err() {
            return false;
        }
        let mut expected = template.clone();
        expected[..8].copy_from_slice(&k.to_le_bytes());
        if buf[..want] != expected[..want] {
            return false;
        }
        total += want as u64;
        k += 1;
    }
}

type Body = BoxBody<Bytes, Infallible>;

/// Serves the token endpoint and a download of `size` bytes at `rate` bytes per second
/// (`None`: as fast as the socket takes it), on 127.0.0.1, from a runtime of its own.
fn serve(size: u64, rate: Option<u64>) -> (SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| async move {
                    Ok::<_, Infallible>(answer(req, size, rate))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    (addr, runtime)
}

fn answer(req: Request<Incoming>, size: u64, rate: Option<u64>) -> Response<Body> {
    if req.uri().path() == "/connect/token" {
        let token =
            r#"{"access_token":"download-test-token","token_type":"Bearer","expires_in":3600}"#;
        return Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(token.as_bytes())).boxed())
            .unwrap();
    }
    if req.uri().path() != DOWNLOAD {
        return Response::builder()
            .status(404)
            .body(Full::new(Bytes::new()).boxed())
            .unwrap();
    }
    let chunks = size.div_ceil(CHUNK as u64);
    let template = block(0);
    let pause = rate.map(|r| Duration::from_secs_f64(CHUNK as f64 / r as f64));
    let body = stream::unfold(0u64, move |k| {
        let template = template.clone();
        async move {
            if k >= chunks {
                return None;
            }
            if let Some(p) = pause {
                tokio::time::sleep(p).await;
            }
            let len = (size - k * CHUNK as u64).min(CHUNK as u64) as usize;
            let mut data = template.clone();
            data[..8].copy_from_slice(&k.to_le_bytes());
            data.truncate(len);
            Some((Ok::<_, Infallible>(Frame::data(Bytes::from(data))), k + 1))
        }
    });
    Response::builder()
        .header("content-type", "text/csv")
        .header("content-length", size.to_string())
        .header("content-disposition", "attachment; filename=\"calls.csv\"")
        .body(StreamBody::new(body).boxed())
        .unwrap()
}

/// `threecx call` of the download under /usr/bin/time: exit code, stderr, peak RSS in KiB.
fn download(addr: SocketAddr, out: &Path, timeout: &str) -> (i32, String, u64, Duration) {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("maxrss_kib=%M")
        .arg(threecx_bin())
        .args([
            "call",
            "Call History View",
            "Download Call History",
            "--out",
        ])
        .arg(out)
        .args(["--timeout", timeout, "--no-token-cache"])
        .env_clear()
        .env("HOME", home.path())
        .env("THREECX_CONFIG", home.path().join("none.toml"))
        .env("THREECX_URL", format!("http://{addr}"))
        .env("THREECX_CLIENT_ID", "downloads")
        .env("THREECX_CLIENT_SECRET", "download-secret")
        .stdin(Stdio::null())
        .output()
        .expect("/usr/bin/time runs threecx");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {stderr}"));
    (output.status.code().unwrap_or(-1), stderr, rss, elapsed)
}

#[test]
fn a_gibibyte_goes_to_disk_in_constant_memory() {
    let size = 1024 * MIB;
    let (addr, _server) = serve(size, None);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("calls.csv");
    let (code, stderr, rss_kib, elapsed) = download(addr, &out, "30");
    assert_eq!(code, 0, "{stderr}");
    assert!(intact(&out, size), "the file is complete and intact");
    let rss_mib = rss_kib as f64 / 1024.0;
    report(
        "downloads",
        &format!(
            "1 GiB download to --out: {rss_mib:.1} MiB peak RSS, {:.1} s ({:.0} MiB/s)",
            elapsed.as_secs_f64(),
            1024.0 / elapsed.as_secs_f64()
        ),
    );
    assert!(
        rss_mib <= 32.0,
        "peak RSS {rss_mib:.1} MiB for a 1 GiB download"
    );
    // Nothing left beside it: the temporary file was renamed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_slow_download_outlasts_the_request_timeout() {
    // 40 MiB at 8 MiB/s takes 5 s; --timeout 3 bounds the pauses, not the transfer.
    let size = 40 * MIB;
    let (addr, _server) = serve(size, Some(8 * MIB));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("calls.csv");
    // A symlink at the destination is replaced, not followed.
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, &out).unwrap();
    let (code, stderr, _, elapsed) = download(addr, &out, "3");
    assert_eq!(code, 0, "{stderr}");
    assert!(intact(&out, size), "the file is complete and intact");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(&out)
        .unwrap()
        .file_type()
        .is_file());
    assert!(elapsed > Duration::from_secs(4), "{elapsed:?}");
    report(
        "downloads",
        &format!(
            "40 MiB at 8 MiB/s with --timeout 3: complete in {:.1} s, one request",
            elapsed.as_secs_f64()
        ),
    );
}

#[test]
fn a_broken_download_leaves_no_file_and_a_symlink_is_not_followed() {
    // The server announces 8 MiB and the test's limit cuts the connection short: the server is
    // dropped while the client reads.
    let size = 64 * MIB;
    let (addr, server) = serve(size, Some(16 * MIB));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "keep me").unwrap();
    let out = dir.path().join("calls.csv");
    std::os::unix::fs::symlink(&target, &out).unwrap();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        server.shutdown_timeout(Duration::from_millis(10));
    });
    let (code, stderr, _, _) = download(addr, &out, "3");
    killer.join().unwrap();
    assert_ne!(code, 0, "a broken download fails: {stderr}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(&out)
        .unwrap()
        .file_type()
        .is_symlink());
    // No temporary file left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// Peak resident memory of process `pid` so far, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn the_gateway_relays_three_downloads_at_once_in_flat_memory() {
    use std::io::BufRead;
    let size = 200 * MIB;
    let (addr, _server) = serve(size, None);
    let home = tempfile::tempdir().unwrap();
    let key = "gateway-download-key-0123456789abcdef";
    let mut gateway = Command::new(threecx_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--no-token-cache"])
        .env_clear()
        .env("HOME", home.path())
        .env("THREECX_CONFIG", home.path().join("none.toml"))
        .env("THREECX_URL", format!("http://{addr}"))
        .env("THREECX_CLIENT_ID", "downloads")
        .env("THREECX_CLIENT_SECRET", "download-secret")
        .env("THREECX_GATEWAY_KEY", key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("threecx serve starts");
    let mut banner = String::new();
    std::io::BufReader::new(gateway.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let listen = banner
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .trim_end_matches('/')
        .to_owned();
    let idle_rss = peak_rss_kib(gateway.id());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let received: Vec<u64> = runtime.block_on(async {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let one = |http: reqwest::Client| {
            let url = format!("http://{listen}/v1/actions/CallHistoryView/DownloadCallHistory");
            async move {
                let mut r = http
                    .post(url)
                    .header("X-Api-Key", key)
                    .json(&serde_json::json!({"input": {}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                assert_eq!(r.headers()["content-type"], "text/csv");
                let mut n = 0u64;
                while let Some(chunk) = r.chunk().await.unwrap() {
                    n += chunk.len() as u64;
                }
                n
            }
        };
        futures_util::future::join_all((0..3).map(|_| one(http.clone()))).await
    });
    let elapsed = started.elapsed();
    let peak = peak_rss_kib(gateway.id());
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert_eq!(received, vec![size; 3], "every download complete");
    let (idle_mib, peak_mib) = (idle_rss as f64 / 1024.0, peak as f64 / 1024.0);
    report(
        "downloads",
        &format!(
            "gateway, 3 concurrent 200 MiB downloads: peak RSS {peak_mib:.1} MiB (idle {idle_mib:.1} MiB), {:.1} s",
            elapsed.as_secs_f64()
        ),
    );
    assert!(
        peak_mib - idle_mib < 24.0,
        "the gateway's memory grew by {:.1} MiB for 600 MiB relayed",
        peak_mib - idle_mib
    );
}
