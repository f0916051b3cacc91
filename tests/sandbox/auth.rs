//! The token endpoint and bearer checks, as 3CX does them.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use threecx_core::{Client, Error};
use threecx_sandbox::SandboxConfig;

use crate::support::{call, client, ok, small, start, Raw};

#[tokio::test]
async fn token_flow_and_bearer_checks() {
    let pbx = start(small()).await;
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
    let c = client(&pbx);
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
    let pbx = start(small()).await;
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
        let pbx = start(SandboxConfig {
            emulate_version: version.to_owned(),
            ..small()
        })
        .await;
        let (_, body) = Raw::new(&pbx)
            .token_answer(pbx.client_id(), pbx.client_secret())
            .await;
        assert_eq!(body["expires_in"], expires_in, "{version}");
        let status = ok(
            &client(&pbx),
            "System Status",
            "Get System Status",
            json!({}),
        )
        .await;
        assert_eq!(status["Version"], version);
    }
    // Opaque tokens (no JWT exp): the SDK reads 60 as minutes and keeps its token.
    let pbx = start(SandboxConfig {
        emulate_version: "20.0.8".to_owned(),
        jwt_tokens: false,
        ..small()
    })
    .await;
    let (_, body) = Raw::new(&pbx)
        .token_answer(pbx.client_id(), pbx.client_secret())
        .await;
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 1);
    let c = client(&pbx);
    for _ in 0..3 {
        ok(&c, "Users", "List User", json!({"$top": 1})).await;
    }
    assert_eq!(pbx.token_requests(), 2);
}

#[tokio::test]
async fn one_active_token_per_client() {
    let pbx = start(small()).await;
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
    let c = client(&pbx);
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
    let lax = start(SandboxConfig {
        one_active_token_per_client: false,
        ..small()
    })
    .await;
    let raw = Raw::new(&lax);
    let first = raw.token(&lax).await;
    raw.token(&lax).await;
    assert_eq!(raw.get("/Groups", Some(&first)).await.status(), 200);
}

#[tokio::test]
async fn tokens_expire() {
    let pbx = start(SandboxConfig {
        token_lifetime: Duration::from_secs(1),
        ..small()
    })
    .await;
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    assert_eq!(raw.get("/Groups", Some(&token)).await.status(), 200);
    let c = client(&pbx);
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
