//! The HTTP action gateway (`threecx serve`): every action of the registry over HTTP, for
//! scripts, automation platforms (n8n's HTTP Request node, Zapier, Make...) and other languages.
//!
//! | route | key | what |
//! |---|---|---|
//! | `GET /healthz` | no | `{"status": "ok", "actions": 601}` |
//! | `GET /openapi.json` | no | OpenAPI 3.1 document of these routes; `?actions=true` adds one operation per action with its input schema |
//! | `GET /v1/resources` | yes | resources with display names and action counts |
//! | `GET /v1/actions` | yes | the catalogue; `?resource=Users` filters (any spelling), `?q=purge chats` searches names |
//! | `GET /v1/actions/{resource}/{action}` | yes | names, flags, input/output JSON Schemas, an example input |
//! | `POST /v1/actions/{resource}/{action}` | yes | calls the action |
//!
//! **The API key** (the gateway's own, not the PBX's) goes in `X-Api-Key: <key>` or
//! `Authorization: Bearer <key>`; it is compared in constant time. The PBX client ID and secret
//! stay in this process: no answer contains them.
//!
//! **A call**: `POST /v1/actions/Purge%20Settings/Purge%20Chats` (names in any spelling:
//! `PurgeSettings/PurgeChats`, `purge-settings/purge-chats`) with the body
//!
//! ```json
//! {"input": {"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}}, "confirm": true}
//! ```
//!
//! `input` is the action's input object (the same as `threecx call --input`; default `{}`),
//! `confirm` must be `true` for destructive actions (default `false`); an empty body is `{}`.
//! The answer is `200 {"result": <output>}`: the PBX's JSON, `null` for no content; a purge
//! with a count rule ([`crate::preview`]) adds `"preview"`, what it removed as counted just
//! before it was sent. Date-time inputs take relative times (`now-90d`, see
//! [`threecx_registry::relative_time`]); destructive calls sent are recorded in the audit log,
//! if one is set ([`GatewayState::audit_log`]). A download
//! (CSV report, backup, recording) is answered with its bytes, its content type and a
//! `Content-Disposition: attachment` naming the file. With `?all=true` a list action streams
//! every item of every page as NDJSON (`application/x-ndjson`, one JSON item per line;
//! `&page_size=N`, default 100); should a later page fail, the stream ends with one line
//! `{"error": {...}}`.
//!
//! **Errors** are `{"error": {"kind": ..., "message": ..., ...}}` (see
//! [`crate::catalog::error_json`]): 400 `invalid_input` (with the JSON `pointer` into the input
//! and what was `expected`; nothing was sent), 401 `unauthorized` (missing or wrong API key),
//! 404 `unknown_name` (with `suggestions`) or `not_found`, 409 `not_confirmed` (a destructive
//! action without `"confirm": true`; nothing was sent), 413 `payload_too_large`, 502
//! `upstream_auth` (the PBX refused the gateway's credentials), `upstream_api` with the PBX's
//! own status when it is a 4xx other than 401/407 (the request's content was refused: not
//! found, invalid, forbidden for the API client's role...) and 502 otherwise, 502 `transport` /
//! `decode`, 504 `timeout`.
//!
//! **Connections** ([`ServeOptions`]): a client must send a complete request head within 10 s
//! of connecting or of its previous answer, or it is closed (slow, dribbling or idle clients
//! hold nothing for long); at most 512 connections are open at once (more wait in the listen
//! backlog); a shutdown (Ctrl-C or SIGTERM with [`serve`]) lets the calls in flight finish for
//! up to 10 s, then closes whatever is left.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use threecx_core::{Client, Error};
use threecx_registry::{relative_time, ActionSummary, PreparedCall, Registry, ResourceSummary};
use tokio::net::TcpListener;

use crate::audit::{self, AuditContext, AuditLog};
use crate::{catalog, openapi, preview, ServeError};
use files::{download_response, stream_download};

mod connections;
mod files;
mod keys;

pub use connections::{
    shutdown_signal, ServeOptions, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SHUTDOWN_GRACE,
};
pub use keys::{MIN_API_KEY_DISTINCT, MIN_API_KEY_LEN};

/// Largest request body accepted by default: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Items per PBX page when streaming with `?all=true`, unless `page_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// What the gateway serves with: the PBX client (its credentials never leave the process), the
/// gateway's own API key, and limits.
#[derive(Clone)]
pub struct GatewayState {
    client: Client,
    /// SHA-256 of the API key: compared in constant time whatever the length of the guess.
    key_digest: [u8; 32],
    max_body_bytes: usize,
    page_size: u32,
    registry: &'static Registry,
    /// Where destructive calls are recorded, if anywhere.
    audit: Option<AuditLog>,
}

impl std::fmt::Debug for GatewayState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayState")
            .field("pbx", &self.client.config().base_url())
            .field("api_key", &"[REDACTED]")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("page_size", &self.page_size)
            .field("actions", &self.registry.len())
            .field("audit_log", &self.audit.as_ref().map(AuditLog::path))
            .finish()
    }
}

impl GatewayState {
    /// A gateway for `client` protected by `api_key` (required and hard to guess: at least
    /// [`MIN_API_KEY_LEN`] characters, [`MIN_API_KEY_DISTINCT`] of them different, not a
    /// sequence such as `abcdef...`; e.g. `openssl rand -hex 32`), serving every action of
    /// [`threecx_ops::registry()`] with a body limit of [`DEFAULT_MAX_BODY_BYTES`].
    pub fn new(client: Client, api_key: impl Into<SecretString>) -> Result<GatewayState, Error> {
        let api_key: SecretString = api_key.into();
        let key = api_key.expose_secret();
        keys::check(key).map_err(|message| Error::Config {
            field: "api_key",
            message,
        })?;
        Ok(GatewayState {
            client,
            key_digest: Sha256::digest(key.as_bytes()).into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            page_size: DEFAULT_PAGE_SIZE,
            registry: threecx_ops::registry(),
            audit: None,
        })
    }

    /// Record every destructive call sent in `log` (see [`crate::audit`]), with the caller's
    /// API key fingerprint.
    pub fn audit_log(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }

    /// Largest request body accepted (larger ones get 413).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Default items per PBX page for `?all=true` (at least 1).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Serve the actions of another registry (e.g. one built with
    /// `Registry::from_operations` holding a subset of actions).
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = registry;
        self
    }

    fn key_matches(&self, given: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        digest.ct_eq(&self.key_digest).into()
    }
}

type Shared = Arc<GatewayState>;

/// The gateway's routes (see the module documentation), ready to be served or nested.
pub fn router(state: GatewayState) -> Router {
    let state: Shared = Arc::new(state);
    let v1 = Router::new()
        .route("/v1/resources", get(list_resources))
        .route("/v1/actions", get(list_actions))
        .route(
            "/v1/actions/{resource}/{action}",
            get(describe_action).post(call_action),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi_document))
        .merge(v1)
        .fallback(not_found)
        .with_state(state)
}

/// Listens on `addr` and serves with the default [`ServeOptions`] until Ctrl-C or SIGTERM (see
/// [`shutdown_signal`]).
pub async fn serve(addr: SocketAddr, state: GatewayState) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    tracing::info!(%local, "threecx gateway listening");
    let stop = shutdown_signal()?;
    serve_listener(listener, state, stop).await
}

/// Serves on an already bound `listener` with the default [`ServeOptions`] until `shutdown`
/// completes (then finishes the requests in flight, for at most the grace period). For
/// embedding and tests: bind `127.0.0.1:0` to get a free port.
pub async fn serve_listener(
    listener: TcpListener,
    state: GatewayState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_listener_with(listener, state, ServeOptions::default(), shutdown).await
}

/// [`serve_listener`] with explicit connection limits and timeouts (see [`ServeOptions`]).
pub async fn serve_listener_with(
    listener: TcpListener,
    state: GatewayState,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    connections::serve(listener, router(state), options, shutdown).await
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn healthz(State(state): State<Shared>) -> Response {
    Json(json!({"status": "ok", "actions": state.registry.len()})).into_response()
}

async fn openapi_document(State(state): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let per_action = query_pairs(q.as_deref())
        .find(|(k, _)| k == "actions")
        .is_some_and(|(_, v)| parse_bool(&v).unwrap_or(false));
    Json(openapi::document(state.registry, per_action)).into_response()
}

async fn list_resources(State(state): State<Shared>) -> Response {
    let resources: Vec<ResourceSummary> = state
        .registry
        .resources()
        .iter()
        .map(ResourceSummary::from)
        .collect();
    Json(json!({"count": resources.len(), "resources": resources})).into_response()
}

async fn list_actions(State(state): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let mut resource = None;
    let mut text = None;
    for (k, v) in query_pairs(q.as_deref()) {
        match &*k {
            "resource" => resource = Some(v.into_owned()),
            "q" => text = Some(v.into_owned()),
            _ => {}
        }
    }
    match catalog::search(state.registry, resource.as_deref(), text.as_deref()) {
        Ok(ops) => {
            let actions: Vec<ActionSummary> = ops.iter().map(|op| ActionSummary::of(*op)).collect();
            Json(json!({"count": actions.len(), "actions": actions})).into_response()
        }
        Err(e) => error_response(&e),
    }
}

async fn describe_action(
    State(state): State<Shared>,
    Path((resource, action)): Path<(String, String)>,
) -> Response {
    let registry = state.registry;
    match registry.find(&resource, &action) {
        Ok(op) => {
            let description = registry.describe(op);
            // How to call it here, beside what every front end says of it.
            let call = json!({
                "method": "POST",
                "path": format!("/v1/actions/{}/{}", description.summary.resource, description.summary.action),
                "body": {
                    "input": description.example_input,
                    "confirm": description.needs_confirmation,
                },
                "all": description.pageable,
            });
            let mut out = serde_json::to_value(description).unwrap_or_default();
            out["call"] = call;
            Json(out).into_response()
        }
        Err(e) => error_response(&e),
    }
}

/// The body of `POST /v1/actions/{resource}/{action}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallBody {
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    confirm: bool,
}

async fn call_action(
    State(state): State<Shared>,
    Path((resource, action)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = state.max_body_bytes;
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if length > limit as u64 {
            return too_large(limit);
        }
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(limit),
        Err(e) => {
            return error_response(&Error::invalid(
                "",
                format!("a readable request body ({e})"),
            ))
        }
    };

    let mut all = false;
    let mut page_size = state.page_size;
    for (k, v) in query_pairs(q.as_deref()) {
        match &*k {
            "all" => match parse_bool(&v) {
                Some(b) => all = b,
                None => return query_error("all", "true or false"),
            },
            "page_size" => match v.parse::<u32>() {
                Ok(n) if n >= 1 => page_size = n,
                _ => return query_error("page_size", "a whole number of at least 1"),
            },
            _ => {}
        }
    }

    let body = match parse_body(&bytes) {
        Ok(b) => b,
        Err(e) => return error_response(&e),
    };
    let mut input = body.input.unwrap_or_else(|| json!({}));
    let prepared = state.registry.action(&resource, &action).and_then(|a| {
        a.resolve_relative_times(&mut input, relative_time::now());
        a.prepare(input)
    });
    let call = match prepared {
        Ok(call) => call.confirm(body.confirm),
        Err(e) => return error_response(&e),
    };
    let client = &state.client;
    tracing::info!(
        resource = call.meta().resource,
        action = call.meta().action,
        all,
        "gateway call"
    );
    if all && call.is_destructive() {
        // Paging would send it once per page: it is sent once (and audited), never paged.
        return query_error(
            "all",
            "false for a destructive action (it is sent once, not per page)",
        );
    }
    if all {
        return stream_all(call, client, page_size).await;
    }
    if call.response_kind() == Some(threecx_core::ResponseKind::Download) {
        return stream_download(call, client)
            .await
            .unwrap_or_else(|e| error_response(&e));
    }
    let who = AuditContext {
        front_end: "gateway",
        api_key: Some(audit::fingerprint_of_digest(&state.key_digest)),
    };
    let (result, preview) =
        preview::send_previewed(state.registry, client, call, state.audit.as_ref(), &who).await;
    match result {
        Ok(threecx_core::Response::Download(d)) => download_response(d),
        Ok(out) => {
            let mut answer = json!({"result": out.into_json()});
            if let Some(p) = preview {
                answer["preview"] = json!(p);
            }
            Json(answer).into_response()
        }
        Err(e) => error_response(&e),
    }
}

fn parse_body(bytes: &[u8]) -> Result<CallBody, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(CallBody {
            input: None,
            confirm: false,
        });
    }
    let expected = |detail: String| Error::InvalidInput {
        pointer: String::new(),
        expected: format!(
            "a JSON body {{\"input\": {{<the action's input>}}, \"confirm\": true|false}} \
             ({detail})"
        ),
        example: Some(r#"{"input": {"Number": "100"}, "confirm": false}"#.into()),
    };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| expected(format!("not JSON: {e}")))?;
    if !value.is_object() {
        return Err(expected("not an object".into()));
    }
    let body: CallBody = serde_json::from_value(value).map_err(|e| {
        expected(format!(
            "{e}; put the action's input under \"input\" and nothing else beside \"confirm\""
        ))
    })?;
    match &body.input {
        None | Some(Value::Object(_)) | Some(Value::Null) => Ok(CallBody {
            input: body.input.filter(|v| !v.is_null()),
            ..body
        }),
        Some(_) => Err(Error::InvalidInput {
            pointer: String::new(),
            expected: "\"input\" to be an object with the action's input properties".into(),
            example: Some("{}".into()),
        }),
    }
}

/// `?all=true`: NDJSON of every item. The first item is awaited before answering, so a failure
/// of the first page (auth, network, the PBX's error) still gets its proper status.
async fn stream_all(call: PreparedCall<'_>, client: &Client, page_size: u32) -> Response {
    let mut items = match call.pages::<Value>(client, page_size) {
        Ok(s) => Box::pin(s),
        Err(e) => return error_response(&e),
    };
    let first = match items.next().await {
        Some(Err(e)) => return error_response(&e),
        other => other,
    };
    let lines = futures_util::stream::iter(first)
        .chain(items)
        .scan(false, |failed, item| {
            if *failed {
                return std::future::ready(None);
            }
            let value = match item {
                Ok(v) => v,
                Err(e) => {
                    *failed = true;
                    catalog::error_json(&e)
                }
            };
            let mut line = serde_json::to_vec(&value).unwrap_or_default();
            line.push(b'\n');
            std::future::ready(Some(Ok::<_, Infallible>(Bytes::from(line))))
        });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        Body::from_stream(lines),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Authentication, errors

async fn require_key(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let given = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, rest) = v.split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
                })
        });
    match given {
        Some(key) if state.key_matches(key) => next.run(request).await,
        given => {
            let message = if given.is_some() {
                "wrong API key"
            } else {
                "missing API key"
            };
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"threecx-gateway\""),
                )],
                Json(json!({"error": {
                    "kind": "unauthorized",
                    "message": format!(
                        "{message}: send the gateway's API key as `X-Api-Key: <key>` or \
                         `Authorization: Bearer <key>`"
                    ),
                }})),
            )
                .into_response()
        }
    }
}

fn error_response(e: &Error) -> Response {
    let status =
        StatusCode::from_u16(catalog::http_status(e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(catalog::error_json(e))).into_response()
}

fn too_large(limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(json!({"error": {
            "kind": "payload_too_large",
            "message": format!("the request body is larger than this gateway's limit of {limit} bytes"),
            "limit": limit,
        }})),
    )
        .into_response()
}

fn query_error(name: &str, expected: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {
            "kind": "invalid_query",
            "message": format!("query parameter `{name}`: expected {expected}"),
            "parameter": name,
        }})),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {
            "kind": "not_found",
            "message": "no such route; the routes are described at GET /openapi.json",
        }})),
    )
        .into_response()
}

fn query_pairs(
    q: Option<&str>,
) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> {
    url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shapes() {
        assert!(parse_body(b"").unwrap().input.is_none());
        let b = parse_body(br#"{"input": {"a": 1}, "confirm": true}"#).unwrap();
        assert!(b.confirm);
        assert_eq!(b.input, Some(json!({"a": 1})));
        assert!(parse_body(br#"{"input": null}"#).unwrap().input.is_none());
        let e = parse_body(br#"{"period": {}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `period`"), "{e}");
        assert!(parse_body(b"[1]").is_err());
        assert!(parse_body(br#"{"input": 5}"#).is_err());
        assert!(parse_body(b"{nope").is_err());
    }

    #[test]
    fn short_keys_are_refused() {
        let client = Client::new(
            threecx_core::Config::builder()
                .base_url("http://127.0.0.1:9")
                .client_id("id")
                .client_secret("secret")
                .build()
                .unwrap(),
        )
        .unwrap();
        assert!(GatewayState::new(client.clone(), "short").is_err());
        let state = GatewayState::new(client, "0123456789abcdef-key").unwrap();
        assert!(state.key_matches("0123456789abcdef-key"));
        assert!(!state.key_matches("0123456789abcdef-kez"));
        assert!(!state.key_matches(""));
        assert!(!format!("{state:?}").contains("0123456789abcdef"));
    }
}
