//! "Outcome unknown": the PBX reads a Purge Chats request, then the connection is reset before
//! any answer. The purge may have been carried out; it must be reported as not retryable, with
//! an outcome of "unknown", by the SDK, the gateway and the MCP server (the CLI's exit code is
//! checked in tests/cli), and delivered exactly once.

use serde_json::{json, Value};
use threecx_core::Client;
use threecx_gateway::gateway::{self, GatewayState};
use threecx_gateway::mcp::{McpOptions, McpServer};
use threecx_gateway::rmcp::model::CallToolRequestParams;
use threecx_gateway::rmcp::ServiceExt;
use threecx_sandbox::{Fault, FaultRule, SandboxHandle};

use threecx_test_support::sandbox::{small_sandbox_config, start_sandbox};

const PURGE: &str = "/xapi/v1/PurgeChats";
const KEY: &str = "outcome-test-key-0123456789abcdef";

fn period() -> Value {
    json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}})
}

async fn resetting_pbx() -> SandboxHandle {
    let pbx = start_sandbox(small_sandbox_config("rel-outcome")).await;
    pbx.add_fault(
        FaultRule::new(Fault::ConnectionReset)
            .path_prefix(PURGE)
            .method("POST"),
    );
    pbx
}

fn client(pbx: &SandboxHandle) -> Client {
    Client::new(pbx.client_config().build().unwrap()).unwrap()
}

#[tokio::test]
async fn the_sdk_reports_outcome_unknown_after_one_delivery() {
    let pbx = resetting_pbx().await;
    let e = threecx_ops::registry()
        .call(&client(&pbx), "Purge Settings", "Purge Chats", period())
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    assert!(!e.is_retryable());
    let text = e.to_string();
    assert!(
        text.contains("NOT sent again") && text.contains("may or may not"),
        "{text}"
    );
    assert!(
        !text.contains("firewall"),
        "does not blame the network setup: {text}"
    );
    assert_eq!(pbx.count("POST", PURGE), 1, "delivered once, not retried");
}

#[tokio::test]
async fn the_gateway_answers_not_retryable_outcome_unknown() {
    let pbx = resetting_pbx().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = GatewayState::new(client(&pbx), KEY).unwrap();
    tokio::spawn(gateway::serve_listener(listener, state, async {
        let _ = stopped.await;
    }));
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{base}/v1/actions/PurgeSettings/PurgeChats"))
        .header("X-Api-Key", KEY)
        .json(&json!({"input": period(), "confirm": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["kind"], "outcome_unknown", "{body}");
    assert_eq!(body["error"]["outcome"], "unknown");
    assert_eq!(body["error"]["retryable"], false);
    assert_eq!(pbx.count("POST", PURGE), 1);
    let _ = stop.send(());
}

#[tokio::test]
async fn the_mcp_tool_says_not_retryable_outcome_unknown() {
    let pbx = resetting_pbx().await;
    let server = McpServer::new(client(&pbx), McpOptions::default()).unwrap();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let running = server.serve(server_io).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    let mcp = ().serve(client_io).await.expect("client handshake");
    let Value::Object(arguments) = json!({"resource": "Purge Settings", "action": "Purge Chats",
        "input": period(), "confirm": true})
    else {
        unreachable!()
    };
    let result = mcp
        .call_tool(CallToolRequestParams::new("call_action").with_arguments(arguments))
        .await
        .expect("tools/call answered");
    assert_eq!(result.is_error, Some(true));
    let text = serde_json::to_string(&result).unwrap();
    assert!(text.contains("outcome_unknown"), "{text}");
    assert!(
        text.contains(r#"\"retryable\":false"#) || text.contains(r#""retryable":false"#),
        "{text}"
    );
    assert!(
        !text.contains(r#""retryable":true"#) && !text.contains(r#"\"retryable\":true"#),
        "{text}"
    );
    assert_eq!(pbx.count("POST", PURGE), 1);
}
