//! Another Rust program using threecx as a library: it finds, describes and calls 3CX actions
//! by resource and action name, the way the CLI, the gateway and the MCP server do, including
//! an extension crate's action.
//!
//! ```text
//! cargo run -p threecx-gateway --example dispatch
//! ```
//! It starts a simulated PBX (the sandbox) in-process on 127.0.0.1, so it needs no PBX and no
//! credentials; with a real one you would build the client from `Config::from_env()` instead.

use futures_util::StreamExt;
use serde_json::json;
use threecx_core::{Client, Error};
use threecx_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Linking the extension crate adds its "User Offboarding" actions to the registry.
    let registry = threecx_example_user_offboarding::registry();

    let pbx = Sandbox::start(SandboxConfig::default()).await?;
    let client = Client::new(pbx.client_config().build()?)?;

    // 1. The catalogue: resources and actions, found by any spelling.
    println!(
        "{} actions in {} resources",
        registry.len(),
        registry.resources().len()
    );
    let op = registry.find("users", "get user by number")?;
    println!(
        "{} / {}: {}",
        op.meta().resource_display,
        op.meta().action_display,
        registry.input_schema(op)["required"]
    );

    // 2. A call by name: one JSON input, validated before anything is sent.
    let status = registry
        .call(&client, "System Status", "Get System Status", json!({}))
        .await?;
    println!("PBX version {}", status.to_json()["Version"]);

    // 3. Invalid input never reaches the PBX: the error names the field.
    match registry
        .call(
            &client,
            "Purge Settings",
            "Purge Chats",
            json!({"period": {"Start": "yesterday"}}),
        )
        .await
    {
        Err(Error::InvalidInput {
            pointer, expected, ..
        }) => println!("refused: {pointer}: expected {expected}"),
        other => return Err(format!("expected InvalidInput, got {other:?}").into()),
    }

    // 4. Destructive actions: a prepared call refuses to send them unless confirmed.
    let refused = registry
        .prepare_named(
            "Purge Settings",
            "Purge Chats",
            json!({"period": {"All": true}}),
        )?
        .confirm(false)
        .send(&client)
        .await;
    println!("unconfirmed purge: {}", refused.unwrap_err());

    // 5. Every item of a list, page by page.
    let list = registry.find("Users", "List User")?;
    let mut users = Box::pin(
        registry
            .prepare(list, json!({"$select": ["Number", "FirstName"]}))?
            .pages::<serde_json::Value>(&client, 10)?,
    );
    let mut numbers = Vec::new();
    while let Some(user) = users.next().await {
        numbers.push(user?["Number"].as_str().unwrap_or_default().to_owned());
    }
    println!("{} users: {}", numbers.len(), numbers.join(" "));

    // 6. An extension action, composed in Rust from generated ones.
    let out = registry
        .call(
            &client,
            "User Offboarding",
            "Disable User",
            json!({"Number": numbers[0]}),
        )
        .await?;
    println!("disabled: {}", out.to_json());

    pbx.shutdown().await?;
    Ok(())
}
