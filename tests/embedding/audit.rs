//! The audit log of an embedded gateway and MCP server (`GatewayState::audit_log`,
//! `McpServer::audit_log`): one line per destructive call sent, whatever its outcome, and none
//! for calls refused before sending or that destroy nothing.

use serde_json::{json, Value};
use threecx_gateway::audit::{key_fingerprint, AuditLog};
use threecx_gateway::gateway::GatewayState;
use threecx_gateway::mcp::{McpOptions, McpServer};
use threecx_gateway::rmcp::model::CallToolRequestParams;
use threecx_gateway::rmcp::ServiceExt;
use threecx_sandbox::SandboxHandle;
use threecx_test_support::sandbox::sandbox_client;

use crate::support::{self, Gateway, KEY};

const PURGE: &str = "/v1/actions/Purge%20Settings/Purge%20Chats";

fn lines(log: &AuditLog) -> Vec<Value> {
    std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn audit_lines_for_sent_destructive_calls_of_the_gateway_and_mcp() {
    let pbx = support::sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path().join("audit.jsonl")).unwrap();
    let gw = Gateway::start(
        GatewayState::new(sandbox_client(&pbx), KEY)
            .unwrap()
            .audit_log(log.clone()),
    )
    .await;

    // Not confirmed, invalid, or not destructive: no line.
    let all = json!({"input": {"period": {"All": true}}});
    assert_eq!(gw.post(PURGE, &all).await.status, 409);
    let later = json!({"input": {"period": {"Stop": "later"}}, "confirm": true});
    let refused = gw.post(PURGE, &later).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"]["pointer"], "/period/Stop");
    let users = json!({"input": {"$top": 1}});
    assert_eq!(
        gw.post("/v1/actions/Users/ListUser", &users).await.status,
        200
    );
    let paged = json!({"input": {"ids": [1]}, "confirm": true});
    let answer = gw
        .post("/v1/actions/Users/BatchDelete?all=true", &paged)
        .await;
    assert_eq!(answer.status, 400, "never paged: {}", answer.text);
    assert!(pbx
        .requests()
        .iter()
        .all(|r| !r.path.contains("BatchDelete")));
    assert!(lines(&log).is_empty());

    // Sent and refused by the PBX (Start after Stop): a line with the PBX's status.
    let backwards =
        json!({"input": {"period": {"Start": "now", "Stop": "now-1d"}}, "confirm": true});
    let answer = gw.post(PURGE, &backwards).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.json()["error"]["kind"], "upstream_api");

    // A per-action MCP tool, confirmed.
    let calls_before = pbx.counts().call_history;
    purge_calls_through_an_mcp_tool(&pbx, &log).await;
    assert_eq!(pbx.counts().call_history, 0);

    let records = lines(&log);
    assert_eq!(records.len(), 2, "{records:#?}");
    let (gateway, mcp) = (&records[0], &records[1]);
    assert_eq!(gateway["front_end"], "gateway");
    assert_eq!(gateway["action"], "PurgeChats");
    assert_eq!(
        (&gateway["outcome"], &gateway["status"]),
        (&json!("api_error"), &json!(400))
    );
    assert_eq!(gateway["api_key"], key_fingerprint(KEY));
    assert_eq!(gateway["preview_count"], 0, "nothing is after its own stop");
    let stop = gateway["input"]["period"]["Stop"].as_str().unwrap();
    assert!(
        threecx_sandbox::time::parse(stop).is_some(),
        "resolved: {stop}"
    );
    assert_eq!(mcp["front_end"], "mcp");
    assert_eq!(mcp["action"], "PurgeCalls");
    assert_eq!(
        (&mcp["outcome"], &mcp["status"]),
        (&json!("ok"), &json!(204))
    );
    assert_eq!(mcp["preview_count"], calls_before);
    assert_eq!(mcp["api_key"], Value::Null);
    assert_eq!(
        mcp["input"],
        json!({"period": {"All": true}}),
        "confirm is no input"
    );

    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(!text.contains(KEY) && !text.contains(pbx.client_secret()));
    for token in pbx.issued_tokens() {
        assert!(!text.contains(&token));
    }
}

/// Purge Calls (all of them) through its own MCP tool, confirmed, on a server with `log`.
async fn purge_calls_through_an_mcp_tool(pbx: &SandboxHandle, log: &AuditLog) {
    let server = McpServer::new(
        sandbox_client(pbx),
        McpOptions {
            resources: Some(vec!["Purge Settings".into()]),
        },
    )
    .unwrap()
    .audit_log(log.clone());
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let running = server.serve(server_io).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    let client = ().serve(client_io).await.expect("client handshake");
    let arguments = json!({"period": {"All": true}, "confirm": true});
    let done = client
        .call_tool(
            CallToolRequestParams::new("purge_settings__purge_calls")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(done.is_error, Some(false), "{done:?}");
}
