//! What a call returns: JSON, nothing (204), or a file.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// A successful answer of the PBX.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A JSON document (entity, collection, function result).
    Json(Value),
    /// No content (HTTP 204, or an empty 200/201 body).
    Empty { status: u16 },
    /// A file: CSV reports, backups, recordings, exports.
    Download(Download),
}

/// A downloaded file, held in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct Download {
    pub content_type: String,
    /// From `Content-Disposition`, when the server names the file.
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .finish()
    }
}

impl Response {
    /// The documented JSON shape of any answer: the JSON itself; `null` for no content;
    /// `{"content_type", "file_name", "size"}` for a download (its bytes are not JSON).
    pub fn to_json(&self) -> Value {
        match self {
            Response::Json(v) => v.clone(),
            Response::Empty { .. } => Value::Null,
            Response::Download(d) => serde_json::json!({
                "content_type": d.content_type,
                "file_name": d.file_name,
                "size": d.bytes.len(),
            }),
        }
    }

    /// [`Response::to_json`] of an answer no longer needed: a JSON answer is moved, not copied
    /// (a page of a list can be hundreds of kilobytes).
    pub fn into_json(self) -> Value {
        match self {
            Response::Json(v) => v,
            other => other.to_json(),
        }
    }
}

/// Conversion of a [`Response`] into the output type of a typed call.
pub trait FromResponse: Sized {
    fn from_response(response: Response, what: &str) -> Result<Self>;
}

impl<T: DeserializeOwned> FromResponse for T {
    fn from_response(response: Response, what: &str) -> Result<Self> {
        let value = match response {
            Response::Json(v) => v,
            Response::Empty { .. } => Value::Null,
            Response::Download(d) => {
                return Err(Error::Decode {
                    what: what.to_owned(),
                    message: format!(
                        "expected JSON, got a file of type {} ({} bytes)",
                        d.content_type,
                        d.bytes.len()
                    ),
                })
            }
        };
        serde_json::from_value(value).map_err(|e| Error::Decode {
            what: what.to_owned(),
            message: e.to_string(),
        })
    }
}

impl FromResponse for Download {
    fn from_response(response: Response, what: &str) -> Result<Self> {
        match response {
            Response::Download(d) => Ok(d),
            Response::Json(v) => Ok(Download {
                content_type: "application/json".to_owned(),
                file_name: None,
                bytes: serde_json::to_vec(&v).map_err(|e| Error::Decode {
                    what: what.to_owned(),
                    message: e.to_string(),
                })?,
            }),
            Response::Empty { .. } => Err(Error::Decode {
                what: what.to_owned(),
                message: "expected a file, got no content".to_owned(),
            }),
        }
    }
}

/// An OData collection page, for typed list calls.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Collection<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(rename = "@odata.count", default)]
    pub count: Option<i64>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_decodes_as_unit() {
        let () = <()>::from_response(Response::Empty { status: 204 }, "PurgeChats").unwrap();
    }

    #[test]
    fn collection_decodes_with_count() {
        let c: Collection<i32> = FromResponse::from_response(
            Response::Json(json!({"value": [1, 2], "@odata.count": 7})),
            "List",
        )
        .unwrap();
        assert_eq!(c.value, vec![1, 2]);
        assert_eq!(c.count, Some(7));
    }

    #[test]
    fn download_json_shape_has_no_bytes() {
        let d = Response::Download(Download {
            content_type: "text/csv".into(),
            file_name: Some("calls.csv".into()),
            bytes: b"a,b\n".to_vec(),
        });
        assert_eq!(
            d.to_json(),
            json!({"content_type": "text/csv", "file_name": "calls.csv", "size": 4})
        );
        assert_eq!(
            d.into_json(),
            json!({"content_type": "text/csv", "file_name": "calls.csv", "size": 4})
        );
    }

    #[test]
    fn into_json_moves_the_answer_and_keeps_the_shapes() {
        let answer = json!({"value": [{"Id": 1}]});
        assert_eq!(Response::Json(answer.clone()).into_json(), answer);
        assert_eq!(Response::Empty { status: 204 }.into_json(), Value::Null);
    }
}
