//! Hostile token endpoints (issue 12): absurd token lifetimes, answers echoing the secret in
//! any encoding, endless answers. Loopback only.

mod common;

use common::*;
use serde_json::json;
use threecx_core::Error;
use wiremock::matchers::method;
use wiremock::Mock;

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
    let server = fresh_mock_server().await;
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
        let req = get_user();
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

// ---------------------------------------------------------------------------------------------
// Token endpoints echoing the request (item 8)

/// A token endpoint answering `status` with `body`, `content_type` and optionally `location`.
async fn echoing_token_endpoint(
    status: u16,
    content_type: &str,
    body: String,
    location: Option<String>,
) -> wiremock::MockServer {
    let server = fresh_mock_server().await;
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

/// An answer of the token endpoint: name, status, content type, body, `Location`.
type EchoCase = (&'static str, u16, &'static str, String, Option<String>);

/// The secret as servers echo it: in a form body, percent-encoded (upper and lower hex, twice),
/// JSON-, .NET- and HTML-escaped; and padding that makes an excerpt end inside it.
struct Forms {
    form: String,
    pct: String,
    pct_lower: String,
    json_escaped: String,
    dotnet_escaped: String,
    html: String,
    double: String,
    padding: String,
}

fn forms(secret: &str) -> Forms {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
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
    Forms {
        form,
        pct,
        pct_lower,
        json_escaped,
        dotnet_escaped,
        html,
        double,
        padding,
    }
}

/// Answers quoting the token request with `secret` in it, in every encoding servers use.
fn echo_cases(secret: &str) -> Vec<EchoCase> {
    let Forms {
        form,
        pct,
        pct_lower,
        json_escaped,
        dotnet_escaped,
        html,
        double,
        padding,
    } = forms(secret);
    vec![
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
    ]
}

#[tokio::test]
async fn a_token_endpoint_echoing_the_form_leaks_no_form_of_the_secret() {
    // Every form of these secrets contains "s3cr3t": none may show.
    let mut leaks = Vec::new();
    let mut total = 0;
    for secret in ["s3cr3t+/=&é", "s3cr3t +/=&é\"<>'\\"] {
        let cases = echo_cases(secret);
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
            let req = get_user();
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
        let req = get_user();
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
