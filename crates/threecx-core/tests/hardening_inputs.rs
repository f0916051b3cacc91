//! Edge values of the input (issue 12): oversized URLs, absurd paging offsets. Loopback only.

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
    let server = fresh_mock_server().await;
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
            path_and_query: format!("/Users?$filter={}", "x".repeat(70 * 1024)).into(),
            headers: Default::default(),
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

#[tokio::test]
async fn a_skip_of_u64_max_does_not_overflow_while_paging() {
    let server = fresh_mock_server().await;
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
