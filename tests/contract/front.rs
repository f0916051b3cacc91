//! The loopback front server: the token endpoint, and every other request forwarded to Prism
//! with its verdict recorded.

use super::*;
use threecx_test_support::fake_pbx::token_answer;

/// One request the front server forwarded to Prism, and Prism's verdict.
#[derive(Debug, Clone)]
pub(super) struct Exchange {
    /// The bearer token it carried, if any.
    pub(super) token: Option<String>,
    pub(super) method: String,
    /// As sent by the client, below `/xapi/v1`.
    pub(super) path: String,
    pub(super) status: u16,
    /// Violations Prism found in the request.
    pub(super) request_violations: Vec<String>,
    /// Violations Prism found in its own mock answer (counted, not held against us).
    pub(super) response_violations: usize,
    /// Prism's own error (`type` `https://stoplight.io/prism/errors#...`): title and detail.
    pub(super) prism_error: Option<String>,
}

pub(super) struct FrontState {
    pub(super) prism: SocketAddr,
    pub(super) http: HttpClient<HttpConnector, Full<Bytes>>,
    pub(super) exchanges: Mutex<Vec<Exchange>>,
    pub(super) token_requests: AtomicUsize,
}

/// The loopback stand-in for the PBX's front: token endpoint + forwarding to Prism.
pub(super) struct Front {
    pub(super) url: String,
    pub(super) state: Arc<FrontState>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Front {
    pub(super) async fn start(prism: SocketAddr) -> Front {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the front server");
        let url = format!("http://{}", listener.local_addr().expect("front address"));
        let state = Arc::new(FrontState {
            prism,
            http: HttpClient::builder(TokioExecutor::new()).build_http(),
            exchanges: Mutex::new(Vec::new()),
            token_requests: AtomicUsize::new(0),
        });
        let serving = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Front { url, state, task }
    }

    pub(super) fn exchanges(&self) -> Vec<Exchange> {
        self.state.exchanges.lock().unwrap().clone()
    }
}

pub(super) fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

pub(super) async fn handle(
    state: Arc<FrontState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": {"code": "", "message": format!("unreadable body: {e}")}}),
            ))
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");

    if parts.method == hyper::Method::POST && path_and_query == "/connect/token" {
        return Ok(token_endpoint(&state, &body));
    }

    let Some(rest) = path_and_query
        .strip_prefix("/xapi/v1")
        .filter(|r| r.starts_with('/') || r.starts_with('?') || r.is_empty())
    else {
        return Ok(json_response(
            StatusCode::NOT_FOUND,
            json!({"error": {"code": "", "message": "the front server serves /connect/token and /xapi/v1/* only"}}),
        ));
    };
    let rest = if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/{rest}")
    };

    Ok(forward_to_prism(&state, &parts, body, rest).await)
}

/// `POST /connect/token`: a token for any client ID with [`SECRET`], counted.
fn token_endpoint(state: &FrontState, body: &Bytes) -> Response<Full<Bytes>> {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials"
        || field("client_id").is_empty()
        || field("client_secret") != SECRET
    {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_client", "error_description": "bad client credentials"}),
        );
    }
    json_response(
        StatusCode::OK,
        token_answer(&format!("{TOKEN_PREFIX}{}", field("client_id")), 3600),
    )
}

/// Forwards the request to Prism (path `rest` below `/xapi/v1`), records the exchange with
/// Prism's verdict, and answers with Prism's answer.
async fn forward_to_prism(
    state: &FrontState,
    parts: &hyper::http::request::Parts,
    body: Bytes,
    rest: String,
) -> Response<Full<Bytes>> {
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://{}{rest}", state.prism));
    for (name, value) in &parts.headers {
        if !is_hop_by_hop(name) && name != hyper::header::HOST {
            forward = forward.header(name, value);
        }
    }
    let forward = forward
        .body(Full::new(body))
        .expect("a valid forwarded request");
    let answer = match state.http.request(forward).await {
        Ok(a) => a,
        Err(e) => {
            return json_response(
                StatusCode::BAD_GATEWAY,
                json!({"error": {"code": "", "message": format!("Prism did not answer: {e}")}}),
            )
        }
    };
    let (answer_parts, answer_body) = answer.into_parts();
    let answer_body = answer_body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();

    let (request_violations, response_violations) = violations(&answer_parts.headers);
    state.exchanges.lock().unwrap().push(Exchange {
        token: parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned),
        method: parts.method.to_string(),
        path: rest,
        status: answer_parts.status.as_u16(),
        request_violations,
        response_violations,
        prism_error: prism_error(&answer_body),
    });

    let mut res = Response::new(Full::new(answer_body));
    *res.status_mut() = answer_parts.status;
    for (name, value) in &answer_parts.headers {
        if !is_hop_by_hop(name) {
            res.headers_mut().append(name.clone(), value.clone());
        }
    }
    res
}

pub(super) fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
    )
}

/// The `sl-violations` header split into request violations (as text) and a count of response
/// violations.
pub(super) fn violations(headers: &hyper::HeaderMap) -> (Vec<String>, usize) {
    let mut request = Vec::new();
    let mut response = 0;
    for value in headers.get_all("sl-violations") {
        // An unreadable header still counts against the request, with its raw text.
        let raw = String::from_utf8_lossy(value.as_bytes());
        let parsed: Value = serde_json::from_str(&raw)
            .unwrap_or_else(|_| json!([{"location": ["request"], "message": raw}]));
        for v in parsed.as_array().into_iter().flatten() {
            let location: Vec<String> = v["location"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| match l {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            if location.first().map(String::as_str) == Some("response") {
                response += 1;
            } else {
                request.push(format!(
                    "{} [{}]",
                    v["message"].as_str().unwrap_or("(no message)"),
                    location.join(".")
                ));
            }
        }
    }
    (request, response)
}

pub(super) fn prism_error(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let kind = v["type"].as_str()?;
    let name = kind.strip_prefix(PRISM_ERROR_TYPE)?;
    Some(format!(
        "{name}: {} {}",
        v["title"].as_str().unwrap_or(""),
        v["detail"].as_str().unwrap_or("")
    ))
}
