//! Downloads streamed to a writer (backups, recordings, CSV reports of any size): memory stays
//! flat whatever the size, and time limits bound connecting, the wait for the answer and each
//! pause between two reads, not the whole transfer, so a slow link still completes.
//!
//! Retries follow the same policy as every call, but only before the first byte of the file has
//! been written: after that a failure is returned (the writer holds part of the file).

use std::time::Duration;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::StatusCode;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{
    content_disposition_file_name, exchange_fault, extra_headers, failure, map_send_error,
    outcome_unknown, status_fault, Answer, Client, DURING_API,
};
use crate::error::{Error, Result};
use crate::request::PreparedRequest;
use crate::retry::Decision;

/// What a streamed download delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadInfo {
    pub content_type: String,
    /// From `Content-Disposition`, when the server names the file.
    pub file_name: Option<String>,
    /// Bytes written.
    pub size: u64,
}

/// The whole transfer's own limit: only a backstop (a week), since the pauses are what is bounded.
/// It replaces the client's per-request limit, which would otherwise cut a long download short.
const TRANSFER_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// What the body read was doing when a limit ran out.
const DURING_BODY: &str = "reading the file from the PBX (no data within the time allowed)";

impl Client {
    /// Sends `req` and writes the answer's body to `out` as it arrives (a file of any size in
    /// constant memory). `Config::timeout` bounds connecting and the wait for the answer's
    /// headers, and each pause between two reads of the body; the transfer as a whole has no
    /// limit. An error answer is returned as the same [`Error`] a call gives.
    pub async fn download_to<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        req: &PreparedRequest,
        out: &mut W,
    ) -> Result<DownloadInfo> {
        let mut download = self.download(req).await?;
        let mut size = 0u64;
        while let Some(chunk) = download.next_chunk().await? {
            out.write_all(&chunk)
                .await
                .map_err(|e| local_write(e, size))?;
            size += chunk.len() as u64;
        }
        out.flush().await.map_err(|e| local_write(e, size))?;
        Ok(DownloadInfo {
            content_type: download.content_type,
            file_name: download.file_name,
            size,
        })
    }

    /// Sends `req` and returns the file as it arrives, once the PBX has answered with success:
    /// its type and name first, then [`Download::next_chunk`] until `None` (for a gateway or any
    /// other relay that forwards a file without holding it). Retries, where safe, happen before
    /// this returns; none after.
    pub async fn download(&self, req: &PreparedRequest) -> Result<Download> {
        let url = self.url_of(req);
        let headers = extra_headers(req)?;
        let config = &self.inner.config;
        let limit = config.timeout();
        let mut attempt = 1;
        let mut refreshed = false;
        loop {
            // The call's deadline only bounds the phase before the body: token and headers.
            let deadline = tokio::time::Instant::now() + config.call_timeout();
            let token = match self.token_until(deadline).await {
                Ok(t) => t,
                Err(failed) => return Err(failed.0),
            };
            let builder = self
                .request_builder(req, &url, &headers, &token, "*/*")
                .timeout(TRANSFER_LIMIT);
            let sent = match tokio::time::timeout(limit, builder.send()).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(map_send_error(e, config, DURING_API)),
                Err(_) => Err(Error::Timeout {
                    after: limit,
                    during: DURING_API,
                }),
            };
            let (error, fault) = match sent {
                Ok(response) if response.status() == StatusCode::UNAUTHORIZED && !refreshed => {
                    refreshed = true;
                    self.inner.tokens.invalidate(&token);
                    continue;
                }
                Ok(response) if response.status().is_success() => {
                    return Ok(Download::new(response, limit));
                }
                Ok(response) => {
                    let answer = capped_error_answer(response, limit).await;
                    let fault = status_fault(&answer);
                    (failure(req, &answer, &token), fault)
                }
                Err(e) => *exchange_fault(e),
            };
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.inner.policy.decide(
                fault,
                req.retry_safe,
                attempt,
                remaining,
                fastrand::f64(),
            ) {
                Decision::Retry { delay } if self.inner.budget.try_withdraw() => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return Err(outcome_unknown(req, error, fault)),
            }
        }
    }
}

/// A file the PBX is sending: what it is, then its bytes chunk by chunk.
pub struct Download {
    pub content_type: String,
    /// From `Content-Disposition`, when the server names the file.
    pub file_name: Option<String>,
    /// From `Content-Length`, when the server gives it.
    pub size: Option<u64>,
    response: reqwest::Response,
    idle: Duration,
    received: u64,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .field("size", &self.size)
            .field("received", &self.received)
            .finish()
    }
}

impl Download {
    fn new(response: reqwest::Response, idle: Duration) -> Download {
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Download {
            content_type: header(CONTENT_TYPE).unwrap_or_else(|| "application/octet-stream".into()),
            file_name: header(CONTENT_DISPOSITION).and_then(|d| content_disposition_file_name(&d)),
            size: response.content_length(),
            response,
            idle,
            received: 0,
        }
    }

    /// The next part of the file; `None` at its end. A pause longer than the client's
    /// `timeout` is an [`Error::Timeout`]; a connection that breaks off, [`Error::Transport`].
    pub async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        match tokio::time::timeout(self.idle, self.response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                self.received += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Ok(Ok(None)) => Ok(None),
            Ok(Err(e)) => Err(Error::Transport {
                during: DURING_BODY,
                message: format!("the download broke off after {} bytes: {e}", self.received),
                maybe_sent: true,
            }),
            Err(_) => Err(Error::Timeout {
                after: self.idle,
                during: DURING_BODY,
            }),
        }
    }
}

fn local_write(e: std::io::Error, size: u64) -> Error {
    Error::Config {
        field: "download destination",
        message: format!("cannot write the file after {size} bytes: {e}"),
    }
}

/// An error answer, its body read only up to [`super::MAX_ERROR_BODY`] (the excerpt is what
/// matters) and within `idle` per read.
async fn capped_error_answer(mut response: reqwest::Response, idle: Duration) -> Answer {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    while body.len() < super::MAX_ERROR_BODY {
        match tokio::time::timeout(idle, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(super::MAX_ERROR_BODY);
    Answer {
        status,
        headers,
        body,
    }
}
