//! State saved to the data file on clean shutdown and loaded at the next start.

use std::path::Path;

use serde_json::{json, Value};
use threecx_core::Client;
use threecx_sandbox::SandboxConfig;

use crate::support::ok;
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("threecx-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pbx.json");
    let _ = std::fs::remove_file(&file);

    let pbx = start_sandbox(SandboxConfig {
        data_file: Some(file.clone()),
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let c = sandbox_client(&pbx);
    let user = make_changes(&c).await;
    let before = pbx.counts();
    assert!(!file.exists(), "saved on shutdown, not before");
    pbx.shutdown().await.unwrap();
    assert!(file.exists());

    // Another seed: what is loaded is the saved state, not a new seeding.
    let again = start_sandbox(SandboxConfig {
        data_file: Some(file.clone()),
        seed: 999,
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    assert_eq!(again.counts(), before);
    let c = sandbox_client(&again);
    let kept = ok(&c, "Users", "Get User By Number", json!({"Number": "777"})).await;
    assert_eq!(kept["Id"], user["Id"]);
    let next = ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "Next"}}),
    )
    .await;
    assert_eq!(next["Id"], user["Id"].as_i64().unwrap() + 1, "next id kept");
    assert_eq!(
        ok(
            &c,
            "Users",
            "Get First Available Extension Number",
            json!({})
        )
        .await["Number"],
        "125"
    );
    assert_eq!(
        ok(&c, "Chat Log Settings", "Get Chat Log Settings", json!({})).await["AutoClearMonths"],
        5
    );
    let march = ok(
        &c,
        "Chat Messages History View",
        "List Chat Messages History View",
        json!({"$filter": "TimeSent ge 2024-03-01T00:00:00Z and TimeSent le 2024-03-31T23:59:59Z", "$count": true, "$top": 0}),
    )
    .await;
    assert_eq!(march["@odata.count"], 0);
    drop(again); // dropped, not shut down: nothing saved

    foreign_file_is_reported_not_overwritten(&file).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Changes of every kind the data file keeps: a user created and one deleted, chats and calls
/// purged in a period, a singleton updated. Returns the created user.
async fn make_changes(c: &Client) -> Value {
    let user = ok(
        c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "Kept", "LastName": "Across", "Number": "777"}}),
    )
    .await;
    ok(c, "Users", "Delete User", json!({"Id": 1})).await;
    ok(
        c,
        "Purge Settings",
        "Purge Chats",
        json!({"period": {"Start": "2024-03-01T00:00:00Z", "Stop": "2024-03-31T23:59:59Z"}}),
    )
    .await;
    ok(
        c,
        "Purge Settings",
        "Purge Calls",
        json!({"period": {"Start": "2024-05-01T00:00:00Z", "Stop": "2024-05-31T23:59:59Z"}}),
    )
    .await;
    ok(
        c,
        "Chat Log Settings",
        "Update Chat Log Settings",
        json!({"body": {"AutoClearMonths": 5}}),
    )
    .await;
    user
}

/// A file that is not ours is reported, not overwritten.
async fn foreign_file_is_reported_not_overwritten(file: &Path) {
    std::fs::write(file, b"not json").unwrap();
    let e = threecx_sandbox::Sandbox::start(SandboxConfig {
        data_file: Some(file.to_path_buf()),
        ..small_sandbox_config("sandbox-test")
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("pbx.json"), "{e}");
    assert_eq!(std::fs::read(file).unwrap(), b"not json");
}

/// Saving never writes through a file someone planted beside the data file: the old code wrote
/// `<data>.tmp` with `fs::write`, which follows a symlink (and then renamed the symlink itself
/// onto the data file). The temporary file is now unique and created exclusively.
#[cfg(unix)]
#[tokio::test]
async fn save_does_not_follow_a_planted_symlink() {
    let dir = std::env::temp_dir().join(format!(
        "threecx-sandbox-symlink-{}-{}",
        std::process::id(),
        threecx_test_support::sandbox::unique_client_id("sandbox-test")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pbx.json");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    // Every temporary name the old code could use: `pbx.tmp` (Path::with_extension) and
    // `pbx.json.tmp`.
    for planted in ["pbx.tmp", "pbx.json.tmp"] {
        std::os::unix::fs::symlink(&victim, dir.join(planted)).unwrap();
    }

    let pbx = start_sandbox(SandboxConfig {
        data_file: Some(file.clone()),
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let c = sandbox_client(&pbx);
    ok(
        &c,
        "Users",
        "Create User",
        json!({"body": {"FirstName": "Safe", "LastName": "Save", "Number": "778"}}),
    )
    .await;
    let before = pbx.counts();
    pbx.shutdown().await.unwrap();

    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"precious",
        "the symlink's target was written"
    );
    let meta = std::fs::symlink_metadata(&file).unwrap();
    assert!(meta.file_type().is_file(), "the data file is a plain file");
    for planted in ["pbx.tmp", "pbx.json.tmp"] {
        let meta = std::fs::symlink_metadata(dir.join(planted)).unwrap();
        assert!(meta.file_type().is_symlink(), "{planted} left as it was");
    }
    // Complete: it loads, with the change; and no temporary file is left behind.
    let again = start_sandbox(SandboxConfig {
        data_file: Some(file.clone()),
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    assert_eq!(again.counts(), before);
    let kept = ok(
        &sandbox_client(&again),
        "Users",
        "Get User By Number",
        json!({"Number": "778"}),
    )
    .await;
    assert_eq!(kept["FirstName"], "Safe");
    drop(again);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pbx.json", "pbx.json.tmp", "pbx.tmp", "victim.txt"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A history spread over the recent days (`recent_history_days`) stays where it was after a
/// restart, whatever the new start's clock says.
#[tokio::test]
async fn a_recent_history_window_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("threecx-sandbox-window-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pbx.json");
    let _ = std::fs::remove_file(&file);
    let first_chat = |pbx: &threecx_sandbox::SandboxHandle| {
        let c = sandbox_client(pbx);
        async move {
            ok(
                &c,
                "Chat Messages History View",
                "List Chat Messages History View",
                json!({"$top": 1, "$orderby": "TimeSent"}),
            )
            .await["value"][0]["TimeSent"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let pbx = start_sandbox(SandboxConfig {
        data_file: Some(file.clone()),
        recent_history_days: Some(30),
        ..small_sandbox_config("sandbox-window")
    })
    .await;
    let first = first_chat(&pbx).await;
    let at = threecx_sandbox::time::parse(&first).unwrap();
    assert!(at >= threecx_sandbox::time::now() - 31 * 86_400, "{first}");
    pbx.shutdown().await.unwrap();

    let again = start_sandbox(SandboxConfig {
        data_file: Some(file.clone()),
        ..small_sandbox_config("sandbox-window")
    })
    .await;
    assert_eq!(first_chat(&again).await, first);
    again.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
