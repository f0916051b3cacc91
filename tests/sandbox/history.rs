//! Chat and call history: purges by period, the call log report paged with $top/$skip.

use futures_util::TryStreamExt;
use serde_json::{json, Value};
use threecx_core::Response;
use threecx_sandbox::{SandboxConfig, SeedSizes};

use crate::support::{call, ok, status, Raw};
use threecx_test_support::sandbox::{sandbox_client, small_sandbox_config, start_sandbox};

const MARCH: (&str, &str) = ("2024-03-01T00:00:00Z", "2024-03-31T23:59:59Z");

async fn count(
    c: &threecx_core::Client,
    resource: &str,
    action: &str,
    filter: Option<&str>,
) -> u64 {
    let mut input = json!({"$count": true, "$top": 0});
    if let Some(f) = filter {
        input["$filter"] = json!(f);
    }
    ok(c, resource, action, input).await["@odata.count"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn purge_chats_removes_only_the_period_then_all() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let in_march = format!("TimeSent ge {} and TimeSent le {}", MARCH.0, MARCH.1);
    let out_of_march = format!("TimeSent lt {} or TimeSent gt {}", MARCH.0, MARCH.1);
    for (resource, action) in [
        (
            "Chat Messages History View",
            "List Chat Messages History View",
        ),
        ("Chat History View", "List Chat History View"),
    ] {
        assert_eq!(count(&c, resource, action, None).await, 400);
    }
    let view = (
        "Chat Messages History View",
        "List Chat Messages History View",
    );
    let before_inside = count(&c, view.0, view.1, Some(&in_march)).await;
    let before_outside = count(&c, view.0, view.1, Some(&out_of_march)).await;
    assert!(before_inside > 20, "{before_inside}");
    assert_eq!(before_inside + before_outside, 400);

    let out = call(
        &c,
        "Purge Settings",
        "Purge Chats",
        json!({"period": {"Start": MARCH.0, "Stop": MARCH.1}}),
    )
    .await
    .unwrap();
    assert_eq!(out, Value::Null, "204");
    assert_eq!(count(&c, view.0, view.1, Some(&in_march)).await, 0);
    assert_eq!(
        count(&c, view.0, view.1, Some(&out_of_march)).await,
        before_outside
    );
    assert_eq!(count(&c, view.0, view.1, None).await, before_outside);
    assert_eq!(
        count(&c, "Chat History View", "List Chat History View", None).await,
        before_outside,
        "both views show the purge"
    );
    assert_eq!(pbx.counts().chat_messages, before_outside);
    assert_eq!(pbx.counts().call_history, 1000, "calls untouched");

    // Newest first, and the page is right next to the purged hole.
    let page = ok(
        &c,
        view.0,
        view.1,
        json!({"$orderby": "TimeSent desc", "$top": 2, "$select": ["MessageId", "TimeSent"]}),
    )
    .await;
    let rows = page["value"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["TimeSent"].as_str() > rows[1]["TimeSent"].as_str());

    ok(
        &c,
        "Purge Settings",
        "Purge Chats",
        json!({"period": {"All": true}}),
    )
    .await;
    assert_eq!(count(&c, view.0, view.1, None).await, 0);
    let e = call(
        &c,
        "Purge Settings",
        "Purge Chats",
        json!({"period": {"All": false}}),
    )
    .await
    .unwrap_err();
    assert_eq!(status(&e), 400, "a period needs All or Start/Stop");
}

#[tokio::test]
async fn purge_calls_removes_only_the_period() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let view = ("Call History View", "List Call History View");
    let in_march = format!(
        "SegmentStartTime ge {} and SegmentStartTime le {}",
        MARCH.0, MARCH.1
    );
    let inside = count(&c, view.0, view.1, Some(&in_march)).await;
    assert!(inside > 50, "{inside}");
    ok(
        &c,
        "Purge Settings",
        "Purge Calls",
        json!({"period": {"Start": MARCH.0, "Stop": MARCH.1}}),
    )
    .await;
    assert_eq!(count(&c, view.0, view.1, Some(&in_march)).await, 0);
    assert_eq!(count(&c, view.0, view.1, None).await, 1000 - inside);
    assert_eq!(pbx.counts().chat_messages, 400, "chats untouched");
    ok(
        &c,
        "Purge Settings",
        "Purge Calls",
        json!({"period": {"All": true}}),
    )
    .await;
    assert_eq!(pbx.counts().call_history, 0);
}

fn call_log_input(from: &str, to: &str) -> Value {
    json!({
        "periodFrom": from, "periodTo": to,
        "sourceType": 0, "sourceFilter": "", "destinationType": 0, "destinationFilter": "",
        "callsType": 0, "callTimeFilterType": 0, "callTimeFilterFrom": "", "callTimeFilterTo": "",
        "hidePcalls": false,
    })
}

#[tokio::test]
async fn call_log_pages_with_top_and_skip() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let registry = threecx_ops::registry();
    let op = registry
        .find("Report Call Log Data", "Get Call Log Data")
        .unwrap();
    let year = call_log_input("2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z");

    // All 1000 rows in pages of 100, through the SDK's pager.
    let rows: Vec<Value> = registry
        .prepare(op, year.clone())
        .unwrap()
        .pages(&c, 100)
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1000);
    let ids: Vec<i64> = rows.iter().map(|r| r["CallId"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=1000).collect::<Vec<_>>());
    assert!(rows
        .windows(2)
        .all(|w| w[0]["StartTime"].as_str() <= w[1]["StartTime"].as_str()));
    assert_eq!(
        pbx.count("GET", "/xapi/v1/ReportCallLogData/Pbx.GetCallLogData("),
        11,
        "10 full pages and an empty one"
    );

    let mut input = year.clone();
    input["$top"] = json!(20);
    input["$skip"] = json!(990);
    input["$count"] = json!(true);
    let page = ok(&c, "Report Call Log Data", "Get Call Log Data", input).await;
    assert_eq!(page["@odata.count"], 1000);
    assert_eq!(page["value"].as_array().unwrap().len(), 10);
    assert_eq!(page["value"][0]["CallId"], 991);

    // A period selects by StartTime.
    let mut march = call_log_input(MARCH.0, MARCH.1);
    march["$count"] = json!(true);
    let page = ok(&c, "Report Call Log Data", "Get Call Log Data", march).await;
    let n = page["@odata.count"].as_u64().unwrap();
    assert!(n > 50 && n < 150, "{n}");
    for r in page["value"].as_array().unwrap() {
        let t = r["StartTime"].as_str().unwrap();
        assert!(t >= MARCH.0 && t <= MARCH.1, "{t}");
    }
    // Source filter and $orderby desc.
    let mut input = year.clone();
    input["sourceFilter"] = json!("101");
    input["$orderby"] = json!("StartTime desc");
    input["$top"] = json!(5);
    let page = ok(&c, "Report Call Log Data", "Get Call Log Data", input).await;
    let rows = page["value"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["SourceDn"].as_str().unwrap().contains("101")
            || r["SourceCallerId"].as_str().unwrap().contains("101")));
    assert!(rows
        .windows(2)
        .all(|w| w[0]["StartTime"].as_str() >= w[1]["StartTime"].as_str()));
}

#[tokio::test]
async fn large_views_offer_a_next_link() {
    let pbx = start_sandbox(SandboxConfig {
        max_page_size: 100,
        sizes: SeedSizes {
            call_history: 1000,
            ..small_sandbox_config("sandbox-test").sizes
        },
        ..small_sandbox_config("sandbox-test")
    })
    .await;
    let c = sandbox_client(&pbx);
    let first = ok(
        &c,
        "Call History View",
        "List Call History View",
        json!({"$select": ["SegmentId"]}),
    )
    .await;
    assert_eq!(first["value"].as_array().unwrap().len(), 100);
    let link = first["@odata.nextLink"].as_str().unwrap();
    assert!(
        link.starts_with(&pbx.url()) && link.contains("$skip=100"),
        "{link}"
    );

    // Following the links (as OData clients do) gives every row once.
    let raw = Raw::new(&pbx);
    let token = raw.token(&pbx).await;
    let mut url = format!("{}/xapi/v1/CallHistoryView?$select=SegmentId", pbx.url());
    let mut ids = Vec::new();
    loop {
        let page: Value = raw
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["SegmentId"].as_i64().unwrap()),
        );
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(ids, (1..=1000).collect::<Vec<_>>());
    // With $top, the links stop at $top rows in all.
    let page = ok(
        &c,
        "Call History View",
        "List Call History View",
        json!({"$top": 250, "$skip": 10}),
    )
    .await;
    let link = page["@odata.nextLink"].as_str().unwrap();
    assert!(
        link.contains("$skip=110") && link.contains("$top=150"),
        "{link}"
    );
}

#[tokio::test]
async fn history_downloads_are_csv() {
    let pbx = start_sandbox(small_sandbox_config("sandbox-test")).await;
    let c = sandbox_client(&pbx);
    let mut input = call_log_input(MARCH.0, MARCH.1);
    input["clientTimeZone"] = json!("UTC");
    let out = threecx_ops::registry()
        .call(&c, "Report Call Log Data", "Download Call Log", input)
        .await
        .unwrap();
    let Response::Download(d) = out else {
        panic!("{out:?}")
    };
    assert!(d.content_type.starts_with("text/csv"), "{}", d.content_type);
    assert_eq!(d.file_name.as_deref(), Some("DownloadCallLog.csv"));
    let text = String::from_utf8(d.bytes).unwrap();
    assert!(text.starts_with("CallId,StartTime,"), "{text}");
    assert!(text.lines().count() > 50);
}
