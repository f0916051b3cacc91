//! Typed and by-name calls build byte-identical requests, checked both on the prepared request
//! and on the wire; and for the same ten kinds of request, one by-name call validates its input
//! once and `PreparedCall::to_http` is exactly what the transport sends (minus the token).

use serde_json::{json, Value};
use threecx_core::PreparedRequest;
use threecx_ops::{models, TypedAction};
use threecx_test_support::fake_pbx::{client_for_mock, fake_pbx_with_token, TEST_CLIENT_SECRET};
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

/// A by-name call: resource and action names as a user types them, and the input.
struct Named {
    resource: &'static str,
    action: &'static str,
    input: Value,
}

fn by_name(resource: &'static str, action: &'static str, input: &Value) -> Named {
    Named {
        resource,
        action,
        input: input.clone(),
    }
}

impl Named {
    fn prepare(&self) -> threecx_registry::PreparedCall<'static> {
        threecx_ops::registry()
            .prepare_named(self.resource, self.action, self.input.clone())
            .expect("by-name prepare")
    }

    fn request(&self) -> PreparedRequest {
        self.prepare().into_request().expect("one HTTP request")
    }
}

fn typed<A: TypedAction>(action: &A) -> PreparedRequest {
    threecx_ops::prepare(action).expect("typed prepare")
}

/// One kind of request: its name, the typed call's request and the same call by name.
type Case = (&'static str, PreparedRequest, Named);

/// Ten kinds of request: entity operations, then functions and actions.
fn cases() -> Vec<Case> {
    let mut cases = entity_cases();
    cases.extend(function_and_action_cases());
    cases
}

/// List, get (integer and string key), create, update and delete of an entity.
fn entity_cases() -> Vec<Case> {
    use threecx_ops::users;
    let user = models::User {
        number: Some("105".into()),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        ..Default::default()
    };
    vec![
        (
            "entity list with OData options",
            typed(&users::ListUser {
                top: Some(10),
                skip: Some(5),
                filter: Some("Number eq '100'".into()),
                select: Some(vec!["Id".into(), "Number".into()]),
                orderby: Some(vec!["Number desc".into()]),
                count: Some(true),
                ..Default::default()
            }),
            by_name(
                "Users",
                "List User",
                &json!({"$top": 10, "$skip": 5, "$filter": "Number eq '100'",
                        "$select": ["Id", "Number"], "$orderby": ["Number desc"], "$count": true}),
            ),
        ),
        (
            "get by integer key",
            typed(&users::GetUser {
                id: 42,
                select: None,
                expand: Some(vec!["Groups".into()]),
            }),
            by_name(
                "Users",
                "GetUser",
                &json!({"Id": 42, "$expand": ["Groups"]}),
            ),
        ),
        (
            "get by string key",
            typed(&users::GetUserByNumber {
                number: "O'Brien".into(),
                select: None,
                expand: None,
            }),
            by_name("users", "get-user-by-number", &json!({"Number": "O'Brien"})),
        ),
        (
            "create",
            typed(&users::CreateUser { body: user.clone() }),
            by_name(
                "Users",
                "Create User",
                &json!({"body": {"Number": "105", "FirstName": "Ada", "LastName": "Lovelace"}}),
            ),
        ),
        (
            "update",
            typed(&users::UpdateUser {
                id: 42,
                body: models::User {
                    last_name: Some("Byron".into()),
                    ..Default::default()
                },
            }),
            by_name(
                "Users",
                "Update User",
                &json!({"Id": 42, "body": {"LastName": "Byron"}}),
            ),
        ),
        (
            "delete",
            typed(&users::DeleteUser {
                id: 42,
                if_match: Some("*".into()),
            }),
            by_name("Users", "Delete User", &json!({"Id": 42, "If-Match": "*"})),
        ),
    ]
}

/// A bound function with parameters, bound actions (entity, collection) and an unbound action.
fn function_and_action_cases() -> Vec<Case> {
    use threecx_ops::{active_calls, purge_settings, report_call_log_data, users};
    vec![
        (
            "bound function with parameters",
            typed(&report_call_log_data::GetCallLogData {
                period_from: "2024-01-01T00:00:00Z".into(),
                period_to: "2024-06-30T23:59:59Z".into(),
                source_type: 0,
                source_filter: Some(String::new()),
                destination_type: 0,
                destination_filter: Some("O'Neil".into()),
                calls_type: 0,
                call_time_filter_type: 0,
                call_time_filter_from: Some("0:00:0".into()),
                call_time_filter_to: Some("0:00:0".into()),
                hide_pcalls: true,
                top: Some(100),
                skip: None,
                search: None,
                filter: None,
                count: None,
                select: None,
                orderby: None,
                expand: None,
            }),
            by_name(
                "ReportCallLogData",
                "GetCallLogData",
                &json!({"periodFrom": "2024-01-01T00:00:00Z", "periodTo": "2024-06-30T23:59:59Z",
                        "sourceType": 0, "sourceFilter": "", "destinationType": 0,
                        "destinationFilter": "O'Neil", "callsType": 0, "callTimeFilterType": 0,
                        "callTimeFilterFrom": "0:00:0", "callTimeFilterTo": "0:00:0",
                        "hidePcalls": true, "$top": 100}),
            ),
        ),
        (
            "bound action on an entity",
            typed(&active_calls::DropCall { id: 7 }),
            by_name("Active Calls", "Drop Call", &json!({"Id": 7})),
        ),
        (
            "bound action on a collection",
            typed(&users::BatchDelete {
                ids: Some(vec![1, 2, 3]),
            }),
            by_name("Users", "Batch Delete", &json!({"ids": [1, 2, 3]})),
        ),
        (
            "unbound action",
            typed(&purge_settings::PurgeChats {
                period: Some(models::PurgeSettings {
                    start: Some("2024-01-01T00:00:00Z".into()),
                    stop: Some("2024-06-30T23:59:59Z".into()),
                    ..Default::default()
                }),
            }),
            by_name(
                "Purge Settings",
                "Purge Chats",
                &json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}}),
            ),
        ),
    ]
}

#[test]
fn prepared_requests_are_identical() {
    for (name, typed, by_name) in cases() {
        assert_eq!(typed, by_name.request(), "{name}");
    }
}

#[tokio::test]
async fn requests_on_the_wire_are_identical() {
    let server = fake_pbx_with_token("tok-typed").await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client_for_mock(&server, "typed", TEST_CLIENT_SECRET);
    for (name, typed, by_name) in cases() {
        let before = server.received_requests().await.unwrap().len();
        client.execute(&typed).await.expect(name);
        client.execute(&by_name.request()).await.expect(name);
        let requests = server.received_requests().await.unwrap();
        let (a, b) = (&requests[requests.len() - 2], &requests[requests.len() - 1]);
        assert!(requests.len() >= before + 2);
        assert_eq!(a.method, b.method, "{name}");
        assert_eq!(a.url.as_str(), b.url.as_str(), "{name}");
        assert_eq!(a.body, b.body, "{name}");
        assert_eq!(
            sorted_headers(&a.headers, &[]),
            sorted_headers(&b.headers, &[]),
            "{name}"
        );
    }
}

/// Method, URL, body and headers of a request as it arrived (headers sorted, lower-case names),
/// leaving out the bearer token and what the HTTP stack adds for the connection itself.
fn as_received(r: &wiremock::Request) -> (String, String, Vec<u8>, Vec<(String, String)>) {
    let headers = sorted_headers(
        &r.headers,
        &["authorization", "host", "content-length", "user-agent"],
    );
    // wiremock rebuilds the URL with a host of its own; the Host header says where it went.
    let host = r.headers.get("host").unwrap().to_str().unwrap();
    let path_and_query = &r.url[url::Position::BeforePath..];
    (
        r.method.to_string(),
        format!("http://{host}{path_and_query}"),
        r.body.clone(),
        headers,
    )
}

fn as_built(r: &http::Request<Vec<u8>>) -> (String, String, Vec<u8>, Vec<(String, String)>) {
    (
        r.method().to_string(),
        r.uri().to_string(),
        r.body().clone(),
        sorted_headers(r.headers(), &[]),
    )
}

/// Headers as sorted (lower-case name, value) pairs, without the names in `leave_out`.
fn sorted_headers(headers: &http::HeaderMap, leave_out: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !leave_out.contains(&k.as_str()))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

/// Issue 13, must-show (a). A current-thread runtime keeps the whole call on this thread, where
/// the registry's `test-util` counter counts validations.
#[tokio::test(flavor = "current_thread")]
async fn one_validation_per_call_and_to_http_is_what_is_sent() {
    use threecx_registry::test_util::{lookups, validations};
    let server = fake_pbx_with_token("tok-one-path").await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client_for_mock(&server, "one-path", TEST_CLIENT_SECRET);
    let root = client.config().root().clone();
    for (name, _, by_name) in cases() {
        let before = validations();
        let call = by_name.prepare().confirm(true);
        let expected = call.to_http(&root).expect(name);
        call.send(&client).await.expect(name);
        assert_eq!(validations() - before, 1, "{name}: validations per call");
        let requests = server.received_requests().await.unwrap();
        let sent = requests.last().expect("a request reached the PBX");
        assert_eq!(as_received(sent), as_built(&expected), "{name}");
    }

    // The SDK's by-name and typed calls take the same path: one lookup and one validation each.
    let before = (lookups(), validations());
    threecx_ops::registry()
        .call(&client, "Users", "Get User", json!({"Id": 1}))
        .await
        .unwrap();
    assert_eq!(
        (lookups(), validations()),
        (before.0 + 1, before.1 + 1),
        "Registry::call"
    );
    let before = (lookups(), validations());
    threecx_ops::call(&client, &threecx_ops::active_calls::DropCall { id: 7 })
        .await
        .unwrap();
    assert_eq!(
        (lookups(), validations()),
        (before.0 + 1, before.1 + 1),
        "typed call"
    );
}
