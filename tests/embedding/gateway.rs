//! The HTTP action gateway end to end: reqwest → gateway (127.0.0.1) → sandbox PBX (127.0.0.1).

use serde_json::{json, Value};
use threecx_gateway::gateway::GatewayState;

use crate::support::{self, api_requests, Answer, Gateway, KEY};

#[tokio::test]
async fn healthz_needs_no_key() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let answer = Answer::read(gw.http.get(gw.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["status"], "ok");
    assert!(body["actions"].as_u64().unwrap() >= 601);
    assert_eq!(api_requests(&pbx), 0, "liveness does not contact the PBX");
}

#[tokio::test]
async fn catalogue_lists_filters_and_searches() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;

    let all = gw.get("/v1/actions").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let all = all.json();
    let total = all["count"].as_u64().unwrap();
    assert!(total >= 601, "{total}");
    assert_eq!(all["actions"].as_array().unwrap().len() as u64, total);

    let purge = gw.get("/v1/actions?resource=Purge%20Settings").await.json();
    let names: Vec<&str> = purge["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action_display"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Purge Chats"), "{names:?}");
    let chats = purge["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "PurgeChats")
        .unwrap();
    assert_eq!(chats["destructive"], true);
    assert_eq!(chats["method"], "POST");
    assert_eq!(chats["path"], "/PurgeChats");
    assert_eq!(chats["resource_display"], "Purge Settings");

    // Any spelling of the resource; text search over names.
    let same = gw.get("/v1/actions?resource=purge-settings").await.json();
    assert_eq!(same["count"], purge["count"]);
    let found = gw.get("/v1/actions?q=purge%20chats").await.json();
    assert!(found["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "PurgeChats"));
    assert!(found["count"].as_u64().unwrap() < total);
    let none = gw.get("/v1/actions?q=zzzznothing").await.json();
    assert_eq!(none["count"], 0);

    let unknown = gw.get("/v1/actions?resource=Purge%20Setings").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()["error"]["suggestions"],
        json!(["Purge Settings"])
    );

    let resources = gw.get("/v1/resources").await.json();
    assert!(resources["count"].as_u64().unwrap() >= 132);
    assert_eq!(api_requests(&pbx), 0, "the catalogue is local");
}

#[tokio::test]
async fn describe_gives_schemas_flags_and_an_example() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let answer = gw.get("/v1/actions/Purge%20Settings/Purge%20Chats").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let d = answer.json();
    assert_eq!(d["resource"], "PurgeSettings");
    assert_eq!(d["action"], "PurgeChats");
    assert_eq!(d["action_display"], "Purge Chats");
    assert_eq!(d["destructive"], true);
    assert_eq!(d["needs_confirmation"], true);
    assert_eq!(d["returns"], "empty");
    assert_eq!(
        d["input_schema"]["properties"]["period"]["$ref"],
        "#/$defs/PurgeSettings"
    );
    assert!(d["input_schema"]["$defs"]["PurgeSettings"].is_object());
    assert!(d["output_schema"].is_object());
    assert!(d["example_input"]["period"].is_object());
    assert_eq!(d["call"]["path"], "/v1/actions/PurgeSettings/PurgeChats");
    assert_eq!(d["call"]["body"]["confirm"], true);

    let same = gw.get("/v1/actions/purge_settings/purge-chats").await;
    assert_eq!(same.json()["action"], "PurgeChats");
    let unknown = gw.get("/v1/actions/Purge%20Settings/Purge%20Chat").await;
    assert_eq!(unknown.status, 404);
    let e = unknown.json();
    assert_eq!(e["error"]["kind"], "unknown_name");
    assert_eq!(e["error"]["name_kind"], "action");
    assert_eq!(e["error"]["suggestions"][0], "Purge Chats");
}

#[tokio::test]
async fn calls_get_system_status() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let answer = gw
        .post(
            "/v1/actions/System%20Status/Get%20System%20Status",
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let result = &answer.json()["result"];
    assert_eq!(result["Version"], "20.0.10", "{result}");
    assert_eq!(pbx.count("GET", "/xapi/v1/SystemStatus"), 1);

    // An empty body is an empty input; the input goes under "input".
    let empty = Answer::read(
        gw.http
            .post(gw.url("/v1/actions/SystemStatus/GetSystemStatus"))
            .header("X-Api-Key", KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    let selected = gw
        .post(
            "/v1/actions/SystemStatus/GetSystemStatus",
            &json!({"input": {"$select": ["Version"]}}),
        )
        .await;
    assert_eq!(selected.status, 200, "{}", selected.text);
    assert_eq!(selected.json()["result"]["Version"], "20.0.10");
}

#[tokio::test]
async fn purge_chats_needs_confirmation() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let before = pbx.counts().chat_messages;
    let body = json!({"input": {"period": {"All": true}}});

    let refused = gw
        .post("/v1/actions/Purge%20Settings/Purge%20Chats", &body)
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    let e = refused.json();
    assert_eq!(e["error"]["kind"], "not_confirmed");
    assert!(e["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("\"confirm\": true"));
    assert!(
        pbx.requests().is_empty(),
        "the sandbox received nothing: {:?}",
        pbx.requests()
    );
    assert_eq!(pbx.counts().chat_messages, before);

    let refused = gw
        .post(
            "/v1/actions/PurgeSettings/PurgeChats",
            &json!({"input": {"period": {"All": true}}, "confirm": false}),
        )
        .await;
    assert_eq!(refused.status, 409);
    assert!(pbx.requests().is_empty());

    let done = gw
        .post(
            "/v1/actions/Purge%20Settings/Purge%20Chats",
            &json!({"input": {"period": {"All": true}}, "confirm": true}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let answer = done.json();
    assert_eq!(answer["result"], json!(null), "{answer}");
    // What the purge removed, counted just before it was sent.
    assert_eq!(answer["preview"]["count"], json!(before), "{answer}");
    assert_eq!(answer["preview"]["all"], true, "{answer}");
    assert_eq!(pbx.count("POST", "/xapi/v1/PurgeChats"), 1);
    assert_eq!(pbx.counts().chat_messages, 0);
    assert!(before > 0);
}

#[tokio::test]
async fn invalid_input_is_a_400_naming_the_field() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let answer = gw
        .post(
            "/v1/actions/Purge%20Settings/Purge%20Chats",
            &json!({"input": {"period": {"Start": "yesterday"}}, "confirm": true}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let e = answer.json();
    assert_eq!(e["error"]["kind"], "invalid_input");
    assert_eq!(e["error"]["pointer"], "/period/Start");
    assert!(
        e["error"]["expected"]
            .as_str()
            .unwrap()
            .contains("date-time"),
        "{e}"
    );

    // Invalid input is reported before a missing confirmation.
    let answer = gw
        .post(
            "/v1/actions/Purge%20Settings/Purge%20Chats",
            &json!({"input": {"period": {"Start": "yesterday"}}}),
        )
        .await;
    assert_eq!(answer.status, 400);

    // The action's input sent without the {"input": ...} wrapper.
    let answer = gw
        .post(
            "/v1/actions/Purge%20Settings/Purge%20Chats",
            &json!({"period": {"All": true}}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let e = answer.json();
    assert!(
        e["error"]["expected"]
            .as_str()
            .unwrap()
            .contains("\"input\""),
        "{e}"
    );

    // Not JSON at all.
    let answer = Answer::read(
        gw.http
            .post(gw.url("/v1/actions/Users/ListUser"))
            .header("X-Api-Key", KEY)
            .body("{nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["kind"], "invalid_input");

    assert!(pbx.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_api_key_is_required() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let path = "/v1/actions/SystemStatus/GetSystemStatus";

    let missing = Answer::read(gw.http.post(gw.url(path)).send().await.unwrap()).await;
    assert_eq!(missing.status, 401, "{}", missing.text);
    assert_eq!(missing.json()["error"]["kind"], "unauthorized");
    assert!(missing.header("www-authenticate").starts_with("Bearer"));

    let wrong = Answer::read(
        gw.http
            .post(gw.url(path))
            .header("X-Api-Key", "embedding-test-key-0123456789abcdeX")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(!wrong.text.contains(KEY));

    for route in ["/v1/actions", "/v1/resources", "/v1/actions/Users/ListUser"] {
        let answer = Answer::read(gw.http.get(gw.url(route)).send().await.unwrap()).await;
        assert_eq!(answer.status, 401, "{route}");
    }
    let wrong_bearer = Answer::read(
        gw.http
            .get(gw.url("/v1/actions"))
            .bearer_auth("not-the-key")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong_bearer.status, 401);
    assert!(pbx.requests().is_empty());

    // The bearer form works too.
    let bearer = Answer::read(
        gw.http
            .post(gw.url(path))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(bearer.status, 200, "{}", bearer.text);
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let pbx = support::sandbox().await;
    let state = GatewayState::new(threecx_test_support::sandbox::sandbox_client(&pbx), KEY)
        .unwrap()
        .max_body_bytes(4096);
    let gw = Gateway::start(state).await;
    let big = json!({"input": {"$filter": "x".repeat(10_000)}});
    let answer = gw.post("/v1/actions/Users/ListUser", &big).await;
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(answer.json()["error"]["kind"], "payload_too_large");

    // Without a Content-Length (chunked), the limit holds as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b' '; 1000])).collect();
    let answer = Answer::read(
        gw.http
            .post(gw.url("/v1/actions/Users/ListUser"))
            .header("X-Api-Key", KEY)
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert!(pbx.requests().is_empty());

    // The default limit is 1 MiB.
    let gw = Gateway::for_pbx(&pbx).await;
    let big = json!({"input": {"$filter": "x".repeat(1024 * 1024 + 1)}});
    assert_eq!(
        gw.post("/v1/actions/Users/ListUser", &big).await.status,
        413
    );
}

#[tokio::test]
async fn all_streams_every_user_as_ndjson() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let answer = gw
        .post(
            "/v1/actions/Users/List%20User?all=true&page_size=7",
            &json!({"input": {"$select": ["Id", "Number"], "$orderby": "Number"}}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer
        .header("content-type")
        .starts_with("application/x-ndjson"));
    let items: Vec<Value> = answer
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len() as u64, pbx.counts().users);
    assert!(items
        .iter()
        .all(|u| u["Number"].is_string() && u.get("error").is_none()));
    let mut numbers: Vec<&str> = items
        .iter()
        .map(|u| u["Number"].as_str().unwrap())
        .collect();
    numbers.dedup();
    assert_eq!(numbers.len(), items.len(), "no item twice");
    assert!(
        pbx.count("GET", "/xapi/v1/Users") >= 4,
        "pages of 7: {:?}",
        pbx.requests()
    );

    // Not a list: a 400 before anything is sent.
    let answer = gw
        .post(
            "/v1/actions/SystemStatus/GetSystemStatus?all=true",
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let answer = gw
        .post("/v1/actions/Users/ListUser?all=maybe", &json!({}))
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["error"]["kind"], "invalid_query");
}

#[tokio::test]
async fn downloads_come_as_files() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let d = gw
        .get("/v1/actions/Call%20History%20View/Download%20Call%20History")
        .await
        .json();
    assert_eq!(d["returns"], "download");
    let answer = gw
        .post(
            "/v1/actions/Call%20History%20View/Download%20Call%20History",
            &json!({"input": d["example_input"]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer.header("content-type").starts_with("text/csv"),
        "{:?}",
        answer.headers
    );
    let disposition = answer.header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    assert!(answer.text.lines().count() > 1, "{}", answer.text);
}

#[tokio::test]
async fn upstream_errors_are_mapped() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    // The PBX's own 404 keeps its status.
    let answer = gw
        .post(
            "/v1/actions/Users/Get%20User%20By%20Number",
            &json!({"input": {"Number": "99999"}}),
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.text);
    let e = answer.json();
    assert_eq!(e["error"]["kind"], "upstream_api");
    assert_eq!(e["error"]["upstream_status"], 404);

    // The PBX refusing the gateway's credentials is a 502 with a hint, not a 401.
    let bad = Gateway::start(
        GatewayState::new(
            threecx_test_support::sandbox::sandbox_client_with_secret(&pbx, "wrong-pbx-secret"),
            KEY,
        )
        .unwrap(),
    )
    .await;
    let answer = bad
        .post("/v1/actions/SystemStatus/GetSystemStatus", &json!({}))
        .await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    let e = answer.json();
    assert_eq!(e["error"]["kind"], "upstream_auth");
    assert!(e["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("not your API key"));
    assert!(!answer.text.contains("wrong-pbx-secret"));

    // Nothing listens: a transport error.
    let closed = threecx_core::Client::new(
        threecx_core::Config::builder()
            .base_url("http://127.0.0.1:9")
            .client_id("nobody")
            .client_secret("closed-port-secret")
            .max_attempts(1)
            .build()
            .unwrap(),
    )
    .unwrap();
    let gw = Gateway::start(GatewayState::new(closed, KEY).unwrap()).await;
    let answer = gw
        .post("/v1/actions/SystemStatus/GetSystemStatus", &json!({}))
        .await;
    assert!(matches!(answer.status, 502 | 504), "{}", answer.text);
    assert!(!answer.text.contains("closed-port-secret"));
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let answer = Answer::read(gw.http.get(gw.url("/openapi.json")).send().await.unwrap()).await;
    assert_eq!(answer.status, 200);
    let doc = answer.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/openapi.json", "get"),
        ("/v1/resources", "get"),
        ("/v1/actions", "get"),
        ("/v1/actions/{resource}/{action}", "get"),
        ("/v1/actions/{resource}/{action}", "post"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let post = &paths["/v1/actions/{resource}/{action}"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CallBody"
    );
    let body = &doc["components"]["schemas"]["CallBody"]["properties"];
    assert_eq!(body["confirm"]["type"], "boolean");
    assert_eq!(body["input"]["type"], "object");
    assert!(doc["components"]["securitySchemes"]["apiKey"].is_object());

    let full = Answer::read(
        gw.http
            .get(gw.url("/openapi.json?actions=true"))
            .send()
            .await
            .unwrap(),
    )
    .await
    .json();
    let op = &full["paths"]["/v1/actions/PurgeSettings/PurgeChats"]["post"];
    assert_eq!(op["operationId"], "PurgeSettings_PurgeChats");
    assert!(full["components"]["schemas"]["PurgeSettings"].is_object());
    assert!(full["paths"].as_object().unwrap().len() > 601);
}

#[tokio::test]
async fn pbx_secrets_never_appear_in_answers() {
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let mut answers = vec![
        Answer::read(gw.http.get(gw.url("/healthz")).send().await.unwrap()).await,
        Answer::read(gw.http.get(gw.url("/openapi.json")).send().await.unwrap()).await,
        gw.get("/v1/actions?resource=Users").await,
        gw.get("/v1/actions/Users/ListUser").await,
        gw.post("/v1/actions/Users/ListUser", &json!({"input": {"$top": 3}}))
            .await,
        gw.post("/v1/actions/Users/ListUser?all=true", &json!({}))
            .await,
        gw.post("/v1/actions/SystemStatus/GetSystemStatus", &json!({}))
            .await,
        gw.post(
            "/v1/actions/Users/GetUserByNumber",
            &json!({"input": {"Number": "nobody"}}),
        )
        .await,
        gw.post(
            "/v1/actions/PurgeSettings/PurgeChats",
            &json!({"input": {}}),
        )
        .await,
        gw.post(
            "/v1/actions/Users/ListUser",
            &json!({"input": {"$top": -1}}),
        )
        .await,
        gw.get("/v1/nothing-here").await,
    ];
    let bad = Gateway::start(
        GatewayState::new(
            threecx_test_support::sandbox::sandbox_client_with_secret(&pbx, pbx.client_secret()),
            KEY,
        )
        .unwrap(),
    )
    .await;
    answers.push(bad.get("/v1/actions/Users/ListUser").await);
    let secret = pbx.client_secret().to_owned();
    let tokens = pbx.issued_tokens();
    assert!(!tokens.is_empty(), "calls were made");
    for answer in &answers {
        let seen = answer.everything();
        assert!(!seen.contains(&secret), "the PBX secret leaked: {seen}");
        for token in &tokens {
            assert!(!seen.contains(token.as_str()), "a PBX token leaked: {seen}");
        }
        assert!(!seen.contains(KEY), "the gateway key was echoed: {seen}");
    }
}

/// Issue 13: a gateway call looks its action up once and validates its input once. The
/// registry's `test-util` counters are per thread; `#[tokio::test]` runs the gateway's handler on
/// this thread, while the sandbox answers from blocking threads of its own.
#[tokio::test]
async fn a_call_looks_its_action_up_once_and_validates_once() {
    use threecx_registry::test_util::{lookups, validations};
    let pbx = support::sandbox().await;
    let gw = Gateway::for_pbx(&pbx).await;
    let path = "/v1/actions/System%20Status/Get%20System%20Status";
    // The first call also fetches the token and compiles the validator.
    assert_eq!(gw.post(path, &json!({})).await.status, 200);

    let (looked_up, validated) = (lookups(), validations());
    let answer = gw
        .post(path, &json!({"input": {"$select": ["Version"]}}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(lookups() - looked_up, 1, "lookups per gateway call");
    assert_eq!(validations() - validated, 1, "validations per gateway call");
    assert_eq!(pbx.count("GET", "/xapi/v1/SystemStatus"), 2);
}
