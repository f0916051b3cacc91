//! The entity store: Users and Groups created, read, updated, listed and deleted through the SDK.

use serde_json::{json, Value};
use threecx_core::Client;

use crate::support::{call, ok, status, without_context, Raw};
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

fn ids(page: &Value) -> Vec<i64> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn users_create_get_update_list_delete() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);

    let created = ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "Ada", "LastName": "Byron", "Number": "555", "EmailAddress": "ada@example.com"}}),
    )
    .await;
    assert_eq!(created["Id"], 26, "after the 25 seeded users");
    assert_eq!(created["Number"], "555");
    let id = created["Id"].as_i64().unwrap();

    let by_id = ok(&c, "Users", "Get User", json!({"Id": id})).await;
    assert_eq!(by_id["LastName"], "Byron");
    let by_number = ok(
        &c,
        "Users",
        "Get User By Number",
        json!({"Number": "555", "$select": ["Id", "FirstName"]}),
    )
    .await;
    assert_eq!(
        without_context(by_number),
        json!({"Id": id, "FirstName": "Ada"})
    );

    let updated = call(
        &c,
        "Users",
        "Update User",
        json!({"Id": id, "body": {"LastName": "Lovelace", "Mobile": "+441234"}}),
    )
    .await
    .unwrap();
    assert_eq!(updated, Value::Null, "204");
    let after = ok(&c, "Users", "Get User", json!({"Id": id})).await;
    assert_eq!(
        (
            after["FirstName"].as_str(),
            after["LastName"].as_str(),
            after["Mobile"].as_str()
        ),
        (Some("Ada"), Some("Lovelace"), Some("+441234"))
    );

    lists_find_the_new_user(&c, id).await;
    deleted_user_is_gone(&c, id).await;
}

/// `$filter`, `$count`, `$orderby` (several keys), `$top`, `$select`, with user `id` (number
/// 555, Ada Lovelace) added to the seeded 25.
async fn lists_find_the_new_user(c: &Client, id: i64) {
    let page = ok(
        c,
        "Users",
        "List User",
        json!({"$filter": "LastName eq 'Lovelace' and FirstName eq 'Ada' and Number eq '555'", "$count": true}),
    )
    .await;
    assert_eq!(page["@odata.count"], 1);
    assert_eq!(ids(&page), [id]);
    let page = ok(
        c,
        "Users",
        "List User",
        json!({"$orderby": "Number desc", "$top": 3, "$select": ["Id", "Number"], "$count": true}),
    )
    .await;
    assert_eq!(page["@odata.count"], 26);
    let numbers: Vec<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["555", "124", "123"]);
    for u in page["value"].as_array().unwrap() {
        assert_eq!(u.as_object().unwrap().len(), 2, "{u}");
    }
    let page = ok(
        c,
        "Users",
        "List User",
        json!({"$orderby": ["Enabled desc", "Id asc"], "$skip": 2, "$top": 2}),
    )
    .await;
    assert_eq!(ids(&page), [3, 4]);
    let page = ok(
        c,
        "Users",
        "List User",
        json!({"$filter": "startswith(Number,'12') or (Number eq '555' and not (Id lt 26))"}),
    )
    .await;
    assert_eq!(ids(&page).len(), 5 + 1, "120..124 and the new user");
}

/// Deletes user `id`; then it can be neither read, deleted nor updated.
async fn deleted_user_is_gone(c: &Client, id: i64) {
    assert_eq!(
        call(c, "Users", "Delete User", json!({"Id": id}))
            .await
            .unwrap(),
        Value::Null
    );
    let e = call(c, "Users", "Get User", json!({"Id": id}))
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    let e = call(c, "Users", "Delete User", json!({"Id": id}))
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
    let e = call(c, "Users", "Update User", json!({"Id": id, "body": {}}))
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404);
}

#[tokio::test]
async fn groups_create_get_update_list_delete() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let created = ok(
        &c,
        "Groups",
        "Create Group",
        json!({"body": {"Name": "Night shift", "Language": "EN"}}),
    )
    .await;
    let id = created["Id"].as_i64().unwrap();
    assert_eq!(id, 4);
    assert_eq!(
        ok(&c, "Groups", "Get Group", json!({"Id": id})).await["Name"],
        "Night shift"
    );
    ok(
        &c,
        "Groups",
        "Update Group",
        json!({"Id": id, "body": {"Name": "Late shift"}}),
    )
    .await;
    let page = ok(
        &c,
        "Groups",
        "List Group",
        json!({"$filter": "contains(Name,'shift')", "$select": "Id,Name", "$count": true}),
    )
    .await;
    assert_eq!(
        without_context(page),
        json!({"@odata.count": 1, "value": [{"Id": id, "Name": "Late shift"}]})
    );
    let page = ok(
        &c,
        "Groups",
        "List Group",
        json!({"$orderby": "Name", "$select": ["Name"]}),
    )
    .await;
    assert_eq!(
        page["value"],
        json!([{"Name": "Accounts"}, {"Name": "Late shift"}, {"Name": "Sales"}, {"Name": "Support"}])
    );
    ok(&c, "Groups", "Delete Group", json!({"Id": id})).await;
    assert_eq!(
        ok(
            &c,
            "Groups",
            "List Group",
            json!({"$count": true, "$top": 0})
        )
        .await["@odata.count"],
        3
    );
}

#[tokio::test]
async fn string_keys_must_be_quoted() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    let r = raw.get("/Users(Number='100')", Some(&token)).await;
    assert_eq!(r.status(), 200);
    let user: Value = r.json().await.unwrap();
    assert_eq!(user["Number"], "100");
    let r = raw.get("/Users(Number=100)", Some(&token)).await;
    assert_eq!(r.status(), 404, "unquoted string key");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("quoted"),
        "{body}"
    );
    assert_eq!(
        raw.get("/Users('1')", Some(&token)).await.status(),
        404,
        "quoted integer key"
    );
    assert_eq!(raw.get("/Users(999)", Some(&token)).await.status(), 404);
    assert_eq!(raw.get("/NoSuchSet", Some(&token)).await.status(), 404);
}

#[tokio::test]
async fn quotes_in_values_and_bad_input() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "Pat", "LastName": "O'Neil", "Number": "O'1"}}),
    )
    .await;
    let u = ok(&c, "Users", "Get User By Number", json!({"Number": "O'1"})).await;
    assert_eq!(u["LastName"], "O'Neil");
    let page = ok(
        &c,
        "Users",
        "List User",
        json!({"$filter": "LastName eq 'O''Neil'"}),
    )
    .await;
    assert_eq!(page["value"].as_array().unwrap().len(), 1);

    for (input, want) in [
        (json!({"$filter": "LastName eq"}), "$filter"),
        (json!({"$filter": "Nope eq 1"}), "'Nope'"),
        (json!({"$orderby": "Number sideways"}), "sideways"),
        (json!({"$select": ["Id", "Nope"]}), "'Nope'"),
    ] {
        let e = call(&c, "Users", "List User", input.clone())
            .await
            .unwrap_err();
        assert_eq!(status(&e), 400, "{input}");
        assert!(e.to_string().contains(want), "{input}: {e}");
    }
    let e = call(
        &c,
        "Users",
        "Create User",
        json!({"body": {"NoSuchField": 1}}),
    )
    .await
    .unwrap_err();
    assert_eq!(status(&e), 400);
    assert!(e.to_string().contains("NoSuchField"), "{e}");
    let e = call(
        &c,
        "Users",
        "Create User",
        json!({"body": {"Number": "100"}}),
    )
    .await
    .unwrap_err();
    assert_eq!(status(&e), 400, "number in use");
    // A user without a number gets the first free one.
    let u = ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "No", "LastName": "Number"}}),
    )
    .await;
    assert_eq!(u["Number"], "125");
}

#[tokio::test]
async fn invalid_input_sent_anyway_gets_400_naming_the_problem() {
    // The SDK validates before sending; raw HTTP shows what the sandbox does with bad input.
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    let r = raw
        .http
        .post(format!("{}/xapi/v1/PurgeChats", pbx.url()))
        .bearer_auth(&token)
        .json(&json!({"period": {"Start": "yesterday"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/period/Start"),
        "{body}"
    );
    let r = raw
        .http
        .post(format!("{}/xapi/v1/PurgeChats", pbx.url()))
        .bearer_auth(&token)
        .json(&json!({"perio": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = raw.get("/Users?$top=minus", Some(&token)).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("$top"),
        "{body}"
    );
}
