//! `list`, `describe`, `completions`, `--help`: no network, no credentials.

use crate::support::threecx;

#[test]
fn list_shows_every_resource_and_the_totals() {
    let run = threecx(["list"]).run();
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("RESOURCE"), "{}", run.stdout);
    assert_eq!(lines.last(), Some(&"132 resources, 601 actions"));
    // Header, 132 resources, total.
    assert_eq!(lines.len(), 134, "{}", run.stdout);
    assert!(run
        .stdout
        .lines()
        .any(|l| l.starts_with("Purge Settings") && l.contains("PurgeSettings")));

    let json = threecx(["list", "--output", "json"]).run();
    json.assert_code(0);
    let v = json.json();
    assert_eq!(v["resource_count"], 132);
    assert_eq!(v["action_count"], 601);
    let resources = v["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 132);
    assert!(resources
        .iter()
        .any(|r| r["resource"] == "PurgeSettings" && r["resource_display"] == "Purge Settings"));
    let total: u64 = resources
        .iter()
        .map(|r| r["actions"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 601);
}

#[test]
fn list_of_a_resource_in_any_spelling_marks_destructive_actions() {
    for spelling in ["Purge Settings", "purge-settings", "PURGESETTINGS"] {
        let run = threecx(["list", spelling]).run();
        run.assert_code(0);
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("Purge Chats"))
            .unwrap_or_else(|| panic!("{}", run.stdout));
        assert!(line.contains("POST"), "{line}");
        assert!(line.contains("/xapi/v1/PurgeChats"), "{line}");
        assert!(line.trim_end().ends_with("yes"), "{line}");
    }
    let v = threecx(["list", "users", "-o", "json"]).run().json();
    let get = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "GetUserByNumber")
        .unwrap();
    assert_eq!(v["resource"], "Users");
    assert_eq!(get["method"], "GET");
    assert_eq!(get["returns"], "json");
    assert_eq!(get["destructive"], false);
}

#[test]
fn describe_purge_chats_shows_the_period_schema() {
    let run = threecx(["describe", "Purge Settings", "Purge Chats"]).run();
    run.assert_code(0);
    for expected in [
        "Purge Settings (PurgeSettings)",
        "Purge Chats (PurgeChats)",
        "POST /xapi/v1/PurgeChats",
        "Destructive:  yes",
        "\"period\"",
        "\"Start\"",
        "\"Stop\"",
        "\"All\"",
        "Example input:",
    ] {
        assert!(run.stdout.contains(expected), "{expected}: {}", run.stdout);
    }

    let v = threecx(["describe", "purge-settings", "purge_chats", "-o", "json"])
        .run()
        .json();
    // The shape the gateway and MCP publish too (ActionDescription).
    assert_eq!(v["resource"], "PurgeSettings");
    assert_eq!(v["action_display"], "Purge Chats");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/PurgeChats");
    assert_eq!(v["needs_confirmation"], true);
    assert_eq!(v["destructive"], true);
    let schema = &v["input_schema"];
    let period_ref = schema["properties"]["period"]["$ref"].as_str().unwrap();
    let model = period_ref.rsplit('/').next().unwrap();
    let period = &schema["$defs"][model]["properties"];
    for key in ["Start", "Stop", "All"] {
        assert!(period.get(key).is_some(), "{key} in {period}");
    }
    assert!(v["output_schema"].is_object());
    assert!(v["example_input"]["period"].is_object(), "{v}");
}

#[test]
fn unknown_names_exit_2_with_the_closest_names() {
    let run = threecx(["describe", "Purge Setings", "Purge Chats"]).run();
    run.assert_code(2);
    assert!(
        run.stderr
            .starts_with("error: unknown resource \"Purge Setings\"; did you mean: Purge Settings"),
        "{}",
        run.stderr
    );
    let run = threecx(["call", "Purge Settings", "Purge Chat"]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("did you mean: Purge Chats"),
        "{}",
        run.stderr
    );
    let run = threecx(["list", "zzzzzz"]).run();
    run.assert_code(2);
    assert!(run.stderr.contains("threecx list"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_codes() {
    threecx(["call", "Users"]).run().assert_code(2);
    threecx(["list", "--output", "yaml"]).run().assert_code(2);
    threecx(["call", "Users", "List User", "--page-size", "10"])
        .run()
        .assert_code(2);
    let help = threecx(["--help"]).run();
    help.assert_code(0);
    for code in [
        "Exit codes",
        "0  success",
        "2  usage",
        "3  authentication",
        "4  the 3CX API",
        "5  network",
    ] {
        assert!(help.stdout.contains(code), "{code}: {}", help.stdout);
    }
    assert!(threecx(["call", "--help"])
        .run()
        .stdout
        .contains("Exit codes"));
}

#[test]
fn completions_for_bash_zsh_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let run = threecx(["completions", shell]).run();
        run.assert_code(0);
        assert!(run.stdout.contains("threecx"), "{shell}");
        assert!(run.stdout.contains("describe"), "{shell}");
    }
}
