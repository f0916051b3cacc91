//! What the gateway and the MCP server both say about actions: catalogue entries, searches,
//! descriptions, and errors as JSON.

use serde_json::{json, Map, Value};
use threecx_core::{Error, ResponseKind};
use threecx_registry::names::normalize;
use threecx_registry::{Operation, Registry};

/// One catalogue entry: names, flags, and the PBX request it sends.
///
/// `{"resource": "PurgeSettings", "resource_display": "Purge Settings", "action": "PurgeChats",
/// "action_display": "Purge Chats", "description": ..., "kind": "action_import",
/// "destructive": true, "idempotent": false, "method": "POST", "path": "/PurgeChats",
/// "returns": "empty"}`; `method` and `path` are `null` for actions composed in Rust.
pub fn summary(op: &dyn Operation) -> Value {
    let meta = op.meta();
    let template = op.template();
    json!({
        "resource": meta.resource,
        "resource_display": meta.resource_display,
        "action": meta.action,
        "action_display": meta.action_display,
        "description": meta.description,
        "kind": meta.kind.as_str(),
        "destructive": meta.destructive,
        "idempotent": meta.idempotent,
        "method": template.map(|t| t.method.as_str()),
        "path": template.map(|t| t.path),
        "returns": returns(op),
    })
}

/// What a call answers: `json`, `collection` (pageable), `empty`, `download` or `composed`
/// (an action composed in Rust: whatever it documents in its output schema).
pub fn returns(op: &dyn Operation) -> &'static str {
    match op.template().map(|t| t.response) {
        Some(ResponseKind::Json) => "json",
        Some(ResponseKind::Collection) => "collection",
        Some(ResponseKind::Empty) => "empty",
        Some(ResponseKind::Download) => "download",
        None => "composed",
    }
}

/// Whether `op` answers an OData collection that can be streamed item by item.
pub fn pageable(op: &dyn Operation) -> bool {
    op.template()
        .is_some_and(|t| t.response == ResponseKind::Collection)
}

/// The actions of `resource` (any spelling; all when `None`) whose names match every word of
/// `query` (case-insensitive, ignoring spaces and punctuation, over the canonical and display
/// names of the resource and the action), sorted by resource, then action.
pub fn search(
    registry: &Registry,
    resource: Option<&str>,
    query: Option<&str>,
) -> Result<Vec<&'static dyn Operation>, Error> {
    let ops: &[&'static dyn Operation] = match resource.filter(|r| !r.trim().is_empty()) {
        Some(name) => registry.find_resource(name)?.actions(),
        None => registry.actions(),
    };
    let terms: Vec<String> = query
        .unwrap_or_default()
        .split_whitespace()
        .map(normalize)
        .filter(|t| !t.is_empty())
        .collect();
    Ok(ops
        .iter()
        .copied()
        .filter(|op| {
            if terms.is_empty() {
                return true;
            }
            let meta = op.meta();
            // Canonical names normalise like display names; both are kept for names whose
            // display form differs (extensions).
            let haystack = format!(
                "{} {} {} {}",
                normalize(meta.resource),
                normalize(meta.resource_display),
                normalize(meta.action),
                normalize(meta.action_display)
            );
            terms.iter().all(|t| haystack.contains(t.as_str()))
        })
        .collect())
}

/// Everything about one action: [`summary`] plus its input and output JSON Schemas (2020-12,
/// self-contained), an example input, whether it can be paged, and whether it needs
/// confirmation.
pub fn describe(registry: &Registry, op: &dyn Operation) -> Value {
    let mut out = summary(op);
    let map = out.as_object_mut().expect("summary is an object");
    map.insert("pageable".into(), Value::Bool(pageable(op)));
    map.insert(
        "needs_confirmation".into(),
        Value::Bool(op.meta().destructive),
    );
    map.insert("input_schema".into(), registry.input_schema(op));
    map.insert("output_schema".into(), registry.output_schema(op));
    map.insert("example_input".into(), registry.example_input(op));
    out
}

/// Resources with their display names and action counts.
pub fn resources(registry: &Registry) -> Vec<Value> {
    registry
        .resources()
        .iter()
        .map(|r| {
            json!({
                "resource": r.name(),
                "resource_display": r.display_name(),
                "actions": r.actions().len(),
            })
        })
        .collect()
}

/// The HTTP status the gateway answers an error with:
///
/// | error | status |
/// |---|---|
/// | `InvalidInput` | 400 |
/// | `UnknownName` | 404 |
/// | `NotConfirmed` | 409 |
/// | `Auth` (the PBX refused the gateway's own credentials) | 502 |
/// | `Api` with a 4xx status other than 401/407 | that status (the request's content was refused) |
/// | `Api` with any other status | 502 |
/// | `Timeout` | 504 |
/// | `Transport`, `Decode` | 502 |
/// | `Config` and anything else | 500 |
pub fn http_status(e: &Error) -> u16 {
    match e {
        Error::InvalidInput { .. } => 400,
        Error::UnknownName { .. } => 404,
        Error::NotConfirmed { .. } => 409,
        Error::Auth { .. } => 502,
        Error::Api { status, .. }
            if (400..500).contains(status) && !matches!(status, 401 | 407) =>
        {
            *status
        }
        Error::Api { .. }
        | Error::Transport { .. }
        | Error::Decode { .. }
        | Error::OutcomeUnknown { .. } => 502,
        Error::Timeout { .. } => 504,
        _ => 500,
    }
}

/// The JSON body of an error: `{"error": {"kind": ..., "message": ..., <details>}}`.
///
/// | kind | details |
/// |---|---|
/// | `invalid_input` | `pointer` (JSON pointer into the input; `""` for the whole input), `expected`, `example` |
/// | `unknown_name` | `name_kind` (`resource` / `action`), `name`, `suggestions` |
/// | `not_confirmed` | `action`, `hint` |
/// | `upstream_auth` | `upstream_status`, `hint` |
/// | `upstream_api` | `upstream_status`, `code`, `method`, `path` (relative to `/xapi/v1`), `details` |
/// | `outcome_unknown` | `outcome: "unknown"`, `hint` (a non-repeatable action may have been carried out) |
/// | `timeout`, `transport`, `decode`, `config`, `internal` | `retryable` |
///
/// No message contains the PBX client secret or a token: the SDK never puts them into an error.
pub fn error_json(e: &Error) -> Value {
    let mut body = Map::new();
    let kind = match e {
        Error::InvalidInput {
            pointer,
            expected,
            example,
        } => {
            body.insert("pointer".into(), json!(pointer));
            body.insert("expected".into(), json!(expected));
            body.insert("example".into(), json!(example));
            "invalid_input"
        }
        Error::UnknownName {
            kind,
            name,
            suggestions,
        } => {
            body.insert("name_kind".into(), json!(kind));
            body.insert("name".into(), json!(name));
            body.insert("suggestions".into(), json!(suggestions));
            "unknown_name"
        }
        Error::NotConfirmed { action } => {
            body.insert("action".into(), json!(action));
            body.insert(
                "hint".into(),
                json!("this action is destructive: send it again with \"confirm\": true to run it"),
            );
            "not_confirmed"
        }
        Error::Auth { status, .. } => {
            body.insert("upstream_status".into(), json!(status));
            body.insert(
                "hint".into(),
                json!(
                    "the PBX refused the credentials this server runs with (not your API key): \
                     its operator should check the 3CX API client's ID, secret and role, and \
                     the PBX URL"
                ),
            );
            "upstream_auth"
        }
        Error::Api {
            status,
            method,
            path,
            code,
            details,
            ..
        } => {
            body.insert("upstream_status".into(), json!(status));
            body.insert("code".into(), json!(code));
            body.insert("method".into(), json!(method));
            body.insert("path".into(), json!(path));
            body.insert("details".into(), json!(details));
            "upstream_api"
        }
        Error::OutcomeUnknown { .. } => {
            body.insert("outcome".into(), json!("unknown"));
            body.insert(
                "hint".into(),
                json!(
                    "the action may have been carried out although no answer came back; it was \
                     not repeated: check the PBX before sending it again (do not retry blindly)"
                ),
            );
            "outcome_unknown"
        }
        Error::Timeout { .. } => "timeout",
        Error::Transport { .. } => "transport",
        Error::Decode { .. } => "decode",
        Error::Config { .. } => "config",
        _ => "internal",
    };
    body.insert("kind".into(), json!(kind));
    body.insert("message".into(), json!(e.to_string()));
    body.insert("retryable".into(), json!(e.is_retryable()));
    json!({ "error": body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let api = |status| Error::Api {
            status,
            method: "GET",
            path: "/Users".into(),
            code: String::new(),
            message: "x".into(),
            details: vec![],
        };
        assert_eq!(http_status(&api(404)), 404);
        assert_eq!(http_status(&api(403)), 403);
        assert_eq!(http_status(&api(401)), 502);
        assert_eq!(http_status(&api(500)), 502);
        assert_eq!(http_status(&Error::invalid("/a", "b")), 400);
        assert_eq!(
            http_status(&Error::NotConfirmed {
                action: "A / B".into()
            }),
            409
        );
    }

    #[test]
    fn invalid_input_body() {
        let body = error_json(&Error::invalid("/period/Start", "a date-time"));
        assert_eq!(body["error"]["kind"], "invalid_input");
        assert_eq!(body["error"]["pointer"], "/period/Start");
        assert_eq!(body["error"]["expected"], "a date-time");
    }

    #[test]
    fn search_matches_words_in_any_spelling() {
        let registry = threecx_ops::registry();
        let found = search(registry, None, Some("purge chats")).unwrap();
        assert!(found.iter().any(|op| op.meta().action == "PurgeChats"));
        let found = search(registry, Some("purge-settings"), Some("PURGECHATS")).unwrap();
        assert_eq!(found.len(), 1);
        assert!(search(registry, Some("Purge Setings"), None).is_err());
        assert_eq!(search(registry, None, None).unwrap().len(), registry.len());
    }
}
