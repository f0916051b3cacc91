//! The n8n description: every generated action as resource / operation / properties.

use serde_json::Value;
use threecx_registry::{ActionKind, Operation, Registry};

/// The generated actions only (this test binary also links the User Offboarding extension).
fn generated_only() -> Registry {
    let global = threecx_example_user_offboarding::registry();
    let models = serde_json::to_string(global.models()).unwrap();
    Registry::from_operations(
        global
            .actions()
            .iter()
            .copied()
            .filter(|op: &&'static dyn Operation| op.meta().kind != ActionKind::Custom),
        [models.as_str()],
    )
    .unwrap()
}

fn field<'a>(export: &'a Value, resource: &str, operation: &str, display: &str) -> &'a Value {
    export["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["displayName"] == display
                && p["displayOptions"]["show"]["resource"][0] == resource
                && p["displayOptions"]["show"]["operation"][0] == operation
        })
        .unwrap_or_else(|| panic!("no property {display} for {resource}/{operation}"))
}

#[test]
fn purge_chats_has_a_json_period() {
    let export = threecx_gateway::n8n::export(&generated_only());
    assert_eq!(export["counts"]["resources"], 132);
    assert_eq!(export["counts"]["operations"], 601);

    let resources = export["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 132);
    let purge = resources
        .iter()
        .find(|r| r["name"] == "Purge Settings")
        .expect("resource Purge Settings");
    assert_eq!(purge["value"], "PurgeSettings");

    let ops = export["operations"]["PurgeSettings"].as_array().unwrap();
    let chats = ops
        .iter()
        .find(|o| o["name"] == "Purge Chats")
        .expect("operation Purge Chats");
    assert_eq!(chats["value"], "PurgeChats");
    assert_eq!(chats["action"], "Purge Chats");
    assert!(chats["description"]
        .as_str()
        .unwrap()
        .contains("Destructive"));
    let total: usize = export["operations"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(total, 601);

    let period = field(&export, "PurgeSettings", "PurgeChats", "Period");
    assert_eq!(period["name"], "period");
    assert_eq!(period["type"], "json");
    assert_eq!(period["required"], false);
    assert_eq!(period["default"], "{}");
    assert_eq!(
        export["actions"]["PurgeSettings"]["PurgeChats"]["destructive"],
        true
    );

    // The node's selectors.
    let props = export["properties"].as_array().unwrap();
    assert_eq!(props[0]["name"], "resource");
    assert_eq!(props[0]["type"], "options");
    assert_eq!(props[0]["options"].as_array().unwrap().len(), 132);
    let operation_selectors = props.iter().filter(|p| p["name"] == "operation").count();
    assert_eq!(operation_selectors, 132);
}

#[test]
fn every_property_is_well_formed() {
    let export = threecx_gateway::n8n::export(&generated_only());
    let allowed = [
        "string",
        "number",
        "boolean",
        "json",
        "options",
        "collection",
    ];
    for p in export["properties"].as_array().unwrap() {
        let ty = p["type"].as_str().unwrap();
        assert!(allowed.contains(&ty), "{p}");
        assert!(
            p["displayName"].as_str().is_some_and(|d| !d.is_empty()),
            "{p}"
        );
        assert!(p.get("default").is_some(), "{p}");
        if p["name"] == "resource" {
            continue;
        }
        assert!(p["displayOptions"]["show"]["resource"].is_array(), "{p}");
        if p["name"] != "operation" {
            assert!(p["displayOptions"]["show"]["operation"].is_array(), "{p}");
            assert_ne!(p["name"], "resource", "{p}");
        }
        if ty == "options" {
            let values: Vec<&Value> = p["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| &o["value"])
                .collect();
            assert!(
                values.contains(&&p["default"]),
                "default among the options: {p}"
            );
        }
        if ty == "collection" {
            assert_eq!(p["name"], threecx_gateway::n8n::QUERY_OPTIONS);
            for o in p["options"].as_array().unwrap() {
                assert!(o["name"].as_str().unwrap().starts_with('$'), "{o}");
            }
        }
    }
}

#[test]
fn types_follow_the_schemas() {
    let export = threecx_gateway::n8n::export(&generated_only());
    let number = field(&export, "Users", "GetUserByNumber", "Number");
    assert_eq!(number["type"], "string");
    assert_eq!(number["required"], true);
    let update = field(&export, "Users", "UpdateUser", "Id");
    assert_eq!(update["type"], "number");
    assert_eq!(update["typeOptions"]["numberPrecision"], 0);
    assert_eq!(
        field(&export, "Users", "UpdateUser", "Body")["type"],
        "json"
    );

    let query = field(&export, "Users", "ListUser", "Query Options");
    assert_eq!(query["type"], "collection");
    let options = query["options"].as_array().unwrap();
    let by_name = |n: &str| options.iter().find(|o| o["name"] == n).unwrap();
    assert_eq!(by_name("$top")["type"], "number");
    assert_eq!(by_name("$top")["displayName"], "Top");
    assert_eq!(by_name("$select")["type"], "string");
    assert_eq!(by_name("$count")["type"], "boolean");
    assert_eq!(by_name("$orderby")["displayName"], "Order By");

    // Somewhere an enum becomes options.
    assert!(export["properties"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["type"] == "options" && p["name"] != "resource" && p["name"] != "operation"));
}

#[test]
fn the_extension_is_exported_too() {
    let export = threecx_gateway::n8n::export(threecx_example_user_offboarding::registry());
    assert_eq!(export["counts"]["resources"], 133);
    assert_eq!(export["counts"]["operations"], 603);
    let ops = export["operations"]["UserOffboarding"].as_array().unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Disable User", "Offboard User"]);
    let number = field(&export, "UserOffboarding", "DisableUser", "Number");
    assert_eq!(number["type"], "string");
    assert_eq!(number["required"], true);
    let before = field(
        &export,
        "UserOffboarding",
        "OffboardUser",
        "Purge Chats Before",
    );
    assert_eq!(before["type"], "string");
    assert_eq!(before["required"], false);
    assert_eq!(
        export["actions"]["UserOffboarding"]["OffboardUser"]["destructive"],
        true
    );
}
