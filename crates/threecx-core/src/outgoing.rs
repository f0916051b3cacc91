//! What one call puts on the wire, checked before any I/O: the URL parsed under the API root,
//! every header name and value one HTTP can carry, the body as shared bytes. What HTTP cannot
//! carry is refused up front as invalid input. The first attempt takes the parsed URL as it is
//! (no copy: it is the attempt nearly every call makes); a retry, or the resend after a token
//! refresh, parses it again.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use url::Url;

use crate::api_root::ApiRoot;
use crate::error::Result;
use crate::request::{header, Method, PreparedRequest};
use crate::token::Token;

/// One call's request, ready for any number of attempts. Small, since every call's future holds
/// one: headers are converted per attempt (the conversion is the `HeaderMap` each request needs
/// anyway), a next link's URL is boxed.
pub(crate) struct Outgoing<'a> {
    req: &'a PreparedRequest,
    target: Target<'a>,
    /// The next attempt's URL, when parsed already (for the first attempt).
    ready: Option<Url>,
    /// Ask for `*/*` whatever the request's own `Accept` says.
    accept_anything: bool,
    body: Option<Bytes>,
}

/// Where the request goes.
enum Target<'a> {
    /// The request's path under the API root.
    Root(&'a ApiRoot),
    /// A URL on the PBX (a server's next link).
    Url(Box<Url>),
}

impl<'a> Outgoing<'a> {
    /// `req` as sent to `root`. Refuses, before any I/O, what HTTP could not carry (a path and
    /// query over the length limit, a header name or value HTTP refuses, a path that is no
    /// URI) as invalid input, not as a network error after retries.
    pub(crate) fn new(root: &'a ApiRoot, req: &'a PreparedRequest) -> Result<Outgoing<'a>> {
        req.check_length()?;
        Outgoing::checked(req, Target::Root(root))
    }

    /// `req` sent to `url`, which the caller has checked is on the PBX (a server's next link).
    pub(crate) fn to(url: Url, req: &'a PreparedRequest) -> Result<Outgoing<'a>> {
        Outgoing::checked(req, Target::Url(Box::new(url)))
    }

    fn checked(req: &'a PreparedRequest, target: Target<'a>) -> Result<Outgoing<'a>> {
        for (name, value) in req.sent_headers() {
            header(name, value)?;
        }
        let mut out = Outgoing {
            req,
            target,
            ready: None,
            accept_anything: false,
            body: req.body.as_ref().map(|b| Bytes::copy_from_slice(b)),
        };
        out.ready = Some(out.url()?);
        Ok(out)
    }

    fn url(&self) -> Result<Url> {
        match &self.target {
            Target::Root(root) => root.request_url(&self.req.path_and_query),
            Target::Url(url) => Ok((**url).clone()),
        }
    }

    /// Asks for whatever type the answer has (a download), whatever the action's template says.
    pub(crate) fn accept_anything(&mut self) {
        self.accept_anything = true;
    }

    /// The next attempt's request, with `token` and a time limit of `timeout` (`None`: the HTTP
    /// client's own, without the per-request setting reqwest allocates for): the request's own
    /// headers, `Accept`, `Content-Type` with a body, `Authorization`; the client adds its
    /// `User-Agent`. (A later attempt converts what converted before it, so it fails only as
    /// the first conversion would have.)
    pub(crate) fn request(
        &mut self,
        token: &Token,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Request> {
        let url = match self.ready.take() {
            Some(url) => url,
            None => self.url()?,
        };
        let mut request = reqwest::Request::new(reqwest_method(self.req.method), url);
        let headers = request.headers_mut();
        *headers = HeaderMap::with_capacity(self.req.headers.len() + 3);
        for (name, value) in self.req.sent_headers() {
            let (name, value) = header(name, value)?;
            headers.append(name, value);
        }
        if self.accept_anything {
            headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        headers.insert(AUTHORIZATION, token.authorization());
        if timeout.is_some() {
            *request.timeout_mut() = timeout;
        }
        if let Some(body) = &self.body {
            *request.body_mut() = Some(body.clone().into());
        }
        Ok(request)
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
        let mut out = Outgoing::new(&root, &req).unwrap();
        let token = Token::for_tests("secret");
        let first = out.request(&token, Some(Duration::from_secs(5))).unwrap();
        let headers = first.headers();
        assert_eq!(headers.get_all(AUTHORIZATION).iter().count(), 1);
        assert_eq!(headers[AUTHORIZATION], "Bearer secret");
        assert_eq!(headers["if-match"], "*");
        assert_eq!(headers["accept"], "application/json");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            first.url().as_str(),
            "https://pbx:5001/xapi/v1/Users(1)/Pbx.Do"
        );
        assert_eq!(first.method(), reqwest::Method::POST);
        assert_eq!(first.timeout(), Some(&Duration::from_secs(5)));
        let body = |r: &reqwest::Request| r.body().and_then(|b| b.as_bytes()).map(<[u8]>::to_vec);
        assert_eq!(body(&first).as_deref(), Some(&b"{}"[..]));

        // A retry converts the request again, to the same thing with the token of its time.
        let again = out.request(&Token::for_tests("newer"), None).unwrap();
        assert_eq!(again.url(), first.url());
        assert_eq!(again.method(), first.method());
        assert_eq!(body(&again), body(&first));
        let without_auth = |r: &reqwest::Request| {
            let mut h = r.headers().clone();
            h.remove(AUTHORIZATION);
            h
        };
        assert_eq!(without_auth(&again), without_auth(&first));
        assert_eq!(again.headers()[AUTHORIZATION], "Bearer newer");
        assert_eq!(again.timeout(), None, "the client's own limit");
    }

    #[test]
    fn accept_anything_holds_for_every_attempt() {
        let root = ApiRoot::parse("https://pbx").unwrap();
        let req = request(&[], None);
        let mut out = Outgoing::new(&root, &req).unwrap();
        out.accept_anything();
        let token = Token::for_tests("t");
        for _ in 0..2 {
            let r = out.request(&token, None).unwrap();
            assert_eq!(r.headers()["accept"], "*/*");
            assert_eq!(r.headers().get_all(ACCEPT).iter().count(), 1);
        }
    }

    #[test]
    fn a_link_target_is_kept_for_every_attempt() {
        let url = Url::parse("https://pbx/xapi/v1/Users?$skiptoken=2").unwrap();
        let req = request(&[], None);
        let mut out = Outgoing::to(url.clone(), &req).unwrap();
        let token = Token::for_tests("t");
        for _ in 0..2 {
            assert_eq!(out.request(&token, None).unwrap().url(), &url);
        }
    }

    #[test]
    fn what_http_refuses_is_invalid_input_before_any_io() {
        let root = ApiRoot::parse("https://pbx").unwrap();
        for req in [
            request(&[("Bad Name", "x")], None),
            request(&[("X-Note", "line\nbreak")], None),
            PreparedRequest {
                path_and_query: format!("/Users?$filter={}", "x".repeat(40_000)).into(),
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
