//! Exit codes of failures: 3 auth, 4 API error, 5 network and timeout.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{api_requests, pbx, threecx, SECRET};

#[tokio::test]
async fn rejected_credentials_exit_3() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_client", "error_description": "bad"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let run = threecx(["call", "Users", "List User"])
        .pbx(&server, "cli-auth")
        .trace()
        .run();
    run.assert_code(3);
    assert!(
        run.stderr.contains("error: authentication failed"),
        "{}",
        run.stderr
    );
    assert!(api_requests(&server).await.is_empty());
}

#[tokio::test]
async fn odata_error_exits_4_with_the_pbx_message() {
    let id = "cli-api-error";
    let server = pbx(id).await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/xapi/v1/Users\(Number="))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"code": "", "message": "No user with number 999 exists"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let run = threecx(["call", "Users", "Get User By Number", "-p", "Number=999"])
        .pbx(&server, id)
        .run();
    run.assert_code(4);
    assert!(
        run.stderr.starts_with("error: 3CX API error 404"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("No user with number 999 exists"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[tokio::test]
async fn closed_port_exits_5() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let run = threecx(["call", "Users", "List User"])
        .env("THREECX_URL", format!("http://127.0.0.1:{port}"))
        .env("THREECX_CLIENT_ID", "cli-closed")
        .env("THREECX_CLIENT_SECRET", SECRET)
        .run();
    run.assert_code(5);
    assert!(
        run.stderr.starts_with("error: network error"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn timeout_exits_5() {
    let id = "cli-timeout";
    let server = pbx(id).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": []}))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let run = threecx(["call", "Users", "List User", "--timeout", "0.3"])
        .pbx(&server, id)
        .run();
    run.assert_code(5);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
}

#[tokio::test]
async fn missing_credentials_exit_2_and_say_what_to_set() {
    let run = threecx(["call", "Users", "List User"]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("missing url, client_id, client_secret"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("THREECX_URL"), "{}", run.stderr);
}

/// `call Users "Create User"` against a PBX that refuses it with 400 and `body`: the run.
async fn create_user_refused(id: &str, body: &str) -> (crate::support::Run, MockServer) {
    let server = pbx(id).await;
    Mock::given(method("POST"))
        .and(path("/xapi/v1/Users"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let input = json!({"body": {"FirstName": "Ada", "LastName": "Byron", "Number": "100"}});
    let run = threecx([
        "call",
        "Users",
        "Create User",
        "--input",
        &input.to_string(),
    ])
    .pbx(&server, id)
    .run();
    (run, server)
}

#[tokio::test]
async fn validation_error_reads_in_words() {
    // Exactly what 3CX answers when the extension number is taken.
    let body = r#"{"error":{"code":"","message":"Number:\nWARNINGS.XAPI.ALREADY_IN_USE","details":[{"code":"","message":"WARNINGS.XAPI.ALREADY_IN_USE","target":"Number"}]}}"#;
    let (run, server) = create_user_refused("cli-validation", body).await;
    run.assert_code(4);
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        ["error: 3CX API error 400 on POST /Users: Number: already in use"],
        "one line, in words: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("WARNINGS"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(api_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn validation_details_read_one_line_per_field() {
    let body = json!({"error": {"code": "", "message": "The request is invalid.", "details": [
        {"code": "", "message": "WARNINGS.XAPI.ALREADY_IN_USE", "target": "Number"},
        {"code": "", "message": "WARNINGS.XAPI.OUT_OF_THE_RANGE", "target": "OutboundCallerID"},
        {"code": "", "message": "must not be\nempty\u{1b}[2J", "target": "EmailAddress"},
    ]}})
    .to_string();
    let (run, _server) = create_user_refused("cli-validation-fields", &body).await;
    run.assert_code(4);
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        [
            "error: 3CX API error 400 on POST /Users: The request is invalid.",
            "  Number: already in use",
            "  OutboundCallerID: out of the range",
            "  EmailAddress: must not be empty [2J",
        ],
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{1b}'), "no control characters");
}
