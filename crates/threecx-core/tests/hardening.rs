//! Edge values and hostile answers (issue 12): absurd token lifetimes, token endpoints echoing
//! the secret, untrusted token cache records and folders, oversized URLs. Loopback only.

mod common;

use common::*;
use serde_json::json;
use threecx_core::{
    Error, Literal, Location, Method, Param, PreparedRequest, RequestTemplate, ResponseKind,
};
use wiremock::matchers::method;
use wiremock::Mock;

// ---------------------------------------------------------------------------------------------
// Oversized URLs (item 14)

/// `POST /Things({Key})/Pbx.Touch(text={text})`: a POST with a string key and a function-style
/// parameter in the path.
static TOUCH_THING: RequestTemplate = RequestTemplate {
    method: Method::Post,
    path: "/Things({Key})/Pbx.Touch",
    params: &[Param {
        name: "Key",
        location: Location::Path,
        literal: Literal::Quoted,
        required: true,
    }],
    response: ResponseKind::Empty,
    retry_safe: false,
};

/// The error of `result`, without printing a huge success value if there is none.
fn error_of<T>(result: Result<T, Error>) -> Error {
    match result {
        Ok(_) => panic!("expected an error, got a success"),
        Err(e) => e,
    }
}

fn assert_too_long(err: &Error, field: &str) {
    match err {
        Error::InvalidInput {
            pointer, expected, ..
        } => {
            assert_eq!(pointer, &format!("/{field}"), "{err}");
            assert!(expected.contains("32768 bytes"), "{err}");
        }
        other => {
            let shown: String = format!("{other:?}").chars().take(300).collect();
            panic!("expected InvalidInput, got {shown}")
        }
    }
    let text = err.to_string();
    assert!(!text.contains("may have"), "{text}");
    assert!(text.contains("nothing was sent"), "{text}");
    assert!(!text.contains("outcome unknown"), "{text}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_seventy_kilobyte_filter_is_refused_before_any_request() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({"value": []})))
        .mount(&server)
        .await;
    token_mock(TOKEN, 0).mount(&server).await;
    let filter = format!("Number eq '{}'", "1".repeat(70 * 1024));

    // A request put together by hand is refused by the client too, before any I/O (no token
    // request either), and not retried as a network error.
    let client = client(&server, "too-long-url");
    for method in [Method::Get, Method::Post] {
        let req = PreparedRequest {
            method,
            path_and_query: format!("/Users?$filter={}", "x".repeat(70 * 1024)),
            headers: vec![],
            body: None,
            response: ResponseKind::Json,
            retry_safe: method == Method::Get,
        };
        let err = error_of(client.execute(&req).await);
        let shown: String = err.to_string().chars().take(300).collect();
        match &err {
            Error::InvalidInput { expected, .. } => {
                assert!(expected.contains("32768 bytes"), "{shown}")
            }
            _ => panic!("{method}: expected InvalidInput, got {shown}"),
        }
        assert!(!err.to_string().contains("may have"), "{err}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
    // Built from a template: refused while building, naming the field and the limit.
    let err = error_of(LIST_USERS.build(&obj(json!({"$filter": filter, "$top": 10}))));
    assert_too_long(&err, "$filter");

    // A POST whose path is too long: the message must not say it may have been sent.
    let err = error_of(TOUCH_THING.build(&obj(json!({"Key": "k".repeat(40 * 1024)}))));
    assert_too_long(&err, "Key");
    // Just below the limit is fine.
    let max = 32 * 1024 - "/Things('')/Pbx.Touch".len();
    TOUCH_THING
        .build(&obj(json!({"Key": "k".repeat(max)})))
        .unwrap();

    assert_eq!(client.token_fetches(), 0);
    assert_eq!(client.retries(), 0);

    // Paging with such a filter: the first poll reports it, nothing is requested.
    let results: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(client.paginate(
        &LIST_USERS,
        obj(json!({"$filter": filter})),
        100,
    ))
    .await;
    assert_eq!(results.len(), 1);
    match &results[0] {
        Err(e) => assert_too_long(e, "$filter"),
        Ok(_) => panic!("expected an error"),
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}

// ---------------------------------------------------------------------------------------------
// Absurd token lifetimes (item 5)

/// A JWT-shaped token (unsigned) with `claims` as its payload.
fn jwt(claims: serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig",
        b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    )
}

/// 20 calls with a token answer of `body`: the panic (if any) or the number of token requests.
async fn calls_with_token_answer(name: &str, body: String) -> Result<u64, String> {
    let server = server().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/connect/token"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(body),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({"Id": 1})))
        .mount(&server)
        .await;
    let client = client(&server, &format!("lifetime-{name}"));
    // In a task of its own, so a panic is reported for this case instead of ending the test.
    let task = tokio::spawn(async move {
        let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
        for _ in 0..20 {
            client.execute(&req).await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(client.token_fetches())
    });
    match task.await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err("panicked".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn absurd_token_lifetimes_neither_panic_nor_fetch_a_token_per_call() {
    let token = |expires_in: &str| {
        format!(r#"{{"access_token":"tok-life","token_type":"Bearer","expires_in":{expires_in}}}"#)
    };
    let with_jwt = |claims: serde_json::Value| {
        format!(
            r#"{{"access_token":"{}","token_type":"Bearer","expires_in":3600}}"#,
            jwt(claims)
        )
    };
    let cases = [
        ("u64-max", token("18446744073709551615")),
        ("i64-max", token("9223372036854775807")),
        ("u64-max-string", token("\"18446744073709551615\"")),
        ("1e300", token("1e300")),
        ("1e300-string", token("\"1e300\"")),
        ("negative", token("-5")),
        ("i64-min", token("-9223372036854775808")),
        ("jwt-exp-i64-max", with_jwt(json!({"exp": i64::MAX}))),
        ("jwt-exp-1e300", with_jwt(json!({"exp": 1e300}))),
        (
            "jwt-exp-max-iat-min",
            with_jwt(json!({"exp": i64::MAX, "iat": i64::MIN})),
        ),
        ("jwt-exp-i64-min", with_jwt(json!({"exp": i64::MIN}))),
        ("jwt-exp-far-past", with_jwt(json!({"exp": -1e300}))),
        (
            "jwt-exp-past-iat-older",
            with_jwt(json!({"exp": 1, "iat": i64::MIN})),
        ),
    ];
    let mut failures = Vec::new();
    for (name, body) in cases {
        match calls_with_token_answer(name, body).await {
            Ok(1) => {}
            Ok(n) => failures.push(format!("{name}: {n} token requests for 20 calls")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The only token cache file in `dir`.
fn only_file(dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// A client with its own in-memory cache ("another process") using the cache folder `dir`.
fn process(
    server: &wiremock::MockServer,
    client_id: &str,
    dir: &std::path::Path,
    tune: impl FnOnce(threecx_core::ConfigBuilder) -> threecx_core::ConfigBuilder,
) -> threecx_core::Client {
    threecx_core::Client::new(
        tune(config(server, client_id))
            .token_cache_dir(dir)
            .isolated_token_cache(true)
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn absurd_expiries_in_the_token_cache_file_neither_panic_nor_last_forever() {
    let server = server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
    process(&server, "disk-expiry", dir.path(), |b| b)
        .execute(&req)
        .await
        .unwrap();
    let file = only_file(dir.path());
    for (expires_at, lifetime) in [
        (u64::MAX, u64::MAX),
        (u64::MAX, 0),
        (u64::MAX - 1, 1),
        (i64::MAX as u64, u64::MAX / 2),
    ] {
        std::fs::write(
            &file,
            json!({"version": 1, "token": {"access_token": TOKEN,
                "expires_at_ms": expires_at, "lifetime_ms": lifetime}})
            .to_string(),
        )
        .unwrap();
        let client = process(&server, "disk-expiry", dir.path(), |b| b);
        let task = tokio::spawn({
            let req = req.clone();
            async move { client.execute(&req).await.map(|_| client.token_fetches()) }
        });
        match task.await {
            // Used, clamped (no fetch: the token mock allows only the first one).
            Ok(Ok(fetches)) => assert_eq!(fetches, 0),
            Ok(Err(e)) => panic!("{expires_at}/{lifetime}: {e}"),
            Err(_) => panic!("{expires_at}/{lifetime}: panicked"),
        }
    }
}

#[tokio::test]
async fn a_skip_of_u64_max_does_not_overflow_while_paging() {
    let server = server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    // A server that ignores $skip and answers a short page.
    Mock::given(method("GET"))
        .respond_with(json_response(json!({"value": [{"Id": 1}, {"Id": 2}]})))
        .mount(&server)
        .await;
    let client = client(&server, "skip-max");
    let task = tokio::spawn(async move {
        futures_util::StreamExt::collect::<Vec<_>>(client.paginate(
            &LIST_USERS,
            obj(json!({"$skip": u64::MAX})),
            100,
        ))
        .await
    });
    let results = task.await.expect("no panic");
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(Result::is_ok));
}

// ---------------------------------------------------------------------------------------------
// Untrusted token backoff records (item 11)

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The wait an error announces ("the next one will be sent in 12.3 s"), if it does.
fn announced_wait(err: &Error) -> Option<f64> {
    let text = err.to_string();
    let rest = text.split("will be sent in ").nth(1)?;
    rest.split(" s").next()?.parse().ok()
}

#[tokio::test]
async fn planted_backoff_records_wait_at_most_the_configured_maximum() {
    const MAX: std::time::Duration = std::time::Duration::from_millis(300);
    let server = server().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/connect/token"))
        .respond_with(
            wiremock::ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
    let tune = |b: threecx_core::ConfigBuilder| {
        b.token_backoff(std::time::Duration::from_millis(50), MAX)
            .max_attempts(1)
    };
    // A real failure writes the record; then it is replaced with hostile or broken ones.
    process(&server, "disk-planted", dir.path(), tune)
        .execute(&req)
        .await
        .unwrap_err();
    let file = only_file(dir.path());
    let now = unix_ms();
    let day = 24 * 3600 * 1000;
    let records = [
        ("failure a day ahead", 1, now + day, vec![now + day]),
        ("failure at u64::MAX", u32::MAX, u64::MAX, vec![u64::MAX]),
        ("minute full of u64::MAX", 3, u64::MAX, vec![u64::MAX; 5]),
        (
            "all of them",
            u32::MAX,
            u64::MAX,
            vec![u64::MAX, now + day, 0, 1],
        ),
    ];
    for (name, consecutive, last_ms, recent_ms) in records {
        std::fs::write(
            &file,
            json!({"version": 1, "failures": {
                "backoff": {"consecutive": consecutive, "last_ms": last_ms, "recent_ms": recent_ms},
                "error": {"kind": "auth", "status": 400, "message": "invalid_client"}}})
            .to_string(),
        )
        .unwrap();
        let before = server.received_requests().await.unwrap().len();
        let client = process(&server, "disk-planted", dir.path(), tune);
        let started = std::time::Instant::now();
        let req = req.clone();
        let task = tokio::spawn(async move {
            // Call until a token request goes out again (the endpoint keeps refusing).
            loop {
                let err = client.execute(&req).await.unwrap_err();
                if client.token_fetches() > 0 {
                    return Ok(());
                }
                match announced_wait(&err) {
                    Some(wait) if wait <= MAX.as_secs_f64() + 0.05 => {}
                    _ => return Err(err.to_string()),
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        });
        match tokio::time::timeout(std::time::Duration::from_secs(5), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("{name}: {e}"),
            Ok(Err(_)) => panic!("{name}: panicked"),
            Err(_) => panic!("{name}: still backing off after 5 s"),
        }
        let waited = started.elapsed();
        // A day before the fix; here the wait plus scheduling slack on a busy machine.
        assert!(
            waited <= MAX + std::time::Duration::from_secs(1),
            "{name}: {waited:?}"
        );
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            before + 1,
            "{name}"
        );
        println!("{name}: next token request after {waited:?}");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&u64::MAX.to_string()), "{name}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// The token cache folder and its lock (item 16)

/// Log lines written while the guard lives (this thread's default subscriber).
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[cfg(unix)]
#[tokio::test]
async fn a_token_cache_folder_others_can_write_to_is_tightened_or_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let server = server().await;
    token_mock(TOKEN, 2).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})))
        .mount(&server)
        .await;
    let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
    let (logs, _guard) = capture_logs();

    // Our own folder, writable by everyone: its write bits for others are removed, and the
    // token is cached there as usual.
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    set(&open, 0o777);
    process(&server, "folder-open", &open, |b| b)
        .execute(&req)
        .await
        .unwrap();
    assert_eq!(mode(&open), 0o755);
    only_file(&open);
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("writable by other users"), "{text}");
    println!("{text}");

    // A shared folder such as /tmp (sticky, writable by all) is left alone and not used: the
    // call goes on with the token in memory.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    set(&shared, 0o1777);
    process(&server, "folder-shared", &shared, |b| b)
        .execute(&req)
        .await
        .unwrap();
    assert_eq!(mode(&shared), 0o1777);
    assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0);
    let text = logs.text();
    assert!(text.contains("keeping the token in memory only"), "{text}");
    println!("{text}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_token_cache_lock_held_by_a_stuck_process_delays_a_call_by_seconds_not_forever() {
    let server = server().await;
    token_mock(TOKEN, 2).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({})))
        .mount(&server)
        .await;
    let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    process(&server, "lock-stuck", dir.path(), |b| b)
        .execute(&req)
        .await
        .unwrap();
    // Another process takes the lock and never lets go (flock on its own open file).
    let file = only_file(dir.path());
    let stuck = std::fs::OpenOptions::new().read(true).open(&file).unwrap();
    fs4::FileExt::try_lock(&stuck).unwrap();
    // The next process cannot read the file's token without the lock: it waits, gives up and
    // fetches a token of its own, kept in memory.
    let (logs, _guard) = capture_logs();
    let client = process(&server, "lock-stuck", dir.path(), |b| b);
    let started = std::time::Instant::now();
    let call = tokio::time::timeout(std::time::Duration::from_secs(15), client.execute(&req));
    call.await
        .expect("the call went on after the lock wait")
        .unwrap();
    let waited = started.elapsed();
    println!("call with a stuck lock took {waited:?}");
    assert!(
        waited >= std::time::Duration::from_secs(4) && waited < std::time::Duration::from_secs(8),
        "{waited:?}"
    );
    assert_eq!(client.token_fetches(), 1);
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("locked"), "{text}");
    println!("{text}");
    drop(stuck);
}

// ---------------------------------------------------------------------------------------------
// Token endpoints echoing the request (item 8)

/// A token endpoint answering `status` with `body`, `content_type` and optionally `location`.
async fn echoing_token_endpoint(
    status: u16,
    content_type: &str,
    body: String,
    location: Option<String>,
) -> wiremock::MockServer {
    let server = server().await;
    let mut answer = wiremock::ResponseTemplate::new(status)
        .insert_header("content-type", content_type)
        .set_body_string(body);
    if let Some(l) = location {
        answer = answer.insert_header("location", l.as_str());
    }
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/connect/token"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_token_endpoint_echoing_the_form_leaks_no_form_of_the_secret() {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    // Every form of these secrets contains "s3cr3t": none may show.
    let mut leaks = Vec::new();
    let mut total = 0;
    for secret in ["s3cr3t+/=&é", "s3cr3t +/=&é\"<>'\\"] {
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "echo")
            .append_pair("client_secret", secret)
            .append_pair("grant_type", "client_credentials")
            .finish();
        let pct = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
        let pct_lower = pct
            .split('%')
            .enumerate()
            .map(|(i, p)| {
                if i == 0 {
                    p.to_owned()
                } else {
                    format!("{}{}", p[..2].to_ascii_lowercase(), &p[2..])
                }
            })
            .collect::<Vec<_>>()
            .join("%");
        let json_escaped = serde_json::to_string(secret).unwrap();
        let dotnet_escaped: String = secret
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    format!("\\u{:04X}", c as u32)
                }
            })
            .collect();
        let html: String = secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('+', "&#43;")
            .replace('/', "&#x2F;");
        let double = utf8_percent_encode(&pct, NON_ALPHANUMERIC).to_string();
        // The excerpt of a non-JSON answer ends at 300 characters: right inside the secret.
        let padding = "x".repeat(300 - " client_secret=s3cr3t%2B".len());
        let cases: Vec<(&str, u16, &str, String, Option<String>)> = vec![
            (
                "form echoed as text",
                400,
                "text/plain",
                format!("bad request: {form}"),
                None,
            ),
            (
                "form in error_description",
                400,
                "application/json",
                json!({"error": "invalid_request", "error_description": format!("got {form}")})
                    .to_string(),
                None,
            ),
            (
                "percent-encoded, %20",
                401,
                "text/plain",
                format!("secret={pct}"),
                None,
            ),
            (
                "lower-case hex",
                401,
                "text/plain",
                format!("secret={pct_lower}"),
                None,
            ),
            (
                "twice encoded",
                401,
                "text/plain",
                format!("secret={double}"),
                None,
            ),
            (
                "JSON-escaped in text",
                401,
                "text/plain",
                format!(r#"echo {{"client_secret":{json_escaped}}}"#),
                None,
            ),
            (
                ".NET-escaped JSON",
                400,
                "application/json",
                format!(
                    r#"{{"error":"invalid_client","error_description":"secret \"{dotnet_escaped}\" is wrong"}}"#
                ),
                None,
            ),
            (
                "HTML page",
                403,
                "text/html",
                format!("<p>secret: {html}</p>"),
                None,
            ),
            (
                "cut by the excerpt",
                401,
                "text/plain",
                format!("{padding} client_secret={pct}"),
                None,
            ),
            (
                "OData error with details",
                500,
                "application/json",
                json!({"error": {"code": "E1", "message": format!("bad form {form}"),
                    "details": [{"code": "", "message": form, "target": pct}]}})
                .to_string(),
                None,
            ),
            (
                "redirect",
                302,
                "text/plain",
                String::new(),
                Some(format!("/login?{form}")),
            ),
        ];
        for (name, status, content_type, body, location) in cases {
            let server = echoing_token_endpoint(status, content_type, body, location).await;
            let client = threecx_core::Client::new(
                threecx_core::Config::builder()
                    .base_url(server.uri())
                    .client_id(format!("echo-{name}"))
                    .client_secret(secret)
                    .max_attempts(1)
                    .build()
                    .unwrap(),
            )
            .unwrap();
            let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
            let err = client.execute(&req).await.unwrap_err();
            let shown = format!("{err}\n{err:?}");
            total += 1;
            if shown.contains("s3cr3t") {
                leaks.push(format!("{secret:?} / {name}: {shown}"));
                continue;
            }
            if name == "form in error_description" || name == ".NET-escaped JSON" {
                // The OAuth error code is still given.
                assert!(shown.contains("invalid_"), "{name}: {shown}");
            }
            if name == "OData error with details" {
                assert!(shown.contains("E1"), "{name}: {shown}");
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} of {total} answers leaked a form of the secret:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Runaway token answers

/// A token endpoint on loopback that answers `status` with an endless chunked body (1 MiB every
/// 10 ms, so a client that reads it all cannot exhaust memory within a test), counting the bytes
/// it manages to write before the client hangs up.
async fn endless_token_endpoint(
    status: u16,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = std::sync::Arc::new(AtomicU64::new(0));
    let count = std::sync::Arc::clone(&written);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let count = std::sync::Arc::clone(&count);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = stream.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     transfer-encoding: chunked\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let first = b"{\"access_token\":\"";
                let _ = stream
                    .write_all(format!("{:x}\r\n", first.len()).as_bytes())
                    .await;
                let _ = stream.write_all(first).await;
                let _ = stream.write_all(b"\r\n").await;
                let chunk = vec![b'a'; 1024 * 1024];
                loop {
                    let frame = [
                        format!("{:x}\r\n", chunk.len()).into_bytes(),
                        chunk.clone(),
                        b"\r\n".to_vec(),
                    ]
                    .concat();
                    if stream.write_all(&frame).await.is_err() {
                        return;
                    }
                    count.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            });
        }
    });
    (url, written)
}

#[tokio::test]
async fn an_endless_token_answer_is_cut_off_not_read_whole() {
    use std::sync::atomic::Ordering;
    for status in [200, 400, 500] {
        let (url, written) = endless_token_endpoint(status).await;
        let client = threecx_core::Client::new(
            threecx_core::Config::builder()
                .base_url(&url)
                .client_id(format!("endless-{status}"))
                .client_secret(SECRET)
                .timeout(std::time::Duration::from_secs(3))
                .max_attempts(1)
                .build()
                .unwrap(),
        )
        .unwrap();
        let req = GET_USER.build(&obj(json!({"Id": 1}))).unwrap();
        let started = std::time::Instant::now();
        let err = client.execute(&req).await.unwrap_err();
        let took = started.elapsed();
        let text: String = err.to_string().chars().take(400).collect();
        println!(
            "{status}: {took:?}, {} KiB sent: {text}",
            written.load(Ordering::Relaxed) / 1024
        );
        // The whole 3 s timeout before the fix; milliseconds now.
        assert!(
            took < std::time::Duration::from_secs(2),
            "{status}: {took:?}: {text}"
        );
        assert!(
            err.to_string().len() < 2_000,
            "{status}: an excerpt: {text}"
        );
        if status == 200 {
            assert!(matches!(err, Error::Decode { .. }), "{text}");
            assert!(text.contains("64 KiB"), "{text}");
        }
        assert_no_secrets(&err);
    }
}
