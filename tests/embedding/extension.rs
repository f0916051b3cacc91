//! The User Offboarding extension crate: registered, described, and composed from generated
//! actions against the sandbox, through the registry, the gateway and the MCP server.

use serde_json::json;
use threecx_core::Error;
use threecx_registry::ActionKind;

use crate::support::{self, Gateway};

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
    let client = support::client(&pbx);
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
        support::client(&pbx),
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
