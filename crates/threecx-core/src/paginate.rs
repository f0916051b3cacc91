//! Item-by-item iteration over an OData collection, one page in memory at a time.
//!
//! 3CX declares no server paging link, so pages are requested with `$top`/`$skip`. Should a PBX
//! answer with `@odata.nextLink`, that link is followed instead, but only below the PBX's API
//! root (`<base>/xapi/v1/`): the bearer token must never be sent to another host, nor to another
//! application on the same host.
//!
//! A server may cap its pages below the `$top` asked for and offer the rest of that request
//! through next links. When such a chain of links ends, the request it belongs to is complete
//! only up to the items received: if they are as many as were asked for, paging goes on with
//! `$skip` advanced by them, so a capped server still gets read to the end.

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::outgoing::Outgoing;
use crate::request::{pointer, Location, Method, PreparedRequest, RequestTemplate, ResponseKind};
use crate::response::Response;
use crate::retry::FailureClass;
use crate::token::Token;
use crate::wire::{excerpt, Answer};

const TOP: &str = "$top";
const SKIP: &str = "$skip";

impl Client {
    /// The items of the collection `template` returns for `input`, one by one.
    ///
    /// When the template takes `$top` and `$skip`, pages of at most `page_size` items are
    /// requested: the input's `$skip` is the starting offset and its `$top` the maximum number of
    /// items in total. Paging stops at the first request that yields fewer items than asked for
    /// (or when the caller's `$top` is reached). Without those parameters one request is made.
    /// In both cases an `@odata.nextLink` in an answer is followed (relative links resolve
    /// against the API root; a link to another origin, or to a path outside the API root
    /// `<base>/xapi/v1/`, is an [`Error::Decode`] and is not requested); the items of a request and of the links it led to count together, so when
    /// the last link has no successor, `$top`/`$skip` paging resumes after all of them. The
    /// stream ends after the first error.
    pub fn paginate(
        &self,
        template: &'static RequestTemplate,
        input: Map<String, Value>,
        page_size: u32,
    ) -> impl Stream<Item = Result<Value>> + Send + 'static {
        self.paginate_as::<Value>(template, input, page_size)
    }

    /// [`Client::paginate`] with each item decoded into `T` (e.g. a generated model) straight
    /// from the page's bytes, without an intermediate [`Value`] tree. An item that does not
    /// fit `T` is an [`Error::Decode`] naming the request, and ends the stream.
    pub fn paginate_as<T: DeserializeOwned + Send + 'static>(
        &self,
        template: &'static RequestTemplate,
        input: Map<String, Value>,
        page_size: u32,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        let pager = Pager::<T>::new(self.clone(), template, input, page_size);
        futures_util::stream::try_unfold(pager, |mut pager| async move {
            match pager.next_item().await? {
                Some(item) => Ok(Some((item, pager))),
                None => Ok(None),
            }
        })
    }
}

enum Next {
    /// Not started; holds a problem with the arguments, reported on the first poll.
    Start(Option<Error>),
    /// The next `$top`/`$skip` page (or the single request).
    Offset,
    /// The server's next link, as given (checked when its turn comes, so the items before it
    /// are still delivered).
    Link(String),
    Done,
}

struct Pager<T> {
    client: Client,
    template: &'static RequestTemplate,
    input: Map<String, Value>,
    page_size: u64,
    /// Whether the template can page with `$top`/`$skip`.
    offset_paging: bool,
    skip: u64,
    /// The caller's `$top`: items to yield at most.
    limit: Option<u64>,
    yielded: u64,
    /// `$top` of the last `$top`/`$skip` request (`None` for a single request).
    asked: Option<u64>,
    /// Items received for the last `$top`/`$skip` request, next links included.
    received: u64,
    page: std::vec::IntoIter<T>,
    next: Next,
    /// The URL of the last next-link page, to catch a server sending the same link again.
    last_link: Option<Url>,
}

impl<T: DeserializeOwned> Pager<T> {
    fn new(
        client: Client,
        template: &'static RequestTemplate,
        input: Map<String, Value>,
        page_size: u32,
    ) -> Self {
        let has_query = |name: &str| {
            template
                .params
                .iter()
                .any(|p| p.name == name && p.location == Location::Query)
        };
        let offset_paging = has_query(TOP) && has_query(SKIP);
        let mut problem = None;
        if page_size == 0 {
            problem = Some(Error::Config {
                field: "page_size",
                message: "must be at least 1, e.g. 100".to_owned(),
            });
        }
        let mut number = |name: &str| match input.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => {
                let n = match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                if n.is_none() && problem.is_none() {
                    problem = Some(Error::invalid(pointer(name), "a non-negative integer"));
                }
                n
            }
        };
        let (skip, limit) = if offset_paging {
            (number(SKIP).unwrap_or(0), number(TOP))
        } else {
            (0, None)
        };
        Pager {
            client,
            template,
            input,
            page_size: u64::from(page_size),
            offset_paging,
            skip,
            limit,
            yielded: 0,
            asked: None,
            received: 0,
            page: Vec::new().into_iter(),
            next: Next::Start(problem),
            last_link: None,
        }
    }

    async fn next_item(&mut self) -> Result<Option<T>> {
        if let Next::Start(problem @ Some(_)) = &mut self.next {
            let problem = problem.take();
            self.next = Next::Done;
            return Err(problem.expect("matched Some"));
        }
        loop {
            if self.limit.is_some_and(|l| self.yielded >= l) {
                self.next = Next::Done;
                return Ok(None);
            }
            if let Some(item) = self.page.next() {
                self.yielded += 1;
                return Ok(Some(item));
            }
            match std::mem::replace(&mut self.next, Next::Done) {
                Next::Done => return Ok(None),
                Next::Start(_) | Next::Offset => self.fetch_offset_page().await?,
                Next::Link(link) => self.fetch_link_page(&link).await?,
            }
        }
    }

    async fn fetch_offset_page(&mut self) -> Result<()> {
        let mut asked = None;
        if self.offset_paging {
            let remaining = self.limit.map_or(u64::MAX, |l| l - self.yielded);
            let top = self.page_size.min(remaining);
            self.input.insert(TOP.to_owned(), Value::from(top));
            self.input.insert(SKIP.to_owned(), Value::from(self.skip));
            asked = Some(top);
        }
        let req = self.template.build(&self.input)?;
        let mut out = Outgoing::new(self.client.config().root(), &req)?;
        let (items, next_link) = self.client.send(&req, &mut out, page::<T>).await?;
        let got = items.len() as u64;
        // `$skip` comes from the caller: up to u64::MAX.
        self.skip = self.skip.saturating_add(got);
        self.asked = asked;
        self.received = got;
        self.page = items.into_iter();
        self.next = match next_link {
            Some(link) => Next::Link(link),
            None => self.after_request(),
        };
        Ok(())
    }

    /// What follows a `$top`/`$skip` request whose answers (next links included) are all in:
    /// another such request if it yielded as many items as asked for; else nothing (a short
    /// answer is the last one; so is any answer of a single request).
    fn after_request(&self) -> Next {
        match self.asked {
            Some(top) if self.received > 0 && self.received >= top => Next::Offset,
            _ => Next::Done,
        }
    }

    async fn fetch_link_page(&mut self, link: &str) -> Result<()> {
        let api_root = self.client.config().api_root();
        let (url, relative) = resolve_next_link(api_root, link)?;
        if self.last_link.as_ref() == Some(&url) {
            return Err(Error::Decode {
                what: "@odata.nextLink".to_owned(),
                message: "the next link points to the page just read; stopping instead of \
                          looping"
                    .to_owned(),
            });
        }
        // Same headers as the original request (e.g. a Prefer header), no body: a GET, so no
        // Content-Type either.
        let mut headers = self.template.build(&self.input)?.headers;
        let is_content_type = |name: &str| name.eq_ignore_ascii_case("content-type");
        // A collection's template has no body, so its shared header list is kept as it is.
        if headers.iter().any(|(name, _)| is_content_type(name)) {
            headers.to_mut().retain(|(name, _)| !is_content_type(name));
        }
        let req = PreparedRequest {
            method: Method::Get,
            path_and_query: relative.into(),
            headers,
            body: None,
            response: ResponseKind::Collection,
            retry_safe: true,
        };
        let mut out = Outgoing::to(url.clone(), &req)?;
        let (items, next_link) = self.client.send(&req, &mut out, page::<T>).await?;
        let got = items.len() as u64;
        // The link's items belong to the request that led to it: `$skip` moves on past them.
        self.skip = self.skip.saturating_add(got);
        self.received = self.received.saturating_add(got);
        self.page = items.into_iter();
        self.next = match next_link {
            Some(link) => Next::Link(link),
            None => self.after_request(),
        };
        self.last_link = Some(url);
        Ok(())
    }
}

/// `(full URL, path and query relative to the API root)` of a next link on the PBX's origin.
pub(crate) fn resolve_next_link(api_root: &str, link: &str) -> Result<(Url, String)> {
    let bad = |message: String| Error::Decode {
        what: "@odata.nextLink".to_owned(),
        message,
    };
    let root = Url::parse(&format!("{api_root}/"))
        .map_err(|e| bad(format!("the API root is not a URL ({e})")))?;
    let url = root
        .join(link.trim())
        .map_err(|e| bad(format!("not a URL ({e})")))?;
    if url.origin() != root.origin() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad(format!(
            "points to another origin ({}) than the PBX ({}); not followed, so that the access \
             token is not sent there",
            url.origin().ascii_serialization(),
            root.origin().ascii_serialization()
        )));
    }
    // Same origin is not enough: another application may live on it (`/other-app/...`, or one
    // reached through `..`, which `join` has already resolved). The token goes to the API only.
    let root_path = root.path();
    let outside = || {
        bad(format!(
            "points outside the API root ({}): {}; not followed, so that the access token is \
             not sent there",
            root_path,
            excerpt(url.path().as_bytes())
        ))
    };
    let Some(rest) = url.path().strip_prefix(root_path) else {
        return Err(outside());
    };
    // An encoded `/` or `\` could be decoded into a path separator (and a `..`) by the server
    // or a proxy in front of it.
    let lower = rest.to_ascii_lowercase();
    if rest.is_empty() || lower.contains("%2f") || lower.contains("%5c") || rest.contains('\\') {
        return Err(outside());
    }
    let mut relative = format!("/{rest}");
    let mut url = url;
    url.set_fragment(None);
    if let Some(q) = url.query() {
        relative.push('?');
        relative.push_str(q);
    }
    Ok((url, relative))
}

/// The items and next link of one collection page.
type Page<T> = (Vec<T>, Option<String>);

/// An OData collection answer, decoded in one pass; other members (`@odata.context`,
/// `@odata.count`) are skipped.
#[derive(Deserialize)]
struct CollectionBody<T> {
    value: Vec<T>,
    /// Kept loose: anything but a non-blank string means no next page.
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<Value>,
}

/// The [`Decoder`](crate::client::Decoder) of a collection page. A JSON answer is decoded
/// straight into `T`; anything else (no content, no content type, an HTML page, a file) goes
/// the way of every answer first. Invalid JSON is a garbled answer ([`FailureClass::Lost`]:
/// retried where safe); valid JSON that is not a collection of `T` is final.
fn page<T: DeserializeOwned>(
    req: &PreparedRequest,
    answer: Answer,
    token: &Token,
) -> std::result::Result<Page<T>, Box<(Error, FailureClass)>> {
    let decode_error = |message: String| Error::Decode {
        what: format!("{} {}", req.method, req.path_and_query),
        message,
    };
    let Some(body) = answer.json_body(req) else {
        let response = crate::client::success(req, answer, token)?;
        return collection(response, req).map_err(|e| Box::new((e, FailureClass::Final)));
    };
    match serde_json::from_slice::<CollectionBody<T>>(body) {
        Ok(page) => {
            let next_link = match page.next_link {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
                _ => None,
            };
            Ok((page.value, next_link))
        }
        Err(e) if e.is_data() => Err(Box::new((
            decode_error(format!(
                "expected an OData collection {{\"value\": [...]}} of {} ({e})",
                std::any::type_name::<T>()
            )),
            FailureClass::Final,
        ))),
        Err(e) => Err(Box::new((
            decode_error(format!("the PBX sent invalid JSON ({e})")),
            FailureClass::Lost,
        ))),
    }
}

/// The items and next link of a collection page decoded the generic way.
fn collection<T: DeserializeOwned>(response: Response, req: &PreparedRequest) -> Result<Page<T>> {
    let not_collection = |got: &str| Error::Decode {
        what: format!("{} {}", req.method, req.path_and_query),
        message: format!("expected an OData collection {{\"value\": [...]}}, got {got}"),
    };
    match response {
        Response::Empty { .. } => Ok((Vec::new(), None)),
        Response::Download(d) => Err(not_collection(&format!(
            "a file of type {}",
            d.content_type
        ))),
        Response::Json(Value::Object(mut obj)) => {
            let next_link = match obj.remove("@odata.nextLink") {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
                _ => None,
            };
            match obj.remove("value") {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .map(serde_json::from_value)
                    .collect::<std::result::Result<Vec<T>, _>>()
                    .map(|items| (items, next_link))
                    .map_err(|e| not_collection(&format!("items that do not fit ({e})"))),
                _ => Err(not_collection("an object without a \"value\" array")),
            }
        }
        Response::Json(_) => Err(not_collection("JSON that is not an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "https://pbx.example.com:5001/xapi/v1";

    #[test]
    fn relative_and_absolute_links_on_the_pbx() {
        let (url, rel) = resolve_next_link(ROOT, "Users?$skip=100").unwrap();
        assert_eq!(
            url.as_str(),
            "https://pbx.example.com:5001/xapi/v1/Users?$skip=100"
        );
        assert_eq!(rel, "/Users?$skip=100");

        let (url, rel) = resolve_next_link(ROOT, "/xapi/v1/Users?$skiptoken=2").unwrap();
        assert_eq!(
            url.as_str(),
            "https://pbx.example.com:5001/xapi/v1/Users?$skiptoken=2"
        );
        assert_eq!(rel, "/Users?$skiptoken=2");

        let (url, _) =
            resolve_next_link(ROOT, "https://PBX.example.com:5001/xapi/v1/Users?$skip=5").unwrap();
        assert_eq!(
            url.as_str(),
            "https://pbx.example.com:5001/xapi/v1/Users?$skip=5"
        );
    }

    #[test]
    fn links_elsewhere_are_refused() {
        for link in [
            "https://evil.example.com/xapi/v1/Users?$skip=100",
            "//evil.example.com/xapi/v1/Users",
            "http://pbx.example.com:5001/xapi/v1/Users",
            "https://pbx.example.com/xapi/v1/Users",
            "https://user@pbx.example.com:5001/xapi/v1/Users",
        ] {
            let e = resolve_next_link(ROOT, link).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{link}: {e:?}");
        }
    }

    #[test]
    fn links_outside_the_api_root_are_refused() {
        for link in [
            "/other-app/x",
            "https://pbx.example.com:5001/other-app/x",
            "../../other-app/x",
            "/xapi/v1/../../other-app/x",
            "/xapi/v1/%2e%2e/%2E%2E/other-app",
            "/xapi/v10/Users",
            "/xapi/v1",
            "/xapi/v1/",
            "/xapi/v1/..%2F..%2Fother-app",
            "/xapi/v1/..%5c..%5cother-app",
            "/xapi/v1/..\\..\\other-app",
        ] {
            match resolve_next_link(ROOT, link) {
                Err(Error::Decode { message, .. }) => {
                    assert!(
                        message.contains("outside the API root"),
                        "{link}: {message}"
                    )
                }
                other => panic!("{link}: {other:?}"),
            }
        }
        // Below a reverse proxy's prefix, the root is the prefixed one.
        let root = "https://proxy.example.com/3cx/xapi/v1";
        let (_, rel) = resolve_next_link(root, "/3cx/xapi/v1/Users?$skip=1").unwrap();
        assert_eq!(rel, "/Users?$skip=1");
        assert!(resolve_next_link(root, "/xapi/v1/Users").is_err());
    }
}
