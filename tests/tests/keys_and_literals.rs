//! Must-show (c): keys and function parameters are OData literals, and no value can change the
//! request path.

use serde_json::{json, Value};
use threecx_core::Error;
use threecx_test_support::fake_pbx::{client_for_mock, fake_pbx_with_token, TEST_CLIENT_SECRET};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

fn path_of(resource: &str, action: &str, input: Value) -> String {
    let registry = threecx_ops::registry();
    registry
        .prepare_named(resource, action, input.clone())
        .and_then(|call| call.into_request())
        .unwrap_or_else(|e| panic!("{resource}/{action} {input}: {e}"))
        .path_and_query
        .into_owned()
}

#[test]
fn string_keys_are_quoted_and_integer_keys_bare() {
    assert_eq!(
        path_of("Users", "GetUserByNumber", json!({"Number": "100"})),
        "/Users(Number='100')"
    );
    assert_eq!(path_of("Users", "GetUser", json!({"Id": 42})), "/Users(42)");
    assert_eq!(
        path_of("Backups", "DeleteBackups", json!({"FileName": "file.zip"})),
        "/Backups('file.zip')"
    );
}

#[test]
fn quotes_inside_strings_are_doubled() {
    assert_eq!(
        path_of("Users", "GetUserByNumber", json!({"Number": "O'Brien"})),
        "/Users(Number='O''Brien')"
    );
}

#[test]
fn function_parameters_are_literals_too() {
    let p = path_of(
        "Report Call Log Data",
        "Get Call Log Data",
        json!({
            "periodFrom": "2024-01-01T00:00:00Z",
            "periodTo": "2024-06-30T23:59:59Z",
            "sourceType": 0,
            "sourceFilter": "",
            "destinationType": 0,
            "destinationFilter": "O'Neil",
            "callsType": 0,
            "callTimeFilterType": 0,
            "callTimeFilterFrom": "0:00:0",
            "callTimeFilterTo": "0:00:0",
            "hidePcalls": true,
            "$top": 10
        }),
    );
    assert_eq!(
        p,
        "/ReportCallLogData/Pbx.GetCallLogData(periodFrom=2024-01-01T00:00:00Z,\
         periodTo=2024-06-30T23:59:59Z,sourceType=0,sourceFilter='',destinationType=0,\
         destinationFilter='O''Neil',callsType=0,callTimeFilterType=0,\
         callTimeFilterFrom='0:00:0',callTimeFilterTo='0:00:0',hidePcalls=true)?$top=10"
    );
}

#[test]
fn an_integer_key_refuses_a_path_fragment() {
    let registry = threecx_ops::registry();
    let op = registry.find("Users", "GetUser").unwrap();
    match registry.prepare(op, json!({"Id": "1)/Pbx.BatchDelete"})) {
        Err(Error::InvalidInput { pointer, .. }) => assert_eq!(pointer, "/Id"),
        other => panic!("expected InvalidInput at /Id, got {other:?}"),
    }
}

#[test]
fn a_string_key_cannot_leave_its_parentheses() {
    let p = path_of(
        "Phone Templates",
        "Get Phone Template",
        json!({"Id": "1)/Pbx.BatchDelete"}),
    );
    assert_eq!(p, "/PhoneTemplates('1%29%2FPbx.BatchDelete')");
    let p = path_of(
        "Users",
        "GetUserByNumber",
        json!({"Number": "x') or ('1'='1"}),
    );
    assert_eq!(p, "/Users(Number='x''%29%20or%20%28''1''%3D''1')");
}

/// On the wire: the server sees one key segment, the original value decodes back exactly.
#[tokio::test]
async fn hostile_values_reach_the_server_as_one_key() {
    let server = fake_pbx_with_token("tok-keys").await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": 1})))
        .mount(&server)
        .await;
    let client = client_for_mock(&server, "keys", TEST_CLIENT_SECRET);
    let registry = threecx_ops::registry();
    for (resource, action, key, value) in [
        ("Users", "GetUserByNumber", "Number", "x') or ('1'='1"),
        (
            "PhoneTemplates",
            "GetPhoneTemplate",
            "Id",
            "1)/Pbx.BatchDelete",
        ),
        ("Users", "GetUserByNumber", "Number", "a/b?c#d%2F&$filter=1"),
    ] {
        registry
            .call(&client, resource, action, json!({ key: value }))
            .await
            .expect("call");
    }
    let requests = server.received_requests().await.unwrap();
    let paths: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path().starts_with("/xapi/"))
        .map(|r| (r.url.path().to_owned(), r.url.query().map(str::to_owned)))
        .collect();
    assert_eq!(paths.len(), 3);
    for (path, query) in &paths {
        assert_eq!(query, &None, "no value may add a query: {path}");
        let after_root = path.strip_prefix("/xapi/v1/").expect("api root");
        assert!(!after_root.contains('/'), "a value added a segment: {path}");
        assert_eq!(after_root.matches('(').count(), 1, "{path}");
        assert_eq!(after_root.matches(')').count(), 1, "{path}");
    }
    let decoded: Vec<String> = paths.iter().map(|(p, _)| percent_decode(p)).collect();
    assert_eq!(decoded[0], "/xapi/v1/Users(Number='x'') or (''1''=''1')");
    assert_eq!(decoded[1], "/xapi/v1/PhoneTemplates('1)/Pbx.BatchDelete')");
    assert_eq!(decoded[2], "/xapi/v1/Users(Number='a/b?c#d%2F&$filter=1')");
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap()
}
