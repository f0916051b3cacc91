//! Fleets: one command over several PBXs (profiles), each with its own connection, token and
//! action set; per-PBX lines, a summary, and the partial-failure exit code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use threecx_test_support::spec::spec_path;

use crate::spec::{sandbox_of, variant_sandbox};
use crate::support::{threecx, Run, TestPbx, SECRET};

/// A config file with one profile per `(name, sandbox)`.
fn profiles_file(dir: &Path, pbxs: &[(&str, &TestPbx)]) -> PathBuf {
    let mut text = String::new();
    for (name, pbx) in pbxs {
        text.push_str(&format!(
            "[profiles.{name}]\nurl = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{SECRET}\"\n\n",
            pbx.handle.url(),
            pbx.handle.client_id()
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// NDJSON lines by profile.
fn lines_by_profile(stdout: &str) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        out.entry(v["profile"].as_str().unwrap().to_owned())
            .or_default()
            .push(v);
    }
    out
}

#[test]
fn two_pbxs_of_different_versions_each_answer_with_their_own_actions() {
    let dir = tempfile::tempdir().unwrap();
    let (_variant, older) = variant_sandbox(dir.path());
    let current = sandbox_of(&spec_path(), "20.0.10");
    let config = profiles_file(dir.path(), &[("old", &older), ("new", &current)]);
    let specs = dir.path().join("specs");
    let cli = |args: &[&str]| threecx(args).config_file(&config).spec_cache(&specs).run();

    let pulled = cli(&["--profiles", "old,new", "spec", "pull"]);
    pulled.assert_code(0);
    let by_profile = lines_by_profile(&pulled.stdout);
    assert_eq!(by_profile["old"][0]["spec"]["actions"], 599);
    assert_eq!(by_profile["new"][0]["spec"]["actions"], 601);
    assert!(
        pulled.stderr.contains("2 PBXs, 2 ok, 0 failed"),
        "{pulled:?}"
    );

    let old = cli(&["--profile", "old", "list"]);
    assert!(old.stdout.contains("599 actions of 3CX 20.0.77"), "{old:?}");
    let new = cli(&["--profile", "new", "list"]);
    assert!(new.stdout.contains("601 actions of 3CX 20.0.10"), "{new:?}");

    // The action only the older variant has: one line each, ok and refused; exit 7.
    current.handle.clear_requests();
    let both = cli(&[
        "--profiles",
        "old,new",
        "call",
        "System Status",
        "Is Variant Enabled",
    ]);
    both.assert_code(7);
    let by_profile = lines_by_profile(&both.stdout);
    assert!(by_profile["old"][0].get("result").is_some(), "{both:?}");
    assert_eq!(by_profile["new"][0]["error"]["exit_code"], 2, "{both:?}");
    assert_eq!(current.handle.count("GET", "/xapi/v1/SystemStatus"), 0);
}

#[test]
fn a_fleet_call_tags_each_pbxs_lines_and_survives_a_pbx_that_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (TestPbx::small(), TestPbx::small(), TestPbx::small());
    let config = profiles_file(dir.path(), &[("a", &a), ("b", &b), ("c", &c)]);
    let cli = |args: &[&str]| threecx(args).config_file(&config).run();
    let list = [
        "--all-profiles",
        "call",
        "Users",
        "List User",
        "--output",
        "ndjson",
    ];

    let all_up = cli(&list);
    all_up.assert_code(0);
    let by_profile = lines_by_profile(&all_up.stdout);
    for (name, pbx) in [("a", &a), ("b", &b), ("c", &c)] {
        let items = &by_profile[name];
        assert_eq!(items.len() as u64, pbx.handle.counts().users, "{name}");
        assert!(
            items.iter().all(|l| l["item"]["Number"].is_string()),
            "{items:?}"
        );
    }
    assert!(
        all_up.stderr.contains("3 PBXs, 3 ok, 0 failed"),
        "{all_up:?}"
    );

    // A destructive call without --yes reaches no PBX at all.
    for pbx in [&a, &b, &c] {
        pbx.handle.clear_requests();
    }
    let purge_args = [
        "--all-profiles",
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        crate::support::SEED_INPUT,
    ];
    let purge = cli(&purge_args);
    purge.assert_code(2);
    assert!(
        purge
            .stderr
            .contains("nothing was sent to any of the 3 PBXs"),
        "{purge:?}"
    );
    for pbx in [&a, &b, &c] {
        assert!(pbx.handle.requests().is_empty());
        assert_eq!(pbx.handle.token_requests(), 0);
    }

    // --dry-run: each PBX's own request, nothing sent.
    let dry = cli(&[&purge_args[..], &["--dry-run"]].concat());
    dry.assert_code(0);
    let by_profile = lines_by_profile(&dry.stdout);
    for (name, pbx) in [("a", &a), ("b", &b), ("c", &c)] {
        let request = &by_profile[name][0]["request"];
        assert_eq!(
            request["url"],
            format!("{}/xapi/v1/PurgeChats", pbx.handle.url())
        );
        assert_eq!(request["headers"]["Authorization"], "Bearer [REDACTED]");
        assert!(pbx.handle.requests().is_empty());
    }
    let listed = cli(&["profiles", "--output", "json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert_eq!(listed[1]["url"], b.handle.url());

    // Confirmed: sent to each PBX once, with one "now" for all, each recorded in the audit log.
    confirmed_purge_reaches_each_pbx_once(&cli, dir.path(), [&a, &b, &c]);

    // b stops: its line is an error, the others still answer; exit 7.
    drop(b);
    let one_down = cli(&list);
    one_down.assert_code(7);
    let by_profile = lines_by_profile(&one_down.stdout);
    assert_eq!(by_profile["b"].len(), 1);
    assert_eq!(by_profile["b"][0]["error"]["exit_code"], 5, "{one_down:?}");
    assert_eq!(by_profile["a"].len() as u64, a.handle.counts().users);
    assert_eq!(by_profile["c"].len() as u64, c.handle.counts().users);
    assert!(
        one_down.stderr.contains("3 PBXs, 2 ok, 1 failed"),
        "{one_down:?}"
    );

    let check = cli(&["profiles", "check", "--output", "json"]);
    check.assert_code(7);
    let rows = check.json();
    assert_eq!(rows[0]["authenticated"], true);
    assert_eq!(rows[0]["version"], "20.0.10");
    assert!(rows[1]["error"].is_string(), "{check:?}");
}

/// A confirmed fleet purge of chats older than `now-90d` (`cli` runs threecx on the fleet's
/// config file): sent to each PBX once, with one "now" for all, each in the audit log in `dir`.
fn confirmed_purge_reaches_each_pbx_once(
    cli: &dyn Fn(&[&str]) -> Run,
    dir: &Path,
    pbxs: [&TestPbx; 3],
) {
    let audit = dir.join("audit.jsonl");
    let audit_arg = audit.display().to_string();
    let input = r#"{"period":{"Start":null,"Stop":"now-90d"}}"#;
    let purged = cli(&[
        "--all-profiles",
        "call",
        "Purge Settings",
        "Purge Chats",
        "--input",
        input,
        "--yes",
        "--audit-log",
        &audit_arg,
    ]);
    purged.assert_code(0);
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let stops: std::collections::BTreeSet<String> = lines
        .iter()
        .map(|l| l["input"]["period"]["Stop"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stops.len(), 1, "one resolved Stop for the fleet: {stops:?}");
    for pbx in pbxs {
        assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);
        assert!(
            lines.iter().any(|l| l["pbx"] == pbx.handle.url()),
            "{lines:?}"
        );
    }
}

#[test]
fn commands_for_one_pbx_refuse_a_fleet() {
    for args in [
        &["--profiles", "a,b", "snapshot", "out"][..],
        &["--all-profiles", "mcp"][..],
        &[
            "--profile",
            "a",
            "--profile",
            "b",
            "describe",
            "Users",
            "List User",
        ][..],
    ] {
        let run = threecx(args).run();
        run.assert_code(2);
        assert!(run.stderr.contains("name a fleet"), "{run:?}");
    }
}
