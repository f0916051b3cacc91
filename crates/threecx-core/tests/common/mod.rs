//! Shared helpers of the transport tests. All traffic goes to wiremock servers on 127.0.0.1.
#![allow(dead_code)] // each test binary uses a different subset

pub mod logs;
pub mod raw;

use std::fmt::{Debug, Display};
use std::time::Duration;

use serde_json::{json, Map, Value};
use threecx_core::{
    Client, Config, ConfigBuilder, Literal, Location, Method, Param, RequestTemplate, ResponseKind,
};

use wiremock::{Mock, MockServer, ResponseTemplate};

pub const SECRET: &str = "s3cr3t-XYZ";
pub const TOKEN: &str = "tok-ABC";

/// Fake PBXs on 127.0.0.1, shared with the other suites.
#[allow(unused_imports)] // each test binary uses a different subset
pub use threecx_test_support::fake_pbx::{fresh_mock_server, token_answer, token_endpoint};

/// Settings for `server` with a client ID unique to the test, so no token is shared by accident.
pub fn config(server: &MockServer, client_id: &str) -> ConfigBuilder {
    Config::builder()
        .base_url(server.uri())
        .client_id(client_id)
        .client_secret(SECRET)
}

pub fn client(server: &MockServer, client_id: &str) -> Client {
    threecx_test_support::fake_pbx::client_for_mock(server, client_id, SECRET)
}

/// The token endpoint answering `token`, expected to be asked exactly `times` times.
pub fn token_mock(token: &str, times: u64) -> Mock {
    token_endpoint(token).expect(times)
}

/// A fresh fake PBX whose token endpoint hands out `token`, expected exactly `token_fetches`
/// times, and which answers every GET with `{}`: for tests about the token, not the call.
pub async fn pbx_answering_every_get(token: &str, token_fetches: u64) -> MockServer {
    let server = fresh_mock_server().await;
    token_mock(token, token_fetches).mount(&server).await;
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(json_response(json!({})))
        .mount(&server)
        .await;
    server
}

/// Every GET answered with `{}`, expected exactly `times` times.
pub fn gets_answered(times: u64) -> Mock {
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(json_response(json!({})))
        .expect(times)
}

pub fn json_response(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Get User 1: the request most tests send.
pub fn get_user() -> threecx_core::PreparedRequest {
    GET_USER.build(&obj(json!({"Id": 1}))).unwrap()
}

/// Purge Chats with no period: a request that is not safe to repeat.
pub fn purge() -> threecx_core::PreparedRequest {
    PURGE_CHATS.build(&obj(json!({}))).unwrap()
}

/// `err` is the PBX refusing the credentials or the token with a 401.
#[track_caller]
pub fn assert_refused_401(err: &threecx_core::Error) {
    assert!(
        matches!(
            err,
            threecx_core::Error::Auth {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
}

const fn query(name: &'static str) -> Param {
    Param {
        name,
        location: Location::Query,
        literal: Literal::Bare,
        required: false,
    }
}

/// `GET /Users` with the OData options, as codegen would emit it.
pub static LIST_USERS: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Users",
    params: &[
        query("$top"),
        query("$skip"),
        query("$filter"),
        query("$count"),
    ],
    response: ResponseKind::Collection,
    retry_safe: true,
};

/// `GET /Users({Id})`.
pub static GET_USER: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Users({Id})",
    params: &[Param {
        name: "Id",
        location: Location::Path,
        literal: Literal::Bare,
        required: true,
    }],
    response: ResponseKind::Json,
    retry_safe: true,
};

/// `GET /Users(Number={Number})`: a string key.
pub static GET_USER_BY_NUMBER: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Users(Number={Number})",
    params: &[Param {
        name: "Number",
        location: Location::Path,
        literal: Literal::Quoted,
        required: true,
    }],
    response: ResponseKind::Json,
    retry_safe: true,
};

/// `POST /PurgeChats` with its `period` parameter.
pub static PURGE_CHATS: RequestTemplate = RequestTemplate {
    method: Method::Post,
    path: "/PurgeChats",
    params: &[Param {
        name: "period",
        location: Location::Body,
        literal: Literal::Bare,
        required: false,
    }],
    response: ResponseKind::Empty,
    retry_safe: false,
};

/// A download the spec types as JSON.
pub static DOWNLOAD_LOGS: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/ReportCallLogData/Pbx.DownloadCallLog()",
    params: &[],
    response: ResponseKind::Download,
    retry_safe: true,
};

/// Asserts that neither the secret nor the token shows in `Debug` or `Display` of `value`.
pub fn assert_no_secrets<T: Debug + Display + ?Sized>(value: &T) {
    let shown = format!("{value:?}\n{value}");
    assert_no_secrets_in(&shown);
}

pub fn assert_no_secrets_in(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
}

/// Short timeouts for tests that expect one.
pub const SHORT: Duration = Duration::from_millis(100);
