//! Fast retries and a raw HTTP/1.1 server for the faults wiremock cannot make (a connection
//! dropped after the request was read, a truncated or stalled body, a port that stops
//! listening), shared by the reliability tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use threecx_core::{Client, ConfigBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wiremock::MockServer;

use super::*;

pub const MS: Duration = Duration::from_millis(1);

/// Retries with millisecond backoff.
pub fn fast(builder: ConfigBuilder) -> ConfigBuilder {
    builder.backoff(MS, 5 * MS)
}

pub fn fast_client(server: &MockServer, client_id: &str) -> Client {
    Client::new(fast(config(server, client_id)).build().unwrap()).unwrap()
}

/// Requests `server` received for `path`.
pub async fn count(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 server. Every answer closes the connection, so each request has its own.

#[derive(Debug, Clone, Copy)]
pub enum Act {
    /// 200 with a token answer.
    Token,
    /// 200 with this JSON.
    Json(&'static str),
    /// This status, empty JSON body.
    Status(u16),
    /// Read the request, then hang up without answering.
    Close,
    /// Read the request, then reset the connection (RST).
    Reset,
    /// Headers promising 100 bytes, 10 of them, then hang up.
    Truncate,
    /// Headers promising 100 bytes, one of them, then nothing (connection kept open).
    Stall,
}

pub struct Raw {
    port: u16,
    /// `METHOD /path` of every request read, in order.
    pub seen: Arc<Mutex<Vec<String>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Raw {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn count(&self, line: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == line)
            .count()
    }

    /// Stops listening: later connections are refused.
    pub async fn stop_listening(&self) {
        self.accept.abort();
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
                return;
            }
            tokio::time::sleep(5 * MS).await;
        }
        panic!("port {} still accepts connections", self.port);
    }
}

/// `script(request line, how many times that line was seen before)` decides each answer.
pub async fn raw_server(script: impl Fn(&str, usize) -> Act + Send + Sync + 'static) -> Raw {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let accept = tokio::spawn({
        let seen = Arc::clone(&seen);
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let mut stream = stream;
                    let Some(line) = read_request(&mut stream).await else {
                        return;
                    };
                    let nth = {
                        let mut seen = seen.lock().unwrap();
                        let n = seen.iter().filter(|l| **l == line).count();
                        seen.push(line.clone());
                        n
                    };
                    answer(&mut stream, script(&line, nth)).await;
                });
            }
        }
    });
    Raw { port, seen, accept }
}

/// Reads one request (head and `Content-Length` body); `METHOD /path`.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut parts = head.lines().next()?.split_whitespace();
    let (m, target) = (parts.next()?, parts.next()?);
    let path = target.split('?').next().unwrap_or(target);
    Some(format!("{m} {path}"))
}

async fn answer(stream: &mut TcpStream, act: Act) {
    let respond = |status: u16, body: &str| {
        format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let promise = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\
                   Connection: close\r\n\r\n";
    match act {
        Act::Token => {
            let body = token_answer(TOKEN, 3600).to_string();
            let _ = stream.write_all(respond(200, &body).as_bytes()).await;
        }
        Act::Json(body) => {
            let _ = stream.write_all(respond(200, body).as_bytes()).await;
        }
        Act::Status(status) => {
            let _ = stream.write_all(respond(status, "{}").as_bytes()).await;
        }
        Act::Close => {}
        Act::Reset => {
            // Zero linger: closing sends RST instead of FIN.
            stream.set_zero_linger().unwrap();
            return;
        }
        Act::Truncate => {
            let _ = stream
                .write_all(format!("{promise}{{\"Id\": 1, ").as_bytes())
                .await;
        }
        Act::Stall => {
            let _ = stream.write_all(format!("{promise}{{").as_bytes()).await;
            let _ = stream.flush().await;
            // Ended with the test's runtime.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
    let _ = stream.shutdown().await;
}

pub fn raw_client(
    raw: &Raw,
    client_id: &str,
    tune: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> Client {
    let builder = fast(
        threecx_core::Config::builder()
            .base_url(raw.url())
            .client_id(client_id)
            .client_secret(SECRET),
    );
    Client::new(tune(builder).build().unwrap()).unwrap()
}

/// The request lines and requests the reliability tests use.
pub const TOKEN_LINE: &str = "POST /connect/token";
pub const GET_LINE: &str = "GET /xapi/v1/Users(1)";
pub const POST_LINE: &str = "POST /xapi/v1/PurgeChats";
