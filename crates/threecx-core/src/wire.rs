//! The PBX's answers as they come off the wire: a successful answer decoded into a
//! [`Response`], an error answer (OData, OAuth or anything else) into an [`Error`], content
//! types, `Content-Disposition` file names, secrets scrubbed from quoted text, and failed sends
//! mapped to errors that say whether the request may have reached the PBX.
//!
//! Pure functions over bytes and headers: the client (`client.rs`), the download path and the
//! token endpoint (`token/`) share them, and none of them depends on how requests are sent.

use bytes::Bytes;
use percent_encoding::percent_decode_str;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::config::Config;
use crate::error::{ApiErrorDetail, Error, Result};
use crate::request::{PreparedRequest, ResponseKind};
use crate::response::{Download, Response};

/// Most bytes of an error answer read: enough for any OData error; the rest is not waited for.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest excerpt of a non-JSON error body put into an error message.
const EXCERPT_CHARS: usize = 300;

/// What was going on when a request failed or ran out of time; its text ends up in
/// [`Error::Timeout`] and [`Error::Transport`] (`during`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Connect,
    /// Sending an API request and reading its answer.
    Api,
    /// The whole call, all attempts together (`call_timeout`).
    Call,
    Token,
    /// Reading a streamed download.
    Body,
}

impl Phase {
    pub(crate) const fn text(self) -> &'static str {
        match self {
            Phase::Connect => "connecting to the PBX",
            Phase::Api => "waiting for the PBX",
            Phase::Call => "waiting for the PBX across all attempts (call_timeout)",
            Phase::Token => "requesting an access token",
            Phase::Body => "reading the file from the PBX (no data within the time allowed)",
        }
    }
}

/// Whether a failed request may have reached the PBX: what decides if sending it again is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// It failed while connecting: nothing reached the PBX.
    NotSent,
    /// It may have reached the PBX (and been carried out).
    MaybeSent,
}

/// A request that ended without a usable answer, and whether it may have reached the PBX.
/// Decided where the failure is seen (a connect failure of reqwest), not read back from the
/// error's text later.
#[derive(Debug, Clone)]
pub(crate) struct SendError {
    /// Boxed: failures are the rare path and the error is large.
    pub(crate) error: Box<Error>,
    pub(crate) reach: Reach,
}

impl SendError {
    /// `error`, which may have reached the PBX unless it is a transport error saying otherwise.
    pub(crate) fn new(error: Error) -> SendError {
        let reach = match error {
            Error::Transport {
                maybe_sent: false, ..
            } => Reach::NotSent,
            _ => Reach::MaybeSent,
        };
        SendError {
            error: Box::new(error),
            reach,
        }
    }
}

impl From<Error> for SendError {
    fn from(error: Error) -> SendError {
        SendError::new(error)
    }
}

/// A complete answer: status, headers and the body (read up to a cap).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// An answer's body as its chunks arrive. Most answers are one chunk: that one is kept as it
/// came, neither copied nor given a buffer of its own; more chunks are joined into one.
#[derive(Default)]
pub(crate) enum BodyChunks {
    #[default]
    Empty,
    One(Bytes),
    Joined(Vec<u8>),
}

impl BodyChunks {
    pub(crate) fn len(&self) -> usize {
        match self {
            BodyChunks::Empty => 0,
            BodyChunks::One(b) => b.len(),
            BodyChunks::Joined(v) => v.len(),
        }
    }

    pub(crate) fn push(&mut self, chunk: Bytes) {
        *self = match std::mem::take(self) {
            BodyChunks::Empty => BodyChunks::One(chunk),
            BodyChunks::One(first) => {
                let mut joined = Vec::with_capacity(first.len() + chunk.len());
                joined.extend_from_slice(&first);
                joined.extend_from_slice(&chunk);
                BodyChunks::Joined(joined)
            }
            BodyChunks::Joined(mut joined) => {
                joined.extend_from_slice(&chunk);
                BodyChunks::Joined(joined)
            }
        }
    }

    pub(crate) fn into_bytes(self) -> Bytes {
        match self {
            BodyChunks::Empty => Bytes::new(),
            BodyChunks::One(b) => b,
            BodyChunks::Joined(v) => v.into(),
        }
    }
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
            .then_some(&self.body[..])
    }
}

/// A successful (2xx) answer as a [`Response`]: no content, JSON, or a file; `secret` (the
/// bearer token) is scrubbed from any text of the answer put into an error.
pub(crate) fn decode_response(
    req: &PreparedRequest,
    answer: Answer,
    secret: &str,
) -> Result<Response> {
    let status = answer.status.as_u16();
    if answer.status == StatusCode::NO_CONTENT || answer.body.is_empty() {
        return Ok(Response::Empty { status });
    }
    let content_type = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let media = content_type.map(media_type);
    let json_type = media.map(is_json_media);

    // An HTML page where an API answer was expected is a proxy's error, login or maintenance
    // page (the XAPI never answers HTML), not a file to hand to the caller as the result.
    if req.response != ResponseKind::Download
        && json_type == Some(false)
        && media.is_some_and(is_html_media)
    {
        return Err(Error::Decode {
            what: format!("{} {}", req.method, req.path_and_query),
            message: format!(
                "expected JSON, got an HTML page (HTTP {status}), as a proxy or firewall in front \
                 of the PBX sends; check the PBX URL and what answers on it: {}",
                redact(&excerpt(&answer.body), secret)
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
        return Ok(download(content_type, answer.body.into()));
    }
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(v) => Ok(Response::Json(v)),
        // No content type at all: whatever it is, it is not JSON.
        Err(_) if json_type.is_none() => Ok(download(None, answer.body.into())),
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
fn is_html_media(media: &str) -> bool {
    media.eq_ignore_ascii_case("text/html") || media.eq_ignore_ascii_case("application/xhtml+xml")
}

/// `application/json`, `application/json; odata.metadata=minimal`, `application/problem+json`.
pub(crate) fn is_json_type(content_type: &str) -> bool {
    is_json_media(media_type(content_type))
}

/// [`is_json_type`] of a media type without parameters.
fn is_json_media(media: &str) -> bool {
    media.eq_ignore_ascii_case("application/json")
        || media.eq_ignore_ascii_case("text/json")
        || media.len() > 5 && media.as_bytes()[media.len() - 5..].eq_ignore_ascii_case(b"+json")
}

/// The error of a non-2xx answer; `secret` (the bearer token) is scrubbed from the PBX's text.
pub(crate) fn failure(req: &PreparedRequest, answer: &Answer, secret: &str) -> Error {
    let status = answer.status.as_u16();
    let parsed = parse_error_body(&answer.body);
    let server = redact(&parsed.message, secret);
    let method = req.method.as_str();
    let path: &str = &req.path_and_query;
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
            path: path.to_owned(),
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
            path: path.to_owned(),
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
                    message: redact(&d.message, secret),
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

/// The error of an answer over `cap` bytes ([`crate::ConfigBuilder::max_response_bytes`]).
pub(crate) fn too_large(req: &PreparedRequest, cap: usize) -> Error {
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

/// Maps a reqwest failure. A connect failure means nothing reached the server; any later failure
/// may come after the server received (and acted on) the request.
pub(crate) fn map_send_error(e: reqwest::Error, config: &Config, during: Phase) -> SendError {
    let connect = e.is_connect();
    let reach = if connect {
        Reach::NotSent
    } else {
        Reach::MaybeSent
    };
    let error = if e.is_timeout() {
        if connect {
            Error::Timeout {
                after: config.connect_timeout(),
                during: Phase::Connect.text(),
            }
        } else {
            Error::Timeout {
                after: config.timeout(),
                during: during.text(),
            }
        }
    } else {
        Error::Transport {
            during: if connect { Phase::Connect } else { during }.text(),
            message: error_chain(&e.without_url()),
            maybe_sent: !connect,
        }
    };
    SendError {
        error: Box::new(error),
        reach,
    }
}

/// An error and its sources on one line (reqwest's own text is often just "error sending
/// request"; the cause, e.g. "Connection refused", is further down).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
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
    fn a_one_chunk_body_is_kept_as_it_came() {
        let chunk = Bytes::from_static(b"{\"Id\":1}");
        let mut body = BodyChunks::default();
        assert_eq!(body.len(), 0);
        body.push(chunk.clone());
        assert_eq!(body.len(), 8);
        let kept = body.into_bytes();
        assert_eq!(kept.as_ptr(), chunk.as_ptr(), "not copied");

        let mut body = BodyChunks::default();
        for part in [&b"ab"[..], b"cd", b"e"] {
            body.push(Bytes::copy_from_slice(part));
        }
        assert_eq!(body.len(), 5);
        assert_eq!(&body.into_bytes()[..], b"abcde");
        assert!(BodyChunks::default().into_bytes().is_empty());
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
        assert!(is_html_media(media_type("text/html")));
        assert!(is_html_media(media_type("Text/HTML; charset=utf-8")));
        assert!(is_html_media(media_type("application/xhtml+xml")));
        assert!(!is_html_media(media_type("text/csv")));
        assert!(!is_html_media(media_type("application/json")));
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
}
