//! The HTTP client: sends a [`PreparedRequest`] with a bearer token and maps the answer to a
//! [`Response`] or an [`Error`].
//!
//! Every call goes through [`Client::execute`] (typed and by-name calls alike) and so through
//! `send`, the one place where requests are sent, retried (see the private `retry` module and
//! `RELIABILITY.md`) and bounded in time.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use reqwest::StatusCode;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::config::Config;
use crate::download::{capped_error_answer, local_write, TRANSFER_LIMIT};
use crate::error::{Error, Result};
use crate::outgoing::Outgoing;
use crate::request::PreparedRequest;
use crate::response::Response;
use crate::retry::{
    parse_retry_after, Decision, FailureClass, Policy, RetryBudget, TRANSIENT_STATUSES,
};
use crate::token::{shared_cache, Token, TokenCache};
use crate::wire::{
    decode_response, error_chain, failure, map_send_error, too_large, Answer, BodyChunks, Phase,
    Reach, SendError, MAX_ERROR_BODY,
};

/// Kept here too, where it always was (`threecx_core::client::MAX_RESPONSE_BODY`).
pub use crate::config::MAX_RESPONSE_BODY;
pub use crate::download::{Download as DownloadStream, DownloadInfo};

/// A connection to one PBX with one API client's credentials.
///
/// Cheap to clone (the HTTP connection pool and token cache are shared). Clients created for the
/// same PBX and client ID also share one token, since 3CX keeps only one active token per client.
/// `Debug` shows neither the secret nor the token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: reqwest::Client,
    tokens: Arc<TokenCache>,
    policy: Policy,
    /// Shared by all clones: retries of one client add at most a share of its successes.
    budget: RetryBudget,
    /// Requests sent again after a failed attempt.
    retries: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_root", &self.inner.config.api_root())
            .field("client_id", &self.inner.config.client_id())
            .field("token_fetches", &self.token_fetches())
            .field("retries", &self.retries())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`: one HTTP connection pool with rustls, the configured timeouts, the
    /// custom CA bundle (if any) trusted in addition to the web roots, and redirects not
    /// followed (a redirect is reported, so the bearer token never goes anywhere unexpected).
    pub fn new(config: Config) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(config.timeout())
            .connect_timeout(config.connect_timeout())
            .user_agent(config.user_agent())
            .redirect(reqwest::redirect::Policy::none());
        // No proxy from the environment for a PBX on this machine (see Config::is_loopback).
        if config.is_loopback() {
            builder = builder.no_proxy();
        }

        if let Some(path) = config.ca_bundle() {
            let pem = std::fs::read(path).map_err(|e| Error::Config {
                field: "ca_bundle",
                message: format!("cannot read {}: {e}", path.display()),
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::Config {
                field: "ca_bundle",
                message: format!("{} is not a valid PEM bundle: {e}", path.display()),
            })?;
            if certs.is_empty() {
                return Err(Error::Config {
                    field: "ca_bundle",
                    message: format!(
                        "no PEM certificate (-----BEGIN CERTIFICATE-----) found in {}",
                        path.display()
                    ),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if config.insecure() {
            tracing::warn!(
                pbx = config.base_url(),
                "TLS certificate verification is disabled (insecure): anyone on the network path \
                 can read the client secret and tokens; use a CA bundle instead"
            );
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| Error::Config {
            field: if config.ca_bundle().is_some() {
                "ca_bundle"
            } else {
                "tls"
            },
            message: format!(
                "the HTTP client could not be set up: {}",
                error_chain(&e.without_url())
            ),
        })?;

        let tokens = if config.isolated_token_cache() {
            Arc::new(TokenCache::new(config.client_secret().clone()))
        } else {
            shared_cache(&config)
        };
        Ok(Client {
            inner: Arc::new(Inner {
                policy: Policy::from_config(&config),
                budget: RetryBudget::new(config.retry_budget_ratio(), config.retry_budget_floor()),
                retries: AtomicU64::new(0),
                config,
                http,
                tokens,
            }),
        })
    }

    /// The settings this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The full URL `req` would be sent to (for dry runs and logs).
    pub fn url_of(&self, req: &PreparedRequest) -> String {
        self.inner.config.root().url_of(req)
    }

    /// How many token requests have been sent for this client's PBX and client ID, by this and
    /// every other Client sharing its token cache (useful for metrics: it should stay low).
    pub fn token_fetches(&self) -> u64 {
        self.inner.tokens.fetches()
    }

    /// How many times this client (and its clones) sent a request again after a failed attempt
    /// (useful for metrics: a rising count means a flaky network or an overloaded PBX).
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// Sends `req` and maps the answer.
    ///
    /// On a 401 the token is dropped, a new one fetched (once for all concurrent callers) and the
    /// request sent once more; a second 401 is an [`Error::Auth`]. Transient failures are retried
    /// where that is safe, per `RELIABILITY.md`: a request that never reached the PBX always, one
    /// that may have only if `req.retry_safe`; within `max_attempts`, the retry budget and
    /// `call_timeout`, after which the call ends with an [`Error::Timeout`].
    pub async fn execute(&self, req: &PreparedRequest) -> Result<Response> {
        let mut out = Outgoing::new(self.inner.config.root(), req)?;
        self.send(req, &mut out, success).await
    }

    /// Sends `out` (`req` checked and its URL parsed once; the URL must be on the PBX: callers
    /// check the origin) and turns the successful answer into `T` by `decode` (e.g. a page of
    /// typed items straight from the body's bytes). The one path every request but a download
    /// takes. A decoding error classed as [`FailureClass::Lost`] (garbled answer) is retried
    /// like any lost answer; one classed as [`FailureClass::Final`] is returned at once.
    pub(crate) async fn send<T>(
        &self,
        req: &PreparedRequest,
        out: &mut Outgoing<'_>,
        decode: Decoder<T>,
    ) -> Result<T> {
        // No timer over the whole call (one per request is enough, and timers are a visible
        // part of a loopback call's cost): each exchange gets min(timeout, time left) as its
        // own limit, token waits are bounded by the time left, and the retry policy never
        // sleeps past it.
        let deadline = tokio::time::Instant::now() + self.inner.config.call_timeout();
        let inner = &*self.inner;
        // Attempts until one succeeds or [`Policy::decide`] (or the budget) says stop.
        let mut attempt = 1;
        // One token refresh per call, however many attempts it takes.
        let mut refreshed = false;
        loop {
            let outcome = self
                .attempt(req, &mut *out, &mut refreshed, decode, deadline)
                .await;
            let (error, fault) = match outcome {
                Ok(response) => {
                    inner.budget.deposit();
                    return Ok(response);
                }
                Err(failed) => *failed,
            };
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let decision =
                inner
                    .policy
                    .decide(fault, req.retry_safe, attempt, remaining, fastrand::f64());
            let delay = match decision {
                Decision::Retry { delay } => delay,
                Decision::Stop { reason } => {
                    if fault != FailureClass::Final {
                        tracing::debug!(
                            method = req.method.as_str(),
                            path = %req.path_and_query,
                            attempt,
                            error = %error,
                            reason,
                            "not retrying"
                        );
                    }
                    return Err(outcome_unknown(req, error, fault));
                }
            };
            if !inner.budget.try_withdraw() {
                tracing::debug!(
                    method = req.method.as_str(),
                    path = %req.path_and_query,
                    attempt,
                    error = %error,
                    "not retrying: the retry budget is spent (too many failures lately)"
                );
                return Err(error);
            }
            inner.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                method = req.method.as_str(),
                path = %req.path_and_query,
                attempt,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "retrying after a transient failure"
            );
            // Nothing of the failure is kept over the wait, and the timer is boxed: both
            // would otherwise make every call's future larger for this rare path.
            drop(error);
            Box::pin(tokio::time::sleep(delay)).await;
            attempt += 1;
        }
    }

    /// One attempt: a token, the exchange, and after a 401 (unless `refreshed` says this call
    /// already did so) a new token and one more exchange. A failure comes with what it means for
    /// retrying.
    async fn attempt<T>(
        &self,
        req: &PreparedRequest,
        out: &mut Outgoing<'_>,
        refreshed: &mut bool,
        decode: Decoder<T>,
        deadline: tokio::time::Instant,
    ) -> Attempt<T> {
        // One place that awaits an exchange, so that the call's future holds one; boxed, so
        // that a call's future stays under a kilobyte: front ends box it (a task, a handler),
        // and the allocator serves blocks up to about 1 KB from its fast per-thread cache,
        // larger ones through a slower path that also merges freed blocks first.
        loop {
            let token = self.token_until(deadline).await?;
            let answer = Box::pin(self.exchange(req, out, &token, deadline))
                .await
                .map_err(exchange_fault)?;
            if answer.status != StatusCode::UNAUTHORIZED || *refreshed {
                return finish(req, answer, &token, decode);
            }
            *refreshed = true;

            // The token may have expired early or been replaced by another fetch for this
            // client (3CX keeps one per client). Refresh once; a second 401 means the
            // credentials or the role are wrong, and asking again would only get this IP
            // blacklisted. A 401 means the request was refused unprocessed, so sending it again
            // is safe for any request.
            tracing::debug!(
                method = req.method.as_str(),
                path = %req.path_and_query,
                "access token rejected; fetching a new one and retrying once"
            );
            self.inner.tokens.invalidate(&token);
        }
    }

    /// A token, waiting for one at most until the call's `deadline`.
    async fn token_until(&self, deadline: tokio::time::Instant) -> Attempt<Arc<Token>> {
        let inner = &*self.inner;
        // The usual case, a token at hand, needs no timer.
        if let Some(token) = inner.tokens.fresh() {
            return Ok(token);
        }
        // Boxed: waiting for a token request is a large future, and every call's future would
        // otherwise be as large, though it rarely waits (large futures cost memory copies and
        // allocator work on every call).
        Box::pin(self.fetch_token_until(deadline)).await
    }

    /// [`Client::token_until`] when the cache has no fresh token.
    async fn fetch_token_until(&self, deadline: tokio::time::Instant) -> Attempt<Arc<Token>> {
        let inner = &*self.inner;
        let fetch = inner.tokens.get(&inner.http, &inner.config);
        match tokio::time::timeout_at(deadline, fetch).await {
            Ok(token) => token.map_err(token_fault),
            Err(_) => Err(Box::new((self.call_timed_out(), FailureClass::Final))),
        }
    }

    /// The error of a call that ran out of `call_timeout`.
    fn call_timed_out(&self) -> Error {
        let limit = self.inner.config.call_timeout();
        tracing::debug!(
            limit_ms = limit.as_millis() as u64,
            "call timed out (call_timeout)"
        );
        Error::Timeout {
            after: limit,
            during: Phase::Call.text(),
        }
    }

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
    /// its type and name first, then [`DownloadStream::next_chunk`] until `None` (for a gateway or any
    /// other relay that forwards a file without holding it). Retries, where safe, happen before
    /// this returns; none after.
    pub async fn download(&self, req: &PreparedRequest) -> Result<DownloadStream> {
        let mut out = Outgoing::new(self.inner.config.root(), req)?;
        // A file of whatever type the PBX has, whatever a JSON action's template says.
        out.accept_anything();
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
            let request = out.request(&token, Some(TRANSFER_LIMIT))?;
            let sent = match tokio::time::timeout(limit, self.inner.http.execute(request)).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(map_send_error(e, config, Phase::Api)),
                Err(_) => Err(SendError::new(Error::Timeout {
                    after: limit,
                    during: Phase::Api.text(),
                })),
            };
            let (error, fault) = match sent {
                Ok(response) if response.status() == StatusCode::UNAUTHORIZED && !refreshed => {
                    refreshed = true;
                    self.inner.tokens.invalidate(&token);
                    continue;
                }
                Ok(response) if response.status().is_success() => {
                    return Ok(DownloadStream::new(response, limit));
                }
                Ok(response) => {
                    let answer = capped_error_answer(response, limit).await;
                    let fault = status_fault(&answer);
                    (failure(req, &answer, token.secret()), fault)
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

    /// One HTTP exchange: request out, whole answer in.
    async fn exchange(
        &self,
        req: &PreparedRequest,
        out: &mut Outgoing<'_>,
        token: &Token,
        deadline: tokio::time::Instant,
    ) -> std::result::Result<Answer, SendError> {
        let config = &self.inner.config;
        // The attempt's limit, cut short by the end of the call.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(self.call_timed_out().into());
        }
        let limit = config.timeout().min(left);
        let timed_out = |e: reqwest::Error| {
            if e.is_timeout() && !e.is_connect() && limit < config.timeout() {
                self.call_timed_out().into()
            } else {
                map_send_error(e, config, Phase::Api)
            }
        };
        // The client's own timeout is `config.timeout()`: a request sets its own only when the
        // end of the call cuts it shorter.
        let request = out.request(token, (limit < config.timeout()).then_some(limit))?;
        // Read the clock for the log line only when it is written.
        let started = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
        let mut response = self.inner.http.execute(request).await.map_err(timed_out)?;
        let status = response.status();
        // Error answers are read only up to an excerpt; successful ones up to a cap, so that a
        // runaway answer cannot take the process's memory.
        let cap = if status.is_success() {
            config.max_response_bytes()
        } else {
            MAX_ERROR_BODY
        };
        if status.is_success() && response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large(req, cap).into());
        }
        let mut body = BodyChunks::default();
        while let Some(chunk) = response.chunk().await.map_err(timed_out)? {
            if body.len() + chunk.len() > cap {
                if status.is_success() {
                    return Err(too_large(req, cap).into());
                }
                body.push(chunk.slice(..cap - body.len()));
                break;
            }
            body.push(chunk);
        }
        let headers = std::mem::take(response.headers_mut());
        tracing::debug!(
            method = req.method.as_str(),
            path = %req.path_and_query,
            status = status.as_u16(),
            bytes = body.len(),
            elapsed_ms = started.map_or(0, |t| t.elapsed().as_millis() as u64),
            "PBX answered"
        );
        Ok(Answer {
            status,
            headers,
            body: body.into_bytes(),
        })
    }
}

/// The outcome of one attempt; a failure says what it means for retrying (boxed: failures are
/// the rare path and the error is large).
type Attempt<T> = std::result::Result<T, Box<(Error, FailureClass)>>;

/// Turns a successful (2xx) answer into the call's result; an error says whether the answer
/// was garbled ([`FailureClass::Lost`]) or just not what was asked for ([`FailureClass::Final`]).
pub(crate) type Decoder<T> = fn(&PreparedRequest, Answer, &Token) -> Attempt<T>;

/// Maps a complete answer to the result of the attempt.
fn finish<T>(
    req: &PreparedRequest,
    answer: Answer,
    token: &Token,
    decode: Decoder<T>,
) -> Attempt<T> {
    if answer.status.is_success() {
        decode(req, answer, token)
    } else {
        Err(Box::new((
            failure(req, &answer, token.secret()),
            status_fault(&answer),
        )))
    }
}

/// What an error answer means for retrying: a transient status, with the `Retry-After` of a
/// 429 or 503, or a final answer.
fn status_fault(answer: &Answer) -> FailureClass {
    let status = answer.status.as_u16();
    if !TRANSIENT_STATUSES.contains(&status) {
        return FailureClass::Final;
    }
    let retry_after = match status {
        429 | 503 => answer
            .headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now())),
        _ => None,
    };
    FailureClass::Status {
        status,
        retry_after,
    }
}

/// A request that is not safe to repeat and whose answer was lost after it may have reached the
/// PBX ends in [`Error::OutcomeUnknown`], not in an error that reads as "try again".
/// (A garbled 2xx is no such case: its status says the PBX carried the request out.)
fn outcome_unknown(req: &PreparedRequest, error: Error, fault: FailureClass) -> Error {
    if req.retry_safe || fault != FailureClass::Lost {
        return error;
    }
    let cause = match &error {
        Error::Timeout { after, .. } => format!("no answer came within {after:?}"),
        Error::Transport { message, .. } => format!("the connection failed ({message})"),
        _ => return error,
    };
    Error::OutcomeUnknown {
        method: req.method.as_str(),
        path: req.path_and_query.to_string(),
        cause,
    }
}

/// A failed exchange: not sent, lost after sending, or final (e.g. an answer over the cap).
pub(crate) fn exchange_fault(failed: SendError) -> Box<(Error, FailureClass)> {
    let fault = match (failed.reach, &*failed.error) {
        (Reach::NotSent, _) => FailureClass::NotSent,
        (_, Error::Timeout { .. } | Error::Transport { .. }) => FailureClass::Lost,
        _ => FailureClass::Final,
    };
    Box::new((*failed.error, fault))
}

/// A failed token request: when it never reached the PBX the call may try again; otherwise the
/// token backoff paces the next request.
fn token_fault(failed: SendError) -> Box<(Error, FailureClass)> {
    let fault = match failed.reach {
        Reach::NotSent => FailureClass::NotSent,
        Reach::MaybeSent => FailureClass::Token,
    };
    Box::new((*failed.error, fault))
}

/// The [`Decoder`] of [`Client::send`]. A 2xx that cannot be what was asked for (invalid JSON,
/// an HTML page): the request reached the PBX and the answer was garbled on the way back, as
/// with a truncated body. Like a lost answer, it is retried where sending again is harmless
/// (retry_safe) and never otherwise.
pub(crate) fn success(req: &PreparedRequest, answer: Answer, token: &Token) -> Attempt<Response> {
    decode_response(req, answer, token.secret()).map_err(|e| Box::new((e, FailureClass::Lost)))
}
