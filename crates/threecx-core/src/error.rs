//! The one error type of threecx. Every message says what to check next; none ever contains a
//! client secret or a token (they are never put into an error in the first place).

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One entry of an OData error's `details`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub target: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input does not fit the action's schema; nothing was sent.
    #[error("invalid input at {}: expected {expected}{}", pointer_text(.pointer), example_suffix(.example))]
    InvalidInput {
        /// JSON pointer into the input (`/period/Start`; `` (empty) for the whole input).
        pointer: String,
        /// What was expected there, in words.
        expected: String,
        /// A value that would be accepted, when one can be given.
        example: Option<String>,
    },

    /// A resource or action name that is not registered.
    #[error("unknown {kind} \"{name}\"{}", suggestion_suffix(.suggestions))]
    UnknownName {
        kind: NameKind,
        name: String,
        suggestions: Vec<String>,
    },

    /// An action's own definition is unusable (its input schema does not compile): a bug in
    /// the action, or in an extension that registered it, never in the caller's input.
    #[error(
        "the definition of {resource}/{action} is broken ({message}); this is a bug in the \
         action's definition, not in the input"
    )]
    BrokenDefinition {
        resource: &'static str,
        action: &'static str,
        message: String,
    },

    /// Settings that cannot work (missing URL, unreadable CA bundle...).
    #[error("configuration: {field}: {message}")]
    Config {
        field: &'static str,
        message: String,
    },

    /// The PBX refused the credentials or the token.
    #[error(
        "authentication failed{}: {message}. Check the client ID and secret of the API client \
         (3CX admin console > Integrations > API), the PBX URL, and that the API client's role \
         allows this call (some endpoints need \"System Owner\"); repeated failures can get this \
         IP blocked by 3CX's anti-hacking settings",
        status_suffix(.status)
    )]
    Auth {
        status: Option<u16>,
        message: String,
    },

    /// The PBX answered with an OData error.
    #[error("3CX API error {status} on {method} {path}: {message}{}", code_suffix(.code))]
    Api {
        status: u16,
        method: &'static str,
        /// Path and query as sent, relative to `/xapi/v1` (no credentials ever appear in it);
        /// `/connect/token` for the token endpoint, which lies outside it.
        path: String,
        code: String,
        message: String,
        details: Vec<ApiErrorDetail>,
    },

    /// No answer within the time allowed.
    #[error(
        "timed out after {after:?} while {during}. Check that the PBX is reachable and not \
         overloaded, or raise the timeout"
    )]
    Timeout {
        after: Duration,
        during: &'static str,
    },

    /// The connection failed (DNS, refused, reset, TLS).
    #[error(
        "network error while {during}: {message}. Check the host name and port (443 for hosted \
         PBXs, often 5001 for self-hosted ones), firewalls, and TLS (use a custom CA bundle for a \
         private CA)"
    )]
    Transport {
        during: &'static str,
        message: String,
        /// Whether the request may have reached the server (it may then have been processed).
        maybe_sent: bool,
    },

    /// A request that is not safe to repeat (a purge, a delete action...) was sent, and then the
    /// connection failed or timed out before a usable answer came back: the PBX may or may not
    /// have carried it out. It was not sent again, and should not be repeated blindly.
    #[error(
        "outcome unknown: {method} {path} was sent, then {cause}. The PBX may or may not have \
         carried it out; it was NOT sent again. Check on the PBX whether it took effect before \
         running it again"
    )]
    OutcomeUnknown {
        method: &'static str,
        /// Path and query as sent, relative to `/xapi/v1`.
        path: String,
        /// What went wrong after sending, in words.
        cause: String,
    },

    /// The answer could not be read as what the API promised.
    #[error("could not decode the response of {what}: {message}")]
    Decode { what: String, message: String },

    /// A destructive action was not confirmed.
    #[error("{action} is destructive and was not confirmed; nothing was sent")]
    NotConfirmed { action: String },
}

/// Which kind of name [`Error::UnknownName`] did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Resource,
    Action,
}

impl NameKind {
    /// `resource` or `action`, as messages and the gateway's `name_kind` say it.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Resource => "resource",
            NameKind::Action => "action",
        }
    }
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// Whether the same request may succeed if tried again later (the caller still decides whether
    /// repeating it is safe for the action).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            Error::Timeout { .. } | Error::Transport { .. } => true,
            _ => false,
        }
    }

    /// Whether a request that is not safe to repeat may have been carried out although no
    /// usable answer came back ([`Error::OutcomeUnknown`]): never retryable.
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// Shorthand for an [`Error::InvalidInput`] without an example.
    pub fn invalid(pointer: impl Into<String>, expected: impl Into<String>) -> Self {
        Error::InvalidInput {
            pointer: pointer.into(),
            expected: expected.into(),
            example: None,
        }
    }
}

fn pointer_text(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the top level of the input"
    } else {
        pointer
    }
}

fn example_suffix(example: &Option<String>) -> String {
    match example {
        Some(e) => format!(", for example {e}"),
        None => String::new(),
    }
}

fn suggestion_suffix(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean: {}?", suggestions.join(", "))
    }
}

fn status_suffix(status: &Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn code_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" (code {code})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_names_pointer_and_expectation() {
        let e = Error::InvalidInput {
            pointer: "/period/Start".into(),
            expected: "a date-time".into(),
            example: Some("\"2024-01-01T00:00:00Z\"".into()),
        };
        assert_eq!(
            e.to_string(),
            "invalid input at /period/Start: expected a date-time, for example \"2024-01-01T00:00:00Z\""
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn unknown_name_lists_suggestions() {
        let e = Error::UnknownName {
            kind: NameKind::Resource,
            name: "Purge Setings".into(),
            suggestions: vec!["Purge Settings".into()],
        };
        assert_eq!(
            e.to_string(),
            "unknown resource \"Purge Setings\"; did you mean: Purge Settings?"
        );
    }

    #[test]
    fn retryable_statuses() {
        let api = |status| Error::Api {
            status,
            method: "GET",
            path: "/Users".into(),
            code: String::new(),
            message: "x".into(),
            details: vec![],
        };
        assert!(api(503).is_retryable());
        assert!(api(429).is_retryable());
        assert!(!api(404).is_retryable());
        assert!(!api(400).is_retryable());
    }
}
