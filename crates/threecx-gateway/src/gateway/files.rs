//! A PBX file (a backup, a recording, a CSV export) as the gateway's HTTP answer: relayed as it
//! arrives, under a file name that is safe in a header.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use threecx_core::{Client, Error};
use threecx_registry::PreparedCall;

/// A file relayed as it arrives from the PBX (a backup or recording of any size in constant
/// memory): the PBX's error comes before the first byte (for the caller to answer); a failure
/// later cuts the body.
pub(super) async fn stream_download(
    call: PreparedCall<'_>,
    client: &Client,
) -> Result<Response, Error> {
    let download = call.download(client).await?;
    let headers = file_headers(&download.content_type, download.file_name.as_deref());
    let chunks = futures_util::stream::unfold(Some(download), |state| async move {
        let mut download = state?;
        match download.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, Error>(chunk), Some(download))),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "download from the PBX broke off; cutting the answer");
                Some((Err(e), None))
            }
        }
    });
    Ok((headers, Body::from_stream(chunks)).into_response())
}

/// `Content-Type`, `Content-Disposition` (a safe file name) and `nosniff` of a file answer.
fn file_headers(
    content_type: &str,
    file_name: Option<&str>,
) -> [(header::HeaderName, HeaderValue); 3] {
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let name = file_name
        .map(safe_file_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "download".to_owned());
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{name}\"; filename*=UTF-8''{}",
        percent_encode(&name)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ]
}

pub(super) fn download_response(d: threecx_core::Download) -> Response {
    (
        file_headers(&d.content_type, d.file_name.as_deref()),
        d.bytes,
    )
        .into_response()
}

/// A file name safe inside a quoted header parameter: no path, quotes or control characters.
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars()
        .map(|c| {
            if c.is_control() || c == '"' || !c.is_ascii() {
                '_'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn percent_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_file_name("../../etc/pa\"ss\nwd"), "pa_ss_wd");
        assert_eq!(safe_file_name("calls 2024.csv"), "calls 2024.csv");
        assert_eq!(percent_encode("calls 2024.csv"), "calls%202024.csv");
    }
}
