//! The fault matrix: every transport fault, injected once on the API path of a fresh sandbox, ×
//! a GET, a PATCH and a POST action that is not safe to repeat (`Purge Chats`), called by name
//! through one client with small timeouts. GET and PATCH (`retry_safe`) recover by retrying; the
//! POST ends with the typed error of the fault within the call's time limit, and the sandbox's
//! request log proves it was delivered exactly once.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use threecx_core::{Client, Error};
use threecx_sandbox::{Fault, FaultRule, SandboxHandle};

use crate::support::{ms, report, EXCLUSIVE};
use threecx_test_support::sandbox::{small_sandbox_config, start_sandbox};

const TIMEOUT: Duration = Duration::from_millis(300);
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const LATENCY: Duration = Duration::from_millis(600);

/// What a cell must end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Success, after exactly this many attempts.
    Ok {
        attempts: usize,
    },
    Api(u16),
    /// `Error::OutcomeUnknown`: sent, then no usable answer; not repeated.
    OutcomeUnknown,
    Decode,
}

struct Row {
    fault: &'static str,
    make: fn() -> Fault,
    /// The outcome of the POST (GET and PATCH always succeed on the second attempt).
    post: Expect,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            fault: "latency 600 ms (> 300 ms attempt timeout)",
            make: || Fault::Latency(LATENCY),
            post: Expect::OutcomeUnknown,
        },
        Row {
            fault: "429 + `Retry-After: 1`",
            make: || Fault::too_many_requests(1),
            post: Expect::Api(429),
        },
        Row {
            fault: "500",
            make: Fault::internal_error,
            post: Expect::Api(500),
        },
        Row {
            fault: "503",
            make: Fault::unavailable,
            post: Expect::Api(503),
        },
        Row {
            fault: "502 HTML page (a proxy)",
            make: || Fault::NonJsonBody { status: 502 },
            post: Expect::Api(502),
        },
        Row {
            fault: "connection reset before the answer",
            make: || Fault::ConnectionReset,
            post: Expect::OutcomeUnknown,
        },
        Row {
            fault: "truncated body (half of `Content-Length`)",
            make: || Fault::TruncatedBody,
            post: Expect::OutcomeUnknown,
        },
        Row {
            fault: "malformed JSON (200, `application/json`)",
            make: || Fault::MalformedJson,
            post: Expect::Decode,
        },
        Row {
            fault: "non-JSON content type (200, `text/html`)",
            make: || Fault::NonJsonBody { status: 200 },
            post: Expect::Decode,
        },
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Patch,
    Purge,
}

impl Op {
    const ALL: [Op; 3] = [Op::Get, Op::Patch, Op::Purge];

    fn expect(self, row: &Row) -> Expect {
        match self {
            Op::Get | Op::Patch => Expect::Ok { attempts: 2 },
            Op::Purge => row.post,
        }
    }
}

/// One cell's result.
struct Cell {
    outcome: String,
    attempts: usize,
    elapsed: Duration,
    /// For the POST: whether the PBX carried the purge out although the caller got an error.
    purged: Option<bool>,
}

fn client(pbx: &SandboxHandle) -> Client {
    Client::new(
        pbx.client_config()
            .timeout(TIMEOUT)
            .call_timeout(CALL_TIMEOUT)
            .backoff(Duration::from_millis(10), Duration::from_millis(50))
            .max_attempts(3)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn describe(result: &Result<Value, Error>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(Error::Timeout { .. }) => "`Timeout`".to_owned(),
        Err(Error::Api { status, .. }) => format!("`Api {status}`"),
        Err(Error::Transport { maybe_sent, .. }) => {
            format!("`Transport` (maybe_sent: {maybe_sent})")
        }
        Err(Error::OutcomeUnknown { .. }) => "`OutcomeUnknown` (not retryable)".to_owned(),
        Err(Error::Decode { .. }) => "`Decode`".to_owned(),
        Err(other) => format!("unexpected: {other:?}"),
    }
}

fn matches(expect: Expect, result: &Result<Value, Error>, attempts: usize) -> bool {
    match (expect, result) {
        (Expect::Ok { attempts: n }, Ok(_)) => attempts == n,
        (Expect::Api(s), Err(Error::Api { status, .. })) => *status == s,
        (Expect::OutcomeUnknown, Err(e @ Error::OutcomeUnknown { .. })) => !e.is_retryable(),
        (Expect::Decode, Err(Error::Decode { .. })) => true,
        _ => false,
    }
}

/// The call of `op` on user `id`: resource, action, input, and the method and path it sends.
fn the_call(op: Op, id: i64) -> (&'static str, &'static str, Value, &'static str, String) {
    match op {
        Op::Get => (
            "Users",
            "Get User",
            json!({"Id": id}),
            "GET",
            format!("/xapi/v1/Users({id})"),
        ),
        Op::Patch => (
            "Users",
            "Update User",
            json!({"Id": id, "body": {"FirstName": "Matrix"}}),
            "PATCH",
            format!("/xapi/v1/Users({id})"),
        ),
        Op::Purge => (
            "Purge Settings",
            "Purge Chats",
            json!({"period": {"Start": "2000-01-01T00:00:00Z", "Stop": "2100-01-01T00:00:00Z"}}),
            "POST",
            "/xapi/v1/PurgeChats".to_owned(),
        ),
    }
}

async fn run_cell(row: &Row, op: Op) -> Cell {
    let pbx = start_sandbox(small_sandbox_config("rel-matrix")).await;
    let c = client(&pbx);
    let registry = threecx_ops::registry();
    // A seeded user; this also fetches the token, before any fault is armed.
    let users = registry
        .call(
            &c,
            "Users",
            "List User",
            json!({"$top": 1, "$select": ["Id"]}),
        )
        .await
        .expect("list users")
        .to_json();
    let id = users["value"][0]["Id"].as_i64().expect("a seeded user");
    let chats_before = pbx.counts().chat_messages;
    pbx.clear_requests();
    pbx.add_fault(FaultRule::new((row.make)()).api_only().times(1));

    let (resource, action, input, method, path) = the_call(op, id);
    let started = Instant::now();
    let result = registry
        .call(&c, resource, action, input)
        .await
        .map(|r| r.to_json());
    let elapsed = started.elapsed();

    // A request the client gave up on is logged when the sandbox finishes it: wait past the
    // injected latency, so that a second delivery would be seen too.
    tokio::time::sleep(if op == Op::Purge && row.fault.starts_with("latency") {
        LATENCY + Duration::from_millis(200)
    } else {
        Duration::from_millis(50)
    })
    .await;
    let attempts = pbx.count(method, &path);
    let expect = op.expect(row);
    assert!(
        matches(expect, &result, attempts),
        "{} × {op:?}: expected {expect:?}, got {result:?} after {attempts} attempts; log {:#?}",
        row.fault,
        pbx.requests()
    );
    assert!(
        elapsed < CALL_TIMEOUT,
        "{} × {op:?}: {elapsed:?} is beyond the call timeout",
        row.fault
    );
    if op == Op::Purge {
        assert_eq!(
            attempts, 1,
            "{}: Purge Chats must be delivered exactly once",
            row.fault
        );
        assert_eq!(c.retries(), 0, "{}", row.fault);
    } else {
        assert_eq!(c.retries(), 1, "{}", row.fault);
        if row.fault.starts_with("429") {
            assert!(
                elapsed >= Duration::from_secs(1),
                "Retry-After honoured: {elapsed:?}"
            );
        }
        if op == Op::Patch {
            pbx.clear_faults();
            let user = registry
                .call(&c, "Users", "Get User", json!({"Id": id}))
                .await
                .unwrap()
                .to_json();
            assert_eq!(user["FirstName"], "Matrix", "{}", row.fault);
        }
    }
    assert_eq!(
        pbx.token_requests(),
        0,
        "{}: no token request beyond the first (before the fault)",
        row.fault
    );
    Cell {
        outcome: describe(&result),
        attempts,
        elapsed,
        purged: (op == Op::Purge).then(|| pbx.counts().chat_messages < chats_before),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let _alone = EXCLUSIVE.lock().await;
    let mut table = String::from(
        "| fault (injected once) | GET `Users({Id})` | PATCH `Users({Id})` | POST `PurgeChats` (not retry_safe) |\n\
         | --- | --- | --- | --- |\n",
    );
    let mut cells = 0;
    for row in &rows() {
        table.push_str(&format!("| {} |", row.fault));
        // Each cell has its own sandbox and client: the three of a row run at once.
        let row_cells = futures_util::future::join_all(Op::ALL.map(|op| run_cell(row, op))).await;
        for cell in row_cells {
            cells += 1;
            let purged = match cell.purged {
                Some(true) => ", purge done by the PBX",
                Some(false) => ", purge not done",
                None => "",
            };
            table.push_str(&format!(
                " {} · {} attempt{} · {}{purged} |",
                cell.outcome,
                cell.attempts,
                if cell.attempts == 1 { "" } else { "s" },
                ms(cell.elapsed)
            ));
        }
        table.push('\n');
    }
    assert_eq!(cells, 27);
    report(
        "matrix",
        &format!(
            "Fault matrix (timeout {} per attempt, call_timeout {}, backoff 10-50 ms, \
             max_attempts 3; outcome · requests the sandbox received for the call · elapsed):\n\n{table}",
            ms(TIMEOUT),
            ms(CALL_TIMEOUT)
        ),
    );
}
