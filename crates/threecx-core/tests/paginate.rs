//! Paging through collections with `$top`/`$skip` and `@odata.nextLink`.

mod common;

use common::*;
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use threecx_core::{Error, Method, Param, RequestTemplate, ResponseKind};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

fn users(range: std::ops::Range<u64>) -> Value {
    json!({ "value": range.map(|i| json!({"Id": i})).collect::<Vec<_>>() })
}

async fn mount_page(server: &MockServer, top: u64, skip: u64, body: Value) {
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .and(query_param("$top", top.to_string()))
        .and(query_param("$skip", skip.to_string()))
        .respond_with(json_response(body))
        .expect(1)
        .mount(server)
        .await;
}

fn ids(items: &[Value]) -> Vec<u64> {
    items.iter().map(|v| v["Id"].as_u64().unwrap()).collect()
}

/// `(top, skip)` of every API request the server saw, in order.
async fn pages_asked(server: &MockServer) -> Vec<(String, String)> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/xapi/v1/Users")
        .map(|r| {
            let get = |k: &str| {
                r.url
                    .query_pairs()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (get("$top"), get("$skip"))
        })
        .collect()
}

#[tokio::test]
async fn two_hundred_fifty_items_in_pages_of_a_hundred() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    mount_page(&server, 100, 0, users(0..100)).await;
    mount_page(&server, 100, 100, users(100..200)).await;
    mount_page(&server, 100, 200, users(200..250)).await;

    let client = client(&server, "paginate-250");
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({"$filter": "Id ge 0"})), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items), (0..250).collect::<Vec<_>>());
    assert_eq!(
        pages_asked(&server).await,
        vec![
            ("100".into(), "0".into()),
            ("100".into(), "100".into()),
            ("100".into(), "200".into())
        ]
    );
    // The caller's other options go with every page.
    for r in server.received_requests().await.unwrap().iter().skip(1) {
        assert!(
            r.url.query().unwrap().contains("$filter=Id%20ge%200"),
            "{}",
            r.url
        );
    }
}

#[tokio::test]
async fn the_callers_skip_and_top_are_start_and_total() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    mount_page(&server, 100, 10, users(10..110)).await;
    mount_page(&server, 50, 110, users(110..160)).await;

    let client = client(&server, "paginate-limit");
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({"$skip": 10, "$top": 150})), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items), (10..160).collect::<Vec<_>>());
    assert_eq!(pages_asked(&server).await.len(), 2);
}

#[tokio::test]
async fn an_exact_multiple_ends_on_an_empty_page() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    mount_page(&server, 2, 0, users(0..2)).await;
    mount_page(&server, 2, 2, users(2..4)).await;
    mount_page(&server, 2, 4, users(4..4)).await;
    let client = client(&server, "paginate-exact");
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({})), 2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items), vec![0, 1, 2, 3]);
}

#[tokio::test]
async fn next_links_are_followed() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    let mut first = users(0..100);
    first["@odata.nextLink"] = json!("Users?$skiptoken=abc");
    mount_page(&server, 100, 0, first).await;
    let mut second = users(100..200);
    second["@odata.nextLink"] = json!(format!("{}/xapi/v1/Users?$skiptoken=def", server.uri()));
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .and(query_param("$skiptoken", "abc"))
        .respond_with(json_response(second))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .and(query_param("$skiptoken", "def"))
        .respond_with(json_response(users(200..230)))
        .expect(1)
        .mount(&server)
        .await;
    // The request and its links gave more than the 100 asked for: paging goes on after them,
    // and the empty page ends it.
    mount_page(&server, 100, 230, users(230..230)).await;

    let client = client(&server, "paginate-next-link");
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({})), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items), (0..230).collect::<Vec<_>>());
}

/// A server that answers at most `cap` items per request and offers the rest of a larger `$top`
/// through `@odata.nextLink` (`$skip` and `$top` moved on), like a PBX with a page size limit.
struct CappedPages {
    total: u64,
    cap: u64,
}

impl wiremock::Respond for CappedPages {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let get = |k: &str| {
            request
                .url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let skip = get("$skip").unwrap_or(0);
        let wanted = get("$top").unwrap_or(u64::MAX);
        let take = wanted.min(self.cap);
        let end = (skip + take).min(self.total);
        let mut body = users(skip.min(end)..end);
        if take < wanted && end < self.total {
            body["@odata.nextLink"] =
                json!(format!("Users?$skip={end}&$top={}", wanted - (end - skip)));
        }
        json_response(body)
    }
}

/// A fake PBX with 1,234 users that answers at most 100 a page, with next links.
async fn capping_pbx() -> MockServer {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(CappedPages {
            total: 1234,
            cap: 100,
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_server_capping_pages_below_top_is_read_to_the_end() {
    let server = capping_pbx().await;

    let client = client(&server, "paginate-capped");
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({})), 500)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        ids(&items),
        (0..1234).collect::<Vec<_>>(),
        "every item exactly once, in order"
    );
    let asked = pages_asked(&server).await;
    // Three requests of 500 (0, 500, 1000), each answered 100 at a time through next links.
    let offset_requests: Vec<_> = asked.iter().filter(|(top, _)| top == "500").collect();
    assert_eq!(
        offset_requests,
        [
            &("500".to_owned(), "0".to_owned()),
            &("500".to_owned(), "500".to_owned()),
            &("500".to_owned(), "1000".to_owned())
        ]
    );
    assert_eq!(asked.len(), 5 + 5 + 3, "{asked:?}");
}

#[tokio::test]
async fn a_capping_server_stops_at_the_callers_top() {
    let server = capping_pbx().await;

    let client = client(&server, "paginate-capped-top");
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({"$skip": 30, "$top": 650})), 500)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items), (30..680).collect::<Vec<_>>());
    let asked = pages_asked(&server).await;
    assert_eq!(asked[0], ("500".to_owned(), "30".to_owned()));
    assert!(
        asked.contains(&("150".to_owned(), "530".to_owned())),
        "the second request asks only for what is left: {asked:?}"
    );
    assert_eq!(asked.len(), 5 + 2, "{asked:?}");
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let server = fresh_mock_server().await;
    let elsewhere = common::fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    let mut first = users(0..3);
    first["@odata.nextLink"] = json!(format!("{}/xapi/v1/Users?$skiptoken=x", elsewhere.uri()));
    mount_page(&server, 3, 0, first).await;
    Mock::given(method("GET"))
        .respond_with(json_response(users(0..0)))
        .expect(0)
        .mount(&elsewhere)
        .await;

    let client = client(&server, "paginate-foreign");
    let results: Vec<_> =
        futures_util::StreamExt::collect::<Vec<_>>(client.paginate(&LIST_USERS, obj(json!({})), 3))
            .await;
    // The page's items come first, then the refusal, then nothing.
    assert_eq!(results.len(), 4);
    assert!(results[..3].iter().all(Result::is_ok));
    match &results[3] {
        Err(Error::Decode { what, message }) => {
            assert_eq!(what, "@odata.nextLink");
            assert!(message.contains("another origin"), "{message}");
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn a_next_link_outside_the_api_root_is_refused() {
    let server = fresh_mock_server().await;
    // One client, so one token, per link.
    token_mock(TOKEN, 7).mount(&server).await;
    // Same origin, but another application on it (or one reached through `..`): the bearer
    // token must not go there.
    let links = [
        "/other-app/x".to_owned(),
        format!("{}/other-app/x?$skip=3", server.uri()),
        "../../other-app/x".to_owned(),
        "/xapi/v1/../../other-app/x".to_owned(),
        "/xapi/v10/Users".to_owned(),
        "/xapi/v1".to_owned(),
        "/xapi/v1/..%2F..%2Fother-app/x".to_owned(),
    ];
    for (i, link) in links.iter().enumerate() {
        let mut first = users(0..3);
        first["@odata.nextLink"] = json!(link);
        Mock::given(method("GET"))
            .and(path("/xapi/v1/Users"))
            .and(query_param("$skip", "0"))
            .respond_with(json_response(first))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let client = client(&server, &format!("paginate-outside-root-{i}"));
        let results: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(client.paginate(
            &LIST_USERS,
            obj(json!({})),
            3,
        ))
        .await;
        assert_eq!(results.len(), 4, "{link}: {results:?}");
        assert!(results[..3].iter().all(Result::is_ok), "{link}");
        match &results[3] {
            Err(Error::Decode { what, message }) => {
                assert_eq!(what, "@odata.nextLink", "{link}");
                assert!(
                    message.contains("outside the API root"),
                    "{link}: {message}"
                );
                assert!(message.contains("/xapi/v1/"), "{link}: {message}");
            }
            other => panic!("{link}: expected Error::Decode, got {other:?}"),
        }
    }
    // Only the first pages were asked for; nothing outside the API root was requested.
    let requests = server.received_requests().await.unwrap();
    let outside: Vec<_> = requests
        .iter()
        .map(|r| r.url.path().to_owned())
        .filter(|p| p != "/connect/token" && p != "/xapi/v1/Users")
        .collect();
    assert!(outside.is_empty(), "requested: {outside:?}");
    let pages = requests
        .iter()
        .filter(|r| r.url.path() == "/xapi/v1/Users")
        .count();
    assert_eq!(pages, links.len());
}

/// A collection without `$top`/`$skip` parameters.
static LIST_CODECS: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/Codecs",
    params: &[] as &[Param],
    response: ResponseKind::Collection,
    retry_safe: true,
};

#[tokio::test]
async fn without_paging_parameters_one_request_is_made() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Codecs"))
        .respond_with(json_response(json!({"value": ["PCMU", "PCMA", "G722"]})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, "paginate-single");
    let items: Vec<Value> = client
        .paginate(&LIST_CODECS, obj(json!({"$top": 1})), 2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, vec![json!("PCMU"), json!("PCMA"), json!("G722")]);
    let asked = &server.received_requests().await.unwrap()[1];
    assert_eq!(asked.url.query(), None);
}

#[tokio::test]
async fn bad_arguments_fail_before_any_request() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 0).mount(&server).await;
    let client = client(&server, "paginate-bad");
    let err = client
        .paginate(&LIST_USERS, obj(json!({"$top": "many"})), 10)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { pointer, .. } if pointer == "/$top"),
        "{err:?}"
    );
    let err = client
        .paginate(&LIST_USERS, obj(json!({})), 0)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config {
                field: "page_size",
                ..
            }
        ),
        "{err:?}"
    );
    // `$top: 0` asks for nothing.
    let items: Vec<Value> = client
        .paginate(&LIST_USERS, obj(json!({"$top": 0})), 10)
        .try_collect()
        .await
        .unwrap();
    assert!(items.is_empty());
}

#[tokio::test]
async fn a_non_collection_answer_is_a_decode_error() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(json_response(json!({"Id": 1})))
        .mount(&server)
        .await;
    let client = client(&server, "paginate-not-collection");
    let err = client
        .paginate(&LIST_USERS, obj(json!({})), 10)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    match err {
        Error::Decode { what, message } => {
            assert_eq!(what, "GET /Users?$top=10&$skip=0");
            assert!(message.contains("\"value\""), "{message}");
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct TypedUser {
    #[serde(rename = "Id")]
    id: u64,
}

#[tokio::test]
async fn typed_items_are_decoded_straight_from_each_page() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    let mut first = users(0..100);
    first["@odata.context"] = json!("$metadata#Users");
    first["@odata.count"] = json!(150);
    mount_page(&server, 100, 0, first).await;
    mount_page(&server, 100, 100, users(100..150)).await;

    let client = client(&server, "paginate-typed");
    let items: Vec<TypedUser> = client
        .paginate_as::<TypedUser>(&LIST_USERS, obj(json!({})), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        items,
        (0..150).map(|id| TypedUser { id }).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_item_that_does_not_fit_the_type_is_a_final_decode_error() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    // Valid JSON of the wrong shape: asking again would give the same answer, so it is asked once.
    mount_page(
        &server,
        100,
        0,
        json!({"value": [{"Id": 1}, {"Id": "two"}]}),
    )
    .await;

    let client = client(&server, "paginate-typed-mismatch");
    let e = client
        .paginate_as::<TypedUser>(&LIST_USERS, obj(json!({})), 100)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    match &e {
        Error::Decode { what, message } => {
            assert!(what.contains("/Users"), "{what}");
            assert!(message.contains("OData collection"), "{message}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert_eq!(client.retries(), 0);
}

#[tokio::test]
async fn a_garbled_page_is_asked_for_again() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    // First answer cut short (invalid JSON, labelled JSON), then the whole page.
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_raw(r#"{"value": [{"Id": 0}, {"Id""#, "application/json"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(json_response(users(0..3)))
        .mount(&server)
        .await;

    let client = client(&server, "paginate-typed-garbled");
    let items: Vec<TypedUser> = client
        .paginate_as::<TypedUser>(&LIST_USERS, obj(json!({})), 100)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(client.retries(), 1);
}
