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

use percent_encoding::percent_decode_str;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::config::Config;
use crate::error::{ApiErrorDetail, Error, Result};
use crate::request::{pointer, Method, PreparedRequest, ResponseKind};
use crate::response::{Download, Response};
use crate::retry::{parse_retry_after, Decision, Fault, Policy, RetryBudget, TRANSIENT_STATUSES};
use crate::token::{shared_cache, Token, TokenCache};

const DURING_API: &str = "waiting for the PBX";

mod download;
pub use download::{Download as DownloadStream, DownloadInfo};

/// Most bytes of an error answer read: enough for any OData error; the rest is not waited for.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The default of [`crate::ConfigBuilder::max_response_bytes`]: most bytes of a successful
/// answer held in memory (a page of JSON, a small file). Larger pages are refused with a clear
/// error: page with `$top`; large files go through [`Client::download_to`].
pub const MAX_RESPONSE_BODY: usize = 128 * 1024 * 1024;
const DURING_CONNECT: &str = "connecting to the PBX";
const DURING_CALL: &str = "waiting for the PBX across all attempts (call_timeout)";
/// Longest excerpt of a non-JSON error body put into an error message.
const EXCERPT_CHARS: usize = 300;

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
        format!("{}{}", self.inner.config.api_root(), req.path_and_query)
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
        let url = self.url_of(req);
        self.send(req, &url).await
    }

    /// Sends `req` to `url` (which must be on the PBX: callers check the origin). The one path
    /// every request takes.
    pub(crate) async fn send(&self, req: &PreparedRequest, url: &str) -> Result<Response> {
        self.send_decoded(req, url, success).await
    }

    /// [`Client::send`] with the successful answer turned into `T` by `decode` (e.g. a page of
    /// typed items straight from the body's bytes). A decoding error classed as
    /// [`Fault::Lost`] (garbled answer) is retried like any lost answer; one classed as
    /// [`Fault::Final`] is returned at once.
    pub(crate) async fn send_decoded<T>(
        &self,
        req: &PreparedRequest,
        url: &str,
        decode: Decoder<T>,
    ) -> Result<T> {
        let headers = extra_headers(req)?;
        // No timer over the whole call (one per request is enough, and timers are a visible
        // part of a loopback call's cost): each exchange gets min(timeout, time left) as its
        // own limit, token waits are bounded by the time left, and the retry policy never
        // sleeps past it.
        let deadline = tokio::time::Instant::now() + self.inner.config.call_timeout();
        self.send_with_retries(req, url, &headers, deadline, decode)
            .await
    }

    /// Attempts until one succeeds or [`Policy::decide`] (or the budget) says stop.
    async fn send_with_retries<T>(
        &self,
        req: &PreparedRequest,
        url: &str,
        headers: &HeaderMap,
        deadline: tokio::time::Instant,
        decode: Decoder<T>,
    ) -> Result<T> {
        let inner = &*self.inner;
        let mut attempt = 1;
        // One token refresh per call, however many attempts it takes.
        let mut refreshed = false;
        loop {
            let outcome = self
                .attempt(req, url, headers, &mut refreshed, decode, deadline)
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
                    if fault != Fault::Final {
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
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt: a token, the exchange, and after a 401 (unless `refreshed` says this call
    /// already did so) a new token and one more exchange. A failure comes with what it means for
    /// retrying.
    async fn attempt<T>(
        &self,
        req: &PreparedRequest,
        url: &str,
        headers: &HeaderMap,
        refreshed: &mut bool,
        decode: Decoder<T>,
        deadline: tokio::time::Instant,
    ) -> Attempt<T> {
        let inner = &*self.inner;

        let token = self.token_until(deadline).await?;
        let answer = self
            .exchange(req, url, headers, &token, deadline)
            .await
            .map_err(exchange_fault)?;
        if answer.status != StatusCode::UNAUTHORIZED || *refreshed {
            return finish(req, answer, &token, decode);
        }
        *refreshed = true;

        // The token may have expired early or been replaced by another fetch for this client
        // (3CX keeps one per client). Refresh once; a second 401 means the credentials or the
        // role are wrong, and asking again would only get this IP blacklisted. A 401 means the
        // request was refused unprocessed, so sending it again is safe for any request.
        tracing::debug!(
            method = req.method.as_str(),
            path = %req.path_and_query,
            "access token rejected; fetching a new one and retrying once"
        );
        inner.tokens.invalidate(&token);
        let token = self.token_until(deadline).await?;
        let answer = self
            .exchange(req, url, headers, &token, deadline)
            .await
            .map_err(exchange_fault)?;
        finish(req, answer, &token, decode)
    }

    /// A token, waiting for one at most until the call's `deadline`.
    async fn token_until(&self, deadline: tokio::time::Instant) -> Attempt<Arc<Token>> {
        let inner = &*self.inner;
        let fetch = inner.tokens.get(&inner.http, &inner.config);
        match tokio::time::timeout_at(deadline, fetch).await {
            Ok(token) => token.map_err(token_fault),
            Err(_) => Err(Box::new((self.call_timed_out(), Fault::Final))),
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
            during: DURING_CALL,
        }
    }

    /// The HTTP request for `req`: method, URL, bearer token, `Accept`, its extra headers and
    /// JSON body. The time limit is the caller's.
    fn request_builder(
        &self,
        req: &PreparedRequest,
        url: &str,
        headers: &HeaderMap,
        token: &Token,
        accept: &'static str,
    ) -> reqwest::RequestBuilder {
        let mut builder = self
            .inner
            .http
            .request(reqwest_method(req.method), url)
            .header(AUTHORIZATION, token.authorization())
            .header(ACCEPT, accept);
        if !headers.is_empty() {
            builder = builder.headers(headers.clone());
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        builder
    }

    /// One HTTP exchange: request out, whole answer in.
    async fn exchange(
        &self,
        req: &PreparedRequest,
        url: &str,
        headers: &HeaderMap,
        token: &Token,
        deadline: tokio::time::Instant,
    ) -> Result<Answer> {
        let config = &self.inner.config;
        // The attempt's limit, cut short by the end of the call.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(self.call_timed_out());
        }
        let limit = config.timeout().min(left);
        let timed_out = |e: reqwest::Error| {
            if e.is_timeout() && !e.is_connect() && limit < config.timeout() {
                self.call_timed_out()
            } else {
                map_send_error(e, config, DURING_API)
            }
        };
        let builder = self
            .request_builder(req, url, headers, token, "application/json")
            .timeout(limit);

        let started = Instant::now();
        let mut response = builder.send().await.map_err(timed_out)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        // Error answers are read only up to an excerpt; successful ones up to a cap, so that a
        // runaway answer cannot take the process's memory.
        let cap = if status.is_success() {
            config.max_response_bytes()
        } else {
            MAX_ERROR_BODY
        };
        if status.is_success() && response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large(req, cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(timed_out)? {
            if body.len() + chunk.len() > cap {
                if status.is_success() {
                    return Err(too_large(req, cap));
                }
                body.extend_from_slice(&chunk[..cap - body.len()]);
                break;
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            method = req.method.as_str(),
            path = %req.path_and_query,
            status = status.as_u16(),
            bytes = body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "PBX answered"
        );
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// The error of an answer over [`MAX_RESPONSE_BODY`].
fn too_large(req: &PreparedRequest, cap: usize) -> Error {
    Error::Decode {
        what: format!("{} {}", req.method, req.path_and_query),
        message: format!(
            "the answer is larger than {} KiB (max_response_bytes), more than one call holds in \
             memory: page through a list with $top/$skip (threecx call --all), and save files \
             with download_to (threecx call --out FILE)",
            cap / 1024
        ),
    }
}

/// The outcome of one attempt; a failure says what it means for retrying (boxed: failures are
/// the rare path and the error is large).
type Attempt<T> = std::result::Result<T, Box<(Error, Fault)>>;

/// Turns a successful (2xx) answer into the call's result; an error says whether the answer
/// was garbled ([`Fault::Lost`]) or just not what was asked for ([`Fault::Final`]).
pub(crate) type Decoder<T> = fn(&PreparedRequest, Answer, &Token) -> Attempt<T>;

pub(crate) struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    /// The body, when it is a JSON document for a request that expects one: not empty, not a
    /// 204, not a download, and labelled JSON.
    pub(crate) fn json_body(&self, req: &PreparedRequest) -> Option<&[u8]> {
        let labelled_json = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_type);
        (self.status != StatusCode::NO_CONTENT
            && !self.body.is_empty()
            && req.response != ResponseKind::Download
            && labelled_json)
            .then_some(self.body.as_slice())
    }
}

fn reqwest_method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// The request's own headers (e.g. `If-Match`); never its own `Authorization`. Every send path
/// calls this before any I/O, so it also refuses a request too long to send
/// ([`PreparedRequest::check_length`]) as invalid input, not as a network error after retries.
fn extra_headers(req: &PreparedRequest) -> Result<HeaderMap> {
    req.check_length()?;
    let mut map = HeaderMap::with_capacity(req.headers.len());
    for (name, value) in &req.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid(pointer(name), "a valid HTTP header name"))?;
        if header == AUTHORIZATION {
            continue;
        }
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid(pointer(name), "a header value of visible ASCII characters")
        })?;
        map.append(header, value);
    }
    Ok(map)
}

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
            failure(req, &answer, token),
            status_fault(&answer),
        )))
    }
}

/// What an error answer means for retrying: a transient status, with the `Retry-After` of a
/// 429 or 503, or a final answer.
fn status_fault(answer: &Answer) -> Fault {
    let status = answer.status.as_u16();
    if !TRANSIENT_STATUSES.contains(&status) {
        return Fault::Final;
    }
    let retry_after = match status {
        429 | 503 => answer
            .headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now())),
        _ => None,
    };
    Fault::Status {
        status,
        retry_after,
    }
}

/// A request that is not safe to repeat and whose answer was lost after it may have reached the
/// PBX ends in [`Error::OutcomeUnknown`], not in an error that reads as "try again".
/// (A garbled 2xx is no such case: its status says the PBX carried the request out.)
fn outcome_unknown(req: &PreparedRequest, error: Error, fault: Fault) -> Error {
    if req.retry_safe || fault != Fault::Lost {
        return error;
    }
    let cause = match &error {
        Error::Timeout { after, .. } => format!("no answer came within {after:?}"),
        Error::Transport { message, .. } => format!("the connection failed ({message})"),
        _ => return error,
    };
    Error::OutcomeUnknown {
        method: req.method.as_str(),
        path: req.path_and_query.clone(),
        cause,
    }
}

/// Whether `error` says the request never reached the server (it failed while connecting).
pub(crate) fn not_sent(error: &Error) -> bool {
    match error {
        Error::Transport { maybe_sent, .. } => !maybe_sent,
        Error::Timeout { during, .. } => *during == DURING_CONNECT,
        _ => false,
    }
}

/// A failed exchange: not sent, lost after sending, or final (e.g. a bad header value).
fn exchange_fault(error: Error) -> Box<(Error, Fault)> {
    let fault = if not_sent(&error) {
        Fault::NotSent
    } else if matches!(error, Error::Timeout { .. } | Error::Transport { .. }) {
        Fault::Lost
    } else {
        Fault::Final
    };
    Box::new((error, fault))
}

/// A failed token request: when it never reached the PBX the call may try again; otherwise the
/// token backoff paces the next request.
fn token_fault(error: Error) -> Box<(Error, Fault)> {
    let fault = if not_sent(&error) {
        Fault::NotSent
    } else {
        Fault::Token
    };
    Box::new((error, fault))
}

/// The [`Decoder`] of [`Client::send`]. A 2xx that cannot be what was asked for (invalid JSON,
/// an HTML page): the request reached the PBX and the answer was garbled on the way back, as
/// with a truncated body. Like a lost answer, it is retried where sending again is harmless
/// (retry_safe) and never otherwise.
pub(crate) fn success(req: &PreparedRequest, answer: Answer, token: &Token) -> Attempt<Response> {
    decode_response(req, answer, token).map_err(|e| Box::new((e, Fault::Lost)))
}

fn decode_response(req: &PreparedRequest, answer: Answer, token: &Token) -> Result<Response> {
    let status = answer.status.as_u16();
    if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
        return Ok(Response::Empty { status });
    }
    let content_type = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let json_type = content_type.map(is_json_type);

    // An HTML page where an API answer was expected is a proxy's error, login or maintenance
    // page (the XAPI never answers HTML), not a file to hand to the caller as the result.
    if req.response != ResponseKind::Download && content_type.is_some_and(is_html_type) {
        return Err(Error::Decode {
            what: format!("{} {}", req.method, req.path_and_query),
            message: format!(
                "expected JSON, got an HTML page (HTTP {status}), as a proxy or firewall in front \
                 of the PBX sends; check the PBX URL and what answers on it: {}",
                redact(&excerpt(&answer.body), token.secret())
            ),
        });
    }
    let download = |content_type: Option<&str>, bytes: Vec<u8>| {
        Response::Download(Download {
            content_type: content_type
                .unwrap_or("application/octet-stream")
                .to_owned(),
            file_name: answer
                .headers
                .get(reqwest::header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(content_disposition_file_name),
            bytes,
        })
    };

    // The spec types downloads as JSON; the template's kind and the real content type decide.
    if req.response == ResponseKind::Download || json_type == Some(false) {
        return Ok(download(content_type, answer.body));
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(v) => Ok(Response::Json(v)),
        // No content type at all: whatever it is, it is not JSON.
        Err(_) if json_type.is_none() => Ok(download(None, answer.body)),
        Err(e) => Err(Error::Decode {
            what: format!("{} {}", req.method, req.path_and_query),
            message: format!("the PBX sent invalid JSON ({e})"),
        }),
    }
}

/// The media type of a `Content-Type` value, parameters dropped (compare it ignoring case).
fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// `text/html` or `application/xhtml+xml`, with or without parameters.
fn is_html_type(content_type: &str) -> bool {
    let media = media_type(content_type);
    media.eq_ignore_ascii_case("text/html") || media.eq_ignore_ascii_case("application/xhtml+xml")
}

/// `application/json`, `application/json; odata.metadata=minimal`, `application/problem+json`.
fn is_json_type(content_type: &str) -> bool {
    let media = media_type(content_type);
    media.eq_ignore_ascii_case("application/json")
        || media.eq_ignore_ascii_case("text/json")
        || media.len() > 5 && media.as_bytes()[media.len() - 5..].eq_ignore_ascii_case(b"+json")
}

fn failure(req: &PreparedRequest, answer: &Answer, token: &Token) -> Error {
    let status = answer.status.as_u16();
    let parsed = parse_error_body(&answer.body);
    let server = redact(&parsed.message, token.secret());
    let method = req.method.as_str();
    let path = &req.path_and_query;
    let with_server = |text: String| {
        if server.is_empty() {
            text
        } else {
            format!("{text}; the PBX said: {server}")
        }
    };
    match status {
        401 => Error::Auth {
            status: Some(status),
            message: with_server(format!(
                "the PBX rejected a freshly issued access token for {method} {path}"
            )),
        },
        403 => Error::Auth {
            status: Some(status),
            message: with_server(format!(
                "access to {method} {path} is denied: the credentials are valid, but the API \
                 client's role is too low for this endpoint (some need \"System Owner\")"
            )),
        },
        300..=399 => Error::Api {
            status,
            method,
            path: path.clone(),
            code: String::new(),
            message: format!(
                "the PBX redirected to {}; use the final address as the PBX URL",
                answer
                    .headers
                    .get(reqwest::header::LOCATION)
                    .map(|l| excerpt(l.as_bytes()))
                    .unwrap_or_else(|| "an unnamed location".to_owned())
            ),
            details: vec![],
        },
        _ => Error::Api {
            status,
            method,
            path: path.clone(),
            code: parsed.code,
            message: if server.is_empty() {
                format!(
                    "HTTP {status} {} with no message",
                    answer.status.canonical_reason().unwrap_or("")
                )
            } else {
                server
            },
            details: parsed
                .details
                .into_iter()
                .map(|d| ApiErrorDetail {
                    message: redact(&d.message, token.secret()),
                    ..d
                })
                .collect(),
        },
    }
}

/// An error answer's content, as far as it can be understood.
pub(crate) struct ParsedError {
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) details: Vec<ApiErrorDetail>,
}

/// Reads 3CX's OData error `{"error":{"code","message","details"}}`, an OAuth error
/// `{"error":"invalid_client","error_description":"..."}`, a bare `{"message":"..."}`, or falls
/// back to a short excerpt of the body.
pub(crate) fn parse_error_body(body: &[u8]) -> ParsedError {
    let mut out = ParsedError {
        code: String::new(),
        message: String::new(),
        details: Vec::new(),
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").trim().to_owned();
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => match obj.get("error") {
            Some(Value::Object(err)) => {
                out.code = text(err.get("code"));
                out.message = text(err.get("message"));
                if let Some(Value::Array(details)) = err.get("details") {
                    out.details = details
                        .iter()
                        .filter_map(|d| serde_json::from_value(d.clone()).ok())
                        .collect();
                }
            }
            Some(Value::String(code)) => {
                out.code = code.trim().to_owned();
                let description = text(obj.get("error_description"));
                out.message = if description.is_empty() {
                    out.code.clone()
                } else {
                    format!("{}: {description}", out.code)
                };
            }
            _ => {
                out.message = text(obj.get("message").or_else(|| obj.get("Message")));
                if out.message.is_empty() {
                    out.message = excerpt(body);
                }
            }
        },
        _ => out.message = excerpt(body),
    }
    out
}

/// At most [`EXCERPT_CHARS`] characters of `body`, whitespace collapsed, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    // Enough bytes for the excerpt even with much whitespace; the rest is never looked at.
    let head = &body[..body.len().min(EXCERPT_CHARS * 8)];
    let text = String::from_utf8_lossy(head);
    let collapsed = text
        .split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = collapsed.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() || head.len() < body.len() {
        out.push('…');
    }
    out
}

/// `text` with every occurrence of `secret` replaced by `[REDACTED]`.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[REDACTED]")
    }
}

/// Maps a reqwest failure. A connect failure means nothing reached the server; any later failure
/// may come after the server received (and acted on) the request.
pub(crate) fn map_send_error(e: reqwest::Error, config: &Config, during: &'static str) -> Error {
    let connect = e.is_connect();
    if e.is_timeout() {
        return if connect {
            Error::Timeout {
                after: config.connect_timeout(),
                during: DURING_CONNECT,
            }
        } else {
            Error::Timeout {
                after: config.timeout(),
                during,
            }
        };
    }
    Error::Transport {
        during: if connect { DURING_CONNECT } else { during },
        message: error_chain(&e.without_url()),
        maybe_sent: !connect,
    }
}

/// An error and its sources on one line (reqwest's own text is often just "error sending
/// request"; the cause, e.g. "Connection refused", is further down).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The file name of a `Content-Disposition` header: `filename*=UTF-8''...` (RFC 6266/8187)
/// preferred over `filename="..."`. Reduced to its last path component, so a hostile name such as
/// `../../.bashrc` cannot steer where a caller saves the file.
pub(crate) fn content_disposition_file_name(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in split_params(header).into_iter().skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => extended = decode_ext_value(value.trim()),
            "filename" => plain = Some(unquote(value.trim())),
            _ => {}
        }
    }
    extended
        .or(plain)
        .and_then(|name| sanitize_file_name(&name))
}

/// Splits on `;` outside double quotes.
fn split_params(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in header.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `UTF-8''r%C3%A9sum%C3%A9.csv` → `résumé.csv`; ISO-8859-1 is decoded too.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let (charset, _language, encoded) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

fn sanitize_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        None
    } else {
        Some(clean.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_content_disposition() {
        let f = content_disposition_file_name;
        assert_eq!(
            f("attachment; filename=\"calls.csv\"").as_deref(),
            Some("calls.csv")
        );
        assert_eq!(
            f("attachment; filename=calls.csv").as_deref(),
            Some("calls.csv")
        );
        assert_eq!(
            f("attachment; filename=\"a.csv\"; filename*=UTF-8''r%C3%A9sum%C3%A9.csv").as_deref(),
            Some("résumé.csv")
        );
        assert_eq!(
            f("attachment; filename*=utf-8'en'a%20b.zip; filename=\"x.zip\"").as_deref(),
            Some("a b.zip")
        );
        assert_eq!(
            f("attachment; filename*=ISO-8859-1''caf%E9.txt").as_deref(),
            Some("café.txt")
        );
        assert_eq!(
            f("attachment; filename=\"semi;colon \\\"q\\\".txt\"").as_deref(),
            Some("semi;colon \"q\".txt")
        );
        assert_eq!(
            f("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(f("attachment; filename=\"..\"").as_deref(), None);
        assert_eq!(f("attachment").as_deref(), None);
        assert_eq!(f("inline; name=x").as_deref(), None);
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_type("application/json"));
        assert!(is_json_type(
            "application/json; odata.metadata=minimal; charset=utf-8"
        ));
        assert!(is_json_type("application/problem+json"));
        assert!(!is_json_type("text/csv"));
        assert!(!is_json_type("application/octet-stream"));
        assert!(is_html_type("text/html"));
        assert!(is_html_type("Text/HTML; charset=utf-8"));
        assert!(is_html_type("application/xhtml+xml"));
        assert!(!is_html_type("text/csv"));
        assert!(!is_html_type("application/json"));
    }

    #[test]
    fn error_bodies() {
        let p = parse_error_body(
            br#"{"error":{"code":"","message":"Number is taken","details":[{"code":"x","message":"m","target":"Number"}]}}"#,
        );
        assert_eq!(p.message, "Number is taken");
        assert_eq!(p.details.len(), 1);
        assert_eq!(p.details[0].target.as_deref(), Some("Number"));

        let p = parse_error_body(br#"{"error":"invalid_client","error_description":"bad"}"#);
        assert_eq!(p.code, "invalid_client");
        assert_eq!(p.message, "invalid_client: bad");

        let p = parse_error_body(br#"{"error":"invalid_client"}"#);
        assert_eq!(p.message, "invalid_client");

        let long = "<html> ".repeat(200);
        let p = parse_error_body(long.as_bytes());
        assert!(
            p.message.chars().count() <= EXCERPT_CHARS + 1,
            "{}",
            p.message
        );
        assert!(p.message.ends_with('…'));
        assert!(p.message.starts_with("<html> <html>"));

        assert_eq!(parse_error_body(b"").message, "");
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("a tok-ABC b", "tok-ABC"), "a [REDACTED] b");
        assert_eq!(redact("abc", ""), "abc");
    }

    #[test]
    fn authorization_header_of_the_request_is_ignored() {
        let req = PreparedRequest {
            method: Method::Get,
            path_and_query: "/x".into(),
            headers: vec![
                ("Authorization".into(), "Bearer other".into()),
                ("If-Match".into(), "*".into()),
            ],
            body: None,
            response: ResponseKind::Json,
            retry_safe: true,
        };
        let h = extra_headers(&req).unwrap();
        assert!(h.get(AUTHORIZATION).is_none());
        assert_eq!(h.get("if-match").unwrap(), "*");

        let bad = PreparedRequest {
            headers: vec![("If-Match".into(), "a\nb".into())],
            ..req
        };
        assert!(matches!(
            extra_headers(&bad),
            Err(Error::InvalidInput { .. })
        ));
    }
}
