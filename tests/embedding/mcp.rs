//! The MCP server with a real MCP client: rmcp's client and the server over an in-process
//! duplex pipe (the same newline-delimited JSON-RPC as stdio), the server calling the sandbox.

use serde_json::{json, Value};
use threecx_gateway::mcp::{McpOptions, McpServer};
use threecx_gateway::rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use threecx_gateway::rmcp::service::RunningService;
use threecx_gateway::rmcp::{RoleClient, ServiceExt};
use threecx_sandbox::SandboxHandle;

use crate::support;

/// Connects an rmcp client to a fresh server over a duplex pipe; the handshake (initialize,
/// initialized) happens here.
async fn connect(pbx: &SandboxHandle, options: McpOptions) -> RunningService<RoleClient, ()> {
    let server = McpServer::new(threecx_test_support::sandbox::sandbox_client(pbx), options)
        .expect("server");
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let running = server.serve(server_io).await.expect("server handshake");
        let _ = running.waiting().await;
    });
    ().serve(client_io).await.expect("client handshake")
}

/// Options adding the per-action tools of `resource`.
fn with_tools_of(resource: &str) -> McpOptions {
    McpOptions {
        resources: Some(vec![resource.into()]),
    }
}

fn args(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        other => panic!("arguments must be an object: {other}"),
    }
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args(arguments)))
        .await
        .expect("tools/call answered")
}

fn structured(result: &CallToolResult) -> &Value {
    result
        .structured_content
        .as_ref()
        .unwrap_or_else(|| panic!("no structured content: {result:?}"))
}

#[tokio::test]
async fn handshake_lists_and_calls_tools() {
    let pbx = support::sandbox().await;
    let client = connect(&pbx, McpOptions::default()).await;

    let info = client.peer_info().expect("server info after initialize");
    assert_eq!(info.server_info.as_ref().unwrap().name, "threecx");
    assert!(info.capabilities.tools.is_some());
    assert!(info.instructions.as_deref().unwrap().contains("confirm"));

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["list_actions", "describe_action", "call_action"]);
    let call_tool = tools.iter().find(|t| t.name == "call_action").unwrap();
    assert_eq!(
        call_tool.input_schema["required"],
        json!(["resource", "action"])
    );

    let listed = call(&client, "list_actions", json!({"q": "purge chats"})).await;
    assert_eq!(listed.is_error, Some(false));
    let listed = structured(&listed);
    assert!(listed["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "PurgeChats" && a["destructive"] == true));

    let limited = call(
        &client,
        "list_actions",
        json!({"resource": "Users", "limit": 2}),
    )
    .await;
    let limited = structured(&limited);
    assert_eq!(limited["count"], 2);
    assert_eq!(limited["truncated"], true);

    let described = call(
        &client,
        "describe_action",
        json!({"resource": "Users", "action": "Get User By Number"}),
    )
    .await;
    let described = structured(&described);
    assert_eq!(described["input_schema"]["required"], json!(["Number"]));

    let status = call(
        &client,
        "call_action",
        json!({"resource": "System Status", "action": "Get System Status"}),
    )
    .await;
    assert_eq!(status.is_error, Some(false), "{status:?}");
    assert_eq!(structured(&status)["result"]["Version"], "20.0.10");
    assert_eq!(pbx.count("GET", "/xapi/v1/SystemStatus"), 1);

    let user = call(
        &client,
        "call_action",
        json!({"resource": "Users", "action": "GetUserByNumber", "input": {"Number": "100"}}),
    )
    .await;
    assert_eq!(structured(&user)["result"]["Number"], "100");

    client.cancel().await.expect("client closes");
}

#[tokio::test]
async fn destructive_actions_need_confirm() {
    let pbx = support::sandbox().await;
    let client = connect(&pbx, McpOptions::default()).await;
    let before = pbx.counts().chat_messages;

    let refused = call(
        &client,
        "call_action",
        json!({"resource": "Purge Settings", "action": "Purge Chats",
               "input": {"period": {"All": true}}}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert_eq!(structured(&refused)["error"]["kind"], "not_confirmed");
    assert!(pbx.requests().is_empty(), "nothing was sent");
    assert_eq!(pbx.counts().chat_messages, before);

    let invalid = call(
        &client,
        "call_action",
        json!({"resource": "Purge Settings", "action": "Purge Chats",
               "input": {"period": {"Start": "yesterday"}}, "confirm": true}),
    )
    .await;
    assert_eq!(invalid.is_error, Some(true));
    assert_eq!(structured(&invalid)["error"]["pointer"], "/period/Start");

    let unknown = call(
        &client,
        "call_action",
        json!({"resource": "Purge Setings", "action": "Purge Chats"}),
    )
    .await;
    assert_eq!(unknown.is_error, Some(true));
    assert_eq!(
        structured(&unknown)["error"]["suggestions"],
        json!(["Purge Settings"])
    );
    assert!(pbx.requests().is_empty());

    let done = call(
        &client,
        "call_action",
        json!({"resource": "Purge Settings", "action": "Purge Chats",
               "input": {"period": {"All": true}}, "confirm": true}),
    )
    .await;
    assert_eq!(done.is_error, Some(false), "{done:?}");
    assert_eq!(structured(&done)["result"], Value::Null);
    // What the purge removed, counted just before it was sent.
    assert_eq!(structured(&done)["preview"]["count"], before, "{done:?}");
    assert_eq!(pbx.counts().chat_messages, 0);

    // Arguments the tool does not take are a tool error too.
    let bad = call(&client, "call_action", json!({"resource": "Users"})).await;
    assert_eq!(bad.is_error, Some(true));
    // An unknown tool is a protocol error.
    assert!(client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await
        .is_err());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn resources_option_adds_one_tool_per_action() {
    let pbx = support::sandbox().await;
    let client = connect(
        &pbx,
        McpOptions {
            resources: Some(vec!["Users".into(), "purge settings".into()]),
        },
    )
    .await;
    let tools = client.list_all_tools().await.unwrap();
    let users = threecx_ops::registry().find_resource("Users").unwrap();
    let purge = threecx_ops::registry()
        .find_resource("Purge Settings")
        .unwrap();
    assert_eq!(
        tools.len(),
        3 + users.actions().len() + purge.actions().len()
    );
    let list_user = tools.iter().find(|t| t.name == "users__list_user").unwrap();
    assert!(list_user.input_schema["properties"]["$top"].is_object());
    assert!(list_user.input_schema["properties"]
        .get("confirm")
        .is_none());
    let annotations = list_user.annotations.as_ref().unwrap();
    assert_eq!(annotations.read_only_hint, Some(true));

    let purge_chats = tools
        .iter()
        .find(|t| t.name == "purge_settings__purge_chats")
        .unwrap();
    assert_eq!(
        purge_chats.input_schema["properties"]["confirm"]["type"],
        "boolean"
    );
    assert!(purge_chats.input_schema["properties"]["period"].is_object());
    assert_eq!(
        purge_chats.annotations.as_ref().unwrap().destructive_hint,
        Some(true)
    );

    let listed = call(
        &client,
        "users__list_user",
        json!({"$top": 3, "$select": "Id,Number"}),
    )
    .await;
    assert_eq!(listed.is_error, Some(false), "{listed:?}");
    assert_eq!(
        structured(&listed)["result"]["value"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let by_number = call(
        &client,
        "users__get_user_by_number",
        json!({"Number": "101"}),
    )
    .await;
    assert_eq!(structured(&by_number)["result"]["Number"], "101");

    let requests = pbx.requests().len();
    let refused = call(
        &client,
        "purge_settings__purge_chats",
        json!({"period": {"All": true}}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(structured(&refused)["error"]["kind"], "not_confirmed");
    assert_eq!(pbx.requests().len(), requests, "nothing was sent");
    let done = call(
        &client,
        "purge_settings__purge_chats",
        json!({"period": {"All": true}, "confirm": true}),
    )
    .await;
    assert_eq!(done.is_error, Some(false), "{done:?}");
    assert_eq!(pbx.counts().chat_messages, 0);
    client.cancel().await.unwrap();

    // Unknown resources are refused up front, with suggestions.
    let e = McpServer::new(
        threecx_test_support::sandbox::sandbox_client(&pbx),
        McpOptions {
            resources: Some(vec!["Userz".into()]),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("did you mean: Users"), "{e}");
}

#[tokio::test]
async fn tool_answers_never_contain_pbx_secrets() {
    let pbx = support::sandbox().await;
    let client = connect(&pbx, with_tools_of("System Status")).await;
    let mut seen = String::new();
    for (tool, arguments) in [
        (
            "call_action",
            json!({"resource": "Users", "action": "ListUser", "input": {"$top": 2}}),
        ),
        (
            "call_action",
            json!({"resource": "Users", "action": "GetUserByNumber", "input": {"Number": "nobody"}}),
        ),
        ("system_status__get_system_status", json!({})),
        (
            "describe_action",
            json!({"resource": "Users", "action": "List User"}),
        ),
    ] {
        let result = call(&client, tool, arguments).await;
        seen.push_str(&serde_json::to_string(&result).unwrap());
    }
    assert!(!seen.contains(pbx.client_secret()));
    for token in pbx.issued_tokens() {
        assert!(!seen.contains(&token));
    }
    client.cancel().await.unwrap();
}

/// `serve_stdio` in its own process (the `mcp_stdio` example, as `threecx mcp` runs it), spoken
/// to as an MCP client does: newline-delimited JSON-RPC on its stdin and stdout.
#[tokio::test]
async fn stdio_server_in_a_child_process() {
    use std::io::{BufRead, BufReader, Write};
    use std::time::Duration;

    let pbx = support::sandbox().await;
    let (url, id, secret) = (
        pbx.url(),
        pbx.client_id().to_owned(),
        pbx.client_secret().to_owned(),
    );
    let outcome = tokio::task::spawn_blocking(move || {
        let mut child = start_the_mcp_stdio_example(&url, &id, &secret);
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut send = |message: serde_json::Value| {
            writeln!(stdin, "{message}").unwrap();
            stdin.flush().unwrap();
        };
        let answer = |want: u64| -> serde_json::Value {
            loop {
                let line = lines
                    .recv_timeout(Duration::from_secs(30))
                    .expect("an answer within 30 s");
                let message: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"));
                if message["id"] == want {
                    return message;
                }
            }
        };
        send(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "embedding-test", "version": "0"}}}),
        );
        let init = answer(1);
        send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
        let tools = answer(2);
        send(
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "call_action",
            "arguments": {"resource": "SystemStatus", "action": "GetSystemStatus"}}}),
        );
        let status = answer(3);
        send(
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "users__get_user_by_number", "arguments": {"Number": "100"}}}),
        );
        let user = answer(4);
        drop(stdin); // end of input: the server stops
        let exit = child.wait().expect("the server exits");
        (init, tools, status, user, exit)
    })
    .await
    .unwrap();
    let (init, tools, status, user, exit) = outcome;
    assert_eq!(init["result"]["serverInfo"]["name"], "threecx", "{init}");
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"call_action") && names.contains(&"users__list_user"),
        "{names:?}"
    );
    assert_eq!(status["result"]["isError"], false, "{status}");
    assert_eq!(
        status["result"]["structuredContent"]["result"]["Version"],
        "20.0.10"
    );
    assert_eq!(
        user["result"]["structuredContent"]["result"]["Number"], "100",
        "{user}"
    );
    assert!(exit.success(), "{exit:?}");
}

/// Builds the `mcp_stdio` example and starts it for the `Users` resource against the PBX at
/// `url`, with pipes for stdin, stdout and stderr.
fn start_the_mcp_stdio_example(url: &str, id: &str, secret: &str) -> std::process::Child {
    let built = threecx_test_support::build::cargo_build("threecx-gateway")
        .example("mcp_stdio")
        .run()
        .expect("cargo build --example mcp_stdio");
    std::process::Command::new(built.path())
        .arg("Users")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("THREECX_URL", url)
        .env("THREECX_CLIENT_ID", id)
        .env("THREECX_CLIENT_SECRET", secret)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn mcp_stdio")
}

/// Issue 13: an MCP call, generic or per action, looks its action up once and validates its
/// input once (the server's handler runs on this test's thread; see the gateway's twin test).
#[tokio::test]
async fn a_call_looks_its_action_up_once_and_validates_once() {
    use threecx_registry::test_util::{lookups, validations};
    let pbx = support::sandbox().await;
    let client = connect(&pbx, with_tools_of("System Status")).await;
    let generic = json!({"resource": "System Status", "action": "Get System Status"});
    // The first call also fetches the token and compiles the validator.
    assert_eq!(
        call(&client, "call_action", generic.clone()).await.is_error,
        Some(false)
    );

    for (tool, arguments) in [
        ("call_action", generic),
        ("system_status__get_system_status", json!({})),
    ] {
        let (looked_up, validated) = (lookups(), validations());
        let result = call(&client, tool, arguments).await;
        assert_eq!(result.is_error, Some(false), "{tool}: {result:?}");
        assert_eq!(
            structured(&result)["result"]["Version"],
            "20.0.10",
            "{tool}"
        );
        assert_eq!(lookups() - looked_up, 1, "{tool}: lookups per call");
        assert_eq!(validations() - validated, 1, "{tool}: validations per call");
    }
}
