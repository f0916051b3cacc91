//! Contract test: every registered action, called by name through the real [`Client`], against
//! [Prism](https://github.com/stoplightio/prism) serving the official 3CX spec.
//!
//! What it does:
//! 1. Finds Prism: `PRISM_BIN` if set, else `scripts/prism-setup.sh`, which installs
//!    `@stoplight/prism-cli` 5.x from the npm registry into the git-ignored `.prism/` once and
//!    prints the binary (later runs take milliseconds). No npm, no Prism or no spec is a
//!    FAILURE, in CI and outside it: this test never skips silently.
//! 2. Starts `prism mock -h 127.0.0.1 -p <free port> ../shared/xapi/swagger-20.0.10.yaml` and
//!    polls until it listens; it is killed when the test ends, panics included.
//! 3. Starts a small front server on 127.0.0.1 that plays the PBX's outside: it answers
//!    `POST /connect/token` itself (form client credentials → a JSON bearer token; Prism has no
//!    token endpoint) and forwards `/xapi/v1/*` to Prism's `/*` byte for byte (method, path and
//!    query, headers including `Authorization`, body), relaying status, headers (notably
//!    `sl-violations`) and body back, and recording each exchange.
//! 4. For every action: its input is `registry.example_input(op)`, enriched (see `threecx_tests::inputs::enrich`) so
//!    that it exercises the request building: every OData query option the action takes, string
//!    keys and function parameters that need quoting and percent-encoding (`'O''Brien, 1/2'`),
//!    date-times with fraction and offset, integers, booleans, `If-Match`, and bodies with every
//!    property filled in (last enum value, formats honoured). The input must pass
//!    our own validation, so Prism in effect compares our input schemas with the spec's. It is
//!    prepared and sent (`registry.prepare(..).confirm(true).send(..)`) through a client of its own (client id = operationId, so
//!    each exchange is traced to its action by its bearer token); at most [`CONCURRENCY`] calls
//!    run at once. The answer must also have the shape the action promises (no content, JSON,
//!    collection): a cheap check that Prism matched the intended operation.
//! 5. Classifies each action: *rejected* when Prism answered 422, listed a violation located in
//!    the request in `sl-violations`, or answered with one of its own errors (a
//!    `https://stoplight.io/prism/errors#...` problem, e.g. no path matched); *other* when the call
//!    failed without a Prism verdict (not sent, transport, decode); *accepted* otherwise.
//!    Violations located in the *response* are Prism checking its own mock answer against the
//!    spec (e.g. time examples that break the spec's own patterns): they say nothing about our
//!    request and are only counted.
//! 6. Prints the non-accepted actions with their violations and
//!    `prism contract: accepted A / total T (allow-listed K)`, then asserts that every
//!    non-accepted action is in `tests/contract/allow-list.toml` (operationId + reason), that the
//!    list has fewer than 10 entries, and that none of them is stale (accepted, or unknown).
//!    It also asserts that Prism refuses a request without a bearer (401) and never refused ours.
//!
//! Limits (Prism's, see DESIGN.md): it checks requests against the spec's parameter and body
//! schemas only. Keys and function parameters are typed "string" with no OData literal syntax,
//! so Prism cannot tell `Users(Number='100')` from `Users(Number=100)` (integer, GUID and
//! date-time keys it does check: quoted, they fail their type or pattern), and it measures a
//! string key's `maxLength` on the quoted literal. Where two templates match (`Users(Number=..)`
//! and `Users({Id})`) it takes the one declared last, which gives the allow-listed rejections.
//! Body schemas are open (no `additionalProperties: false`), so a misspelt optional property goes
//! unnoticed. Its `duration` format check refuses fractional seconds the spec's pattern allows.
//! And it says nothing about whether 3CX itself would accept a request or how it would answer:
//! passing means "every request we build fits the spec", not "works on a PBX".
//!
//! Every action's request and verdict are written to `target/tmp/contract-report.txt`.
//! Run it alone, with the table shown: `cargo test -p threecx-tests --test contract -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fs::File;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use serde_json::{json, Value};
use threecx_core::{Client, Config, Error, Response as ApiResponse, ResponseKind};
use threecx_registry::{Operation, Registry};
use threecx_tests::inputs::{enrich, Strings};

/// Awkward values for keys, function parameters and bodies: `'O''Brien, 1/2'` needs quoting,
/// doubling and percent-encoding; `'O''B 1/2'` fits keys with a `maxLength` of 10 (Prism
/// measures it on the quoted literal); a date-time with fraction and offset.
const CONTRACT_STRINGS: Strings = Strings {
    awkward: "O'Brien, 1/2",
    short_awkward: "O'B 1/2",
    date_time: "2024-05-06T07:08:09.5+02:00",
};

/// Calls in flight at once.
const CONCURRENCY: usize = 8;
/// The allow-list must stay short: every entry is a request Prism could not check.
const MAX_ALLOW_LISTED: usize = 10;
const SECRET: &str = "contract-secret";
const TOKEN_PREFIX: &str = "contract-token-";
const PRISM_START_TIMEOUT: Duration = Duration::from_secs(120);
const PRISM_ERROR_TYPE: &str = "https://stoplight.io/prism/errors#";
const ALLOW_LIST: &str = "tests/contract/allow-list.toml";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The official spec beside the repository. Missing is a failure, never a skip.
fn spec_path() -> PathBuf {
    let p = repo_root().join("../shared/xapi/swagger-20.0.10.yaml");
    assert!(
        p.is_file(),
        "the 3CX spec is expected at {} (clone the repository beside shared/){}",
        p.display(),
        if in_ci() {
            "; CI=true: not skipping"
        } else {
            ""
        }
    );
    p
}

/// `PRISM_BIN`, or the binary `scripts/prism-setup.sh` installs (or finds) in `.prism/`.
fn prism_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("PRISM_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "PRISM_BIN={} is not a file; unset it to let scripts/prism-setup.sh install Prism",
            bin.display()
        );
        return bin;
    }
    let script = repo_root().join("scripts/prism-setup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed ({}); this test needs Prism: install Node.js 18+ with npm and network access \
         to the npm registry, or set PRISM_BIN to a Prism 5.x binary{}. Its output:\n{stderr}",
        script.display(),
        out.status,
        if in_ci() {
            " (CI=true: a missing Prism is a failure, not a skip)"
        } else {
            ""
        }
    );
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        bin.is_file(),
        "{} printed {:?}, which is not a file; its stderr:\n{stderr}",
        script.display(),
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The Prism process; killed (and reaped) on drop, so also when the test panics.
struct Prism {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    /// Starts Prism on a free loopback port and waits until it listens. A port taken between
    /// choosing and binding it makes Prism exit; then another port is tried (three in all).
    async fn start(bin: &Path, spec: &Path) -> Prism {
        let mut attempt = 1;
        loop {
            match Prism::try_start(bin, spec).await {
                Ok(prism) => return prism,
                Err(e) if attempt < 3 => eprintln!("{e}; trying another port"),
                Err(e) => panic!("{e}"),
            }
            attempt += 1;
        }
    }

    async fn try_start(bin: &Path, spec: &Path) -> Result<Prism, String> {
        let port = free_port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prism-{port}.log"));
        let log_file = File::create(&log).expect("create the Prism log");
        let child = Command::new(bin)
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); Prism needs Node.js (`node` on the PATH)",
                    bin.display()
                )
            });
        let mut prism = Prism {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = prism.child.try_wait().expect("poll Prism") {
                return Err(format!(
                    "Prism exited ({status}) before listening on {}; its log ({}):\n{}",
                    prism.addr,
                    prism.log.display(),
                    prism.log_tail()
                ));
            }
            if tokio::net::TcpStream::connect(prism.addr).await.is_ok() {
                eprintln!(
                    "prism listening on {} after {:.1?}",
                    prism.addr,
                    started.elapsed()
                );
                return Ok(prism);
            }
            assert!(
                started.elapsed() < PRISM_START_TIMEOUT,
                "Prism did not listen on {} within {PRISM_START_TIMEOUT:?}; its log:\n{}",
                prism.addr,
                prism.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// One request the front server forwarded to Prism, and Prism's verdict.
#[derive(Debug, Clone)]
struct Exchange {
    /// The bearer token it carried, if any.
    token: Option<String>,
    method: String,
    /// As sent by the client, below `/xapi/v1`.
    path: String,
    status: u16,
    /// Violations Prism found in the request.
    request_violations: Vec<String>,
    /// Violations Prism found in its own mock answer (counted, not held against us).
    response_violations: usize,
    /// Prism's own error (`type` `https://stoplight.io/prism/errors#...`): title and detail.
    prism_error: Option<String>,
}

struct FrontState {
    prism: SocketAddr,
    http: HttpClient<HttpConnector, Full<Bytes>>,
    exchanges: Mutex<Vec<Exchange>>,
    token_requests: AtomicUsize,
}

/// The loopback stand-in for the PBX's front: token endpoint + forwarding to Prism.
struct Front {
    url: String,
    state: Arc<FrontState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Front {
    async fn start(prism: SocketAddr) -> Front {
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

    fn exchanges(&self) -> Vec<Exchange> {
        self.state.exchanges.lock().unwrap().clone()
    }
}

fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body.to_string())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

async fn handle(
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
        state.token_requests.fetch_add(1, Ordering::SeqCst);
        let form: BTreeMap<String, String> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        if field("grant_type") != "client_credentials"
            || field("client_id").is_empty()
            || field("client_secret") != SECRET
        {
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_client", "error_description": "bad client credentials"}),
            ));
        }
        return Ok(json_response(
            StatusCode::OK,
            json!({
                "token_type": "Bearer",
                "expires_in": 3600,
                "access_token": format!("{TOKEN_PREFIX}{}", field("client_id")),
                "refresh_token": null
            }),
        ));
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
            return Ok(json_response(
                StatusCode::BAD_GATEWAY,
                json!({"error": {"code": "", "message": format!("Prism did not answer: {e}")}}),
            ))
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
    Ok(res)
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
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
fn violations(headers: &hyper::HeaderMap) -> (Vec<String>, usize) {
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

fn prism_error(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let kind = v["type"].as_str()?;
    let name = kind.strip_prefix(PRISM_ERROR_TYPE)?;
    Some(format!(
        "{name}: {} {}",
        v["title"].as_str().unwrap_or(""),
        v["detail"].as_str().unwrap_or("")
    ))
}

/// Whether the answer has the shape the action promises (a check that Prism matched the
/// request to the intended operation, and of the generated response kind).
fn shape_mismatch(op: &dyn Operation, response: &ApiResponse) -> Option<String> {
    let kind = op.template()?.response;
    let ok = match (kind, response) {
        (ResponseKind::Empty, ApiResponse::Empty { .. }) => true,
        (ResponseKind::Empty, _) => false,
        (ResponseKind::Collection, ApiResponse::Json(v)) => v["value"].is_array(),
        (ResponseKind::Json, ApiResponse::Json(_)) => true,
        (ResponseKind::Download, ApiResponse::Download(_)) => true,
        _ => false,
    };
    (!ok).then(|| format!("expected a {kind:?} answer, got {}", response.to_json()))
}

enum Outcome {
    Accepted { status: u16 },
    Rejected { status: u16, why: Vec<String> },
    Other(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Accepted { status } => write!(f, "accepted {status}"),
            Outcome::Rejected { status, why } => {
                write!(f, "REJECTED {status} ({})", why.join("; "))
            }
            Outcome::Other(e) => write!(f, "OTHER ({e})"),
        }
    }
}

struct Run {
    action: &'static str,
    resource: &'static str,
    request: String,
    outcome: Outcome,
}

async fn run_one(
    registry: &'static Registry,
    front: &Front,
    op: &'static dyn Operation,
) -> (Run, Vec<Exchange>) {
    let meta = op.meta();
    let input = enrich(registry, op, registry.example_input(op), &CONTRACT_STRINGS);
    let call = registry.prepare(op, input);
    let request = match call.as_ref().map(|c| c.request()) {
        Ok(Some(r)) => format!("{} {}", r.method, r.path_and_query),
        Ok(None) => "(composed of other calls)".to_owned(),
        Err(e) => format!("(cannot build: {e})"),
    };
    let config = Config::builder()
        .base_url(front.url.as_str())
        .client_id(meta.action)
        .client_secret(SECRET)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("config");
    let client = Client::new(config).expect("client");
    // Every action is sent, destructive ones too: Prism only checks the exchange.
    let result = match call {
        Ok(call) => call.confirm(true).send(&client).await,
        Err(e) => Err(e),
    };

    let token = format!("{TOKEN_PREFIX}{}", meta.action);
    let mine: Vec<Exchange> = front
        .exchanges()
        .into_iter()
        .filter(|x| x.token.as_deref() == Some(token.as_str()))
        .collect();
    let outcome = match (mine.last(), result) {
        (None, Err(e)) => Outcome::Other(format!("nothing reached Prism: {e}")),
        (None, Ok(_)) => Outcome::Other("answered without reaching Prism".into()),
        (Some(x), result) => {
            let mut why = x.request_violations.clone();
            why.extend(x.prism_error.clone());
            if x.status == 422 && why.is_empty() {
                why.push("422 without violations".into());
            }
            if !why.is_empty() {
                Outcome::Rejected {
                    status: x.status,
                    why,
                }
            } else {
                match result {
                    Ok(response) => match shape_mismatch(op, &response) {
                        None => Outcome::Accepted { status: x.status },
                        Some(m) => Outcome::Other(format!("HTTP {}: {m}", x.status)),
                    },
                    Err(Error::Api { .. }) => Outcome::Accepted { status: x.status },
                    Err(e) => Outcome::Other(format!("HTTP {}: {e}", x.status)),
                }
            }
        }
    };
    (
        Run {
            action: meta.action,
            resource: meta.resource,
            request,
            outcome,
        },
        mine,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowList {
    #[serde(default)]
    allow: Vec<Allowed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allowed {
    operation: String,
    reason: String,
}

fn allow_list() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contract/allow-list.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let list: AllowList =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is invalid: {e}", path.display()));
    let mut map = BTreeMap::new();
    for entry in list.allow {
        assert!(
            !entry.reason.trim().is_empty(),
            "{}: {} needs a reason",
            path.display(),
            entry.operation
        );
        assert!(
            map.insert(entry.operation.clone(), entry.reason).is_none(),
            "{}: {} is listed twice",
            path.display(),
            entry.operation
        );
    }
    map
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_is_accepted_by_prism() {
    let started = Instant::now();
    let allowed = allow_list();
    let spec = spec_path();
    let bin = prism_bin();
    let prism = Prism::start(&bin, &spec).await;
    let front = Front::start(prism.addr).await;

    // Prism checks bearers: without one, 401 (relayed with its violation by the front server).
    let unauthenticated = front
        .state
        .http
        .request(
            Request::get(format!("{}/xapi/v1/ActiveCalls", front.url))
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .expect("the front server answers");
    assert_eq!(
        unauthenticated.status(),
        401,
        "Prism must refuse a request without a bearer"
    );
    assert!(
        unauthenticated.headers().contains_key("sl-violations"),
        "the front server must relay sl-violations"
    );

    let registry = threecx_ops::registry();
    let front_ref = &front;
    let results: Vec<(Run, Vec<Exchange>)> =
        futures_util::stream::iter(registry.actions().iter().copied())
            .map(|op| run_one(registry, front_ref, op))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut runs: Vec<Run> = Vec::with_capacity(results.len());
    let mut exchanges: Vec<Exchange> = Vec::new();
    for (run, mine) in results {
        runs.push(run);
        exchanges.extend(mine);
    }
    runs.sort_by(|a, b| (a.resource, a.action).cmp(&(b.resource, b.action)));
    let total = runs.len();
    assert_eq!(total, registry.len());

    // Our bearer always reached Prism and was never refused.
    let refused_bearer: Vec<String> = exchanges
        .iter()
        .filter(|x| x.status == 401)
        .map(|x| format!("{} {}", x.method, x.path))
        .collect();
    assert!(
        refused_bearer.is_empty(),
        "Prism refused our bearer token on: {refused_bearer:?}"
    );
    assert!(front.state.token_requests.load(Ordering::SeqCst) >= 1);

    let mut accepted = 0;
    let mut not_accepted = BTreeMap::new();
    println!("\nactions Prism did not accept:");
    println!("{:<44} {:<6} request / why", "resource/action", "status");
    for run in &runs {
        let name = format!("{}/{}", run.resource, run.action);
        match &run.outcome {
            Outcome::Accepted { .. } => accepted += 1,
            Outcome::Rejected { status, why } => {
                println!("{name:<44} {status:<6} {}", run.request);
                for w in why {
                    println!("{:<51}  - {w}", "");
                }
                not_accepted.insert(run.action.to_owned(), why.join("; "));
            }
            Outcome::Other(e) => {
                println!("{name:<44} {:<6} {}", "-", run.request);
                println!("{:<51}  - {e}", "");
                not_accepted.insert(run.action.to_owned(), e.clone());
            }
        }
    }
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join("contract-report.txt");
    let lines: Vec<String> = runs
        .iter()
        .map(|r| format!("{}/{}\t{}\t{}", r.resource, r.action, r.request, r.outcome))
        .collect();
    std::fs::write(&report, lines.join("\n") + "\n").expect("write the report");
    println!("every action's request and verdict: {}", report.display());
    let response_violations: usize = exchanges.iter().map(|x| x.response_violations).sum();
    let allow_listed = not_accepted
        .keys()
        .filter(|a| allowed.contains_key(*a))
        .count();
    println!(
        "(Prism's own mock answers broke the spec's response schemas {response_violations} times; \
         not held against the requests)"
    );
    println!("elapsed {:.1?}", started.elapsed());
    println!("prism contract: accepted {accepted} / total {total} (allow-listed {allow_listed})");
    drop(front);
    drop(prism);

    let mut problems = Vec::new();
    for (action, why) in &not_accepted {
        if !allowed.contains_key(action) {
            problems.push(format!(
                "{action} was not accepted and is not in {ALLOW_LIST}: {why}"
            ));
        }
    }
    let known: BTreeSet<&str> = runs.iter().map(|r| r.action).collect();
    for action in allowed.keys() {
        if !known.contains(action.as_str()) {
            problems.push(format!("{ALLOW_LIST} names {action}, which is no action"));
        } else if !not_accepted.contains_key(action) {
            problems.push(format!(
                "{ALLOW_LIST} lists {action}, which Prism now accepts: remove the entry"
            ));
        }
    }
    if allowed.len() >= MAX_ALLOW_LISTED {
        problems.push(format!(
            "{ALLOW_LIST} has {} entries; keep it under {MAX_ALLOW_LISTED}",
            allowed.len()
        ));
    }
    assert!(
        problems.is_empty(),
        "the Prism contract failed ({} problems; the table above has the violations):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
