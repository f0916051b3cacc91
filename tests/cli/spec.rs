//! A PBX of another version: its spec pulled, its actions offered (and only those), through
//! the CLI against sandboxes that simulate a variant of the 20.0.10 document made at test time.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use threecx_ops::registry_api::Registry;
use threecx_sandbox::{SandboxConfig, SandboxSpec};
use threecx_spec::{FromSpec, SpecSet};
use threecx_test_support::spec::{write_variant, Variant};

use crate::support::{threecx, TestPbx, SEED_INPUT};

/// A sandbox simulating the OpenAPI document at `path` (its actions, its version, the document
/// at /xapi/v1/swagger.yaml), as `threecx sandbox --spec` starts one.
pub fn sandbox_of(path: &Path, version: &str) -> TestPbx {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let set = SpecSet::import(bytes.clone(), &name, None).unwrap();
    TestPbx::start(SandboxConfig {
        sizes: threecx_test_support::sandbox::small_seed(),
        emulate_version: version.to_owned(),
        spec: Some(SandboxSpec {
            registry: Registry::from_spec(&set).unwrap(),
            document: Arc::new(bytes),
        }),
        ..SandboxConfig::default()
    })
}

pub fn variant_sandbox(dir: &Path) -> (Variant, TestPbx) {
    let variant = write_variant(dir);
    let pbx = sandbox_of(&variant.path, variant.version);
    (variant, pbx)
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_pulled_spec_makes_the_cli_speak_the_pbxs_version() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    let (variant, pbx) = variant_sandbox(dir.path());
    let cli = |args: &[&str]| threecx(args).sandbox(&pbx).spec_cache(&specs);

    // Before the pull: the built-in set.
    let list = cli(&["list"]).run();
    assert!(
        list.stdout.ends_with("132 resources, 601 actions\n"),
        "{list:?}"
    );

    let pulled = cli(&["spec", "pull", "--output", "json"]).run();
    pulled.assert_code(0);
    let report = pulled.json();
    assert_eq!(report["version"], variant.version);
    assert_eq!(report["actions"], 599);
    assert_eq!(names(&report["diff"]["added"]), variant.added);
    assert_eq!(names(&report["diff"]["removed"]), variant.removed);
    assert_eq!(names(&report["diff"]["changed"]), variant.changed);
    let human = cli(&["spec", "pull"]).run();
    assert!(
        human.stdout.contains("1 added, 3 removed, 1 changed"),
        "{human:?}"
    );

    let list = cli(&["list"]).run();
    let last = list.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("132 resources, 599 actions of 3CX 20.0.77 (spec pulled from"),
        "{list:?}"
    );
    let status = cli(&["spec", "status", "--output", "json"]).run().json();
    assert_eq!(
        (status["spec"].as_str(), status["actions"].as_u64()),
        (Some("pulled"), Some(599))
    );
    let forced = cli(&["--spec", "builtin", "list"]).run();
    assert!(
        forced.stdout.ends_with("132 resources, 601 actions\n"),
        "{forced:?}"
    );

    // A removed action: refused before any request, naming the version and the closest names.
    pbx.handle.clear_requests();
    let tokens = pbx.handle.token_requests();
    let removed = cli(&["call", "System Status", "Is Request Help Enabled"]).run();
    removed.assert_code(2);
    assert!(removed.stderr.contains("3CX 20.0.77"), "{removed:?}");
    assert!(
        removed.stderr.contains("did you mean: Request Help"),
        "{removed:?}"
    );
    assert!(removed.stderr.contains("--spec builtin"), "{removed:?}");
    assert!(pbx.handle.requests().is_empty());
    assert_eq!(pbx.handle.token_requests(), tokens);

    // The added action works by name.
    cli(&["call", "System Status", "Is Variant Enabled"])
        .run()
        .assert_code(0);

    // The changed one is validated with the PBX's schema: `reason` is now required.
    pbx.handle.clear_requests();
    let missing = cli(&[
        "call",
        "Purge Settings",
        "Purge Chats",
        "--yes",
        "--input",
        SEED_INPUT,
    ])
    .run();
    missing.assert_code(2);
    assert!(missing.stderr.contains("reason"), "{missing:?}");
    assert!(pbx.handle.requests().is_empty());
    let input = r#"{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"},"reason":"retention"}"#;
    cli(&[
        "call",
        "Purge Settings",
        "Purge Chats",
        "--yes",
        "--input",
        input,
    ])
    .run()
    .assert_code(0);
    assert_eq!(pbx.handle.count("POST", "/xapi/v1/PurgeChats"), 1);
}

#[test]
fn the_sandbox_command_simulates_a_given_spec() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let variant = write_variant(dir.path());
    let spec = variant.path.display().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_threecx"))
        .args([
            "sandbox",
            "--port",
            "0",
            "--users",
            "5",
            "--call-history",
            "10",
        ])
        .args(["--chat-messages", "10", "--spec", &spec])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let field = |name: &str| -> String {
        banner
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} in the banner:\n{banner}"))
            .trim()
            .to_owned()
    };
    let (url, id, secret) = (field("URL"), field("client id"), field("client secret"));
    let cli = |args: &[&str]| {
        threecx(args)
            .env("THREECX_URL", &url)
            .env("THREECX_CLIENT_ID", &id)
            .env("THREECX_CLIENT_SECRET", &secret)
            .spec_cache(&dir.path().join("specs"))
            .run()
    };
    let status = cli(&["call", "System Status", "Get System Status"]);
    let pulled = cli(&["spec", "pull", "--output", "json"]);
    let _ = child.kill();
    let _ = child.wait();

    assert!(banner.contains("PBX 20.0.77"), "{banner}");
    assert!(banner.contains("599 (of the --spec document"), "{banner}");
    assert_eq!(status.assert_code(0).json()["Version"], "20.0.77");
    let report = pulled.assert_code(0).json();
    // The document served is the file given, byte for byte.
    let file = std::fs::read(&variant.path).unwrap();
    assert_eq!(report["sha256"], threecx_spec::sha256_hex(&file));
    assert_eq!(
        (report["version"].as_str(), report["actions"].as_u64()),
        (Some("20.0.77"), Some(599))
    );
}

#[test]
fn a_sandbox_of_the_built_in_set_serves_a_document_that_pulls_back_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let pbx = TestPbx::small();
    let pulled = threecx(["spec", "pull", "--output", "json"])
        .sandbox(&pbx)
        .spec_cache(dir.path())
        .run();
    let report = pulled.assert_code(0).json();
    assert_eq!(report["version"], "20.0.10");
    assert_eq!(report["actions"], 601);
    for list in ["added", "removed", "changed"] {
        assert_eq!(report["diff"][list], serde_json::json!([]), "{list}");
    }
    let human = threecx(["spec", "pull"])
        .sandbox(&pbx)
        .spec_cache(dir.path())
        .run();
    assert!(
        human.stdout.contains("0 added, 0 removed, 0 changed"),
        "{human:?}"
    );
}

#[test]
fn a_spec_file_is_imported_once_and_then_read_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let variant = write_variant(dir.path());
    let specs = dir.path().join("specs");
    let file = variant.path.display().to_string();
    for _ in 0..2 {
        let list = threecx(["--spec", file.as_str(), "list"])
            .spec_cache(&specs)
            .run();
        let last = list.stdout.lines().last().unwrap_or_default().to_owned();
        assert!(
            last.starts_with("132 resources, 599 actions of 3CX 20.0.77 (spec "),
            "{list:?}"
        );
    }
    let sha = threecx_spec::sha256_hex(&std::fs::read(&variant.path).unwrap());
    assert!(specs.join("sets").join(format!("{sha}.json")).is_file());
}
