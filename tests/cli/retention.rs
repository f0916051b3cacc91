//! Retention and audit: relative periods (`now-90d`) resolved before validation, the purge
//! preview (what a purge removes, counted before it is sent, or alone with `--preview`), and
//! the audit log of destructive calls from `call`, `serve` and `mcp`; against a sandbox whose
//! history spans the last two years, on 127.0.0.1.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use threecx_sandbox::{SandboxConfig, SeedSizes};

use crate::embedding::{
    assert_no_secret, drain_stderr, gateway_addr, http, interrupt, lines, spawn, GATEWAY_KEY,
};
use crate::support::{threecx, Run, TestPbx, SECRET};

const CHATS: (&str, &str, &str) = (
    "Chat Messages History View",
    "List Chat Messages History View",
    "TimeSent",
);
const CALLS: (&str, &str, &str) = (
    "Call History View",
    "List Call History View",
    "SegmentStartTime",
);

/// A sandbox whose 400 chats and 1000 calls are spread over the 730 days before now.
fn two_years() -> TestPbx {
    TestPbx::start(SandboxConfig {
        sizes: SeedSizes {
            users: 25,
            groups: 3,
            call_history: 1000,
            chat_messages: 400,
        },
        recent_history_days: Some(730),
        ..SandboxConfig::default()
    })
}

/// `@odata.count` of `view`'s rows matching `filter` (all with `None`), through the CLI.
fn count(pbx: &TestPbx, view: (&str, &str, &str), filter: Option<&str>) -> u64 {
    let mut input = json!({"$count": true, "$top": 0});
    if let Some(f) = filter {
        input["$filter"] = json!(f);
    }
    let run = threecx(["call", view.0, view.1, "--input", &input.to_string()])
        .sandbox(pbx)
        .run();
    run.assert_code(0);
    run.json()["@odata.count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no @odata.count: {run:#?}"))
}

/// `threecx call "Purge Settings" ACTION --input INPUT [extra...]` against `pbx`.
fn purge(pbx: &TestPbx, action: &str, input: &Value, extra: &[&str]) -> Run {
    let input = input.to_string();
    let mut args = vec!["call", "Purge Settings", action, "--input", &input];
    args.extend_from_slice(extra);
    threecx(args).sandbox(pbx).run()
}

/// The count of a `preview: would remove N ...` line of stderr.
fn announced(run: &Run) -> u64 {
    run.stderr
        .lines()
        .find_map(|l| l.strip_prefix("preview: would remove "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no preview line: {run:#?}"))
}

fn audit_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn retention_now_minus_90_days_purges_only_the_older_chats() {
    let pbx = two_years();
    let total = count(&pbx, CHATS, None);
    assert_eq!(total, 400);
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let input = json!({"period": {"Start": null, "Stop": "now-90d"}});

    // --dry-run: the resolved Stop, and no purge sent.
    let dry = purge(&pbx, "Purge Chats", &input, &["--dry-run", "-o", "json"]);
    dry.assert_code(0);
    let shown = dry.json()["body"]["period"]["Stop"]
        .as_str()
        .expect("a resolved Stop")
        .to_owned();
    let expected = threecx_sandbox::time::now() - 90 * 86_400;
    let at = threecx_sandbox::time::parse(&shown).expect("an RFC 3339 date-time");
    assert!(
        shown.ends_with('Z') && (at - expected).abs() < 3600,
        "{shown}"
    );
    assert!(
        dry.stderr
            .contains(&format!("note: /period/Stop \"now-90d\" is {shown}")),
        "{}",
        dry.stderr
    );
    // The dry run counted what the purge would remove (a read), and sent no purge.
    assert!(
        dry.stderr.contains("preview: would remove "),
        "{}",
        dry.stderr
    );
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 0);

    // Outside the grammar: exit 2 naming the field, nothing sent at all.
    let requests = pbx.handle.requests().len();
    let later = purge(
        &pbx,
        "Purge Chats",
        &json!({"period": {"Start": null, "Stop": "later"}}),
        &["--yes"],
    );
    later.assert_code(2);
    assert!(
        later
            .stderr
            .starts_with("error: invalid input at /period/Stop"),
        "{}",
        later.stderr
    );
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 0);
    assert_eq!(pbx.handle.requests().len(), requests, "not even a count");

    // The purge itself.
    let run = purge(
        &pbx,
        "Purge Chats",
        &input,
        &["--yes", "--audit-log", audit.to_str().unwrap()],
    );
    run.assert_code(0);
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);
    let record = &audit_lines(&audit)[0];
    let stop = record["input"]["period"]["Stop"].as_str().unwrap();
    let removed = announced(&run);
    let older = format!("TimeSent le {stop}");
    let newer = format!("TimeSent gt {stop}");
    assert_eq!(
        count(&pbx, CHATS, Some(&older)),
        0,
        "every older chat is gone"
    );
    let kept = count(&pbx, CHATS, Some(&newer));
    assert_eq!(kept + removed, total, "the newer ones are all kept");
    assert!(removed > 0 && kept > 0, "removed {removed}, kept {kept}");
    assert_eq!(record["preview_count"], removed);
    // The other chat view tells the same.
    let chat_history = ("Chat History View", "List Chat History View", "TimeSent");
    assert_eq!(count(&pbx, chat_history, Some(&older)), 0);
    assert_eq!(count(&pbx, chat_history, Some(&newer)), kept);
    println!(
        "now-90d = {stop}: {total} chats before, {removed} removed (the preview said \
         {removed}), {kept} newer kept, 0 older left"
    );
}

#[test]
fn retention_preview_equals_what_is_removed_for_chats_and_calls() {
    let pbx = two_years();
    // `today-...` bounds are the same in the preview run and the purge run.
    let periods = [
        json!({"Start": "today-600d", "Stop": "today-500d"}),
        json!({"Start": "today-30d", "Stop": null}),
        json!({"Start": null, "Stop": "today-1y"}),
    ];
    for (action, view, path) in [
        ("Purge Chats", CHATS, "/xapi/v1/PurgeChats"),
        ("Purge Calls", CALLS, "/xapi/v1/PurgeCalls"),
    ] {
        for period in &periods {
            let input = json!({ "period": period });
            let before = count(&pbx, view, None);
            let purges = pbx.handle.count("POST", path);

            let preview = purge(&pbx, action, &input, &["--preview"]);
            preview.assert_code(0);
            let counted = preview.json()["count"].as_u64().expect("a count");
            assert_eq!(announced(&preview), counted);
            assert_eq!(
                pbx.handle.count("POST", path),
                purges,
                "--preview sent no purge"
            );
            assert_eq!(
                count(&pbx, view, None),
                before,
                "nothing removed by --preview"
            );

            let run = purge(&pbx, action, &input, &["--yes"]);
            run.assert_code(0);
            let removed = before - count(&pbx, view, None);
            assert_eq!(pbx.handle.count("POST", path), purges + 1);
            assert_eq!(counted, removed, "{action} {period}: preview vs removed");
            assert_eq!(
                announced(&run),
                removed,
                "{action} {period}: the run's own preview"
            );
            assert!(removed > 0, "{action} {period} removes something");
            println!("{action} {period}: preview {counted}, removed {removed}");
        }
    }

    // A destructive action is never paged (that would send it once per page, unaudited).
    let requests = pbx.handle.requests().len();
    let paged = threecx([
        "call",
        "Users",
        "Batch Delete",
        "--input",
        r#"{"ids": [1]}"#,
        "--all",
        "--yes",
    ])
    .sandbox(&pbx)
    .run();
    paged.assert_code(2);
    assert!(paged.stderr.contains("destructive"), "{}", paged.stderr);
    assert_eq!(pbx.handle.requests().len(), requests);

    // --preview of an action without a count, or without a period: exit 2, nothing sent.
    let requests = pbx.handle.requests().len();
    purge(&pbx, "Purge All Logs", &json!({}), &["--preview"]).assert_code(2);
    purge(&pbx, "Purge Chats", &json!({}), &["--preview"]).assert_code(2);
    assert_eq!(pbx.handle.requests().len(), requests);
}

/// One purge through `threecx call`, one through `threecx serve`, one through `threecx mcp`:
/// three audit lines with every field, and no secret in the file.
#[test]
fn retention_audit_log_records_cli_gateway_and_mcp_purges() {
    let pbx = two_years();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("logs").join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    let period = json!({"period": {"Start": null, "Stop": "today-600d"}});

    // 1. The CLI (the log named by the environment this time).
    let cli = threecx([
        "call",
        "Purge Settings",
        "Purge Calls",
        "--input",
        &period.to_string(),
        "--yes",
    ])
    .sandbox(&pbx)
    .env("THREECX_AUDIT_LOG", audit_arg)
    .run();
    cli.assert_code(0);

    // 2. The gateway.
    let gateway_preview = purge_through_the_gateway(&pbx, audit_arg);

    // 3. MCP.
    let mcp_preview = purge_through_mcp(&pbx, audit_arg);

    let records = audit_lines(&audit);
    assert_eq!(records.len(), 3, "{records:#?}");
    let fronts: Vec<&str> = records
        .iter()
        .map(|r| r["front_end"].as_str().unwrap())
        .collect();
    assert_eq!(fronts, ["cli", "gateway", "mcp"]);
    for r in &records {
        assert_a_full_record(&pbx, r);
    }
    assert_eq!(records[0]["action"], "PurgeCalls");
    assert_eq!(records[1]["action"], "PurgeChats");
    assert_eq!(records[1]["preview_count"], gateway_preview);
    assert_eq!(records[2]["preview_count"], mcp_preview);
    assert_eq!(records[0]["api_key"], Value::Null);
    assert_eq!(records[2]["api_key"], Value::Null);
    let fingerprint = records[1]["api_key"].as_str().unwrap();
    assert!(
        fingerprint.starts_with("sha256:") && fingerprint.len() == 19,
        "{fingerprint}"
    );

    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(!text.contains(SECRET), "the client secret in the audit log");
    assert!(!text.contains(GATEWAY_KEY), "the API key in the audit log");
    for token in pbx.handle.issued_tokens() {
        assert!(!text.contains(&token), "a token in the audit log");
    }
    println!("audit log, 3 lines:\n{text}");
}

/// A Purge Chats sent through `threecx serve` with `--audit-log`; its preview's count.
fn purge_through_the_gateway(pbx: &TestPbx, audit_arg: &str) -> u64 {
    let mut gateway = spawn(
        pbx,
        &["serve", "--listen", "127.0.0.1:0", "--audit-log", audit_arg],
    );
    let gateway_log = drain_stderr(&mut gateway);
    let addr = gateway_addr(&lines(gateway.stdout.take().unwrap()));
    let body = json!({"input": {"period": {"Start": "today-400d", "Stop": "today-300d"}}, "confirm": true});
    let (status, answer) = http(
        addr,
        "POST",
        "/v1/actions/Purge%20Settings/Purge%20Chats",
        true,
        &body.to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    let gateway_preview = answer["preview"]["count"].as_u64().expect("a preview");
    assert!(interrupt(&mut gateway).success());
    assert_no_secret(pbx, "the gateway's log", &gateway_log.join().unwrap());
    gateway_preview
}

/// A Purge Calls sent through `threecx mcp` with `--audit-log`; its preview's count.
fn purge_through_mcp(pbx: &TestPbx, audit_arg: &str) -> u64 {
    let mut mcp = spawn(pbx, &["mcp", "--audit-log", audit_arg]);
    let mcp_log = drain_stderr(&mut mcp);
    let mut stdin = mcp.stdin.take().unwrap();
    let out = lines(mcp.stdout.take().unwrap());
    let mut ask = |message: Value| -> Option<Value> {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        let id = message.get("id")?.clone();
        loop {
            let line = out
                .recv_timeout(Duration::from_secs(30))
                .expect("an answer");
            let answer: Value = serde_json::from_str(&line).unwrap();
            if answer["id"] == id {
                return Some(answer);
            }
        }
    };
    ask(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "retention-test", "version": "0"}}}),
    );
    ask(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let done = ask(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "call_action",
        "arguments": {"resource": "Purge Settings", "action": "Purge Calls",
                      "input": {"period": {"Start": "today-400d", "Stop": "today-300d"}},
                      "confirm": true}}}),
    )
    .unwrap();
    assert_eq!(done["result"]["isError"], false, "{done}");
    let mcp_preview = done["result"]["structuredContent"]["preview"]["count"]
        .as_u64()
        .expect("a preview");
    drop(stdin);
    assert!(mcp.wait().unwrap().success());
    assert_no_secret(pbx, "the MCP server's log", &mcp_log.join().unwrap());
    mcp_preview
}

/// Every field of an audit record is there, with the values of a purge on `pbx`.
fn assert_a_full_record(pbx: &TestPbx, r: &Value) {
    for field in [
        "time",
        "pbx",
        "client_id",
        "resource",
        "action",
        "input",
        "preview_count",
        "outcome",
        "status",
        "duration_ms",
        "api_key",
    ] {
        assert!(r.get(field).is_some(), "{field} missing: {r}");
    }
    assert_eq!(r["pbx"], pbx.handle.url().trim_end_matches('/'));
    assert_eq!(r["client_id"], pbx.handle.client_id());
    assert_eq!(r["resource"], "PurgeSettings");
    assert_eq!((&r["outcome"], &r["status"]), (&json!("ok"), &json!(204)));
    let time = r["time"].as_str().unwrap();
    assert!(threecx_sandbox::time::parse(time).is_some() && time.ends_with('Z'));
    assert!(r["duration_ms"].is_u64());
    // Relative times as resolved: a real date-time.
    let stop = r["input"]["period"]["Stop"].as_str().unwrap();
    assert!(threecx_sandbox::time::parse(stop).is_some(), "{stop}");
}

/// 8 processes purging at once, K calls each, into one audit log: 8×K lines, each valid JSON.
#[test]
fn retention_audit_log_lines_of_concurrent_processes_never_interleave() {
    const PROCESSES: usize = 8;
    const K: usize = 4;
    let pbx = two_years();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    // One token for all of them, as processes of one API client share it in production (3CX
    // keeps one active token per client).
    let tokens = dir.path().join("tokens");
    std::thread::scope(|s| {
        for p in 0..PROCESSES {
            let (pbx, audit, tokens) = (&pbx, &audit, &tokens);
            s.spawn(move || {
                for k in 0..K {
                    // Distinct periods: every line is told apart by its input.
                    let day = 700 - (p * K + k) * 10;
                    let input = json!({"period": {
                        "Start": format!("today-{day}d"),
                        "Stop": format!("today-{}d", day - 5),
                    }});
                    let run = threecx([
                        "call",
                        "Purge Settings",
                        if k % 2 == 0 {
                            "Purge Calls"
                        } else {
                            "Purge Chats"
                        },
                        "--input",
                        &input.to_string(),
                        "--yes",
                        "--audit-log",
                        audit.to_str().unwrap(),
                    ])
                    .sandbox(pbx)
                    .token_cache(tokens)
                    .run();
                    run.assert_code(0);
                }
            });
        }
    });
    let records = audit_lines(&audit);
    assert_eq!(records.len(), PROCESSES * K);
    let mut starts: Vec<&str> = records
        .iter()
        .map(|r| r["input"]["period"]["Start"].as_str().unwrap())
        .collect();
    starts.sort_unstable();
    starts.dedup();
    assert_eq!(starts.len(), PROCESSES * K, "every call recorded once");
    assert_eq!(
        pbx.handle.count("POST", "/xapi/v1/Purge"),
        PROCESSES * K,
        "as many purges as lines"
    );
    println!(
        "{PROCESSES} processes x {K} purges: {} valid lines",
        records.len()
    );
}

/// Relative times in `--param` and in function parameters of the path (the call log report),
/// not only in purge periods.
#[test]
fn retention_relative_times_in_params_of_any_action() {
    let pbx = two_years();
    let args = [
        "call",
        "Report Call Log Data",
        "Get Call Log Data",
        "--param",
        "periodFrom=today-30d",
        "--param",
        "periodTo=now",
        "--input",
        r#"{"sourceType": 0, "sourceFilter": "", "destinationType": 0, "destinationFilter": "",
            "callsType": 0, "callTimeFilterType": 0, "callTimeFilterFrom": "0:00:0",
            "callTimeFilterTo": "0:00:0", "hidePcalls": true, "$top": 1000}"#,
    ];
    let dry = threecx(args.iter().copied().chain(["--dry-run", "-o", "json"]))
        .sandbox(&pbx)
        .run();
    dry.assert_code(0);
    let url = dry.json()["url"].as_str().unwrap().to_owned();
    assert!(!url.contains("today") && !url.contains("=now"), "{url}");
    let from = url
        .split("periodFrom=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    assert!(from.ends_with("T00:00:00Z"), "today is midnight UTC: {url}");
    assert!(
        dry.stderr.contains("note: /periodFrom \"today-30d\" is "),
        "{}",
        dry.stderr
    );

    let run = threecx(args).sandbox(&pbx).run();
    run.assert_code(0);
    let rows = run.json()["value"].as_array().unwrap().clone();
    let since = threecx_sandbox::time::now() - 31 * 86_400;
    assert!(!rows.is_empty() && rows.len() < 1000, "{}", rows.len());
    for row in &rows {
        let at = threecx_sandbox::time::parse(row["StartTime"].as_str().unwrap()).unwrap();
        assert!(at >= since, "{row}");
    }
}
