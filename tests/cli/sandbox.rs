//! The binary against a simulated PBX (threecx-sandbox) on 127.0.0.1: the README's purge, the
//! one-shot `--sandbox`, the shared on-disk token cache, entity round trips, paging to the end of
//! a capped history, and OData key literals on the wire.

use serde_json::{json, Value};
use threecx_sandbox::{SandboxConfig, SeedSizes};

use crate::support::{threecx, Run, TestPbx, SECRET, SEED_INPUT};

const PERIOD: (&str, &str) = ("2024-01-01T00:00:00Z", "2024-06-30T23:59:59Z");
const CHATS: [&str; 2] = [
    "Chat Messages History View",
    "List Chat Messages History View",
];

/// `threecx call RESOURCE ACTION --input INPUT [extra...]` against `pbx`.
fn call(pbx: &TestPbx, resource: &str, action: &str, input: &Value, extra: &[&str]) -> Run {
    let input = input.to_string();
    let mut args = vec!["call", resource, action, "--input", &input];
    args.extend_from_slice(extra);
    threecx(args).sandbox(pbx).run()
}

/// `@odata.count` of the chat messages matching `filter`, through the CLI.
fn chats_matching(pbx: &TestPbx, filter: &str) -> u64 {
    let run = call(
        pbx,
        CHATS[0],
        CHATS[1],
        &json!({"$filter": filter, "$count": true, "$top": 0}),
        &[],
    );
    run.assert_code(0);
    run.json()["@odata.count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no @odata.count: {run:#?}"))
}

#[test]
fn the_readme_purge_removes_the_chats_of_the_period_and_only_those() {
    let pbx = TestPbx::small();
    let inside = format!("TimeSent ge {} and TimeSent le {}", PERIOD.0, PERIOD.1);
    let outside = format!("TimeSent lt {} or TimeSent gt {}", PERIOD.0, PERIOD.1);
    let inside_before = chats_matching(&pbx, &inside);
    let outside_before = chats_matching(&pbx, &outside);
    assert!(inside_before > 0 && outside_before > 0);
    assert_eq!(inside_before + outside_before, 400);

    // The README's main command, word for word.
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
        "--yes",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout.trim(), "null", "204 prints null");
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);

    assert_eq!(chats_matching(&pbx, &inside), 0, "the period is purged");
    assert_eq!(
        chats_matching(&pbx, &outside),
        outside_before,
        "the rest is untouched"
    );
    assert_eq!(pbx.handle.counts().chat_messages, outside_before);
    assert_eq!(pbx.handle.counts().call_history, 1000, "calls untouched");
}

#[test]
fn one_shot_sandbox_runs_the_readme_command_with_no_pbx_at_all() {
    // No URL, no credentials: --sandbox brings its own PBX.
    let run = threecx([
        "--sandbox",
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
        "--yes",
    ])
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout.trim(), "null");

    // Its credentials beat the environment's: a PBX that does not exist is not asked.
    let run = threecx([
        "call",
        CHATS[0],
        CHATS[1],
        "--input",
        r#"{"$count": true, "$top": 0}"#,
        "--sandbox",
    ])
    .env("THREECX_URL", "http://127.0.0.1:9")
    .env("THREECX_CLIENT_ID", "elsewhere")
    .env("THREECX_CLIENT_SECRET", SECRET)
    .run();
    run.assert_code(0);
    assert_eq!(run.json()["@odata.count"], 1000, "the default sizes");

    // Still destructive: refused without --yes (and no terminal to ask on).
    let run = threecx([
        "--sandbox",
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
    ])
    .run();
    run.assert_code(2);
}

#[test]
fn sandbox_seed_chooses_the_data() {
    let users = |seed: &str| {
        let run = threecx([
            "--sandbox",
            "--sandbox-seed",
            seed,
            "call",
            "Users",
            "List User",
            "--input",
            r#"{"$top": 5, "$select": ["Id", "FirstName", "LastName"]}"#,
        ])
        .run();
        run.assert_code(0);
        // The data, without the context URL (each one-shot sandbox has a port of its own).
        run.json()["value"].clone()
    };
    assert_eq!(users("7"), users("7"), "the same seed, the same PBX");
    assert_ne!(users("7"), users("8"));
}

#[test]
fn runs_share_one_token_through_the_token_cache() {
    let pbx = TestPbx::small();
    let cache = tempfile::tempdir().unwrap();
    let list = |extra: &[&str]| {
        let mut args = vec!["call", "Users", "List User", "--param", "$top=1"];
        args.extend_from_slice(extra);
        threecx(args).sandbox(&pbx).token_cache(cache.path()).run()
    };
    // Concurrent runs: one fetches the token, the others find it in the cache, and none
    // invalidates another's (the sandbox keeps one active token per client, like 3CX).
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4).map(|_| s.spawn(|| list(&[]))).collect();
        for run in runs {
            run.join().unwrap().assert_code(0);
        }
    });
    list(&[]).assert_code(0);
    assert_eq!(
        pbx.handle.token_requests(),
        1,
        "{:?}",
        pbx.handle.requests()
    );
    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "one file per PBX and client");

    // Opted out: each run logs in again.
    list(&["--no-token-cache"]).assert_code(0);
    list(&["--no-token-cache"]).assert_code(0);
    assert_eq!(pbx.handle.token_requests(), 3);
    // ... and the cached token, replaced by those, is refreshed once and the call retried.
    list(&[]).assert_code(0);
    assert_eq!(pbx.handle.token_requests(), 4);
    list(&[]).assert_code(0);
    assert_eq!(pbx.handle.token_requests(), 4);
}

#[test]
fn users_create_get_update_list_delete() {
    let pbx = TestPbx::small();
    let run = call(
        &pbx,
        "Users",
        "Create User",
        &json!({"body": {"FirstName": "Ada", "LastName": "Byron", "Number": "555",
                         "EmailAddress": "ada@example.com"}}),
        &[],
    );
    run.assert_code(0);
    let created = run.json();
    assert_eq!(created["Number"], "555");
    let id = created["Id"].as_i64().expect("the new user's Id");

    let by_id = call(&pbx, "Users", "Get User", &json!({"Id": id}), &[]);
    by_id.assert_code(0);
    assert_eq!(by_id.json()["LastName"], "Byron");
    let by_number = threecx([
        "call",
        "Users",
        "Get User By Number",
        "--param",
        "Number=555",
    ])
    .sandbox(&pbx)
    .run();
    by_number.assert_code(0);
    assert_eq!(by_number.json()["Id"], id);

    let run = call(
        &pbx,
        "Users",
        "Update User",
        &json!({"Id": id, "body": {"LastName": "Lovelace"}}),
        &[],
    );
    run.assert_code(0);
    assert_eq!(run.stdout.trim(), "null", "204");
    let after = call(&pbx, "Users", "Get User", &json!({"Id": id}), &[]);
    assert_eq!(
        (&after.json()["FirstName"], &after.json()["LastName"]),
        (&json!("Ada"), &json!("Lovelace"))
    );

    let listed = call(
        &pbx,
        "Users",
        "List User",
        &json!({"$filter": "LastName eq 'Lovelace' and FirstName eq 'Ada'",
                "$select": ["Id", "Number"]}),
        &[],
    );
    listed.assert_code(0);
    assert_eq!(listed.json()["value"], json!([{"Id": id, "Number": "555"}]));

    let deleted = call(&pbx, "Users", "Delete User", &json!({"Id": id}), &["--yes"]);
    deleted.assert_code(0);
    let gone = call(&pbx, "Users", "Get User", &json!({"Id": id}), &[]);
    gone.assert_code(4);
    assert!(gone.stderr.contains("404"), "{gone:#?}");
    assert!(gone.stderr.contains(&format!("Id {id}")), "{gone:#?}");
    let gone = threecx([
        "call",
        "Users",
        "Get User By Number",
        "--param",
        "Number=555",
    ])
    .sandbox(&pbx)
    .run();
    gone.assert_code(4);
    assert!(gone.stderr.contains("404"), "{gone:#?}");
}

#[test]
fn groups_create_get_update_list_delete() {
    let pbx = TestPbx::small();
    let run = call(
        &pbx,
        "Groups",
        "Create Group",
        &json!({"body": {"Name": "Sales EU", "Number": "GRP9"}}),
        &[],
    );
    run.assert_code(0);
    let id = run.json()["Id"].as_i64().expect("the new group's Id");
    assert_eq!(id, 4, "after the 3 seeded groups");

    let got = call(&pbx, "Groups", "Get Group", &json!({"Id": id}), &[]);
    got.assert_code(0);
    assert_eq!(got.json()["Name"], "Sales EU");

    call(
        &pbx,
        "Groups",
        "Update Group",
        &json!({"Id": id, "body": {"Name": "Sales Europe"}}),
        &[],
    )
    .assert_code(0);
    let got = call(&pbx, "Groups", "Get Group", &json!({"Id": id}), &[]);
    assert_eq!(got.json()["Name"], "Sales Europe");
    assert_eq!(got.json()["Number"], "GRP9", "a PATCH keeps the rest");

    let listed = call(
        &pbx,
        "Groups",
        "List Group",
        &json!({"$filter": "Number eq 'GRP9'", "$select": ["Id", "Name"], "$count": true}),
        &[],
    );
    listed.assert_code(0);
    assert_eq!(listed.json()["@odata.count"], 1);
    assert_eq!(
        listed.json()["value"],
        json!([{"Id": id, "Name": "Sales Europe"}])
    );
    assert_eq!(pbx.handle.counts().groups, 4);

    call(
        &pbx,
        "Groups",
        "Delete Group",
        &json!({"Id": id}),
        &["--yes"],
    )
    .assert_code(0);
    let gone = call(&pbx, "Groups", "Get Group", &json!({"Id": id}), &[]);
    gone.assert_code(4);
    assert!(gone.stderr.contains("404"), "{gone:#?}");
    assert_eq!(pbx.handle.counts().groups, 3);
}

#[test]
fn string_keys_go_on_the_wire_quoted_and_an_unquoted_one_is_not_found() {
    let pbx = TestPbx::small();
    let run = threecx([
        "call",
        "Users",
        "Get User By Number",
        "--param",
        "Number=100",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(0);
    assert_eq!(run.json()["Number"], "100");
    let paths: Vec<String> = pbx
        .handle
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/xapi/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/xapi/v1/Users(Number='100')"]);

    // Sent by hand: the same key unquoted is not a string literal, so no user has it.
    let token = pbx.raw_token();
    let (status, body) = pbx.raw_get("/xapi/v1/Users(Number='100')", &token);
    assert_eq!(status, 200, "{body}");
    let (status, body) = pbx.raw_get("/xapi/v1/Users(Number=100)", &token);
    assert_eq!(status, 404, "{body}");
    let error: Value = serde_json::from_str(&body).expect("an OData error");
    assert!(error["error"]["message"].is_string(), "{body}");
}

#[test]
fn all_pages_of_a_capped_history_stream_to_the_end() {
    // The sandbox answers at most 100 rows per request and offers the rest through next links;
    // the CLI asks for 500 a page.
    let pbx = TestPbx::start(SandboxConfig {
        sizes: SeedSizes {
            call_history: 1234,
            ..SeedSizes::default()
        },
        max_page_size: 100,
        ..SandboxConfig::default()
    });
    let run = threecx([
        "call",
        "Call History View",
        "List Call History View",
        "--all",
        "--page-size",
        "500",
        "--output",
        "ndjson",
        "--param",
        r#"$select=["SegmentId","SegmentStartTime"]"#,
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(0);
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1234);
    let ids: std::collections::HashSet<String> =
        rows.iter().map(|r| r["SegmentId"].to_string()).collect();
    assert_eq!(ids.len(), 1234, "every row exactly once");
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["SegmentStartTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in order");
    assert_eq!(
        pbx.handle.count("GET", "/xapi/v1/CallHistoryView"),
        5 + 5 + 3,
        "three requests of 500, each answered 100 at a time through next links"
    );
}

#[test]
fn a_taken_port_is_a_usage_error() {
    let pbx = TestPbx::small();
    let port = pbx.handle.addr().port().to_string();
    let run = threecx(["sandbox", "--port", &port]).run();
    run.assert_code(2);
    assert!(run.stderr.contains("cannot listen"), "{run:#?}");
}

#[test]
fn a_purge_lost_after_sending_exits_6_outcome_unknown_sent_once() {
    let pbx = TestPbx::small();
    pbx.handle.add_fault(
        threecx_sandbox::FaultRule::new(threecx_sandbox::Fault::ConnectionReset)
            .path_prefix("/xapi/v1/PurgeChats")
            .method("POST"),
    );
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
        "--yes",
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(6);
    assert!(
        run.stderr.contains("outcome unknown") && run.stderr.contains("NOT sent again"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("firewall"), "{run:#?}");
    assert_eq!(
        pbx.handle.count("POST", "/xapi/v1/PurgeChats"),
        1,
        "sent once"
    );
}

#[test]
fn a_number_in_use_reads_as_words_exit_4() {
    let pbx = TestPbx::small();
    // 100 is a seeded user's number; a ring group may not take it either.
    let run = threecx([
        "call",
        "Ring Groups",
        "Create Ring Group",
        "--input",
        r#"{"body":{"Name":"Night","Number":"100"}}"#,
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(4);
    assert!(run.stderr.contains("Number: already in use"), "{run:#?}");
    assert!(!run.stderr.contains("WARNINGS.XAPI"), "{run:#?}");
    // And a number cannot be changed.
    let run = threecx([
        "call",
        "Users",
        "Update User",
        "--input",
        r#"{"Id":1,"body":{"Number":"999"}}"#,
    ])
    .sandbox(&pbx)
    .run();
    run.assert_code(4);
    assert!(run.stderr.contains("Number: "), "{run:#?}");
}
