//! Running the binary and a test PBX.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The client secret of every test; it must never be printed.
pub const SECRET: &str = "cli-s3cr3t-never-shown";
/// Prefix of every access token the test PBX issues; no token may be printed either.
pub const TOKEN_PREFIX: &str = "cli-tok-";

/// The seed input: purge the chats of the first half of 2024.
pub const SEED_INPUT: &str =
    r#"{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"}}"#;

pub fn seed_input() -> Value {
    serde_json::from_str(SEED_INPUT).unwrap()
}

/// The access token the test PBX gives `client_id`.
pub fn token_for(client_id: &str) -> String {
    format!("{TOKEN_PREFIX}{client_id}")
}

/// A test PBX whose token endpoint serves `client_id` (with [`SECRET`]).
pub async fn pbx(client_id: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains(format!("client_id={client_id}")))
        .and(body_string_contains(format!("client_secret={SECRET}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": token_for(client_id),
            "refresh_token": null
        })))
        .mount(&server)
        .await;
    server
}

/// Requests the PBX received, token requests excluded.
pub async fn api_requests(server: &MockServer) -> Vec<wiremock::Request> {
    server
        .received_requests()
        .await
        .expect("request recording")
        .into_iter()
        .filter(|r| r.url.path().starts_with("/xapi/"))
        .collect()
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code; {self:#?}");
        self
    }
}

/// A command line of `threecx` to run.
pub struct Threecx {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

/// `threecx ARGS...` with an empty environment (no config file, no credentials, no RUST_LOG).
pub fn threecx<I, S>(args: I) -> Threecx
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Threecx {
        args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        envs: Vec::new(),
        stdin: None,
    }
}

impl Threecx {
    pub fn env(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.envs.push((name.to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Credentials for `server` in the environment.
    pub fn pbx(self, server: &MockServer, client_id: &str) -> Self {
        self.env("THREECX_URL", server.uri())
            .env("THREECX_CLIENT_ID", client_id)
            .env("THREECX_CLIENT_SECRET", SECRET)
    }

    /// Logs everything (to check that no secret reaches a log either).
    pub fn trace(self) -> Self {
        self.env("RUST_LOG", "trace")
    }

    pub fn config_file(self, path: &Path) -> Self {
        self.env("THREECX_CONFIG", path.display().to_string())
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs the binary (stdin is a pipe or /dev/null, never a terminal).
    pub fn run(self) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_threecx"));
        command
            .args(&self.args)
            .env_clear()
            .env(
                "THREECX_CONFIG",
                "/nonexistent/threecx-cli-tests/config.toml",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start threecx");
        if let Some(bytes) = self.stdin {
            let mut stdin = child.stdin.take().expect("piped stdin");
            stdin.write_all(&bytes).expect("write stdin");
        }
        let output = child.wait_with_output().expect("run threecx");
        let run = Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout_bytes: output.stdout,
        };
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(SECRET),
                "the client secret appeared on {stream}: {run:#?}"
            );
            assert!(
                !text.contains(TOKEN_PREFIX),
                "an access token appeared on {stream}: {run:#?}"
            );
        }
        run
    }
}
