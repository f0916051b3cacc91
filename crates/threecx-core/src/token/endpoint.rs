//! The token request itself: `POST /connect/token` with the client credentials, its answer
//! read up to a cap, and its errors with any echo of the secret kept out.

use std::time::{Duration, Instant};

use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::config::Config;
use crate::error::{ApiErrorDetail, Error};
use crate::token::echo::echoes_secret;
use crate::token::lifetime::{token_lifetime, unix_now};
use crate::wire::{excerpt, map_send_error, parse_error_body, redact, Phase, SendError};

/// Most bytes of a token endpoint's answer read: 64 KiB. A token answer is about 1-2 KiB (the
/// token has to fit in an `Authorization` header, which servers cap at 8-16 KiB); an error
/// answer is read up to this for its excerpt, the rest is not waited for.
const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

pub(super) struct Fetched {
    pub(super) value: SecretString,
    pub(super) lifetime: Duration,
}

/// `POST /connect/token` with the client credentials, form-encoded.
pub(super) async fn fetch_token(
    http: &reqwest::Client,
    config: &Config,
) -> std::result::Result<Fetched, SendError> {
    let secret = config.client_secret().expose_secret();
    let form = [
        ("client_id", config.client_id()),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
    ];
    let started = Instant::now();
    let mut response = http
        .post(config.token_url())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| map_send_error(e, config, Phase::Token))?;
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read up to the cap only: what lies beyond is not a token answer (nor an error worth
    // reading), and a runaway answer must not take the process's memory or the whole timeout.
    let mut body = Vec::new();
    let mut oversized = response
        .content_length()
        .is_some_and(|n| n > MAX_TOKEN_ANSWER_BYTES as u64);
    while !oversized {
        let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| map_send_error(e, config, Phase::Token))?
        else {
            break;
        };
        let room = MAX_TOKEN_ANSWER_BYTES - body.len();
        oversized = chunk.len() > room;
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    drop(response);
    tracing::debug!(
        method = "POST",
        path = "/connect/token",
        status = status.as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "token endpoint answered"
    );

    if !status.is_success() {
        return Err(
            token_endpoint_error(status.as_u16(), &body, location.as_deref(), secret).into(),
        );
    }

    token_from_answer(&body, oversized, config)
}

/// The token and its lifetime from a 2xx answer of the token endpoint (`oversized`: cut off
/// at [`MAX_TOKEN_ANSWER_BYTES`]).
fn token_from_answer(
    body: &[u8],
    oversized: bool,
    config: &Config,
) -> std::result::Result<Fetched, SendError> {
    let decode = |message: &str| {
        SendError::new(Error::Decode {
            what: "the token answer of /connect/token".to_owned(),
            message: message.to_owned(),
        })
    };
    if oversized {
        return Err(decode(
            "the answer is larger than 64 KiB, which no token answer is (the token must fit in \
             an HTTP header); check that the URL points to a 3CX V20 PBX",
        ));
    }
    // Parsed to a Value first: serde's type errors quote the offending value, which here could
    // be the token itself, so only syntax errors (which quote nothing) are passed on.
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        decode(&format!(
            "not JSON ({e}); check that the URL points to a 3CX V20 PBX"
        ))
    })?;
    let value = match json.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(decode(
                "no access_token in the answer; check that the URL points to a 3CX V20 PBX",
            ))
        }
    };
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(decode(
            "the access_token contains characters not allowed in an HTTP header",
        ));
    }
    let lifetime = token_lifetime(
        &value,
        json.get("expires_in"),
        config.expires_in_unit(),
        unix_now(),
    );
    Ok(Fetched {
        value: SecretString::from(value),
        lifetime,
    })
}

/// What is said instead of a token endpoint's text that quotes the request.
const WITHHELD: &str = "its answer quotes the token request, client secret included, so it is \
                        not shown";

/// How much of a token endpoint's error answer is searched for an echo of the secret: more
/// than any excerpt shows (an excerpt may end inside the secret).
const ECHO_SCAN_BYTES: usize = 64 * 1024;

/// The error for a non-2xx answer of the token endpoint. None of the server's text is passed
/// on that holds the secret in any form (see [`echoes_secret`]): a literal occurrence in an
/// otherwise clean text is replaced by `[REDACTED]`; a text with an encoded one (the server
/// echoing the form body, say) is withheld as a whole, keeping only a clean OAuth `error` code.
fn token_endpoint_error(status: u16, body: &[u8], location: Option<&str>, secret: &str) -> Error {
    let parsed = parse_error_body(body);
    let head = String::from_utf8_lossy(&body[..body.len().min(ECHO_SCAN_BYTES)]);
    // An encoded echo anywhere in the answer taints all of it: an excerpt may show part of it.
    let tainted = echoes_secret(&redact(&head, secret), secret);
    // `None`: the text must not be shown.
    let clean = |text: &str| -> Option<String> {
        let redacted = redact(text, secret);
        (!tainted && !echoes_secret(&redacted, secret)).then_some(redacted)
    };
    let server = clean(&parsed.message);
    // A short OAuth code (`invalid_client`) is kept when it does not hold the secret itself.
    let code = {
        let c = redact(&parsed.code, secret);
        if c == parsed.code && !echoes_secret(&c, secret) {
            c
        } else {
            String::new()
        }
    };
    let withheld = || {
        if code.is_empty() {
            WITHHELD.to_owned()
        } else {
            format!("{code}; {WITHHELD}")
        }
    };
    match status {
        400 | 401 | 403 => Error::Auth {
            status: Some(status),
            message: match server {
                Some(s) if s.is_empty() => {
                    "the token endpoint refused the client credentials".to_owned()
                }
                Some(s) => format!("the token endpoint refused the client credentials ({s})"),
                None => format!(
                    "the token endpoint refused the client credentials ({})",
                    withheld()
                ),
            },
        },
        300..=399 => Error::Api {
            status,
            method: "POST",
            path: "/connect/token".to_owned(),
            code: String::new(),
            message: format!(
                "the token endpoint redirected to {}; use the final address as the PBX URL",
                match location.map(|l| excerpt(l.as_bytes())) {
                    None => String::new(),
                    Some(l) if l.contains(secret) || echoes_secret(&l, secret) => {
                        "an address that quotes the client secret (not shown)".to_owned()
                    }
                    Some(l) => l,
                }
            ),
            details: vec![],
        },
        _ => {
            let details = if server.is_some() {
                parsed
                    .details
                    .into_iter()
                    .filter_map(|d| {
                        Some(ApiErrorDetail {
                            code: clean(&d.code)?,
                            message: clean(&d.message)?,
                            target: match d.target {
                                Some(t) => Some(clean(&t)?),
                                None => None,
                            },
                        })
                    })
                    .collect()
            } else {
                vec![]
            };
            Error::Api {
                status,
                method: "POST",
                path: "/connect/token".to_owned(),
                code,
                message: match (status, server) {
                    (404, _) => "no token endpoint here; check the PBX URL (a 3CX V20 PBX \
                                 serves /connect/token)"
                        .to_owned(),
                    (_, Some(s)) if s.is_empty() => "the token endpoint failed".to_owned(),
                    (_, Some(s)) => format!("the token endpoint failed: {s}"),
                    (_, None) => format!("the token endpoint failed; {WITHHELD}"),
                },
                details,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_echoed_form_body_is_withheld_whole() {
        let secret = "s3cr3t+/=&é";
        let form =
            "client_id=id&client_secret=s3cr3t%2B%2F%3D%26%C3%A9&grant_type=client_credentials";
        let body = json!({"error": "invalid_request", "error_description": form}).to_string();
        let e = token_endpoint_error(400, body.as_bytes(), None, secret);
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("invalid_request; its answer quotes the token request"),
            "{shown}"
        );
        // The secret as the OAuth code itself: no code either.
        let body = json!({"error": secret}).to_string();
        let e = token_endpoint_error(401, body.as_bytes(), None, secret);
        assert!(!format!("{e} {e:?}").contains("s3cr3t"), "{e:?}");
        // A clean answer is passed on as before.
        let body = json!({"error": "invalid_client", "error_description": "unknown client"});
        let e = token_endpoint_error(400, body.to_string().as_bytes(), None, secret);
        assert!(
            e.to_string().contains("invalid_client: unknown client"),
            "{e}"
        );
    }

    #[test]
    fn token_endpoint_errors_scrub_the_secret() {
        let body = br#"{"error":"invalid_client","error_description":"bad secret s3cr3t-XYZ"}"#;
        let e = token_endpoint_error(400, body, None, "s3cr3t-XYZ");
        assert!(
            matches!(
                e,
                Error::Auth {
                    status: Some(400),
                    ..
                }
            ),
            "{e:?}"
        );
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("s3cr3t-XYZ"), "{shown}");
        assert!(shown.contains("bad secret [REDACTED]"), "{shown}");
        let e = token_endpoint_error(503, b"down", None, "s3cr3t-XYZ");
        assert!(e.is_retryable(), "{e:?}");
    }
}
