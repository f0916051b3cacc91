//! Mapping of successful answers: JSON, no content, files.

mod common;

use common::*;
use serde_json::json;
use threecx_core::{Download, Response};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn a_download_keeps_bytes_type_and_file_name() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/ReportCallLogData/Pbx.DownloadCallLog()"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(b"a,b\n1,2\n".to_vec(), "text/csv; charset=utf-8")
                .insert_header(
                    "content-disposition",
                    "attachment; filename=\"calls.csv\"; filename*=UTF-8''calls%20%E2%82%AC.csv",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, "download");
    let req = DOWNLOAD_LOGS.build(&obj(json!({}))).unwrap();
    assert_eq!(
        client.url_of(&req),
        format!(
            "{}/xapi/v1/ReportCallLogData/Pbx.DownloadCallLog()",
            server.uri()
        )
    );
    let got = client.execute(&req).await.unwrap();
    assert_eq!(
        got,
        Response::Download(Download {
            content_type: "text/csv; charset=utf-8".into(),
            file_name: Some("calls €.csv".into()),
            bytes: b"a,b\n1,2\n".to_vec(),
        })
    );
}

#[tokio::test]
async fn a_download_template_keeps_json_as_a_file() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(br#"{"a":1}"#.to_vec(), "application/json")
                .insert_header("content-disposition", "attachment; filename=export.json"),
        )
        .mount(&server)
        .await;
    let client = client(&server, "download-json");
    let req = DOWNLOAD_LOGS.build(&obj(json!({}))).unwrap();
    match client.execute(&req).await.unwrap() {
        Response::Download(d) => {
            assert_eq!(d.content_type, "application/json");
            assert_eq!(d.file_name.as_deref(), Some("export.json"));
            assert_eq!(d.bytes, br#"{"a":1}"#);
        }
        other => panic!("expected a download, got {other:?}"),
    }
}

#[tokio::test]
async fn a_file_where_json_was_promised_is_a_download() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(b"PK\x03\x04".to_vec(), "application/zip"),
        )
        .mount(&server)
        .await;
    let client = client(&server, "surprise-file");
    let req = get_user();
    match client.execute(&req).await.unwrap() {
        Response::Download(d) => {
            assert_eq!(d.content_type, "application/zip");
            assert_eq!(d.file_name, None);
            assert_eq!(d.bytes, b"PK\x03\x04");
        }
        other => panic!("expected a download, got {other:?}"),
    }
}

#[tokio::test]
async fn json_and_empty_answers() {
    let server = fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(1)"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            br#"{"@odata.context":"x","Id":1}"#.to_vec(),
            "application/json; odata.metadata=minimal; charset=utf-8",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xapi/v1/Users(2)"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xapi/v1/PurgeChats"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client(&server, "json-empty");
    let get = |id: u64| GET_USER.build(&obj(json!({"Id": id}))).unwrap();
    assert_eq!(
        client.execute(&get(1)).await.unwrap(),
        Response::Json(json!({"@odata.context": "x", "Id": 1}))
    );
    assert_eq!(
        client.execute(&get(2)).await.unwrap(),
        Response::Empty { status: 200 }
    );
    let purge = purge();
    assert_eq!(
        client.execute(&purge).await.unwrap(),
        Response::Empty { status: 204 }
    );
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    let server = fresh_mock_server().await;
    let elsewhere = common::fresh_mock_server().await;
    token_mock(TOKEN, 1).mount(&server).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/xapi/v1/Users(1)", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let client = client(&server, "redirect");
    let err = client.execute(&get_user()).await.unwrap_err();
    assert!(err.to_string().contains("redirected to"), "{err}");
}
