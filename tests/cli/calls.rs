//! `call`: the seed case, dry runs, input sources, validation and the destructive guard.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{api_requests, pbx, seed_input, threecx, token_for, SEED_INPUT};

/// The one PurgeChats request the seed call must send.
async fn expect_purge_chats(server: &MockServer, client_id: &str) {
    Mock::given(method("POST"))
        .and(path("/xapi/v1/PurgeChats"))
        .and(header(
            "authorization",
            format!("Bearer {}", token_for(client_id)).as_str(),
        ))
        .and(header("content-type", "application/json"))
        .and(body_json(seed_input()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(server)
        .await;
    // What the purge removes, counted first (the preview).
    Mock::given(method("GET"))
        .and(path("/xapi/v1/ChatMessagesHistoryView"))
        .and(query_param("$count", "true"))
        .and(query_param("$top", "0"))
        .and(query_param(
            "$filter",
            "TimeSent ge 2024-01-01T00:00:00Z and TimeSent le 2024-06-30T23:59:59Z",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"@odata.count": 7, "value": []})),
        )
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn seed_purge_chats_sends_one_token_and_one_action_request() {
    let id = "cli-seed";
    let server = pbx(id).await;
    expect_purge_chats(&server, id).await;

    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
        "--yes",
    ])
    .pbx(&server, id)
    .trace()
    .run();

    run.assert_code(0);
    assert_eq!(run.stdout.trim(), "null", "204 prints the documented null");
    let all = server.received_requests().await.unwrap();
    assert_eq!(
        all.len(),
        3,
        "one token request, the preview's count, one action request: {all:?}"
    );
    assert_eq!(all[0].url.path(), "/connect/token");
    assert_eq!(all[1].url.path(), "/xapi/v1/ChatMessagesHistoryView");
    assert_eq!(all[2].url.path(), "/xapi/v1/PurgeChats");
    assert!(
        run.stderr.contains("preview: would remove 7 chat messages from 2024-01-01T00:00:00Z to 2024-06-30T23:59:59Z"),
        "{}",
        run.stderr
    );
    // The trace log was on: it must show the exchange but, checked by `run`, no secret or token.
    assert!(run.stderr.contains("PurgeChats"), "{}", run.stderr);
}

#[tokio::test]
async fn dry_run_sends_nothing_needs_no_credentials_and_redacts() {
    let server = MockServer::start().await;
    // Only the URL is known: no client ID, no secret.
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
        "--dry-run",
    ])
    .env("THREECX_URL", server.uri())
    .run();
    run.assert_code(0);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("POST {}/xapi/v1/PurgeChats", server.uri()).as_str())
    );
    assert!(
        run.stdout.contains("Authorization: Bearer [REDACTED]"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Content-Type: application/json"));
    let body = run.stdout.lines().last().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        seed_input()
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    // Nothing configured at all: a placeholder URL; JSON form on request.
    let run = threecx([
        "call",
        "purge-settings",
        "PurgeChats",
        "--input",
        SEED_INPUT,
        "--dry-run",
        "-o",
        "json",
    ])
    .run();
    run.assert_code(0);
    let v = run.json();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["url"], "https://<THREECX_URL>/xapi/v1/PurgeChats");
    assert_eq!(v["headers"]["Authorization"], "Bearer [REDACTED]");
    assert_eq!(v["body"], seed_input());
}

#[tokio::test]
async fn invalid_period_exits_2_naming_the_field_and_sends_nothing() {
    let id = "cli-invalid";
    let server = pbx(id).await;
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        r#"{"period":{"Start":"yesterday"}}"#,
        "--yes",
    ])
    .pbx(&server, id)
    .run();
    run.assert_code(2);
    assert!(
        run.stderr
            .starts_with("error: invalid input at /period/Start"),
        "{}",
        run.stderr
    );
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing sent"
    );

    // Invalid input is refused before the destructive question, and in a dry run too.
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        r#"{"period":"x"}"#,
    ])
    .pbx(&server, id)
    .run();
    run.assert_code(2);
    assert!(run.stderr.contains("/period"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("--yes"),
        "validation comes first: {}",
        run.stderr
    );
    threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        "{nope",
        "--dry-run",
    ])
    .run()
    .assert_code(2);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn destructive_without_yes_and_no_terminal_is_refused() {
    let id = "cli-guard";
    let server = pbx(id).await;
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
    ])
    .pbx(&server, id)
    .run();
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("Purge Settings / Purge Chats is destructive"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "not even a token is fetched"
    );
    // A dry run never needs --yes.
    threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        SEED_INPUT,
        "--dry-run",
    ])
    .pbx(&server, id)
    .run()
    .assert_code(0);
}

#[tokio::test]
async fn params_merge_over_the_input_object() {
    let run = threecx([
        "call",
        "Users",
        "Get User By Number",
        "--input",
        r#"{"Number":"1","$select":["Id"]}"#,
        "--param",
        "Number=100",
        "-p",
        r#"$expand=Groups"#,
        "--dry-run",
        "-o",
        "json",
    ])
    .run();
    run.assert_code(0);
    let url = run.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.ends_with("/Users(Number='100')?$expand=Groups&$select=Id")
            || url.ends_with("/Users(Number='100')?$select=Id&$expand=Groups"),
        "{url}"
    );

    // JSON values are taken as JSON: an object for period.
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "-p",
        r#"period={"All":true}"#,
        "--dry-run",
        "-o",
        "json",
    ])
    .run();
    run.assert_code(0);
    assert_eq!(run.json()["body"], json!({"period": {"All": true}}));

    threecx([
        "call",
        "Users",
        "Get User By Number",
        "-p",
        "Number",
        "--dry-run",
    ])
    .run()
    .assert_code(2);
    threecx([
        "call",
        "Users",
        "Get User By Number",
        "--input",
        "[1]",
        "-p",
        "Number=1",
    ])
    .run()
    .assert_code(2);
}

#[tokio::test]
async fn input_from_a_file_and_from_stdin() {
    let id = "cli-input-file";
    let server = pbx(id).await;
    expect_purge_chats(&server, id).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("period.json");
    std::fs::write(&file, SEED_INPUT).unwrap();
    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        &format!("@{}", file.display()),
        "--yes",
    ])
    .pbx(&server, id)
    .run();
    run.assert_code(0);
    assert_eq!(
        api_requests(&server).await.len(),
        2,
        "the count, then the purge"
    );

    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        "-",
        "--dry-run",
        "-o",
        "json",
    ])
    .stdin(SEED_INPUT)
    .run();
    run.assert_code(0);
    assert_eq!(run.json()["body"], seed_input());

    let run = threecx([
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        "@/nonexistent/x.json",
    ])
    .run();
    run.assert_code(2);
    assert!(run.stderr.contains("/nonexistent/x.json"), "{}", run.stderr);
}
