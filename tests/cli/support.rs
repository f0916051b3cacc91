//! Running the binary and a test PBX.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use threecx_test_support::fake_pbx::token_answer;
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
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_answer(&token_for(client_id), 3600)),
        )
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

    /// Shares the on-disk token cache folder `dir` with other runs (by default each run gets a
    /// fresh empty one).
    pub fn token_cache(self, dir: &Path) -> Self {
        self.env("THREECX_TOKEN_CACHE", dir.display().to_string())
    }

    /// Shares the cache of pulled specs `dir` with other runs (`threecx spec pull` writes it).
    pub fn spec_cache(self, dir: &Path) -> Self {
        self.env("THREECX_SPEC_CACHE", dir.display().to_string())
    }

    /// Runs the binary (stdin is a pipe or /dev/null, never a terminal).
    ///
    /// The token cache is on by default in the CLI; so that no run finds a token of another
    /// (or one left in the user's cache folder), each run gets an empty temporary cache folder
    /// of its own unless the test gives one with [`Threecx::token_cache`].
    pub fn run(self) -> Run {
        let own_cache = tempfile::tempdir().expect("temporary token cache folder");
        // Pulled specs too: each run gets an empty cache unless the test gives one (`spec_cache`).
        let own_specs = tempfile::tempdir().expect("temporary spec cache folder");
        let mut command = Command::new(env!("CARGO_BIN_EXE_threecx"));
        command
            .args(&self.args)
            .env_clear()
            .env(
                "THREECX_CONFIG",
                "/nonexistent/threecx-cli-tests/config.toml",
            )
            .env("THREECX_TOKEN_CACHE", own_cache.path())
            .env("THREECX_SPEC_CACHE", own_specs.path())
            // Destructive calls are audited by default: never into the user's own log.
            .env("THREECX_AUDIT_LOG", own_cache.path().join("audit.jsonl"))
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
        drop(own_cache);
        drop(own_specs);
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

/// A simulated PBX (threecx-sandbox) serving on 127.0.0.1 from a runtime of its own, so that the
/// test can block on the binary while the sandbox keeps answering.
pub struct TestPbx {
    // Declared first: dropped (and stopped) before the runtime it runs on.
    pub handle: threecx_sandbox::SandboxHandle,
    _runtime: tokio::runtime::Runtime,
}

impl TestPbx {
    /// Starts a sandbox with `config`, its secret replaced by [`SECRET`] (so every run checks
    /// that it is never printed).
    pub fn start(config: threecx_sandbox::SandboxConfig) -> TestPbx {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("sandbox runtime");
        let config = threecx_sandbox::SandboxConfig {
            client_secret: SECRET.to_owned(),
            ..config
        };
        let handle = runtime
            .block_on(threecx_sandbox::Sandbox::start(config))
            .expect("the sandbox starts");
        TestPbx {
            handle,
            _runtime: runtime,
        }
    }

    /// Small sizes, so that a test starts in milliseconds.
    pub fn small() -> TestPbx {
        Self::start(threecx_sandbox::SandboxConfig {
            sizes: threecx_test_support::sandbox::small_seed(),
            ..threecx_sandbox::SandboxConfig::default()
        })
    }

    /// `POST /connect/token` by hand: the access token.
    pub fn raw_token(&self) -> String {
        let body = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            self.handle.client_id(),
            SECRET
        );
        let (status, text) = raw_http(
            self.handle.addr(),
            &format!(
                "POST /connect/token HTTP/1.1\r\nHost: {}\r\nContent-Type: \
                 application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: \
                 close\r\n\r\n{body}",
                self.handle.addr(),
                body.len()
            ),
        );
        assert_eq!(status, 200, "{text}");
        let answer: Value = serde_json::from_str(&text).expect("token answer is JSON");
        answer["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// `GET {path_and_query}` by hand, exactly as written (no encoding), with `token`: the status
    /// and the body.
    pub fn raw_get(&self, path_and_query: &str, token: &str) -> (u16, String) {
        raw_http(
            self.handle.addr(),
            &format!(
                "GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
                 Accept: application/json\r\nConnection: close\r\n\r\n",
                self.handle.addr()
            ),
        )
    }
}

impl Threecx {
    /// Credentials of the sandbox `pbx` in the environment.
    pub fn sandbox(self, pbx: &TestPbx) -> Self {
        self.env("THREECX_URL", pbx.handle.url())
            .env("THREECX_CLIENT_ID", pbx.handle.client_id())
            .env("THREECX_CLIENT_SECRET", SECRET)
    }
}

/// One HTTP/1.1 exchange over a plain TCP connection (no HTTP client library, so nothing
/// rewrites the request line): the status and the body (chunked bodies decoded).
pub fn raw_http(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the sandbox");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if !chunked {
        return (status, body.to_owned());
    }
    let mut decoded = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        decoded.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    (status, decoded)
}

/// Sends `signal` (`TERM`, `HUP`, `INT`) to `child`: its exit status and how long it took to
/// exit. A child still running `within` later is killed and the test fails.
pub fn send_signal(
    child: &mut std::process::Child,
    signal: &str,
    within: std::time::Duration,
) -> (std::process::ExitStatus, std::time::Duration) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("still running {within:?} after SIG{signal}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
