//! OAuth2 client credentials as 3CX does them: `POST /connect/token` (the form urlencoded or
//! `multipart/form-data`, as a browser's or n8n's `FormData` sends it), bearer tokens with a
//! lifetime, and (optionally) one active token per API client.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::form::query_pairs;
use crate::gen::hash;

struct Issued {
    client_id: String,
    expires_at: Instant,
}

/// Tokens issued and still known.
pub(crate) struct Auth {
    client_id: String,
    client_secret: String,
    lifetime: Duration,
    minutes: bool,
    jwt: bool,
    one_per_client: bool,
    issuer: String,
    seed: u64,
    issued: HashMap<String, Issued>,
    /// The current token of each client (for the one-token rule).
    current: HashMap<String, String>,
    counter: u64,
    /// Every token issued, newest last (at most [`ISSUED_LOG`]), for tests that check no token
    /// leaks into a log or an output.
    log: std::collections::VecDeque<String>,
}

/// How many issued tokens [`Auth::issued_tokens`] remembers.
const ISSUED_LOG: usize = 10_000;

/// Why a bearer token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Missing,
    Unknown,
    Expired,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => "Authorization has been denied for this request: no bearer token",
            Refusal::Unknown => {
                "Authorization has been denied for this request: the token is not valid (a newer \
                 token may have replaced it)"
            }
            Refusal::Expired => "Authorization has been denied for this request: the token expired",
        }
    }
}

/// The answer of the token endpoint: status and JSON body.
pub(crate) struct TokenAnswer {
    pub status: u16,
    pub body: Value,
}

impl TokenAnswer {
    /// An OAuth2 error answer (RFC 6749 §5.2): `{"error": code, "error_description": ...}`.
    fn error(status: u16, code: &str, description: impl Into<String>) -> TokenAnswer {
        TokenAnswer {
            status,
            body: json!({"error": code, "error_description": description.into()}),
        }
    }

    /// 400 `invalid_request`: a field is missing, or the body cannot be read.
    pub fn invalid_request(description: impl Into<String>) -> TokenAnswer {
        TokenAnswer::error(400, "invalid_request", description)
    }
}

const FORM: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

/// The fields of a token request's body, read by its `Content-Type`: a urlencoded form (also
/// when there is no `Content-Type`, as before multipart was accepted) or `multipart/form-data`
/// (any boundary, fields in any order; parsed by `multer`). A field given twice keeps its last
/// value. Anything else, or a body that does not parse, is a 400 `invalid_request`.
pub(crate) async fn read_form(
    content_type: Option<&str>,
    body: Bytes,
) -> Result<HashMap<String, String>, TokenAnswer> {
    let essence = content_type
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|| FORM.to_owned());
    if essence == FORM {
        return Ok(query_pairs(&String::from_utf8_lossy(&body))
            .into_iter()
            .collect());
    }
    if essence != MULTIPART {
        let shown: String = essence.chars().take(80).collect();
        return Err(TokenAnswer::invalid_request(format!(
            "the Content-Type '{shown}' is not supported: send the client credentials as \
             {FORM} or {MULTIPART}"
        )));
    }
    let unreadable = |e: multer::Error| {
        TokenAnswer::invalid_request(format!("the {MULTIPART} body cannot be read: {e}"))
    };
    let boundary = multer::parse_boundary(content_type.unwrap_or_default()).map_err(unreadable)?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut form = HashMap::new();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().map(str::to_owned);
        let value = field.text().await.map_err(unreadable)?;
        if let Some(name) = name {
            form.insert(name, value);
        }
    }
    Ok(form)
}

impl Auth {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client_id: &str,
        client_secret: &str,
        lifetime: Duration,
        minutes: bool,
        jwt: bool,
        one_per_client: bool,
        issuer: String,
        seed: u64,
    ) -> Auth {
        Auth {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            lifetime,
            minutes,
            jwt,
            one_per_client,
            issuer,
            seed,
            issued: HashMap::new(),
            current: HashMap::new(),
            counter: 0,
            log: std::collections::VecDeque::new(),
        }
    }

    /// Handles a token request's form fields.
    pub fn token(&mut self, form: &HashMap<String, String>) -> TokenAnswer {
        let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
        match field("grant_type") {
            "client_credentials" => {}
            "" => return TokenAnswer::invalid_request("grant_type is missing"),
            other => {
                let shown: String = other.chars().take(40).collect();
                return TokenAnswer::error(
                    400,
                    "unsupported_grant_type",
                    format!(
                        "the grant_type '{shown}' is not supported: the API accepts \
                         client_credentials"
                    ),
                );
            }
        }
        for name in ["client_id", "client_secret"] {
            if field(name).is_empty() {
                return TokenAnswer::invalid_request(format!("{name} is missing"));
            }
        }
        if field("client_id") != self.client_id || field("client_secret") != self.client_secret {
            return TokenAnswer::error(401, "invalid_client", "Invalid client credentials");
        }
        let token = self.issue();
        let secs = self.lifetime.as_secs().max(1);
        let expires_in = if self.minutes {
            secs.div_ceil(60)
        } else {
            secs
        };
        TokenAnswer {
            status: 200,
            body: json!({
                "token_type": "Bearer",
                "expires_in": expires_in,
                "access_token": token,
                "refresh_token": null,
            }),
        }
    }

    fn issue(&mut self) -> String {
        self.counter += 1;
        let now = crate::time::now();
        let exp = now + self.lifetime.as_secs().max(1) as i64;
        let sig: Vec<u8> = (0..4)
            .flat_map(|k| hash(&[self.seed, self.counter, k, now as u64]).to_le_bytes())
            .collect();
        let token = if self.jwt {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let claims = json!({
                "iss": self.issuer,
                "client_id": self.client_id,
                "sub": self.client_id,
                "iat": now,
                "nbf": now,
                "exp": exp,
                "jti": self.counter.to_string(),
            });
            format!(
                "{header}.{}.{}",
                URL_SAFE_NO_PAD.encode(claims.to_string()),
                URL_SAFE_NO_PAD.encode(&sig)
            )
        } else {
            URL_SAFE_NO_PAD.encode(&sig)
        };
        if self.one_per_client {
            if let Some(old) = self.current.insert(self.client_id.clone(), token.clone()) {
                self.issued.remove(&old);
            }
        }
        // Forget expired tokens so a long-running sandbox does not grow.
        let now_i = Instant::now();
        self.issued.retain(|_, t| t.expires_at > now_i);
        self.issued.insert(
            token.clone(),
            Issued {
                client_id: self.client_id.clone(),
                expires_at: now_i + self.lifetime,
            },
        );
        if self.log.len() == ISSUED_LOG {
            self.log.pop_front();
        }
        self.log.push_back(token.clone());
        token
    }

    /// Every access token issued so far (the latest [`ISSUED_LOG`]), oldest first, whether
    /// still valid or not.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.log.iter().cloned().collect()
    }

    /// Checks an `Authorization` header value; the client ID on success.
    pub fn check(&self, authorization: Option<&str>) -> Result<String, Refusal> {
        let token = authorization
            .and_then(|h| {
                let (scheme, rest) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Missing)?;
        let issued = self.issued.get(token).ok_or(Refusal::Unknown)?;
        if Instant::now() >= issued.expires_at {
            return Err(Refusal::Expired);
        }
        Ok(issued.client_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(id: &str, secret: &str) -> HashMap<String, String> {
        [
            ("client_id", id),
            ("client_secret", secret),
            ("grant_type", "client_credentials"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn auth(minutes: bool, one: bool) -> Auth {
        Auth::new(
            "id",
            "secret",
            Duration::from_secs(3600),
            minutes,
            true,
            one,
            "http://x".into(),
            1,
        )
    }

    #[test]
    fn issues_jwt_shaped_tokens() {
        let mut a = auth(false, true);
        let answer = a.token(&form("id", "secret"));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["expires_in"], 3600);
        assert_eq!(answer.body["token_type"], "Bearer");
        assert_eq!(answer.body["refresh_token"], Value::Null);
        let token = answer.body["access_token"].as_str().unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            3600
        );
        assert_eq!(
            a.check(Some(&format!("Bearer {token}"))),
            Ok("id".to_owned())
        );
        assert_eq!(a.check(None), Err(Refusal::Missing));
        assert_eq!(a.check(Some("Bearer nope")), Err(Refusal::Unknown));
        assert_eq!(
            a.check(Some(&format!("Basic {token}"))),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn minutes_before_20_0_9() {
        let mut a = auth(true, true);
        assert_eq!(a.token(&form("id", "secret")).body["expires_in"], 60);
    }

    #[test]
    fn refusals() {
        let mut a = auth(false, true);
        assert_eq!(a.token(&form("id", "wrong")).status, 401);
        assert_eq!(a.token(&form("other", "secret")).status, 401);
        let mut f = form("id", "secret");
        f.insert("grant_type".into(), "password".into());
        let answer = a.token(&f);
        assert_eq!(answer.status, 400);
        assert_eq!(answer.body["error"], "unsupported_grant_type");
        for missing in ["grant_type", "client_id", "client_secret"] {
            let mut f = form("id", "secret");
            f.remove(missing);
            let answer = a.token(&f);
            assert_eq!(answer.status, 400, "{missing}");
            assert_eq!(answer.body["error"], "invalid_request");
            assert_eq!(
                answer.body["error_description"],
                format!("{missing} is missing")
            );
        }
    }

    /// A multipart body as browsers frame it (CRLF lines, the boundary after `--`).
    fn multipart(boundary: &str, fields: &[(&str, &str)]) -> Bytes {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        Bytes::from(body)
    }

    #[tokio::test]
    async fn reads_urlencoded_and_multipart_bodies() {
        let expected = form("id", "s e+cret");
        let urlencoded = Bytes::from_static(
            b"grant_type=client_credentials&client_id=id&client_secret=s+e%2Bcret",
        );
        for ct in [
            None,
            Some("application/x-www-form-urlencoded"),
            Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        ] {
            let got = read_form(ct, urlencoded.clone()).await.ok().unwrap();
            assert_eq!(got, expected, "{ct:?}");
        }
        let fields = [
            ("client_secret", "s e+cret"),
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
        ];
        for boundary in ["----WebKitFormBoundary7MA4YWxkTrZu0gW", "x"] {
            let body = multipart(boundary, &fields);
            for ct in [
                format!("multipart/form-data; boundary={boundary}"),
                format!("Multipart/Form-Data; charset=utf-8; boundary=\"{boundary}\""),
            ] {
                let got = read_form(Some(&ct), body.clone()).await.ok().unwrap();
                assert_eq!(got, expected, "{ct}");
            }
        }
    }

    #[tokio::test]
    async fn unreadable_bodies_are_invalid_requests() {
        let body = multipart("abc", &[("grant_type", "client_credentials")]);
        for (ct, body, says) in [
            ("text/plain", body.clone(), "text/plain' is not supported"),
            (
                "application/json",
                Bytes::from_static(b"{}"),
                "not supported",
            ),
            ("multipart/form-data", body.clone(), "cannot be read"),
            (
                "multipart/form-data; boundary=other",
                body.clone(),
                "cannot be read",
            ),
            (
                "multipart/form-data; boundary=abc",
                body.slice(..body.len() - 10),
                "cannot be read",
            ),
        ] {
            let Err(answer) = read_form(Some(ct), body).await else {
                panic!("{ct}: accepted");
            };
            assert_eq!(answer.status, 400, "{ct}");
            assert_eq!(answer.body["error"], "invalid_request", "{ct}");
            let description = answer.body["error_description"].as_str().unwrap();
            assert!(description.contains(says), "{ct}: {description}");
        }
    }

    #[test]
    fn one_active_token_rule() {
        let mut a = auth(false, true);
        let first = a.token(&form("id", "secret")).body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let second = a.token(&form("id", "secret")).body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(first, second);
        assert_eq!(a.issued_tokens(), [first.clone(), second.clone()]);
        assert_eq!(
            a.check(Some(&format!("Bearer {first}"))),
            Err(Refusal::Unknown)
        );
        assert!(a.check(Some(&format!("Bearer {second}"))).is_ok());

        let mut many = auth(false, false);
        let first = many.token(&form("id", "secret")).body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        many.token(&form("id", "secret"));
        assert!(many.check(Some(&format!("Bearer {first}"))).is_ok());
    }

    #[test]
    fn expiry() {
        let mut a = Auth::new(
            "id",
            "s",
            Duration::from_millis(30),
            false,
            false,
            true,
            String::new(),
            1,
        );
        let t = a.token(&form("id", "s")).body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(a.check(Some(&format!("Bearer {t}"))).is_ok());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(a.check(Some(&format!("Bearer {t}"))), Err(Refusal::Expired));
    }
}
