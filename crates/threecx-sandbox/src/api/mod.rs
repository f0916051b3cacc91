//! Answering `/xapi/v1` requests: find the action, rebuild its by-name input, validate it with
//! the registry, then run the sandbox's behaviour for it (real for the entity store, history,
//! purges and a few functions; schema-generated for the rest).

mod dispatch;
mod dn_actions;
mod entities;
mod generated_answers;
mod history_csv;
mod history_views;
mod input;
mod system_status;

use std::sync::{Mutex, MutexGuard, PoisonError};

use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};
use threecx_registry::{ActionKind, Operation, Registry};

use crate::auth::{Auth, Refusal};
use crate::config::SandboxConfig;
use crate::entity_sets::{shape, Catalog, Shape};
use crate::faults::FaultState;
use crate::gen::{hash, hash_str};
use crate::routes::{RouteError, RouteTable};
use crate::store::Data;
use crate::RequestRecord;

use crate::reply::{Reply, ReplyBody};

/// Everything the server shares between requests.
pub(crate) struct App {
    pub registry: &'static Registry,
    pub routes: &'static RouteTable,
    pub catalog: &'static Catalog,
    pub data: Mutex<Data>,
    pub auth: Mutex<Auth>,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub config: SandboxConfig,
    pub base_url: String,
}

/// Locks a mutex; a panic in another request does not make the state unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

const API_ROOT: &str = "/xapi/v1";
/// Where every 3CX PBX serves its OpenAPI document, under the API root.
const SPEC_PATH: &str = "/swagger.yaml";

/// One request to the API, as received.
pub(crate) struct ApiRequest<'a> {
    pub method: &'a str,
    /// Path as received (percent-encoded), starting with `/xapi/v1`.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

/// A request matched to its action, with its validated input.
struct Call<'a> {
    op: &'static dyn Operation,
    input: &'a Map<String, Value>,
    raw_path: &'a str,
    query: &'a str,
}

impl App {
    /// Answers one API request.
    pub fn api(&self, req: &ApiRequest<'_>) -> Reply {
        match self.answer(req) {
            Ok(reply) | Err(reply) => reply,
        }
    }

    /// The answer to `req`; `Err` is a refusal before any handler ran.
    fn answer(&self, req: &ApiRequest<'_>) -> Result<Reply, Reply> {
        let rest = req
            .path
            .strip_prefix(API_ROOT)
            .ok_or_else(|| Reply::error(404, format!("No resource at {}", req.path)))?;
        if rest == SPEC_PATH && req.method == "GET" {
            return self.spec_document();
        }
        lock(&self.auth)
            .check(req.authorization)
            .map_err(unauthorized)?;
        let path = percent_decode_str(rest)
            .decode_utf8()
            .map_err(|_| Reply::error(400, "The request path is not valid UTF-8"))?
            .into_owned();
        if path.is_empty() || path == "/" {
            return Ok(self.service_document());
        }
        let matched = self
            .routes
            .resolve(req.method, &path)
            .map_err(|e| self.no_route(req, e))?;
        let op = matched.op;
        let input = self.validated_input(matched, req)?;
        let call = Call {
            op,
            input: &input,
            raw_path: req.path,
            query: req.query.unwrap_or(""),
        };
        let mut reply = self.dispatch(&call);
        if let (200..=299, ReplyBody::Json(Value::Object(body)), Some(context)) =
            (reply.status, &mut reply.body, self.context(op))
        {
            body.entry("@odata.context")
                .or_insert(Value::String(context));
        }
        Ok(reply)
    }

    /// The OpenAPI document of the simulated version: the `--spec` document as given, else one
    /// written from the built-in descriptors (JSON, which is YAML too; never the third-party
    /// file they were generated from), made once.
    fn spec_document(&self) -> Result<Reply, Reply> {
        static BUILT_IN: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let bytes = match &self.config.spec {
            Some(spec) => spec.document.to_vec(),
            None => BUILT_IN
                .get_or_init(|| {
                    let document = threecx_registry::openapi_document(
                        threecx_ops::registry(),
                        threecx_ops::THREECX_VERSION,
                    );
                    serde_json::to_vec(&document).unwrap_or_default()
                })
                .clone(),
        };
        Ok(Reply {
            status: 200,
            headers: Vec::new(),
            body: ReplyBody::Bytes {
                content_type: "application/yaml".to_owned(),
                bytes,
            },
        })
    }

    /// Why no action answers `req`, as 3CX (ASP.NET) says it.
    fn no_route(&self, req: &ApiRequest<'_>, error: RouteError) -> Reply {
        match error {
            RouteError::NotFound => Reply::error(
                404,
                format!(
                    "No HTTP resource was found that matches the request URI '{}{}'",
                    self.base_url, req.path
                ),
            ),
            RouteError::MethodNotAllowed => Reply::error(
                405,
                format!(
                    "The requested resource does not support http method '{}'",
                    req.method
                ),
            ),
            RouteError::BadLiteral { message, .. } => Reply::error(
                404,
                format!(
                    "No HTTP resource was found that matches the request URI '{}{}': {message}",
                    self.base_url, req.path
                ),
            ),
        }
    }

    /// `@odata.context` of an entity-set, entity or singleton answer: the metadata URL and what
    /// the answer is (`$metadata#Users`, `$metadata#Users/$entity`, `$metadata#SystemStatus`).
    /// Function and action results go without one (their context names an EDM type the sandbox
    /// does not model).
    fn context(&self, op: &dyn Operation) -> Option<String> {
        let template = op.template().expect("routes only hold templates");
        let what = match (op.meta().kind, shape(template.path)) {
            (
                ActionKind::Get | ActionKind::Create,
                Shape::Keyed(set, _) | Shape::Alternate(set, _),
            ) => {
                format!("{set}/$entity")
            }
            (ActionKind::Create, Shape::Set(set)) => format!("{set}/$entity"),
            (ActionKind::List, Shape::Navigation(set, _, nav)) => format!("{set}/{nav}"),
            (ActionKind::List | ActionKind::Get, Shape::Set(set)) => set.to_owned(),
            _ => return None,
        };
        Some(format!("{}{API_ROOT}/$metadata#{what}", self.base_url))
    }

    fn service_document(&self) -> Reply {
        let sets: Vec<Value> = self
            .catalog
            .sets
            .keys()
            .map(String::as_str)
            .chain(crate::entity_sets::VIRTUAL_SETS.iter().copied())
            .map(|n| json!({"name": n, "kind": "EntitySet", "url": n}))
            .collect();
        Reply::json(
            200,
            json!({
                "@odata.context": format!("{}{API_ROOT}/$metadata", self.base_url),
                "value": sets
            }),
        )
    }

    fn seed_of(&self, op: &dyn Operation) -> u64 {
        hash(&[
            self.config.seed,
            hash_str(op.meta().resource),
            hash_str(op.meta().action),
        ])
    }
}

/// The 401 for a missing or refused token, with the `WWW-Authenticate` challenge.
fn unauthorized(refusal: Refusal) -> Reply {
    Reply::error(401, refusal.message()).header(
        "WWW-Authenticate",
        match refusal {
            Refusal::Missing => "Bearer".to_owned(),
            _ => format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                refusal.message()
            ),
        },
    )
}
