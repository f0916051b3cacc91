//! `--all` paging and `--out` downloads.

use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{api_requests, pbx, threecx};

#[tokio::test]
async fn all_streams_every_page_as_ndjson() {
    let id = "cli-paging";
    let server = pbx(id).await;
    let total = 250;
    for skip in [0usize, 100, 200] {
        let items: Vec<Value> = (skip..(skip + 100).min(total))
            .map(|i| json!({"Id": i, "Number": format!("{}", 1000 + i)}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/xapi/v1/Users"))
            .and(query_param("$top", "100"))
            .and(query_param("$skip", skip.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "value": items })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let run = threecx([
        "call",
        "Users",
        "List User",
        "--all",
        "--page-size",
        "100",
        "--output",
        "ndjson",
        "-p",
        "$select=[\"Id\",\"Number\"]",
    ])
    .pbx(&server, id)
    .trace()
    .run();
    run.assert_code(0);
    let ids: Vec<u64> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["Id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids, (0..250).collect::<Vec<u64>>());
    let requests = api_requests(&server).await;
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(requests.iter().all(|r| r
        .url
        .query()
        .unwrap_or("")
        .contains("%24select=Id%2CNumber")
        || r.url.query().unwrap_or("").contains("$select=Id,Number")));
}

#[tokio::test]
async fn all_as_json_is_one_array_and_refused_for_non_lists() {
    let id = "cli-paging-json";
    let server = pbx(id).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"value": [{"Id": 1}, {"Id": 2}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let run = threecx(["call", "Users", "List User", "--all"])
        .pbx(&server, id)
        .run();
    run.assert_code(0);
    assert_eq!(run.json(), json!([{"Id": 1}, {"Id": 2}]));

    let run = threecx([
        "call",
        "Users",
        "Get User By Number",
        "-p",
        "Number=1",
        "--all",
    ])
    .pbx(&server, id)
    .run();
    run.assert_code(2);
    assert!(run.stderr.contains("--all"), "{}", run.stderr);
}

#[tokio::test]
async fn out_writes_a_download_and_a_pipe_gets_the_bytes() {
    let id = "cli-download";
    let server = pbx(id).await;
    let csv = b"CallId,From,To\n1,100,200\n2,101,\xc3\xa9\n".to_vec();
    Mock::given(method("GET"))
        .and(path("/xapi/v1/CallHistoryView/Pbx.DownloadCallHistory()"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/csv")
                .insert_header("content-disposition", "attachment; filename=\"calls.csv\"")
                .set_body_bytes(csv.clone()),
        )
        .expect(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("history.csv");
    let run = threecx([
        "call",
        "Call History View",
        "Download Call History",
        "--out",
        &out.display().to_string(),
    ])
    .pbx(&server, id)
    .run();
    run.assert_code(0);
    assert_eq!(std::fs::read(&out).unwrap(), csv);
    let summary = run.json();
    assert_eq!(summary["size"], csv.len());
    assert_eq!(summary["content_type"], "text/csv");
    assert_eq!(summary["file_name"], "calls.csv");
    assert_eq!(summary["file"], out.display().to_string());

    // stdout is a pipe here: the bytes go through unchanged.
    let run = threecx(["call", "Call History View", "Download Call History"])
        .pbx(&server, id)
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout_bytes, csv);
}
