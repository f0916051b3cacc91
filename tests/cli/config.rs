//! `config` and connection settings: profiles, precedence, secret files, redaction.

use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{api_requests, pbx, threecx, SECRET};

#[test]
fn config_redacts_the_secret_and_names_sources() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[profiles.office]\nurl = \"https://office.example.com:5001\"\nclient_id = \"cli-office\"\nclient_secret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();

    let run = threecx(["config", "--profile", "office"])
        .config_file(&file)
        .trace()
        .run();
    run.assert_code(0);
    for expected in [
        "https://office.example.com:5001",
        "https://office.example.com:5001/xapi/v1",
        "cli-office",
        "[REDACTED] (set)",
        "profile \"office\"",
        "ready to connect",
    ] {
        assert!(run.stdout.contains(expected), "{expected}: {}", run.stdout);
    }

    // Environment beats the profile, a flag (after the subcommand) beats the environment.
    let run = threecx(["config", "-o", "json", "--url", "https://flag.example.com"])
        .config_file(&file)
        .env("THREECX_PROFILE", "office")
        .env("THREECX_CLIENT_ID", "cli-from-env")
        .run();
    run.assert_code(0);
    let v = run.json();
    assert_eq!(v["profile"]["source"], "THREECX_PROFILE");
    assert_eq!(v["url"]["value"], "https://flag.example.com");
    assert_eq!(v["url"]["source"], "--url");
    assert_eq!(v["client_id"]["value"], "cli-from-env");
    assert_eq!(v["client_id"]["source"], "THREECX_CLIENT_ID");
    assert_eq!(v["client_secret"]["set"], true);
    assert_eq!(v["client_secret"]["value"], "[REDACTED]");
    assert_eq!(v["client_secret"]["source"], "profile \"office\"");
    assert_eq!(v["missing"], serde_json::json!([]));

    // The secret from the environment is never shown either.
    let run = threecx(["config"])
        .env("THREECX_CLIENT_SECRET", SECRET)
        .run();
    run.assert_code(0);
    assert!(run.stdout.contains("[REDACTED] (set)"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains("missing before calls can be made: url, client_id"));

    let run = threecx(["config", "--profile", "nope"])
        .config_file(&file)
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("office"),
        "lists the known profiles: {}",
        run.stderr
    );
}

#[tokio::test]
async fn profile_with_a_secret_file_calls_the_pbx() {
    let id = "cli-profile";
    let server = pbx(id).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "value": [{"Id": 1, "Number": "100"}, {"Id": 2, "Number": "101"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pbx.secret"), format!("{SECRET}\n")).unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[profiles.default]\nurl = \"{}\"\nclient_id = \"{id}\"\nsecret_file = \"pbx.secret\"\n",
            server.uri()
        ),
    )
    .unwrap();

    // The "default" profile is used without --profile; table output has columns from the keys.
    let run = threecx(["call", "Users", "List User", "--output", "table"])
        .config_file(&file)
        .trace()
        .run();
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        ["Id  Number", "1   100", "2   101"],
        "{}",
        run.stdout
    );
    assert_eq!(api_requests(&server).await.len(), 1);
}

#[tokio::test]
async fn secret_file_flag() {
    let id = "cli-secret-flag";
    let server = pbx(id).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": []})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    let run = threecx([
        "call",
        "Users",
        "List User",
        "--url",
        &server.uri(),
        "--client-id",
        id,
        "--secret-file",
        &secret.display().to_string(),
        "-o",
        "ndjson",
    ])
    .run();
    run.assert_code(0);
    assert_eq!(run.stdout, "");

    let run = threecx([
        "call",
        "Users",
        "List User",
        "--secret-file",
        "/nonexistent/secret",
    ])
    .env("THREECX_URL", server.uri())
    .env("THREECX_CLIENT_ID", id)
    .run();
    run.assert_code(2);
    assert!(run.stderr.contains("/nonexistent/secret"), "{}", run.stderr);
}
