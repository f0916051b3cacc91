//! Talking to sandboxes (starting them and SDK clients: `threecx_test_support::sandbox`).

use std::time::Duration;

use serde_json::Value;
use threecx_core::{Client, Error, Response};
use threecx_sandbox::SandboxHandle;

/// Calls an action by name; the answer's JSON form.
pub async fn call(
    client: &Client,
    resource: &str,
    action: &str,
    input: Value,
) -> Result<Value, Error> {
    threecx_ops::registry()
        .call(client, resource, action, input)
        .await
        .map(|r: Response| r.to_json())
}

/// Calls an action that must succeed.
pub async fn ok(client: &Client, resource: &str, action: &str, input: Value) -> Value {
    call(client, resource, action, input.clone())
        .await
        .unwrap_or_else(|e| panic!("{resource} / {action} {input}: {e}"))
}

/// An answer without its `@odata.context` (entity, list and singleton answers carry one).
pub fn without_context(mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.remove("@odata.context");
    }
    v
}

/// The HTTP status of an API error (panics on anything else).
pub fn status(e: &Error) -> u16 {
    match e {
        Error::Api { status, .. } => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw HTTP client and a token, for what the SDK hides (headers, exact statuses).
pub struct Raw {
    pub http: reqwest::Client,
    pub base: String,
}

impl Raw {
    pub fn new(pbx: &SandboxHandle) -> Raw {
        Raw {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base: pbx.url(),
        }
    }

    pub async fn token_answer(&self, id: &str, secret: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/connect/token", self.base))
            .form(&[
                ("client_id", id),
                ("client_secret", secret),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn token(&self, pbx: &SandboxHandle) -> String {
        let (status, body) = self
            .token_answer(pbx.client_id(), pbx.client_secret())
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET /xapi/v1{path}` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}/xapi/v1{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }
}
