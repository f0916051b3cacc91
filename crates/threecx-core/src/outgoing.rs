//! What one call puts on the wire, converted once from its [`PreparedRequest`] into reqwest's own
//! types (a parsed URL, header names and values, shared body bytes) and then copied into each
//! attempt: a retry, or the resend after a token refresh, parses nothing again.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use url::Url;

use crate::api_root::ApiRoot;
use crate::error::Result;
use crate::request::{header, Method, PreparedRequest};
use crate::token::Token;

/// One call's request, ready for any number of attempts.
pub(crate) struct Outgoing {
    method: Method,
    url: Url,
    /// [`PreparedRequest::headers_to_send`], checked, with room for `Authorization`.
    headers: HeaderMap,
    body: Option<Bytes>,
}

impl Outgoing {
    /// `req` as sent to `root`. Refuses, before any I/O, what HTTP could not carry (a path and
    /// query over the length limit, a header name or value HTTP refuses, a path that is no
    /// URI) as invalid input, not as a network error after retries.
    pub(crate) fn new(root: &ApiRoot, req: &PreparedRequest) -> Result<Outgoing> {
        req.check_length()?;
        Outgoing::to(root.request_url(&req.path_and_query)?, req)
    }

    /// `req` sent to `url`, which the caller has checked is on the PBX (a server's next link).
    pub(crate) fn to(url: Url, req: &PreparedRequest) -> Result<Outgoing> {
        // The request's own, `Accept`, `Content-Type` and `Authorization` at most.
        let mut headers = HeaderMap::with_capacity(req.headers.len() + 3);
        for (name, value) in req.sent_headers() {
            let (name, value) = header(name, value)?;
            headers.append(name, value);
        }
        Ok(Outgoing {
            method: req.method,
            url,
            headers,
            body: req.body.as_ref().map(|b| Bytes::copy_from_slice(b)),
        })
    }

    /// Asks for whatever type the answer has (a download), whatever the action's template says.
    pub(crate) fn accept_anything(&mut self) {
        self.headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }

    /// One attempt's request, with `token` and a time limit of `timeout`. The client adds its
    /// `User-Agent`.
    pub(crate) fn request(&self, token: &Token, timeout: Duration) -> reqwest::Request {
        let mut request = reqwest::Request::new(reqwest_method(self.method), self.url.clone());
        let headers = request.headers_mut();
        *headers = self.headers.clone();
        headers.insert(AUTHORIZATION, token.authorization());
        *request.timeout_mut() = Some(timeout);
        if let Some(body) = &self.body {
            *request.body_mut() = Some(body.clone().into());
        }
        request
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ResponseKind;

    fn request(headers: &[(&str, &str)], body: Option<&[u8]>) -> PreparedRequest {
        PreparedRequest {
            method: Method::Post,
            path_and_query: "/Users(1)/Pbx.Do".into(),
            headers: headers
                .iter()
                .map(|&(n, v)| (n.to_owned().into(), v.to_owned().into()))
                .collect(),
            body: body.map(<[u8]>::to_vec),
            response: ResponseKind::Json,
            retry_safe: false,
        }
    }

    #[test]
    fn own_authorization_is_never_sent_and_defaults_are_filled_in() {
        let root = ApiRoot::parse("https://pbx:5001").unwrap();
        let req = request(
            &[("Authorization", "Bearer other"), ("If-Match", "*")],
            Some(b"{}"),
        );
        let out = Outgoing::new(&root, &req).unwrap();
        assert!(out.headers.get(AUTHORIZATION).is_none());
        assert_eq!(out.headers["if-match"], "*");
        assert_eq!(out.headers["accept"], "application/json");
        assert_eq!(out.headers["content-type"], "application/json");
        assert_eq!(out.url.as_str(), "https://pbx:5001/xapi/v1/Users(1)/Pbx.Do");
        assert_eq!(out.method, Method::Post);
        assert_eq!(out.body.as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn what_http_refuses_is_invalid_input_before_any_io() {
        let root = ApiRoot::parse("https://pbx").unwrap();
        for req in [
            request(&[("Bad Name", "x")], None),
            request(&[("X-Note", "line\nbreak")], None),
            PreparedRequest {
                path_and_query: format!("/Users?$filter={}", "x".repeat(40_000)),
                ..request(&[], None)
            },
        ] {
            match Outgoing::new(&root, &req) {
                Err(crate::Error::InvalidInput { .. }) => {}
                Err(other) => panic!("{req:?}: {other:?}"),
                Ok(_) => panic!("{req:?}: accepted"),
            }
        }
    }
}
