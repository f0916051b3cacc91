//! `threecx mcp`: the Model Context Protocol server of `threecx-gateway` on stdin/stdout, until
//! the client closes stdin, or Ctrl-C, SIGTERM or SIGHUP. Either way the tool calls in flight
//! are answered first (for at most [`SHUTDOWN_GRACE`]), then it exits 0.

use std::sync::Arc;
use std::time::Duration;

use threecx_gateway::mcp::{McpOptions, McpServer};
use threecx_gateway::rmcp::model::JsonRpcMessage;
use threecx_gateway::rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use threecx_gateway::rmcp::transport::{IntoTransport, Transport};
use threecx_gateway::rmcp::{RoleServer, ServiceExt};
use threecx_gateway::ServeError;
use tokio::sync::watch;

use super::serve::from_serve;
use super::session::Session;
use crate::cli::{GlobalArgs, McpArgs};
use crate::connection::Connection;
use crate::exit::{CliError, CliResult};

/// Longest the tool calls in flight may take to be answered once the server is told to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub fn run(global: &GlobalArgs, args: &McpArgs) -> CliResult {
    let conn = Connection::resolve(global)?;
    let active = crate::spec_choice::active(global, Some(&conn))?;
    let runtime = super::sandbox::command_runtime()?;
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let options = McpOptions {
        resources: (!args.resources.is_empty()).then(|| args.resources.clone()),
    };
    let result = runtime.block_on(async {
        let signalled = super::sandbox::interrupt_listener()?;
        let mut server = McpServer::with_registry(session.client.clone(), options, active.registry)
            .map_err(CliError::from)?;
        if let Some(log) = session.audit_log()? {
            server = server.audit_log(log);
        }
        let (stop, stopping) = watch::channel(false);
        tokio::spawn(async move {
            signalled.await;
            let _ = stop.send(true);
        });
        let stdio = IntoTransport::<RoleServer, _, _>::into_transport(
            threecx_gateway::rmcp::transport::stdio(),
        );
        let running = server
            .serve(Draining::new(stdio, stopping, SHUTDOWN_GRACE))
            .await
            .map_err(|e| from_serve(ServeError::Mcp(e.to_string())))?;
        running
            .waiting()
            .await
            .map_err(|e| from_serve(ServeError::Mcp(e.to_string())))?;
        CliResult::Ok(())
    });
    session.close(&runtime);
    // stdin is read on a blocking thread that nothing can interrupt: do not wait for it.
    runtime.shutdown_background();
    result
}

/// A transport that, once told to stop (or at the end of its input), reads no further request
/// and ends the session only when every request read has been answered, or the grace period
/// is over: rmcp itself ends the session at once, dropping the answers of calls in flight.
struct Draining<T> {
    inner: T,
    stopping: watch::Receiver<bool>,
    /// Requests read and not answered yet.
    in_flight: Arc<watch::Sender<usize>>,
    grace: Duration,
    deadline: Option<tokio::time::Instant>,
}

impl<T> Draining<T> {
    fn new(inner: T, stopping: watch::Receiver<bool>, grace: Duration) -> Self {
        Draining {
            inner,
            stopping,
            in_flight: Arc::new(watch::channel(0).0),
            grace,
            deadline: None,
        }
    }

    /// Waits (at most the grace period, counted from the first call) for every answer to be
    /// written.
    async fn drain(&mut self) {
        let deadline = *self
            .deadline
            .get_or_insert_with(|| tokio::time::Instant::now() + self.grace);
        let mut answered = self.in_flight.subscribe();
        let open = *answered.borrow();
        if open > 0 {
            tracing::info!(open, "stopping: answering the tool calls in flight");
        }
        if tokio::time::timeout_at(deadline, answered.wait_for(|n| *n == 0))
            .await
            .is_err()
        {
            tracing::warn!(
                open = *answered.borrow(),
                "tool calls still unanswered after the grace period: stopping without them"
            );
        }
    }
}

impl<T> Transport<RoleServer> for Draining<T>
where
    T: Transport<RoleServer>,
{
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answer = matches!(item, JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_));
        let sent = self.inner.send(item);
        let in_flight = Arc::clone(&self.in_flight);
        async move {
            let result = sent.await;
            if answer {
                in_flight.send_modify(|n| *n = n.saturating_sub(1));
            }
            result
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        if self.deadline.is_none() {
            let Draining {
                inner, stopping, ..
            } = self;
            tokio::select! {
                message = inner.receive() => {
                    if let Some(message) = message {
                        if matches!(message, JsonRpcMessage::Request(_)) {
                            self.in_flight.send_modify(|n| *n += 1);
                        }
                        return Some(message);
                    }
                }
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
        self.drain().await;
        None
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.inner.close().await
    }
}
