//! The rules of a real 3CX that the sandbox keeps: one numbering plan over every DN type,
//! numbers that cannot change, group membership from both sides, references that must exist,
//! `Init*` numbers, licence facts that agree, and the OData details (`$expand`, lambdas,
//! `@odata.context`, 415). Refusals come in 3CX's validation error shape.

use serde_json::{json, Value};
use threecx_core::Error;

use crate::support::{call, ok, Raw};
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

/// One entity of each DN type, created with `number` (its other required fields filled in).
fn dn_body(set: &str, number: &str) -> Value {
    match set {
        "Users" => json!({"FirstName": "Dn", "LastName": "Test", "Number": number}),
        "Fax" | "Parkings" => json!({"Number": number}),
        _ => json!({"Name": format!("{set} {number}"), "Number": number}),
    }
}

/// The DN sets with a create action, and that action's resource / action names.
const DN_CREATES: &[(&str, &str, &str)] = &[
    ("Users", "Users", "Create User"),
    ("Groups", "Groups", "Create Group"),
    ("RingGroups", "Ring Groups", "Create Ring Group"),
    ("Queues", "Queues", "Create Queue"),
    ("Receptionists", "Receptionists", "Create Receptionist"),
    ("Fax", "Fax", "Create Fax"),
    ("Parkings", "Parkings", "Create Parking"),
];

/// The details of a 3CX validation error: (target, code) pairs.
fn details(e: &Error) -> Vec<(String, String)> {
    match e {
        Error::Api {
            status: 400,
            details,
            ..
        } => details
            .iter()
            .map(|d| (d.target.clone().unwrap_or_default(), d.message.clone()))
            .collect(),
        other => panic!("expected a 400 validation error, got {other:?}"),
    }
}

fn already_in_use() -> Vec<(String, String)> {
    vec![("Number".into(), "WARNINGS.XAPI.ALREADY_IN_USE".into())]
}

#[tokio::test]
async fn every_dn_type_shares_one_numbering_plan() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let registry = threecx_ops::registry();
    // Each type in turn takes a number, and every other type is then refused it.
    for (i, (set, resource, action)) in DN_CREATES.iter().enumerate() {
        registry
            .find(resource, action)
            .expect("the create action exists");
        let number = format!("{}", 700 + i);
        let created = ok(&c, resource, action, json!({"body": dn_body(set, &number)})).await;
        assert_eq!(created["Number"], number.as_str(), "{set}");
        for (other, other_resource, other_action) in DN_CREATES {
            let e = call(
                &c,
                other_resource,
                other_action,
                json!({"body": dn_body(other, &number)}),
            )
            .await
            .expect_err("a number in use by another DN is refused");
            assert_eq!(details(&e), already_in_use(), "{other} with {set}'s number");
        }
        // The number cannot be changed, not even to a free one.
        let id = created["Id"].clone();
        let update = action.replace("Create", "Update");
        let get = action.replace("Create", "Get");
        let e = call(
            &c,
            resource,
            &update,
            json!({"Id": id, "body": {"Number": "799"}}),
        )
        .await
        .expect_err("a DN's number cannot change");
        assert_eq!(
            details(&e),
            [("Number".into(), "WARNINGS.XAPI.FORBIDDEN_CHANGE".into())]
        );
        let stored = ok(&c, resource, &get, json!({"Id": id})).await;
        assert_eq!(stored["Number"], number.as_str(), "{set}: unchanged");
        // The same number again is no change.
        ok(
            &c,
            resource,
            &update,
            json!({"Id": id, "body": {"Number": number}}),
        )
        .await;
    }
    // A seeded user's number is taken for every type.
    let e = call(
        &c,
        "Queues",
        "Create Queue",
        json!({"body": dn_body("Queues", "100")}),
    )
    .await
    .unwrap_err();
    assert_eq!(details(&e), already_in_use());
}

#[tokio::test]
async fn the_refusal_has_3cxs_shape_and_fits_the_spec() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    let r = raw
        .http
        .post(format!("{}/xapi/v1/Users", raw.base))
        .bearer_auth(&token)
        .json(&json!({"FirstName": "A", "Number": "100"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": "", "message": "Number:\nWARNINGS.XAPI.ALREADY_IN_USE",
            "details": [{"code": "", "message": "WARNINGS.XAPI.ALREADY_IN_USE", "target": "Number"}]}})
    );
    // The spec's error response schema.
    let registry = threecx_ops::registry();
    let mut schema = json!({"$ref": "#/$defs/ODataErrors.ODataError"});
    schema["$defs"] = Value::Object(registry.models().clone());
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(false)
        .build(&schema)
        .unwrap();
    assert!(validator.is_valid(&body), "{body}");
}

#[tokio::test]
async fn group_membership_is_seen_from_both_sides() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    // Seeded: every user belongs to a seeded group, its primary group.
    let user = ok(
        &c,
        "Users",
        "Get User",
        json!({"Id": 2, "$expand": "Groups"}),
    )
    .await;
    let primary = user["PrimaryGroupId"].clone();
    assert_eq!(user["Groups"][0]["GroupId"], primary);
    let members = ok(&c, "Groups", "List Members", json!({"Id": primary})).await;
    assert!(members["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["Number"] == user["Number"]));

    // A user added to a group appears among its members...
    let created = ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "Grace", "LastName": "Hopper", "Number": "650",
            "Groups": [{"GroupId": 3, "Rights": {"RoleName": "users"}}]}}),
    )
    .await;
    assert_eq!(created["PrimaryGroupId"], 3);
    let members = ok(&c, "Groups", "List Members", json!({"Id": 3})).await;
    let numbers: Vec<&str> = members["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Number"].as_str().unwrap())
        .collect();
    assert!(numbers.contains(&"650"), "{numbers:?}");
    // ... and members set on the group appear in the user's groups.
    ok(
        &c,
        "Groups",
        "Update Group",
        json!({"Id": 2, "body": {"Members": [{"Number": "650"}, {"Number": "100"}]}}),
    )
    .await;
    let user = ok(
        &c,
        "Users",
        "Get User By Number",
        json!({"Number": "650", "$expand": "Groups"}),
    )
    .await;
    let ids: Vec<i64> = user["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["GroupId"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&2) && ids.contains(&3), "{ids:?}");
    let group = ok(
        &c,
        "Groups",
        "Get Group",
        json!({"Id": 2, "$expand": "Members", "$select": ["Id", "Name"]}),
    )
    .await;
    assert_eq!(group["Name"], "Support");
    assert_eq!(
        group.as_object().unwrap().len(),
        4,
        "Id, Name, Members, @odata.context: {group}"
    );
    assert!(group["Members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["Number"] == "650"));
    // Lambda filters see the membership.
    let in_two = ok(
        &c,
        "Users",
        "List User",
        json!({"$filter": "Groups/any(g: g/GroupId eq 2)", "$select": ["Number"]}),
    )
    .await;
    assert!(in_two["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["Number"] == "650"));
}

#[tokio::test]
async fn references_to_groups_and_numbers_that_do_not_exist_are_refused() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let e = call(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "No", "Number": "651", "Groups": [{"GroupId": 99}]}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        details(&e),
        [("Groups".into(), "WARNINGS.XAPI.NOT_FOUND".into())]
    );
    let e = call(
        &c,
        "Users",
        "Update User",
        json!({"Id": 1, "body": {"PrimaryGroupId": 99}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        details(&e),
        [("PrimaryGroupId".into(), "WARNINGS.XAPI.NOT_FOUND".into())]
    );
    let e = call(
        &c,
        "Groups",
        "Update Group",
        json!({"Id": 2, "body": {"Members": [{"Number": "98765"}]}}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        details(&e),
        [(
            "Members".into(),
            "WARNINGS.XAPI.NON_EXISTENT_EXT_NUMBER".into()
        )]
    );
}

#[tokio::test]
async fn init_then_create_gives_a_fresh_number_each_time() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let mut numbers = Vec::new();
    for i in 0..3 {
        let init = ok(&c, "Fax", "Init Fax", json!({})).await;
        let number = init["Number"].as_str().unwrap().to_owned();
        // Defaults, not a row of nulls.
        assert!(
            init.as_object()
                .unwrap()
                .values()
                .filter(|v| !v.is_null())
                .count()
                > 3,
            "{init}"
        );
        let mut body = init.clone();
        let o = body.as_object_mut().unwrap();
        o.remove("@odata.context");
        o.remove("Id");
        o.insert("OutboundCallerId".into(), json!(format!("+4420700000{i}")));
        let created = ok(&c, "Fax", "Create Fax", json!({"body": body})).await;
        assert_eq!(created["Number"], number.as_str());
        numbers.push(number);
    }
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "{numbers:?}");

    // A trunk from a template that exists, and a refusal for one that does not.
    let templates = ok(&c, "Trunk Templates", "List Trunk Template", json!({})).await;
    let template = templates["value"][0]["Id"].as_str().unwrap().to_owned();
    let trunk = ok(&c, "Trunks", "Init Trunk", json!({"template": template})).await;
    assert!(trunk["Number"].as_str().is_some_and(|n| !n.is_empty()));
    let e = call(
        &c,
        "Trunks",
        "Init Trunk",
        json!({"template": "no-such-template"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        details(&e),
        [("template".into(), "WARNINGS.XAPI.NOT_FOUND".into())]
    );
}

#[tokio::test]
async fn licence_facts_agree_and_answers_say_their_context() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let status = ok(&c, "System Status", "Get System Status", json!({})).await;
    let licence = ok(&c, "License Status", "Get License Status", json!({})).await;
    let params = ok(&c, "Defs", "Get System Parameters", json!({})).await;
    for key in ["Version", "ProductCode", "LicenseKey"] {
        assert_eq!(status[key], licence[key], "{key}");
    }
    assert_eq!(params["Version"], status["Version"]);
    assert_eq!(params["License"]["ProductCode"], status["ProductCode"]);
    assert_eq!(status["Version"], "20.0.10");
    assert!(status["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/xapi/v1/$metadata#SystemStatus"));
    let users = ok(&c, "Users", "List User", json!({"$top": 1})).await;
    assert!(users["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#Users"));
    // Navigation properties only with $expand.
    assert!(users["value"][0].get("Groups").is_none(), "{users}");
    let e = call(&c, "Users", "List User", json!({"$expand": "Nope"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("navigation property"), "{e}");
}

#[tokio::test]
async fn bodies_must_be_json_and_flags_known() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    let r = raw
        .http
        .patch(format!("{}/xapi/v1/Users(1)", raw.base))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(r#"{"FirstName": "X"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let unchanged: Value = raw
        .get("/Users(1)?$select=FirstName", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(unchanged["FirstName"], "X");

    // A flag enum takes only its names (`TranscriptionMode` is "Voicemail, Recordings"-like).
    let c = sandbox_client(&pbx);
    ok(
        &c,
        "Users",
        "Update User",
        json!({"Id": 1, "body": {"TranscriptionMode": "Voicemail, Recordings"}}),
    )
    .await;
    let e = call(
        &c,
        "Users",
        "Update User",
        json!({"Id": 1, "body": {"TranscriptionMode": "Voicemail, Bogus"}}),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("'Bogus'"), "{e}");
    let user = ok(
        &c,
        "Users",
        "Get User",
        json!({"Id": 1, "$select": ["TranscriptionMode"]}),
    )
    .await;
    assert_eq!(user["TranscriptionMode"], "Voicemail, Recordings");
}
