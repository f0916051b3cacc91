//! The loopback stand-in: hyper 1 HTTP/1.1 with keep-alive, every answer a clone of precomputed
//! `Bytes` (a reference count, no copy), so the client is what gets measured.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::fixture;

const JSON: &str = "application/json; odata.metadata=minimal; odata.streaming=true";

/// Everything the stand-in can answer.
pub struct Fixture {
    token: Bytes,
    user: Bytes,
    /// Rows in the call history.
    history_rows: u64,
    /// Page bytes by row count, built on first request of that size and then reused.
    pages: Mutex<HashMap<u64, Bytes>>,
}

impl Fixture {
    pub fn new(history_rows: u64) -> Arc<Fixture> {
        Arc::new(Fixture {
            token: fixture::token_body().into(),
            user: fixture::user_body().into(),
            history_rows,
            pages: Mutex::new(HashMap::new()),
        })
    }

    /// Builds the page of `count` rows ahead of time, so the first request does not pay for it.
    pub fn precompute_page(&self, count: u64) -> usize {
        self.page(count).len()
    }

    /// Size of the user answer, for reports.
    pub fn user_len(&self) -> usize {
        self.user.len()
    }

    fn page(&self, count: u64) -> Bytes {
        let mut pages = self.pages.lock().expect("page cache");
        pages
            .entry(count)
            .or_insert_with(|| fixture::history_page(count).into())
            .clone()
    }

    fn answer(&self, req: &Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        let body = if path == "/connect/token" {
            self.token.clone()
        } else if path.starts_with("/xapi/v1/Users(") {
            self.user.clone()
        } else if path == "/xapi/v1/CallHistoryView" {
            let (top, skip) = paging(req.uri().query().unwrap_or(""));
            let count = top
                .unwrap_or(self.history_rows)
                .min(self.history_rows.saturating_sub(skip.unwrap_or(0)));
            self.page(count)
        } else {
            let mut res = Response::new(Full::new(Bytes::from_static(
                br#"{"error":{"code":"","message":"not served by the bench stand-in"}}"#,
            )));
            *res.status_mut() = StatusCode::NOT_FOUND;
            return res;
        };
        let mut res = Response::new(Full::new(body));
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        res
    }
}

/// `$top` and `$skip` of a query string (`$` as is or as `%24`).
fn paging(query: &str) -> (Option<u64>, Option<u64>) {
    let (mut top, mut skip) = (None, None);
    for pair in query.split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let key = key
            .strip_prefix("%24")
            .unwrap_or(key.trim_start_matches('$'));
        match key {
            "top" => top = value.parse().ok(),
            "skip" => skip = value.parse().ok(),
            _ => {}
        }
    }
    (top, skip)
}

/// Serves `fixture` on `listener` until the runtime stops.
pub async fn serve(listener: TcpListener, fixture: Arc<Fixture>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let fixture = Arc::clone(&fixture);
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let res = fixture.answer(&req);
                async move { Ok::<_, Infallible>(res) }
            });
            // A client closing its connection mid-request is not the server's problem here.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Starts the stand-in on its own thread with a one-thread runtime (so it never shares the
/// client's runtime) on a free loopback port, and returns that address.
pub fn spawn_thread(fixture: Arc<Fixture>) -> SocketAddr {
    spawn_thread_on(fixture, None)
}

/// [`spawn_thread`], with the server thread kept on `cpu` (see [`crate::pin_current_thread`]).
pub fn spawn_thread_on(fixture: Arc<Fixture>, cpu: Option<usize>) -> SocketAddr {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    std_listener.set_nonblocking(true).expect("non-blocking");
    let addr = std_listener.local_addr().expect("local addr");
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            if let Some(cpu) = cpu {
                crate::pin_current_thread(cpu);
            }
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                serve(listener, fixture).await;
            });
        })
        .expect("server thread");
    addr
}

#[cfg(test)]
mod tests {
    use super::paging;

    #[test]
    fn paging_options() {
        assert_eq!(paging("$top=1000&$skip=2000"), (Some(1000), Some(2000)));
        assert_eq!(paging("%24skip=5&%24top=7"), (Some(7), Some(5)));
        assert_eq!(paging(""), (None, None));
    }
}
