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

mod front;
mod prism;

use front::*;
use prism::*;

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

    prism_refuses_a_request_without_a_bearer(&front).await;
    let registry = threecx_ops::registry();
    let (runs, exchanges) = run_every_action(registry, &front).await;
    let total = runs.len();
    assert_eq!(total, registry.len());
    our_bearer_was_never_refused(&front, &exchanges);

    let (accepted, not_accepted) = print_what_prism_did_not_accept(&runs);
    write_the_report(&runs);
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

    let problems = allow_list_problems(&allowed, &runs, &not_accepted);
    assert!(
        problems.is_empty(),
        "the Prism contract failed ({} problems; the table above has the violations):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Prism checks bearers: without one, 401 (relayed with its violation by the front server).
async fn prism_refuses_a_request_without_a_bearer(front: &Front) {
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
}

/// Every action through the front server, `CONCURRENCY` at a time: the runs (sorted by
/// resource and action) and every exchange the front server saw.
async fn run_every_action(registry: &'static Registry, front: &Front) -> (Vec<Run>, Vec<Exchange>) {
    let front_ref = front;
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

    (runs, exchanges)
}

/// Our bearer always reached Prism and was never refused.
fn our_bearer_was_never_refused(front: &Front, exchanges: &[Exchange]) {
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
}

/// Prints the actions Prism did not accept: how many were accepted, and why each other was not.
fn print_what_prism_did_not_accept(runs: &[Run]) -> (usize, BTreeMap<String, String>) {
    let mut accepted = 0;
    let mut not_accepted = BTreeMap::new();
    println!("\nactions Prism did not accept:");
    println!("{:<44} {:<6} request / why", "resource/action", "status");
    for run in runs {
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
    (accepted, not_accepted)
}

/// Every action's request and verdict in `$CARGO_TARGET_TMPDIR/contract-report.txt`.
fn write_the_report(runs: &[Run]) {
    let report = Path::new(env!("CARGO_TARGET_TMPDIR")).join("contract-report.txt");
    let lines: Vec<String> = runs
        .iter()
        .map(|r| format!("{}/{}\t{}\t{}", r.resource, r.action, r.request, r.outcome))
        .collect();
    std::fs::write(&report, lines.join("\n") + "\n").expect("write the report");
    println!("every action's request and verdict: {}", report.display());
}

/// Actions not accepted and not allow-listed, stale or unknown allow-list entries, and too long
/// an allow list.
fn allow_list_problems(
    allowed: &BTreeMap<String, String>,
    runs: &[Run],
    not_accepted: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (action, why) in not_accepted {
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
    problems
}
