//! `threecx snapshot` and `threecx diff` against the sandbox: stable bytes, and exactly the
//! changes made in between.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::support::{threecx, Run, TestPbx};

/// Every file of a folder with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn snapshot(pbx: &TestPbx, dir: &Path) -> Run {
    let run = threecx(["snapshot", &dir.display().to_string()])
        .sandbox(pbx)
        .run();
    run.assert_code(0);
    run
}

#[test]
fn two_snapshots_without_a_change_are_byte_identical() {
    let pbx = TestPbx::small();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    snapshot(&pbx, &a);
    snapshot(&pbx, &b);
    let (fa, fb) = (files(&a), files(&b));
    assert!(fa.len() > 40, "{:?}", fa.keys());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{name} differs between two snapshots");
        assert!(bytes.ends_with(b"}\n") || bytes.ends_with(b"]\n"), "{name}");
    }

    // What a snapshot holds: configuration in stable order, no live state, no credentials.
    let manifest: Value = serde_json::from_slice(&fa["snapshot.json"]).unwrap();
    assert_eq!(manifest["pbx"], pbx.handle.url().trim_end_matches('/'));
    assert!(!String::from_utf8_lossy(&fa["snapshot.json"]).contains(crate::support::SECRET));
    for kept in [
        "Users.json",
        "Groups.json",
        "AISettings.json",
        "Queues.json",
    ] {
        assert!(fa.contains_key(kept), "{kept} missing");
    }
    for left_out in [
        "CallHistoryView.json",
        "ActiveCalls.json",
        "SystemStatus.json",
    ] {
        assert!(!fa.contains_key(left_out), "{left_out} written");
    }
    let users: Vec<Value> = serde_json::from_slice(&fa["Users.json"]).unwrap();
    assert_eq!(users.len(), 25);
    let ids: Vec<i64> = users.iter().map(|u| u["Id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by Id: {ids:?}");
    for user in &users {
        for dropped in [
            "IsRegistered",
            "QueueStatus",
            "CurrentProfileName",
            "VMPIN",
            "AuthPassword",
        ] {
            assert!(user.get(dropped).is_none(), "{dropped} kept");
        }
    }
}

#[test]
fn diff_reports_exactly_a_renamed_user_and_an_added_group() {
    let pbx = TestPbx::small();
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = (tmp.path().join("before"), tmp.path().join("after"));
    snapshot(&pbx, &before);

    let renamed = threecx([
        "call",
        "Users",
        "Update User",
        "--param",
        "Id=1",
        "--input",
        r#"{"body":{"FirstName":"Renamed"}}"#,
    ])
    .sandbox(&pbx)
    .run();
    renamed.assert_code(0);
    let added = threecx([
        "call",
        "Groups",
        "Create Group",
        "--input",
        r#"{"body":{"Name":"Lab","Number":"900"}}"#,
    ])
    .sandbox(&pbx)
    .run();
    added.assert_code(0);
    let group_id = added.json()["Id"].clone();
    let old_name = {
        let users: Vec<Value> =
            serde_json::from_slice(&std::fs::read(before.join("Users.json")).unwrap()).unwrap();
        users[0]["FirstName"].clone()
    };
    snapshot(&pbx, &after);

    let (b, a) = (before.display().to_string(), after.display().to_string());
    let run = threecx(["diff", &b, &a, "--output", "json"]).run();
    run.assert_code(1);
    let report = run.json();
    assert_eq!(report["equal"], false);
    assert_eq!(report["not_compared"], json!({}));
    let resources = report["resources"].as_array().unwrap();
    let names: Vec<&str> = resources
        .iter()
        .map(|r| r["resource"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Groups", "Users"], "{report:#}");

    let groups = &resources[0];
    assert_eq!(groups["removed"], json!([]));
    assert_eq!(groups["changed"], json!([]));
    assert_eq!(groups["added"].as_array().unwrap().len(), 1);
    assert_eq!(groups["added"][0]["key"], group_id);
    assert_eq!(groups["added"][0]["entity"]["Name"], "Lab");

    let users = &resources[1];
    assert_eq!(users["added"], json!([]));
    assert_eq!(users["removed"], json!([]));
    assert_eq!(
        users["changed"],
        json!([{"key": 1, "fields": [{"path": "FirstName", "old": old_name, "new": "Renamed"}]}])
    );

    let human = threecx(["diff", &b, &a]).run();
    human.assert_code(1);
    assert!(human.stdout.contains("Groups: 1 added"), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains(&format!("FirstName: {old_name} -> \"Renamed\"")),
        "{}",
        human.stdout
    );

    // The later snapshot is what the PBX holds now; the earlier one is not.
    threecx(["diff", &a, "--live"])
        .sandbox(&pbx)
        .run()
        .assert_code(0);
    let live = threecx(["diff", &b, "--live", "--output", "json"])
        .sandbox(&pbx)
        .run();
    live.assert_code(1);
    assert_eq!(live.json()["resources"], report["resources"]);
    threecx(["diff", &a, &a]).run().assert_code(0);
}

#[test]
fn diff_of_a_folder_that_is_no_snapshot_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let run = threecx(["diff", &dir, &dir]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("not a snapshot folder"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_resource_the_pbx_refuses_is_reported_skipped_and_not_compared() {
    let pbx = TestPbx::small();
    let tmp = tempfile::tempdir().unwrap();
    let (full, partial) = (tmp.path().join("full"), tmp.path().join("partial"));
    snapshot(&pbx, &full);
    // As a PBX answers an API client without the role for it.
    pbx.handle.add_fault(
        threecx_sandbox::FaultRule::new(threecx_sandbox::Fault::Status {
            status: 403,
            retry_after: None,
        })
        .path_prefix("/xapi/v1/Queues"),
    );
    let run = snapshot(&pbx, &partial);
    assert!(run.stderr.contains("skipped Queues"), "{}", run.stderr);
    assert!(
        run.stdout.contains("skipped Queues (HTTP 403)"),
        "{}",
        run.stdout
    );
    assert!(!partial.join("Queues.json").exists());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(partial.join("snapshot.json")).unwrap()).unwrap();
    assert_eq!(manifest["skipped"], json!({"Queues": "HTTP 403"}));

    let (f, p) = (full.display().to_string(), partial.display().to_string());
    let run = threecx(["diff", &f, &p, "--output", "json"]).run();
    run.assert_code(0);
    assert_eq!(run.json()["resources"], json!([]));
    assert!(run.json()["not_compared"]["Queues"]
        .as_str()
        .unwrap()
        .contains("HTTP 403"));
}
