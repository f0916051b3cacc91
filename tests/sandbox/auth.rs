//! The token endpoint and bearer checks, as 3CX does them.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use threecx_core::{Client, Error};
use threecx_sandbox::SandboxConfig;

use crate::support::{call, ok, Raw};
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

#[tokio::test]
async fn token_flow_and_bearer_checks() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);

    let (status, body) = raw.token_answer(pbx.client_id(), pbx.client_secret()).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["refresh_token"], Value::Null);
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "JWT-shaped");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    // No bearer, a made-up bearer, another scheme: 401 with a 3CX-shaped error.
    for auth in [None, Some("not-a-token")] {
        let r = raw.get("/Users", auth).await;
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .split(' ')
                .next(),
            Some("Bearer")
        );
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("denied"),
            "{body}"
        );
        assert_eq!(body["error"]["code"], "");
    }
    let r = raw.get("/Users?$top=1", Some(token)).await;
    assert_eq!(r.status(), 200);

    // Through the SDK: one token for many calls.
    let c = sandbox_client(&pbx);
    for _ in 0..3 {
        ok(&c, "Users", "List User", json!({"$top": 1})).await;
    }
    assert_eq!(pbx.token_requests(), 2, "one raw, one for the SDK");
    assert_eq!(
        pbx.count("GET", "/xapi/v1/Users"),
        6,
        "2 refused, 1 raw, 3 by the SDK"
    );
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let (status, body) = raw.token_answer(pbx.client_id(), "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, _) = raw.token_answer("someone-else", pbx.client_secret()).await;
    assert_eq!(status, 401);

    let bad = Client::new(
        pbx.client_config()
            .client_secret("not-the-secret".to_owned())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = call(&bad, "Users", "List User", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Auth {
                status: Some(401),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        !e.to_string().contains("not-the-secret"),
        "no secret in errors: {e}"
    );
    assert_eq!(
        pbx.count("GET", "/xapi/v1"),
        0,
        "nothing sent without a token"
    );
}

#[tokio::test]
async fn expires_in_is_minutes_before_20_0_9() {
    for (version, expires_in) in [("20.0.8", 60), ("20.0.9", 3600), ("20.0.10", 3600)] {
        let pbx = start_sandbox(SandboxConfig {
            emulate_version: version.to_owned(),
            ..small_sandbox_config("sandbox-test")
        })
        .await;
        let (_, body) = Raw::new(&pbx)
            .token_answer(pbx.client_id(), pbx.client_secret())
            .await;
        assert_eq!(body["expires_in"], expires_in, "{version}");
        let status = ok(
            &sandbox_client(&pbx),
            "System Status",
            "Get System Status",
            json!({}),
        )
        .await;
        assert_eq!(status["Version"], version);
    }
    // Opaque tokens (no JWT exp): the SDK reads 60 as minutes and keeps its token.
    let pbx = start_sandbox(SandboxConfig {
        emulate_version: "20.0.8".to_owned(),
        jwt_tokens: false,
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let (_, body) = Raw::new(&pbx)
        .token_answer(pbx.client_id(), pbx.client_secret())
        .await;
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 1);
    let c = sandbox_client(&pbx);
    for _ in 0..3 {
        ok(&c, "Users", "List User", json!({"$top": 1})).await;
    }
    assert_eq!(pbx.token_requests(), 2);
}

#[tokio::test]
async fn one_active_token_per_client() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let first = raw.token(&pbx).await;
    let second = raw.token(&pbx).await;
    assert_eq!(
        raw.get("/Groups", Some(&first)).await.status(),
        401,
        "replaced"
    );
    assert_eq!(raw.get("/Groups", Some(&second)).await.status(), 200);

    // The SDK recovers when another program takes the client's token: one 401, one refresh.
    let c = sandbox_client(&pbx);
    ok(&c, "Groups", "List Group", json!({})).await;
    raw.token(&pbx).await;
    ok(&c, "Groups", "List Group", json!({})).await;
    let groups: Vec<u16> = pbx
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/xapi/v1/Groups"))
        .map(|r| r.status)
        .collect();
    assert_eq!(groups, [401, 200, 200, 401, 200]);
    assert_eq!(pbx.token_requests(), 5);

    // Without the rule, older tokens stay valid.
    let lax = start_sandbox(SandboxConfig {
        one_active_token_per_client: false,
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let raw = Raw::new(&lax);
    let first = raw.token(&lax).await;
    raw.token(&lax).await;
    assert_eq!(raw.get("/Groups", Some(&first)).await.status(), 200);
}

#[tokio::test]
async fn tokens_expire() {
    let pbx = start_sandbox(SandboxConfig {
        token_lifetime: Duration::from_secs(1),
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    assert_eq!(raw.get("/Groups", Some(&token)).await.status(), 200);
    let c = sandbox_client(&pbx);
    ok(&c, "Groups", "List Group", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = raw.get("/Groups", Some(&token)).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    // The SDK renews its token before (or on) expiry.
    ok(&c, "Groups", "List Group", json!({})).await;
    assert_eq!(pbx.token_requests(), 3);
}

/// How a token request's fields are put in its body.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    /// `application/x-www-form-urlencoded`, as the SDK sends it.
    Urlencoded,
    /// `multipart/form-data` framed by reqwest's multipart encoder, as a JavaScript `FormData`
    /// body or `curl -F` sends it (a random boundary per request).
    Multipart,
}

/// `POST /connect/token` with exactly `fields`, in their order: status, JSON answer.
async fn token_request(raw: &Raw, encoding: Encoding, fields: &[(&str, &str)]) -> (u16, Value) {
    let req = raw.http.post(format!("{}/connect/token", raw.base));
    let req = match encoding {
        Encoding::Urlencoded => req.form(fields),
        Encoding::Multipart => req.multipart(
            fields
                .iter()
                .fold(reqwest::multipart::Form::new(), |form, (name, value)| {
                    form.text(name.to_string(), value.to_string())
                }),
        ),
    };
    answer(req).await
}

async fn answer(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {body:?}"));
    (status, json)
}

/// The three fields of a client-credentials request.
fn credentials(pbx: &threecx_sandbox::SandboxHandle) -> [(&str, &str); 3] {
    [
        ("client_id", pbx.client_id()),
        ("client_secret", pbx.client_secret()),
        ("grant_type", "client_credentials"),
    ]
}

#[tokio::test]
async fn token_requests_as_multipart_form_data() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let [id, secret, grant] = credentials(&pbx);
    // The order FormData keeps when built field by field, another one, and urlencoded as before.
    for (encoding, fields) in [
        (Encoding::Multipart, [id, secret, grant]),
        (Encoding::Multipart, [grant, secret, id]),
        (Encoding::Urlencoded, [id, secret, grant]),
        (Encoding::Urlencoded, [secret, grant, id]),
    ] {
        let (status, body) = token_request(&raw, encoding, &fields).await;
        assert_eq!(status, 200, "{encoding:?} {fields:?}: {body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let token = body["access_token"].as_str().unwrap();
        let r = raw.get("/Users?$top=2", Some(token)).await;
        assert_eq!(r.status(), 200, "{encoding:?}: the token works");
        let users: Value = r.json().await.unwrap();
        assert_eq!(users["value"].as_array().unwrap().len(), 2);
    }
    assert_eq!(pbx.token_requests(), 4);

    // A field sent as a file part (`curl -F client_secret=@secret.txt`) is read as its text.
    let form = reqwest::multipart::Form::new()
        .text("grant_type", "client_credentials")
        .text("client_id", pbx.client_id().to_owned())
        .part(
            "client_secret",
            reqwest::multipart::Part::text(pbx.client_secret().to_owned())
                .file_name("secret.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let req = raw
        .http
        .post(format!("{}/connect/token", raw.base))
        .multipart(form);
    let (status, body) = answer(req).await;
    assert_eq!(status, 200, "{body}");
}

/// The fields sent; the status, `error` and a part of `error_description` expected.
type RefusalCase<'a> = (&'a [(&'a str, &'a str)], u16, &'a str, &'a str);

#[tokio::test]
async fn token_refusals_are_oauth_errors_in_both_encodings() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let [id, secret, grant] = credentials(&pbx);
    let wrong_secret = ("client_secret", "wrong");
    let other_client = ("client_id", "someone-else");
    let password = ("grant_type", "password");
    let cases: [RefusalCase; 6] = [
        (
            &[id, secret],
            400,
            "invalid_request",
            "grant_type is missing",
        ),
        (
            &[secret, grant],
            400,
            "invalid_request",
            "client_id is missing",
        ),
        (
            &[id, grant],
            400,
            "invalid_request",
            "client_secret is missing",
        ),
        (&[id, wrong_secret, grant], 401, "invalid_client", ""),
        (&[other_client, secret, grant], 401, "invalid_client", ""),
        (
            &[id, secret, password],
            400,
            "unsupported_grant_type",
            "password",
        ),
    ];
    for encoding in [Encoding::Urlencoded, Encoding::Multipart] {
        for (fields, want_status, want_error, says) in cases {
            let (status, body) = token_request(&raw, encoding, fields).await;
            let what = format!("{encoding:?} {fields:?}: {body}");
            assert_eq!(status, want_status, "{what}");
            assert_eq!(body["error"], want_error, "{what}");
            let description = body["error_description"].as_str().unwrap();
            assert!(description.contains(says), "{what}");
            assert!(
                !body.to_string().contains(pbx.client_secret()),
                "no secret in answers: {what}"
            );
        }
    }

    // No fields at all: an empty form lacks grant_type; a multipart body needs one part at least
    // (RFC 2046), so an empty one does not parse. Both are invalid requests.
    for encoding in [Encoding::Urlencoded, Encoding::Multipart] {
        let (status, body) = token_request(&raw, encoding, &[]).await;
        assert_eq!(status, 400, "{encoding:?}: {body}");
        assert_eq!(body["error"], "invalid_request", "{encoding:?}: {body}");
    }
}

/// Bodies that are neither form: the credentials as text/plain or JSON, multipart without a
/// boundary, with another boundary, or cut short.
#[tokio::test]
async fn token_bodies_in_other_formats_are_invalid_requests() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let raw = Raw::new(&pbx);
    let url = format!("{}/connect/token", raw.base);
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        pbx.client_id(),
        pbx.client_secret()
    );
    let framed = "--abc\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\n\
                  client_credentials\r\n--abc--\r\n";
    let json = json!({"client_id": pbx.client_id(), "client_secret": pbx.client_secret(),
                      "grant_type": "client_credentials"})
    .to_string();
    for (content_type, body, says) in [
        ("text/plain", form.clone(), "'text/plain' is not supported"),
        ("text/plain; charset=utf-8", form, "not supported"),
        (
            "application/json",
            json,
            "'application/json' is not supported",
        ),
        ("multipart/form-data", framed.to_owned(), "cannot be read"),
        (
            "multipart/form-data; boundary=xyz",
            framed.to_owned(),
            "cannot be read",
        ),
        (
            "multipart/form-data; boundary=abc",
            framed[..framed.len() - 12].to_owned(),
            "cannot be read",
        ),
    ] {
        let req = raw
            .http
            .post(&url)
            .header("Content-Type", content_type)
            .body(body);
        let (status, body) = answer(req).await;
        assert_eq!(status, 400, "{content_type}: {body}");
        assert_eq!(body["error"], "invalid_request", "{content_type}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(says), "{content_type}: {description}");
    }
}
