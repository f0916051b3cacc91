//! What the gateway and the MCP server both do with the catalogue: search it, and say errors as
//! JSON. The entries themselves are the registry's `ActionSummary`/`ActionDescription`.

use serde_json::{json, Map, Value};
use threecx_core::Error;
use threecx_registry::names::normalize;
use threecx_registry::{Operation, Registry};

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
            body.insert("name_kind".into(), json!(kind.as_str()));
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
