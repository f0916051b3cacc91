//! What `PreparedRequest::to_http` shows is what the client sends: a raw TCP listener on
//! 127.0.0.1 captures the bytes of each request and compares method, path and query, body and
//! every header with `to_http`. Only headers the request cannot know are left out:
//! `authorization` (the token), `host` and `content-length` (the HTTP stack's), and `user-agent`
//! (a client setting, `ConfigBuilder::user_agent`).

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use threecx_core::{
    ApiRoot, Client, Config, Literal, Location, Method, Param, PreparedRequest, RequestTemplate,
    ResponseKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Headers the request itself cannot carry (see the module comment).
const NOT_FROM_THE_REQUEST: [&str; 4] = ["authorization", "host", "content-length", "user-agent"];

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Received {
    method: String,
    target: String,
    /// Lower-cased names, sorted.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Answers the token endpoint with a token and everything else with 204, recording every
/// API request.
async fn capture_server() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn({
        let seen = Arc::clone(&seen);
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&seen)));
            }
        }
    });
    (url, seen)
}

async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Received>>>) {
    while let Some(request) = read_request(&mut stream).await {
        let answer = if request.target == "/connect/token" {
            let body = token_answer(TOKEN, 3600).to_string();
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n\
                 {body}",
                body.len()
            )
        } else {
            seen.lock().unwrap().push(request);
            "HTTP/1.1 204 No Content\r\n\r\n".to_owned()
        };
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads one request off the connection: head, then a `Content-Length` body.
async fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("an ASCII request head");
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let mut request_line = lines.next()?.split(' ');
    let (method, target) = (request_line.next()?, request_line.next()?);
    let mut headers: Vec<(String, String)> = lines
        .map(|l| {
            let (name, value) = l.split_once(':').expect("a header line");
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    headers.sort();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body: buf[head_end..head_end + length].to_vec(),
    })
}

/// What `to_http` says will arrive, in the form [`read_request`] gives.
fn expected(req: &PreparedRequest, root: &ApiRoot) -> Received {
    let http = req.to_http(root);
    let mut headers: Vec<(String, String)> = http
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    Received {
        method: http.method().as_str().to_owned(),
        target: http.uri().path_and_query().unwrap().as_str().to_owned(),
        headers,
        body: http.body().clone(),
    }
}

const fn param(name: &'static str, location: Location, literal: Literal) -> Param {
    Param {
        name,
        location,
        literal,
        required: false,
    }
}

/// `PATCH /Users({Id})` with the entity as body and an `If-Match` header.
static UPDATE_USER: RequestTemplate = RequestTemplate {
    method: Method::Patch,
    path: "/Users({Id})",
    params: &[
        param("Id", Location::Path, Literal::Bare),
        param("body", Location::Entity, Literal::Bare),
        param("If-Match", Location::Header, Literal::Bare),
    ],
    response: ResponseKind::Empty,
    retry_safe: false,
};

static DELETE_USER: RequestTemplate = RequestTemplate {
    method: Method::Delete,
    path: "/Users({Id})",
    params: &[param("Id", Location::Path, Literal::Bare)],
    response: ResponseKind::Empty,
    retry_safe: false,
};

/// A function call whose parameter is a quoted OData literal.
static GET_BY_NUMBER: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Users/Pbx.GetByNumber(number={number})",
    params: &[param("number", Location::Path, Literal::Quoted)],
    response: ResponseKind::Json,
    retry_safe: true,
};

#[tokio::test]
async fn the_client_sends_exactly_what_to_http_shows() {
    let (url, seen) = capture_server().await;
    let config = Config::builder()
        .base_url(&url)
        .client_id("on-the-wire")
        .client_secret(SECRET)
        .build()
        .unwrap();
    let root = ApiRoot::parse(&url).unwrap();
    assert_eq!(&root, config.root());
    let client = Client::new(config).unwrap();

    let requests = [
        LIST_USERS
            .build(&obj(json!({
                "$filter": "DisplayName eq 'O''Brien & co'",
                "$select": ["Id", "Number"],
                "$top": 5,
            })))
            .unwrap(),
        PURGE_CHATS
            .build(&obj(json!({"period": {
                "Start": "2024-01-01T00:00:00Z",
                "Stop": "2024-02-01T00:00:00Z",
            }})))
            .unwrap(),
        UPDATE_USER
            .build(&obj(json!({
                "Id": 7,
                "body": {"FirstName": "Zoë"},
                "If-Match": "W/\"42\"",
            })))
            .unwrap(),
        DELETE_USER.build(&obj(json!({"Id": 7}))).unwrap(),
        GET_BY_NUMBER
            .build(&obj(json!({"number": "O'Brien 100"})))
            .unwrap(),
    ];

    for req in &requests {
        client.execute(req).await.unwrap();
    }
    let received = seen.lock().unwrap().clone();
    assert_eq!(received.len(), requests.len());
    for (req, got) in requests.iter().zip(received) {
        let mut got = got;
        got.headers
            .retain(|(name, _)| !NOT_FROM_THE_REQUEST.contains(&name.as_str()));
        assert_eq!(
            got,
            expected(req, &root),
            "{} {}",
            req.method,
            req.path_and_query
        );
    }

    // The headers a dry run shows are those of the request itself.
    let patch = &requests[2];
    let names: Vec<&str> = patch.headers.iter().map(|(n, _)| &**n).collect();
    assert_eq!(names, ["Accept", "Content-Type", "If-Match"]);
    assert_eq!(
        expected(&requests[4], &root).target,
        "/xapi/v1/Users/Pbx.GetByNumber(number='O''Brien%20100')"
    );
    assert!(expected(&requests[3], &root)
        .headers
        .iter()
        .all(|(name, _)| name != "content-type"));
}

#[test]
fn a_hand_made_request_gets_the_same_defaults_it_is_sent_with() {
    let root = ApiRoot::parse("https://pbx.example.com:5001").unwrap();
    let req = PreparedRequest {
        method: Method::Post,
        path_and_query: "/PurgeChats".into(),
        headers: vec![("Authorization".into(), "Bearer other".into())].into(),
        body: Some(b"{}".to_vec()),
        response: ResponseKind::Empty,
        retry_safe: false,
    };
    let http = req.to_http(&root);
    assert_eq!(
        http.uri().to_string(),
        "https://pbx.example.com:5001/xapi/v1/PurgeChats"
    );
    assert_eq!(http.headers()["accept"], "application/json");
    assert_eq!(http.headers()["content-type"], "application/json");
    assert!(http.headers().get("authorization").is_none());
    let bad = PreparedRequest {
        headers: vec![("If-Match".into(), "a\nb".into())].into(),
        ..req
    };
    assert!(matches!(
        bad.try_to_http(&root),
        Err(threecx_core::Error::InvalidInput { .. })
    ));
}
