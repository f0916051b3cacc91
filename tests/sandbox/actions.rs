//! Actions with real behaviour besides the store: BatchDelete, GetFirstAvailableExtensionNumber,
//! SystemStatus.

use serde_json::json;

use crate::support::{call, ok, status, without_context};
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

#[tokio::test]
async fn batch_delete_removes_users_and_reports_unknown_ids() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let out = ok(&c, "Users", "Batch Delete", json!({"ids": [1, 2, 999]})).await;
    let errors = out["value"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(errors[0]["Error"].as_str().unwrap().contains("999"));
    for id in [1, 2] {
        let e = call(&c, "Users", "Get User", json!({"Id": id}))
            .await
            .unwrap_err();
        assert_eq!(status(&e), 404);
    }
    assert_eq!(pbx.counts().users, 23);
    let out = ok(&c, "Users", "Batch Delete", json!({"ids": []})).await;
    assert_eq!(out, json!({"value": []}));
}

#[tokio::test]
async fn first_available_extension_number() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let first = || {
        ok(
            &c,
            "Users",
            "Get First Available Extension Number",
            json!({}),
        )
    };
    assert_eq!(first().await, json!({"Number": "125"}));
    ok(&c, "Users", "Delete User", json!({"Id": 4})).await; // extension 103
    assert_eq!(first().await["Number"], "103");
    ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "New"}}),
    )
    .await;
    assert_eq!(
        first().await["Number"],
        "125",
        "103 was given to the new user"
    );
}

#[tokio::test]
async fn system_status_matches_the_store() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let s = ok(&c, "System Status", "Get System Status", json!({})).await;
    assert_eq!(s["Version"], "20.0.10");
    assert_eq!(s["UserExtensions"], 25);
    assert_eq!(s["Activated"], true);
    ok(&c, "Users", "Batch Delete", json!({"ids": [1, 2, 3]})).await;
    let s = ok(
        &c,
        "System Status",
        "Get System Status",
        json!({"$select": ["Version", "UserExtensions"]}),
    )
    .await;
    assert_eq!(
        without_context(s),
        json!({"Version": "20.0.10", "UserExtensions": 22})
    );
}

#[tokio::test]
async fn singletons_keep_updates() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let out = ok(
        &c,
        "Chat Log Settings",
        "Update Chat Log Settings",
        json!({"body": {"AutoClearMonths": 7}}),
    )
    .await;
    assert!(out.is_null(), "204");
    let s = ok(&c, "Chat Log Settings", "Get Chat Log Settings", json!({})).await;
    assert_eq!(s["AutoClearMonths"], 7);
    let e = call(
        &c,
        "Chat Log Settings",
        "Update Chat Log Settings",
        json!({"body": {"Nope": 1}}),
    )
    .await
    .unwrap_err();
    assert_eq!(status(&e), 400);
}

#[tokio::test]
async fn banner_names_url_and_credentials() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let text = threecx_sandbox::banner(&pbx);
    eprintln!("{text}");
    for want in [
        pbx.url().as_str(),
        pbx.client_id(),
        pbx.client_secret(),
        "25 users",
        "THREECX_URL=",
        "Purge Chats",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}
