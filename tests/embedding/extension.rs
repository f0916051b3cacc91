//! The User Offboarding extension crate: registered, described, and composed from generated
//! actions against the sandbox, through the registry, the gateway and the MCP server.

use serde_json::json;
use threecx_core::Error;
use threecx_registry::ActionKind;

use threecx_sandbox::SandboxHandle;

use crate::support::{self, Gateway};

/// `ALL_ACTIONS` lists the generated actions, and the registry holds each of them, next to the
/// extension's (which only `inventory` brings in).
#[test]
fn all_actions_are_the_generated_ones_in_the_registry() {
    let registry = threecx_example_user_offboarding::registry();
    assert_eq!(threecx_ops::ALL_ACTIONS.len(), 601);
    assert_eq!(registry.len(), threecx_ops::ALL_ACTIONS.len() + 2);
    for action in threecx_ops::ALL_ACTIONS {
        let op = registry
            .find(action.meta.resource, action.meta.action)
            .unwrap();
        assert!(
            std::ptr::eq(op.meta(), &action.meta),
            "{}",
            action.meta.action
        );
    }
}

#[test]
fn appears_in_the_registry_with_its_schemas() {
    let registry = threecx_example_user_offboarding::registry();
    let resource = registry.find_resource("User Offboarding").unwrap();
    assert_eq!(resource.name(), "UserOffboarding");
    let actions: Vec<_> = resource
        .actions()
        .iter()
        .map(|op| (op.meta().action_display, op.meta().destructive))
        .collect();
    assert_eq!(actions, [("Disable User", false), ("Offboard User", true)]);
    // Like every generated action (what `threecx list` shows: 133 resources with it linked).
    assert_eq!(registry.len(), 603);
    assert_eq!(registry.resources().len(), 133);

    let op = registry.find("user-offboarding", "disable user").unwrap();
    assert_eq!(op.meta().kind, ActionKind::Custom);
    let input = registry.input_schema(op);
    assert_eq!(input["required"], json!(["Number"]));
    assert_eq!(input["properties"]["Number"]["type"], "string");
    assert_eq!(
        registry.output_schema(op)["properties"]["Enabled"]["const"],
        false
    );
    assert_eq!(registry.example_input(op), json!({"Number": "string"}));

    let op = registry.find("User Offboarding", "Offboard User").unwrap();
    let input = registry.input_schema(op);
    assert_eq!(
        input["properties"]["purge_chats_before"]["format"],
        "date-time"
    );
    let e = registry
        .validate(
            op,
            &json!({"Number": "100", "purge_chats_before": "yesterday"}),
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::InvalidInput { ref pointer, .. } if pointer == "/purge_chats_before"),
        "{e}"
    );
}

#[tokio::test]
async fn disable_user_disables_it_in_the_sandbox() {
    let pbx = support::sandbox().await;
    let client = threecx_test_support::sandbox::sandbox_client(&pbx);
    let registry = threecx_example_user_offboarding::registry();
    let enabled = || async {
        registry
            .call(
                &client,
                "Users",
                "Get User By Number",
                json!({"Number": "102"}),
            )
            .await
            .unwrap()
            .to_json()["Enabled"]
            .clone()
    };
    // Make sure the user starts enabled, whatever the seed says.
    let user = registry
        .call(
            &client,
            "Users",
            "GetUserByNumber",
            json!({"Number": "102"}),
        )
        .await
        .unwrap()
        .to_json();
    registry
        .call(
            &client,
            "Users",
            "UpdateUser",
            json!({"Id": user["Id"], "body": {"Enabled": true}}),
        )
        .await
        .unwrap();
    assert_eq!(enabled().await, true);

    let out = registry
        .call(
            &client,
            "User Offboarding",
            "Disable User",
            json!({"Number": "102"}),
        )
        .await
        .unwrap()
        .to_json();
    assert_eq!(out["Number"], "102");
    assert_eq!(out["Id"], user["Id"]);
    assert_eq!(out["Enabled"], false);
    assert_eq!(out["WasEnabled"], true);
    assert_eq!(enabled().await, false);
    assert_eq!(pbx.count("PATCH", "/xapi/v1/Users("), 2);

    // An unknown number: the PBX's 404, nothing updated.
    let e = registry
        .call(
            &client,
            "User Offboarding",
            "Disable User",
            json!({"Number": "99999"}),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 404, .. }), "{e}");
    assert_eq!(pbx.count("PATCH", "/xapi/v1/Users("), 2);
}

#[tokio::test]
async fn offboarding_through_the_gateway_needs_confirmation() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;

    let listed = gw
        .get("/v1/actions?resource=User%20Offboarding")
        .await
        .json();
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["actions"][0]["returns"], "composed");
    assert_eq!(listed["actions"][0]["method"], serde_json::Value::Null);

    let body = json!({"input": {"Number": "103", "purge_chats_before": "2100-01-01T00:00:00Z"}});
    let refused = gw
        .post("/v1/actions/User%20Offboarding/Offboard%20User", &body)
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(pbx.requests().is_empty(), "nothing was sent");

    let mut confirmed = body.clone();
    confirmed["confirm"] = json!(true);
    let done = gw
        .post("/v1/actions/UserOffboarding/OffboardUser", &confirmed)
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let result = &done.json()["result"];
    assert_eq!(result["user"]["Number"], "103");
    assert_eq!(result["user"]["Enabled"], false);
    assert_eq!(result["chats_purged_before"], "2100-01-01T00:00:00Z");
    assert_eq!(pbx.counts().chat_messages, 0, "every chat is before 2100");

    let check = gw
        .post(
            "/v1/actions/Users/GetUserByNumber",
            &json!({"input": {"Number": "103"}}),
        )
        .await;
    assert_eq!(check.json()["result"]["Enabled"], false);

    // Disable User is not destructive: no confirmation needed.
    let disabled = gw
        .post(
            "/v1/actions/User%20Offboarding/Disable%20User",
            &json!({"input": {"Number": "104"}}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
}

#[tokio::test]
async fn extension_tools_over_mcp() {
    use threecx_gateway::mcp::{McpOptions, McpServer};
    let pbx = support::sandbox().await;
    let server = McpServer::new(
        threecx_test_support::sandbox::sandbox_client(&pbx),
        McpOptions {
            resources: Some(vec!["User Offboarding".into()]),
        },
    )
    .unwrap();
    let names: Vec<&str> = server.tools().iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"user_offboarding__disable_user"),
        "{names:?}"
    );
    let offboard = server
        .tools()
        .iter()
        .find(|t| t.name == "user_offboarding__offboard_user")
        .unwrap();
    assert_eq!(
        offboard.input_schema["properties"]["confirm"]["type"],
        "boolean"
    );
    assert_eq!(offboard.input_schema["required"], json!(["Number"]));
}

/// `threecx` built with `--features user-offboarding` (the extension linked in), in a target
/// folder of its own so that it never replaces the plain binary other tests run.
fn threecx_with_extension() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("with-extension");
    threecx_test_support::build::cargo_build("threecx-cli")
        .bin("threecx")
        .features("user-offboarding")
        .target_dir(target)
        .run()
        .unwrap_or_else(|e| panic!("cargo build -p threecx-cli --features user-offboarding: {e}"))
        .path()
        .to_owned()
}

/// Runs the extended binary against `pbx` (empty environment otherwise): exit code, stdout,
/// stderr.
fn run_cli(bin: &std::path::Path, pbx: &SandboxHandle, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(bin)
        .args(args)
        .env_clear()
        .env("THREECX_CONFIG", "/nonexistent/threecx-tests/config.toml")
        .env("THREECX_URL", pbx.url())
        .env("THREECX_CLIENT_ID", pbx.client_id())
        .env("THREECX_CLIENT_SECRET", pbx.client_secret())
        .arg("--no-token-cache")
        // Not into the user's own audit log.
        .arg("--no-audit-log")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run threecx");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_built_with_the_extension_lists_describes_and_calls_it() {
    let bin = tokio::task::spawn_blocking(threecx_with_extension)
        .await
        .unwrap();
    let pbx = std::sync::Arc::new(support::sandbox().await);
    let cli = |args: &'static [&'static str]| {
        let (bin, pbx) = (bin.clone(), pbx.clone());
        async move {
            tokio::task::spawn_blocking(move || run_cli(&bin, &pbx, args))
                .await
                .unwrap()
        }
    };

    let (code, out, err) = cli(&["list", "--output", "json"]).await;
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            list["resource_count"].as_u64(),
            list["action_count"].as_u64()
        ),
        (Some(133), Some(603))
    );

    let (code, out, err) = cli(&["list", "User Offboarding"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Disable User") && out.contains("Offboard User"),
        "{out}"
    );

    let (code, out, err) = cli(&[
        "describe",
        "user-offboarding",
        "offboard-user",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let described: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(described["destructive"], true, "{described}");
    assert_eq!(
        described["input_schema"]["properties"]["purge_chats_before"]["format"], "date-time",
        "{described}"
    );

    let (code, out, err) = cli(&[
        "call",
        "User Offboarding",
        "Disable User",
        "--param",
        "Number=101",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let user: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&user["Number"], &user["Enabled"]),
        (&json!("101"), &json!(false)),
        "{user}"
    );

    // The README's line: on a PBX simulated for the one command.
    let (code, out, err) = cli(&[
        "--sandbox",
        "call",
        "User Offboarding",
        "Disable User",
        "--param",
        "Number=100",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let user: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(user["Enabled"], false, "{user}");

    // Destructive: refused without --yes (no terminal), and nothing reaches the PBX.
    let purges = pbx.count("POST", "/xapi/v1/PurgeChats");
    let (code, _, err) = cli(&[
        "call",
        "User Offboarding",
        "Offboard User",
        "--param",
        "Number=102",
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(pbx.count("POST", "/xapi/v1/PurgeChats"), purges);
}
