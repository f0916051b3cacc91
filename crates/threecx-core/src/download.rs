//! Downloads streamed to a writer (backups, recordings, CSV reports of any size): memory stays
//! flat whatever the size, and time limits bound connecting, the wait for the answer and each
//! pause between two reads, not the whole transfer, so a slow link still completes.
//!
//! Retries follow the same policy as every call, but only before the first byte of the file has
//! been written: after that a failure is returned (the writer holds part of the file). The
//! sending side (`Client::download`, `Client::download_to`) is in `client.rs`; this is the file
//! as it arrives.

use std::time::Duration;

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::error::{Error, Result};
use crate::wire::{content_disposition_file_name, Answer, BodyChunks, Phase, MAX_ERROR_BODY};

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
pub(crate) const TRANSFER_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);

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
    pub(crate) fn new(response: reqwest::Response, idle: Duration) -> Download {
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
                during: Phase::Body.text(),
                message: format!("the download broke off after {} bytes: {e}", self.received),
                maybe_sent: true,
            }),
            Err(_) => Err(Error::Timeout {
                after: self.idle,
                during: Phase::Body.text(),
            }),
        }
    }
}

pub(crate) fn local_write(e: std::io::Error, size: u64) -> Error {
    Error::Config {
        field: "download destination",
        message: format!("cannot write the file after {size} bytes: {e}"),
    }
}

/// An error answer, its body read only up to [`MAX_ERROR_BODY`] (the excerpt is what
/// matters) and within `idle` per read.
pub(crate) async fn capped_error_answer(mut response: reqwest::Response, idle: Duration) -> Answer {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = BodyChunks::default();
    while body.len() < MAX_ERROR_BODY {
        match tokio::time::timeout(idle, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                body.push(chunk.slice(..chunk.len().min(MAX_ERROR_BODY - body.len())))
            }
            _ => break,
        }
    }
    Answer {
        status,
        headers,
        body: body.into_bytes(),
    }
}
