//! The HTTP side: an accept loop serving each connection with hyper (so a fault can drop a
//! connection without answering), the axum router behind it, the request log and the faults.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::api::{lock, ApiRequest, App};
use crate::auth::TokenAnswer;
use crate::faults::Fault;
use crate::reply::{Reply, ReplyBody};
use crate::RequestRecord;

/// Serves `listener` until `shutdown` turns true; over TLS when `tls` is given.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new()
        .route("/connect/token", post(token))
        .fallback(api)
        .with_state(Arc::clone(&app));
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let router = router.clone();
                let shutdown = shutdown.clone();
                let tls = tls.clone();
                // The handshake runs in the connection's task, so a slow or failing client
                // never holds up the accept loop.
                tokio::spawn(async move {
                    match tls {
                        None => serve_connection(stream, app, router, shutdown).await,
                        Some(acceptor) => {
                            let mut stop = shutdown.clone();
                            let handshake = tokio::select! {
                                done = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => done,
                                _ = stop.changed() => return,
                            };
                            match handshake {
                                Ok(Ok(stream)) => serve_connection(stream, app, router, shutdown).await,
                                // A client that does not trust the certificate hangs up here.
                                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                                Err(_) => tracing::debug!("TLS handshake timed out"),
                            }
                        }
                    }
                });
            }
        }
    }
}

/// Longest a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves one connection (plain TCP or TLS) until it closes, a connection-reset fault kills
/// it, or the sandbox shuts down.
async fn serve_connection<S>(
    stream: S,
    app: Arc<App>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = Arc::clone(&kill);
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let app = Arc::clone(&app);
            let router = router.clone();
            let kill = Arc::clone(&kill);
            async move { Ok::<_, Infallible>(handle(app, router, kill, req).await) }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // A connection-reset fault: drop the connection unanswered.
        _ = kill.notified() => {}
        _ = shutdown.changed() => {}
    }
}

/// One request: faults first, then the router; logged either way.
async fn handle(
    app: Arc<App>,
    router: Router,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    let decision = lock(&app.faults).decide(&method, &path);
    let label = decision.fault.as_ref().map(Fault::label).or_else(|| {
        (!decision.latency.is_zero()).then(|| Fault::Latency(decision.latency).label())
    });
    // Logged when the answer is ready, or with status 0 when the request ends without one: a
    // reset fault, or a client that hung up first (hyper then drops this future), so that every
    // request that arrived is in the log.
    let mut entry = LogEntry {
        app: Arc::clone(&app),
        record: Some(RequestRecord {
            method: method.clone(),
            path: path.clone(),
            status: 0,
            fault: label,
            elapsed: std::time::Duration::ZERO,
        }),
        started,
    };
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let response = match decision.fault {
        Some(Fault::ConnectionReset) => {
            drop(entry);
            kill.notify_one();
            return std::future::pending().await;
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => status_fault(status, retry_after),
        Some(Fault::NonJsonBody { status }) => html_fault(status),
        Some(Fault::MalformedJson) => malformed_json(),
        Some(Fault::TruncatedBody) => truncated(router, req).await,
        Some(Fault::Latency(_)) | None => router
            .oneshot(req.map(Body::new))
            .await
            .unwrap_or_else(|e| match e {}),
    };
    entry.finish(response.status().as_u16());
    response
}

/// A 3CX-shaped JSON error with `status` (and `Retry-After`).
fn status_fault(status: u16, retry_after: Option<u64>) -> Response<Body> {
    let message = match status {
        429 => "Too many requests; slow down and retry later".to_owned(),
        503 => "The service is temporarily unavailable".to_owned(),
        500 => "An error has occurred.".to_owned(),
        s => format!("Injected failure {s}"),
    };
    let mut reply = Reply::error(status, message);
    if let Some(secs) = retry_after {
        reply = reply.header("Retry-After", secs.to_string());
    }
    into_response(reply)
}

/// The HTML error page a proxy in front of the PBX would send.
fn html_fault(status: u16) -> Response<Body> {
    let html = format!(
        "<html><head><title>{status}</title></head><body><h1>{status} {}</h1><hr>\
         <center>nginx</center></body></html>\n",
        StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    );
    Response::builder()
        .status(status)
        .header("Content-Type", "text/html")
        .body(Body::from(html))
        .expect("valid response parts")
}

/// `200` announced as JSON, with a body cut off mid-object.
fn malformed_json() -> Response<Body> {
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json; odata.metadata=minimal")
        .body(Body::from(
            r#"{"@odata.context":"$metadata","value":[{"Id":1,"#,
        ))
        .expect("valid response parts")
}

/// The real answer with its full `Content-Length`, but only half of the body sent before the
/// connection closes.
async fn truncated(router: Router, req: Request<Incoming>) -> Response<Body> {
    let full = router
        .oneshot(req.map(Body::new))
        .await
        .unwrap_or_else(|e| match e {});
    let (mut parts, body) = full.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    // A no-content answer has nothing to cut: it becomes a 200 with a small JSON body
    // (a 204 cannot carry one), so the fault bites on every request.
    let bytes = if bytes.len() < 2 {
        if parts.status == StatusCode::NO_CONTENT {
            parts.status = StatusCode::OK;
        }
        parts.headers.insert(
            "Content-Type",
            "application/json; odata.metadata=minimal"
                .parse()
                .expect("valid header"),
        );
        Bytes::from_static(b"{\"value\": []}")
    } else {
        bytes
    };
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(
        "Content-Length",
        bytes.len().to_string().parse().expect("digits"),
    );
    // The half is flushed first (hyper drops unflushed data when the body fails), then
    // the body fails and hyper closes the connection short of the announced length.
    use futures_util::StreamExt as _;
    let stream = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(half)]).chain(
        futures_util::stream::once(async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Err(std::io::Error::other("truncated by the sandbox"))
        }),
    );
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The log entry of one request, pushed once: by [`LogEntry::finish`] with the status answered,
/// or on drop with status 0.
struct LogEntry {
    app: Arc<App>,
    record: Option<RequestRecord>,
    started: Instant,
}

impl LogEntry {
    fn finish(&mut self, status: u16) {
        if let Some(mut record) = self.record.take() {
            record.status = status;
            record.elapsed = self.started.elapsed();
            lock(&self.app.log).push(record);
        }
    }
}

impl Drop for LogEntry {
    fn drop(&mut self) {
        self.finish(0);
    }
}

/// `POST /connect/token`: client credentials urlencoded or as `multipart/form-data`; every
/// refusal an OAuth2 error (a body that cannot be read too, not axum's plain-text rejection).
async fn token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response<Body> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let form = match body {
        Ok(body) => crate::auth::read_form(content_type, body).await,
        Err(e) => Err(TokenAnswer::invalid_request(format!(
            "the body cannot be read: {}",
            e.body_text()
        ))),
    };
    let answer = match form {
        Ok(form) => lock(&app.auth).token(&form),
        Err(refused) => refused,
    };
    let mut reply = Reply::json(answer.status, answer.body);
    reply = reply.header("Cache-Control", "no-store");
    into_response(reply)
}

/// Everything else: the API (or 404).
async fn api(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let reply = tokio::task::spawn_blocking(move || {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let authorization = header("authorization");
        app.api(&ApiRequest {
            method: method.as_str(),
            path: uri.path(),
            query: uri.query(),
            authorization: authorization.as_deref(),
            header: &header,
            body: &body,
        })
    })
    .await
    .unwrap_or_else(|e| Reply::error(500, format!("The sandbox failed on this request: {e}")));
    into_response(reply)
}

pub(crate) fn into_response(reply: Reply) -> Response<Body> {
    let mut builder = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    let body = match reply.body {
        ReplyBody::Empty => Body::empty(),
        ReplyBody::Json(v) => {
            builder = builder
                .header(
                    "Content-Type",
                    "application/json; odata.metadata=minimal; odata.streaming=true",
                )
                .header("OData-Version", "4.0");
            Body::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        ReplyBody::Bytes {
            content_type,
            bytes,
        } => {
            builder = builder.header("Content-Type", content_type);
            Body::from(bytes)
        }
    };
    builder.body(body).unwrap_or_else(|e| {
        Response::builder()
            .status(500)
            .body(Body::from(format!("bad response: {e}")))
            .expect("plain response")
    })
}
