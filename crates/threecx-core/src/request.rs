//! Pure request building: a static [`RequestTemplate`] plus one JSON input object gives a
//! [`PreparedRequest`] (method, path and query, headers, body) without any I/O, so tests can check
//! every byte, `--dry-run` can print it, and typed and by-name calls share it.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::api_root::ApiRoot;
use crate::error::{Error, Result};
use crate::literal::{bool_text, push_path_literal, push_query_number, push_query_value, Literal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest path and query (relative to the API root, percent-encoded) a request may have:
/// 32 KiB. `http::Uri`, under reqwest and hyper, refuses a URI of 64 KiB or more outright (and
/// web servers and proxies in front of a PBX usually stop well before that), so a longer one is
/// refused as [`Error::InvalidInput`] before anything is sent, naming the field that made it
/// long, rather than failing in the HTTP stack as a "network error". Split such a `$filter`
/// into several calls.
pub const MAX_PATH_AND_QUERY_BYTES: usize = 32 * 1024;

/// Where an input key goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Replaces `{name}` in the path template, as an OData literal.
    Path,
    /// A query option (`$top`, `$filter`...).
    Query,
    Header,
    /// One property of an OData action's parameter object (the JSON body).
    Body,
    /// The whole JSON body (create/update of an entity).
    Entity,
}

/// What a successful answer is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseKind {
    Json,
    /// An OData collection: `{"value": [...], "@odata.count"?, "@odata.nextLink"?}`.
    Collection,
    Empty,
    /// A file (CSV, ZIP, audio...), whatever the spec claims.
    Download,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub location: Location,
    /// Used for [`Location::Path`] only.
    pub literal: Literal,
    pub required: bool,
}

/// Everything needed to turn an input object into an HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTemplate {
    pub method: Method,
    /// Relative to the API root `/xapi/v1`, with `{name}` placeholders: `/Users({Id})`.
    pub path: &'static str,
    pub params: &'static [Param],
    pub response: ResponseKind,
    /// Whether the request may be sent again after it may have reached the server.
    pub retry_safe: bool,
}

/// The media type of every request body and of the answers asked for.
pub const JSON_MEDIA_TYPE: &str = "application/json";

/// A request ready to send; relative to the API root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    pub method: Method,
    /// Path and query, percent-encoded: `/Users(Number='100')?$select=Id,Number`. The
    /// template's own path when the input adds nothing to it (no copy per call).
    pub path_and_query: Cow<'static, str>,
    /// The headers sent with the request: from [`RequestTemplate::build`], `Accept:
    /// application/json`, `Content-Type: application/json` when there is a body, and the
    /// action's own (e.g. `If-Match`). The client adds only `Authorization` (an `Authorization`
    /// here is never sent) and its configured `User-Agent`
    /// ([`crate::ConfigBuilder::user_agent`]); a download ([`crate::Client::download`]) asks
    /// for `Accept: */*` instead. See [`PreparedRequest::headers_to_send`] for requests put
    /// together by hand.
    /// Names and values the template knows are borrowed from it, and the usual lists (only
    /// `Accept`, or with `Content-Type`) are shared: no allocation per call.
    pub headers: Cow<'static, [(Cow<'static, str>, Cow<'static, str>)]>,
    /// JSON body bytes.
    pub body: Option<Vec<u8>>,
    pub response: ResponseKind,
    pub retry_safe: bool,
}

impl RequestTemplate {
    /// Builds the request for `input`. The input is expected to be schema-valid already; this
    /// still refuses anything it could not encode faithfully.
    pub fn build(&self, input: &Map<String, Value>) -> Result<PreparedRequest> {
        let (mut path_and_query, mut longest) = self.render_path(input)?;
        // Header parameters (e.g. `If-Match`), after `Accept` and `Content-Type`.
        let mut own_headers = Vec::new();
        let mut entity = None;
        let mut first_query = true;

        for p in self.params {
            let Some(value) = input.get(p.name) else {
                continue;
            };
            match p.location {
                Location::Path => {}
                Location::Query => {
                    if value.is_null() {
                        continue;
                    }
                    let url = owned_url(&mut path_and_query);
                    url.push(if first_query { '?' } else { '&' });
                    first_query = false;
                    push_query_value(url, p.name);
                    url.push('=');
                    let start = url.len();
                    push_query_text(url, p.name, value)?;
                    let encoded_len = url.len() - start;
                    if longest.is_none_or(|(_, len)| encoded_len > len) {
                        longest = Some((p.name, encoded_len));
                    }
                }
                Location::Header => {
                    if let Some(s) = value.as_str() {
                        // What HTTP refuses on the wire is refused here, before any I/O, so a
                        // dry run never shows a request the real call could not send.
                        if !s.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
                            return Err(Error::invalid(
                                pointer(p.name),
                                "a header value of visible ASCII characters (no line breaks)",
                            ));
                        }
                        own_headers.push((Cow::Borrowed(p.name), Cow::Owned(s.to_owned())));
                    } else if !value.is_null() {
                        return Err(Error::invalid(pointer(p.name), "a string"));
                    }
                }
                Location::Body => {}
                Location::Entity => entity = Some(value),
            }
        }

        if path_and_query.len() > MAX_PATH_AND_QUERY_BYTES {
            return Err(too_long(
                longest.map_or("", |(name, _)| name),
                path_and_query.len(),
            ));
        }

        let has_body_params = self.params.iter().any(|p| p.location == Location::Body);
        let body = match entity {
            Some(v) => Some(to_json(v)?),
            None if has_body_params => Some(to_json(&BodyParams {
                params: self.params,
                input,
            })?),
            None => None,
        };
        let usual: &'static [_] = if body.is_some() {
            &ACCEPT_AND_CONTENT_TYPE
        } else {
            &ACCEPT_AND_CONTENT_TYPE[..1]
        };
        let headers = if own_headers.is_empty() {
            Cow::Borrowed(usual)
        } else {
            Cow::Owned(usual.iter().cloned().chain(own_headers).collect())
        };

        Ok(PreparedRequest {
            method: self.method,
            path_and_query,
            headers,
            body,
            response: self.response,
            retry_safe: self.retry_safe,
        })
    }

    /// The path, and the name and encoded length of its longest parameter value.
    fn render_path(&self, input: &Map<String, Value>) -> Result<(Cow<'static, str>, Longest)> {
        if !self.path.contains('{') {
            return Ok((Cow::Borrowed(self.path), None));
        }
        let mut longest: Longest = None;
        let mut out = String::with_capacity(self.path.len() + URL_ROOM);
        let mut rest = self.path;
        // Byte scans: templates are short, and a `char` pattern's searcher costs more to set up
        // than these take.
        while let Some(open) = rest.bytes().position(|b| b == b'{') {
            let close = rest
                .bytes()
                .skip(open)
                .position(|b| b == b'}')
                .map(|i| open + i)
                .expect("path templates come from codegen and are balanced");
            out.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            let param = self
                .params
                .iter()
                .find(|p| p.name == name && p.location == Location::Path)
                .expect("every placeholder has a path parameter (codegen invariant)");
            let value = input
                .get(name)
                .ok_or_else(|| Error::invalid(pointer(name), "a value for this path parameter"))?;
            let start = out.len();
            push_path_literal(&mut out, value, param.literal)
                .map_err(|e| Error::invalid(pointer(name), e.expected))?;
            let encoded_len = out.len() - start;
            if longest.is_none_or(|(_, len)| encoded_len > len) {
                longest = Some((param.name, encoded_len));
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Ok((Cow::Owned(out), longest))
    }
}

impl PreparedRequest {
    /// The headers the client sends with this request, besides `Authorization` and its
    /// `User-Agent`: [`PreparedRequest::headers`] without any `Authorization`, plus `Accept:
    /// application/json` and, with a body, `Content-Type: application/json` where they are
    /// missing (a request put together by hand; [`RequestTemplate::build`] always sets them).
    pub fn headers_to_send(&self) -> Vec<(&str, &str)> {
        self.sent_headers().collect()
    }

    /// [`PreparedRequest::headers_to_send`] without a vector of its own (every send).
    pub(crate) fn sent_headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let accept = (!has("accept")).then_some(("Accept", JSON_MEDIA_TYPE));
        let content_type = (self.body.is_some() && !has("content-type"))
            .then_some(("Content-Type", JSON_MEDIA_TYPE));
        let own = self
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
            .map(|(name, value)| (&**name, &**value));
        accept.into_iter().chain(content_type).chain(own)
    }

    /// The request as [`crate::Client::execute`] sends it to `root`: method, full URI, every
    /// header ([`PreparedRequest::headers_to_send`]: all but `Authorization` and the client's
    /// `User-Agent`) and the body (empty when there is none). For dry runs and logs.
    ///
    /// # Panics
    ///
    /// When the request could not be sent either: a header name or value, or a path, that HTTP
    /// refuses (see [`PreparedRequest::try_to_http`]). [`RequestTemplate::build`] never makes
    /// such a request.
    pub fn to_http(&self, root: &ApiRoot) -> http::Request<Vec<u8>> {
        match self.try_to_http(root) {
            Ok(request) => request,
            Err(e) => panic!("PreparedRequest::to_http: {e}"),
        }
    }

    /// [`PreparedRequest::to_http`], with a request HTTP refuses reported as the
    /// [`Error::InvalidInput`] the client would give for it.
    pub fn try_to_http(&self, root: &ApiRoot) -> Result<http::Request<Vec<u8>>> {
        self.check_length()?;
        let uri = http::Uri::try_from(root.url_of(self))
            .map_err(|e| Error::invalid("", format!("a request path that is a valid URI ({e})")))?;
        let mut request = http::Request::new(self.body.clone().unwrap_or_default());
        *request.method_mut() = http::Method::from_bytes(self.method.as_str().as_bytes())
            .expect("Method::as_str is a valid HTTP method");
        *request.uri_mut() = uri;
        for (name, value) in self.headers_to_send() {
            let (name, value) = header(name, value)?;
            request.headers_mut().append(name, value);
        }
        Ok(request)
    }
    /// Refuses a path and query longer than [`MAX_PATH_AND_QUERY_BYTES`] (for requests put
    /// together by hand; [`RequestTemplate::build`] already checks, naming the field).
    pub fn check_length(&self) -> Result<()> {
        if self.path_and_query.len() > MAX_PATH_AND_QUERY_BYTES {
            return Err(too_long("", self.path_and_query.len()));
        }
        Ok(())
    }
}

// Here rather than in api_root.rs, so that the API root does not depend on requests.
impl ApiRoot {
    /// The full URL `req` is sent to: the API root followed by its path and query.
    pub fn url_of(&self, req: &PreparedRequest) -> String {
        self.join(&req.path_and_query)
    }
}

/// The error for a path and query of `len` bytes, blaming the input key `field` (the longest
/// value) if known. Nothing was sent: the message says so, whatever the method.
fn too_long(field: &str, len: usize) -> Error {
    let what = if field.is_empty() {
        "a shorter request".to_owned()
    } else {
        format!("a shorter {field}")
    };
    Error::invalid(
        if field.is_empty() {
            String::new()
        } else {
            pointer(field)
        },
        format!(
            "{what}: the URL's path and query would be {len} bytes once percent-encoded, over \
             the limit of {MAX_PATH_AND_QUERY_BYTES} bytes (32 KiB) that HTTP servers and \
             clients accept; nothing was sent. Split it into several calls (e.g. several \
             smaller $filter expressions)"
        ),
    )
}

/// Appends the percent-encoded text of a query option: a string as is, a number or boolean as
/// JSON writes it, a list of strings joined with `,` (which is left as is, so each item is
/// encoded on its own).
fn push_query_text(out: &mut String, name: &str, value: &Value) -> Result<()> {
    match value {
        Value::String(s) => push_query_value(out, s),
        Value::Number(n) => push_query_number(out, n),
        Value::Bool(b) => out.push_str(bool_text(*b)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let Value::String(s) = item else {
                    return Err(Error::invalid(format!("{}/{i}", pointer(name)), "a string"));
                };
                if i > 0 {
                    out.push(',');
                }
                push_query_value(out, s);
            }
        }
        Value::Null | Value::Object(_) => {
            return Err(Error::invalid(
                pointer(name),
                "a string, number, boolean or list of strings",
            ))
        }
    }
    Ok(())
}

/// A header as HTTP types it, or the [`Error::InvalidInput`] saying which header is wrong.
pub(crate) fn header(name: &str, value: &str) -> Result<(http::HeaderName, http::HeaderValue)> {
    // The two headers every request carries: static values, no parse or allocation per call.
    if value == JSON_MEDIA_TYPE {
        let json = || http::HeaderValue::from_static(JSON_MEDIA_TYPE);
        if name.eq_ignore_ascii_case("accept") {
            return Ok((http::header::ACCEPT, json()));
        }
        if name.eq_ignore_ascii_case("content-type") {
            return Ok((http::header::CONTENT_TYPE, json()));
        }
    }
    let header = http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid(pointer(name), "a valid HTTP header name"))?;
    let value = http::HeaderValue::from_str(value)
        .map_err(|_| Error::invalid(pointer(name), "a header value of visible ASCII characters"))?;
    Ok((header, value))
}

/// JSON pointer of a top-level input key (`~` and `/` escaped per RFC 6901).
pub fn pointer(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// The input key whose encoded value is longest in a URL, and that length (to name the field
/// when the URL is too long).
type Longest = Option<(&'static str, usize)>;

/// Room for the usual key and query options beyond the template's path: one allocation for
/// the whole URL.
const URL_ROOM: usize = 96;

/// The URL being built, as a string of its own (the template's path copied, with room, on the
/// first thing the input adds to it).
fn owned_url<'u>(url: &'u mut Cow<'static, str>) -> &'u mut String {
    if let Cow::Borrowed(path) = *url {
        let mut own = String::with_capacity(path.len() + URL_ROOM);
        own.push_str(path);
        *url = Cow::Owned(own);
    }
    url.to_mut()
}

/// The headers every built request starts with; a request without a body takes the first.
static ACCEPT_AND_CONTENT_TYPE: [(Cow<'static, str>, Cow<'static, str>); 2] = [
    (Cow::Borrowed("Accept"), Cow::Borrowed(JSON_MEDIA_TYPE)),
    (
        Cow::Borrowed("Content-Type"),
        Cow::Borrowed(JSON_MEDIA_TYPE),
    ),
];

/// An OData action's parameter object, written straight from the input's values (no copy into
/// a map or a list first), with its keys in the order a [`Map`] of them would have: the bytes
/// are those of the equivalent JSON object.
struct BodyParams<'a> {
    params: &'a [Param],
    input: &'a Map<String, Value>,
}

impl BodyParams<'_> {
    fn is_body_param(&self, name: &str) -> bool {
        self.params
            .iter()
            .any(|p| p.location == Location::Body && p.name == name)
    }
}

impl serde::Serialize for BodyParams<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if map_sorts_keys() {
            // The input is such a map already: its order is the one wanted.
            for (name, value) in self.input {
                if self.is_body_param(name) {
                    map.serialize_entry(name, value)?;
                }
            }
        } else {
            // Insertion order: that of the template, as a map built from it would keep.
            for p in self.params.iter().filter(|p| p.location == Location::Body) {
                if let Some(value) = self.input.get(p.name) {
                    map.serialize_entry(p.name, value)?;
                }
            }
        }
        map.end()
    }
}

/// Whether serde_json's [`Map`] keeps its keys sorted (its default) or in insertion order (its
/// `preserve_order` feature, which any crate in a build can turn on).
fn map_sorts_keys() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut map = Map::new();
        map.insert("b".into(), Value::Null);
        map.insert("a".into(), Value::Null);
        map.keys().next().is_some_and(|k| k == "a")
    })
}

fn to_json(v: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::invalid("", format!("JSON-serialisable input ({e})")))
}

#[cfg(test)]
mod tests;
