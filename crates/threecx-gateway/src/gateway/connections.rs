//! Accepting and serving connections: hyper's HTTP/1 server with its header-read timer, a cap on
//! open connections, and a graceful shutdown bounded by a grace period.
//!
//! Why not `axum::serve`: it has no header-read timeout, no connection cap, and its graceful
//! shutdown waits for every connection, however stuck (a client that sent half a request head
//! kept the gateway from stopping). This is the accept loop hyper-util documents, with those
//! three added.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::ServeError;

/// Longest a connection may take to send a complete request head (default 10 s).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections open at once (default 512).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Longest the shutdown waits for the requests in flight (default 10 s).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How the gateway treats connections: what a slow, idle or hostile client can hold, and how
/// long a shutdown may take.
///
/// ```
/// use std::time::Duration;
/// use threecx_gateway::gateway::ServeOptions;
/// let options = ServeOptions::default()
///     .max_connections(256)
///     .header_read_timeout(Duration::from_secs(5));
/// assert_eq!(options.max_connections, 256);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// A connection that has not sent a complete request head this long after it opened, or
    /// after its previous answer, is closed. This is hyper's header-read timer: it runs whenever
    /// the connection waits for a request head, so it is also the **idle keep-alive timeout**
    /// (and bounds a client that dribbles its head a byte at a time). It does not limit a call
    /// in progress: once the head is in, the call takes as long as the PBX does.
    pub header_read_timeout: Duration,
    /// Most connections open at once; further clients wait in the listen backlog until one
    /// closes (bounded by the timeouts above), so the process never runs out of file
    /// descriptors. At least 1.
    pub max_connections: usize,
    /// On shutdown the gateway stops accepting, closes idle connections, lets the requests in
    /// flight finish, and closes whatever is still open after this long (a half-sent head, a
    /// client that does not read its answer, a long `?all=true` stream).
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl ServeOptions {
    /// See [`ServeOptions::header_read_timeout`] (at least 1 ms).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// See [`ServeOptions::max_connections`] (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// See [`ServeOptions::shutdown_grace`].
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// A future that completes on Ctrl-C (SIGINT) or SIGTERM (what `kill`, systemd, Docker and
/// Kubernetes send to stop a service), listening from the moment this is called.
#[cfg(unix)]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
            _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
        }
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let max = options.max_connections.max(1);
    let permits = Arc::new(Semaphore::new(max));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    let mut tasks = JoinSet::new();
    let mut at_cap = false;
    tokio::pin!(shutdown);

    loop {
        // A permit first: at the cap, connections stay in the kernel's backlog instead of
        // taking a file descriptor each.
        let next = async {
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            (permit, listener.accept().await)
        };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = done {
                    if e.is_panic() {
                        tracing::error!(error = %e, "a connection task panicked");
                    }
                }
            }
            (permit, accepted) = next => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        // Out of file descriptors, most likely: wait for some to close rather
                        // than spin.
                        tracing::error!(error = %e, "cannot accept a connection; retrying in 1 s");
                        drop(permit);
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                        continue;
                    }
                };
                note_connection_limit(permits.available_permits(), max, &mut at_cap);
                let _ = stream.set_nodelay(true);
                let conn = http.serve_connection(
                    TokioIo::new(stream),
                    TowerToHyperService::new(router.clone()),
                );
                let conn = graceful.watch(conn);
                tasks.spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                    drop(permit);
                });
            }
        }
    }

    // Stop accepting: from now on new clients are refused rather than queued.
    drop(listener);
    finish_in_flight(tasks, graceful, options.shutdown_grace).await;
    Ok(())
}

/// Lets the open connections finish their requests for up to `grace`, then closes them.
async fn finish_in_flight(mut tasks: JoinSet<()>, graceful: GracefulShutdown, grace: Duration) {
    let open = tasks.len();
    tracing::info!(
        open,
        grace = ?grace,
        "stopping: finishing the requests in flight"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open = tasks.len(),
            grace = ?grace,
            "connections still open after the grace period: closed"
        );
    }
    tasks.shutdown().await;
}

/// Warns once when the last permit is taken; warns again only after the load fell below 90%.
fn note_connection_limit(free: usize, max: usize, at_cap: &mut bool) {
    if free == 0 && !*at_cap {
        tracing::warn!(
            max_connections = max,
            "connection limit reached: new connections wait until one closes"
        );
        *at_cap = true;
    } else if free > max / 10 {
        *at_cap = false;
    }
}

/// Errors of one incoming connection (it went away before being accepted): not the listener's.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
