//! `threecx serve`, `threecx mcp` and `threecx export n8n`: the real binary, against a simulated
//! PBX on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{raw_http, send_signal, threecx, TestPbx, SECRET, SEED_INPUT};

pub(crate) const GATEWAY_KEY: &str = "gateway-test-key-0123456789";

/// `threecx ARGS` as a long-running child connected to `pbx`, stdin and stdout piped.
pub(crate) fn spawn(pbx: &TestPbx, args: &[&str]) -> Child {
    let cache = std::env::temp_dir().join(format!("threecx-cli-embed-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_threecx"))
        .args(args)
        .env_clear()
        .env(
            "THREECX_CONFIG",
            "/nonexistent/threecx-cli-tests/config.toml",
        )
        .env("THREECX_AUDIT_LOG", cache.join("audit.jsonl"))
        .env("THREECX_TOKEN_CACHE", cache)
        .env("THREECX_URL", pbx.handle.url())
        .env("THREECX_CLIENT_ID", pbx.handle.client_id())
        .env("THREECX_CLIENT_SECRET", SECRET)
        .env("THREECX_GATEWAY_KEY", GATEWAY_KEY)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start threecx")
}

/// The lines of `stdout` as they come, read on a thread of their own.
pub(crate) fn lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Chat messages of the sandbox inside the README's period (1st half of 2024).
fn chats_in_period(pbx: &TestPbx) -> u64 {
    let run = threecx([
        "call",
        "Chat Messages History View",
        "List Chat Messages History View",
        "--param",
        "$filter=TimeSent ge 2024-01-01T00:00:00Z and TimeSent le 2024-06-30T23:59:59Z",
        "--param",
        "$count=true",
        "--param",
        "$top=0",
    ])
    .sandbox(pbx)
    .run();
    run.assert_code(0);
    run.json()["@odata.count"].as_u64().expect("@odata.count")
}

/// One HTTP request to the gateway at `addr`: status and body as JSON.
pub(crate) fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    key: bool,
    body: &str,
) -> (u16, Value) {
    let auth = if key {
        format!("X-Api-Key: {GATEWAY_KEY}\r\n")
    } else {
        String::new()
    };
    let (status, text) = raw_http(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

/// All of `child`'s stderr, read on a thread of its own: a trace log fills a pipe's buffer
/// long before the process ends, and would block it.
pub(crate) fn drain_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).expect("read stderr");
        text
    })
}

/// Stops `child` with Ctrl-C (SIGINT) and returns its exit status.
pub(crate) fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    child.wait().expect("the gateway stops")
}

/// Neither the PBX secret, the gateway key nor any token the sandbox issued is in `text`.
pub(crate) fn assert_no_secret(pbx: &TestPbx, what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "the client secret in {what}: {text}"
    );
    assert!(
        !text.contains(GATEWAY_KEY),
        "the gateway key in {what}: {text}"
    );
    let tokens = pbx.handle.issued_tokens();
    assert!(!tokens.is_empty());
    for token in tokens {
        assert!(!text.contains(&token), "a token in {what}: {text}");
    }
}

/// The gateway's address, from the first line it prints.
pub(crate) fn gateway_addr(out: &mpsc::Receiver<String>) -> std::net::SocketAddr {
    let banner = out
        .recv_timeout(Duration::from_secs(30))
        .expect("the gateway prints its address");
    banner
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
}

#[test]
fn serve_refuses_guessable_keys_and_warns_off_loopback() {
    let pbx = TestPbx::small();
    for key in [
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "abcdefghijklmnopqrstuvwxyz",
    ] {
        let run = threecx(["serve", "--listen", "127.0.0.1:0"])
            .sandbox(&pbx)
            .env("THREECX_GATEWAY_KEY", key)
            .run();
        run.assert_code(2);
        assert!(run.stderr.contains("too easy to guess"), "{}", run.stderr);
        assert!(
            run.stderr.contains("openssl rand -hex 32"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(key),
            "the key is echoed: {}",
            run.stderr
        );
    }
    // Off loopback: a warning that the gateway speaks plain HTTP. 192.0.2.1 (TEST-NET-1) is no
    // address of this machine: the bind fails, so nothing ever listens beyond loopback.
    let run = threecx(["serve", "--listen", "192.0.2.1:0"])
        .sandbox(&pbx)
        .env("THREECX_GATEWAY_KEY", GATEWAY_KEY)
        .run();
    assert!(
        run.stderr.contains("not a loopback address")
            && run.stderr.contains("plain HTTP")
            && run.stderr.contains("unencrypted"),
        "{}",
        run.stderr
    );
    run.assert_code(2);
    assert!(
        run.stderr.contains("cannot listen on 192.0.2.1:0"),
        "{}",
        run.stderr
    );
}

/// SIGTERM while a slow call is in flight: the call completes, then the gateway exits 0.
#[test]
fn sigterm_lets_the_call_in_flight_finish_then_serve_exits_0() {
    let pbx = TestPbx::small();
    let latency = Duration::from_secs(2);
    pbx.handle.add_fault(
        threecx_sandbox::FaultRule::new(threecx_sandbox::Fault::Latency(latency))
            .path_prefix("/xapi/v1/SystemStatus")
            .times(1),
    );
    let mut child = spawn(&pbx, &["serve", "--listen", "127.0.0.1:0"]);
    let log = drain_stderr(&mut child);
    let out = lines(child.stdout.take().unwrap());
    let addr = gateway_addr(&out);

    let started = Instant::now();
    let call = std::thread::spawn(move || {
        let answer = http(
            addr,
            "POST",
            "/v1/actions/SystemStatus/GetSystemStatus",
            true,
            "{}",
        );
        (answer, started.elapsed())
    });
    // The call is at the PBX (which takes 2 s to answer) when the signal comes.
    std::thread::sleep(Duration::from_millis(700));
    let (status, took) = send_signal(&mut child, "TERM", Duration::from_secs(30));
    let ((code, body), answered) = call.join().unwrap();
    let stderr = log.join().unwrap();
    assert_eq!(code, 200, "{body}\n{stderr}");
    assert_eq!(body["result"]["Version"], "20.0.10", "{body}");
    assert!(answered >= latency, "{answered:?}");
    assert!(status.success(), "{status:?}: {stderr}");
    println!(
        "SIGTERM 0.7 s into a {latency:?} call: answered 200 after {answered:?}, the gateway \
         exited 0 {took:?} after the signal"
    );
    assert_no_secret(&pbx, "the gateway's log", &stderr);
}

/// A client that sent half a request head does not keep SIGTERM from stopping the gateway:
/// it is closed when `--shutdown-grace` runs out.
#[test]
fn a_half_sent_head_does_not_keep_serve_from_stopping() {
    use std::io::Write as _;
    let pbx = TestPbx::small();
    let mut child = spawn(
        &pbx,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--header-timeout",
            "60",
            "--shutdown-grace",
            "1",
        ],
    );
    let log = drain_stderr(&mut child);
    let out = lines(child.stdout.take().unwrap());
    let addr = gateway_addr(&out);
    let mut half = std::net::TcpStream::connect(addr).unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Half: ")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (status, took) = send_signal(&mut child, "TERM", Duration::from_secs(30));
    let stderr = log.join().unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    println!("SIGTERM with a half-sent head open (--shutdown-grace 1): exited 0 in {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    drop(half);
}

#[test]
fn serve_runs_the_seed_action_only_when_confirmed_and_needs_its_key() {
    let pbx = TestPbx::small();
    let before = chats_in_period(&pbx);
    assert!(before > 0);

    let mut child = spawn(&pbx, &["serve", "--listen", "127.0.0.1:0"]);
    let log = drain_stderr(&mut child);
    let out = lines(child.stdout.take().unwrap());
    let banner = out
        .recv_timeout(Duration::from_secs(30))
        .expect("the gateway prints its address");
    let addr: std::net::SocketAddr = banner
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));

    let (status, health) = http(addr, "GET", "/healthz", false, "");
    assert_eq!((status, &health["actions"]), (200, &json!(601)), "{health}");

    let path = "/v1/actions/Purge%20Settings/Purge%20Chats";
    let input = format!(r#"{{"input": {SEED_INPUT}}}"#);
    let (status, body) = http(addr, "POST", path, false, &input);
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(addr, "POST", path, true, &input);
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["kind"], "not_confirmed");
    let (status, body) = http(
        addr,
        "POST",
        path,
        true,
        r#"{"input": {"period": {"Start": "yesterday"}}, "confirm": true}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["pointer"], "/period/Start");
    assert_eq!(chats_in_period(&pbx), before, "nothing was purged yet");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 0);

    let confirmed = format!(r#"{{"input": {SEED_INPUT}, "confirm": true}}"#);
    let (status, body) = http(addr, "POST", path, true, &confirmed);
    assert_eq!((status, &body["result"]), (200, &json!(null)), "{body}");
    assert_eq!(body["preview"]["count"], json!(before), "{body}");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);
    assert_eq!(chats_in_period(&pbx), 0);

    let status = interrupt(&mut child);
    let stderr = log.join().unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(
        !stderr.contains("plain HTTP"),
        "no warning on loopback: {stderr}"
    );
    assert_no_secret(&pbx, "the gateway's log", &stderr);
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let run = threecx(["serve", "--listen", "127.0.0.1:0"])
        .env("THREECX_URL", "http://127.0.0.1:9")
        .env("THREECX_CLIENT_ID", "x")
        .env("THREECX_CLIENT_SECRET", SECRET)
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("THREECX_GATEWAY_KEY"), "{}", run.stderr);

    let run = threecx(["serve", "--listen", "127.0.0.1:0"])
        .env("THREECX_URL", "http://127.0.0.1:9")
        .env("THREECX_CLIENT_ID", "x")
        .env("THREECX_CLIENT_SECRET", SECRET)
        .env("THREECX_GATEWAY_KEY", "short")
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("at least 16 characters"),
        "{}",
        run.stderr
    );
}

#[test]
fn mcp_handshake_and_tool_calls_over_stdio() {
    let pbx = TestPbx::small();
    let mut child = spawn(&pbx, &["mcp", "--resources", "Users"]);
    let log = drain_stderr(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    let out = lines(child.stdout.take().unwrap());
    let mut send = |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    };
    let answer = |id: u64| -> Value {
        loop {
            let line = out
                .recv_timeout(Duration::from_secs(30))
                .expect("an answer within 30 s");
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"));
            if message["id"] == id {
                return message;
            }
        }
    };

    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "cli-test", "version": "0"}}}),
    );
    let init = answer(1);
    assert_eq!(init["result"]["serverInfo"]["name"], "threecx", "{init}");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let tools = answer(2);
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for name in [
        "list_actions",
        "describe_action",
        "call_action",
        "users__get_user_by_number",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }

    let purge = |id: u64, confirm: bool| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": "call_action",
            "arguments": {"resource": "Purge Settings", "action": "Purge Chats",
                          "input": serde_json::from_str::<Value>(SEED_INPUT).unwrap(),
                          "confirm": confirm}}})
    };
    send(purge(3, false));
    let refused = answer(3);
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 0);
    send(purge(4, true));
    let done = answer(4);
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);

    send(
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "users__get_user_by_number", "arguments": {"Number": "101"}}}),
    );
    let user = answer(5);
    assert_eq!(
        user["result"]["structuredContent"]["result"]["Number"], "101",
        "{user}"
    );

    drop(stdin); // end of input: the server stops
    let status = child.wait().expect("the server exits");
    assert!(status.success(), "{status:?}");
    assert_no_secret(&pbx, "the MCP server's log", &log.join().unwrap());
}

/// SIGTERM to `threecx mcp` while a slow tool call is in flight: the call is answered, then the
/// server exits 0 (with stdin still open).
#[test]
fn sigterm_lets_the_mcp_tool_call_in_flight_finish_then_exits_0() {
    let pbx = TestPbx::small();
    let latency = Duration::from_secs(2);
    pbx.handle.add_fault(
        threecx_sandbox::FaultRule::new(threecx_sandbox::Fault::Latency(latency))
            .path_prefix("/xapi/v1/SystemStatus")
            .times(1),
    );
    let mut child = spawn(&pbx, &["mcp"]);
    let log = drain_stderr(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    let out = lines(child.stdout.take().unwrap());
    let mut send = |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "cli-test", "version": "0"}}}),
    );
    let init = out
        .recv_timeout(Duration::from_secs(30))
        .expect("initialize answered");
    assert!(init.contains("\"id\":1"), "{init}");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let started = Instant::now();
    send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "call_action",
        "arguments": {"resource": "System Status", "action": "Get System Status", "input": {}}}}),
    );
    std::thread::sleep(Duration::from_millis(700));
    let (status, took) = send_signal(&mut child, "TERM", Duration::from_secs(30));
    let stderr = log.join().unwrap();
    let answer: Value = loop {
        let line = out
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("the call in flight was not answered: {stderr}"));
        let message: Value = serde_json::from_str(&line).unwrap();
        if message["id"] == 2 {
            break message;
        }
    };
    let answered = started.elapsed();
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(answered >= latency, "{answered:?}");
    assert!(status.success(), "{status:?}: {stderr}");
    println!(
        "SIGTERM 0.7 s into a {latency:?} MCP tool call: answered, exited 0 {took:?} after the \
         signal"
    );
    drop(stdin); // held open until here: the signal, not the end of input, stopped it
    assert_no_secret(&pbx, "the MCP server's log", &stderr);
}

#[test]
fn export_n8n_is_the_packages_description_with_a_json_period() {
    let run = threecx(["export", "n8n"]).run();
    run.assert_code(0);
    let export = run.json();
    assert_eq!(export["counts"]["resources"], 132);
    assert_eq!(export["counts"]["operations"], 601);
    let shows = |p: &Value, key: &str, name: &str| {
        p["displayOptions"]["show"][key]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x == name))
    };
    let period = export["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["displayName"] == "Period"
                && shows(p, "resource", "PurgeSettings")
                && shows(p, "operation", "PurgeChats")
        })
        .expect("a Period property for Purge Settings / Purge Chats");
    assert_eq!(period["type"], "json");
    assert_eq!(period["name"], "period");
    // The very properties the installed node carries.
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../integrations/n8n-nodes-threecx/generated/properties.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(export["properties"], package["properties"]);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("n8n.json");
    threecx(["export", "n8n", "--out", file.to_str().unwrap()])
        .run()
        .assert_code(0);
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written, export);
}
