//! What a handler answers, before it becomes HTTP: a status, headers and an empty, JSON or
//! bytes body.

use serde_json::{json, Value};
use threecx_registry::Operation;

/// An answer before it becomes HTTP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ReplyBody {
    Empty,
    Json(Value),
    Bytes {
        content_type: String,
        bytes: Vec<u8>,
    },
}

impl Reply {
    pub fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(value),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Empty,
        }
    }

    /// 3CX's OData error: `{"error":{"code":"","message":"..."}}`.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": "", "message": message.into()}}),
        )
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// A file download, named after the action (`GetCallLogData.csv`).
pub(super) fn download(
    op: &dyn Operation,
    content_type: &str,
    extension: &str,
    bytes: Vec<u8>,
) -> Reply {
    Reply {
        status: 200,
        headers: vec![(
            "Content-Disposition".to_owned(),
            format!("attachment; filename=\"{}.{extension}\"", op.meta().action),
        )],
        body: ReplyBody::Bytes {
            content_type: content_type.to_owned(),
            bytes,
        },
    }
}
