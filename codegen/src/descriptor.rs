//! An action's descriptor (names, flags, request template, schema texts) as owned data: the one
//! mapping from a `schemas/` action to what the registry runs. The generate stage prints it as a
//! `static HttpAction`; a spec imported at run time leaks it into one. Both go through
//! [`Descriptor::new`], so the compiled-in and the run-time registries cannot disagree.

use serde::{Deserialize, Serialize};
use threecx_core::{Literal, Location, Method, Param, RequestTemplate, ResponseKind};
use threecx_registry::{ActionKind, ActionMeta, HttpAction};

use crate::generate::schemas::{canonical_compact, Action, Parameter, Resource};
use crate::generate::Error;

/// One action, ready to become an [`HttpAction`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    pub resource: String,
    pub action: String,
    pub resource_display: String,
    pub action_display: String,
    pub description: String,
    pub kind: ActionKind,
    pub destructive: bool,
    pub idempotent: bool,
    pub method: Method,
    pub path: String,
    pub params: Vec<ParamDescriptor>,
    pub response: ResponseKind,
    pub retry_safe: bool,
    /// Compact JSON, object keys sorted.
    pub input_schema: String,
    /// Compact JSON, object keys sorted.
    pub output_schema: String,
}

/// One parameter of the request template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamDescriptor {
    pub name: String,
    pub location: Location,
    pub literal: Literal,
    pub required: bool,
}

impl Descriptor {
    /// The descriptor of `action` of `resource`, as read from `schemas/`.
    pub fn new(resource: &Resource, action: &Action) -> Result<Descriptor, Error> {
        let params = action
            .parameters
            .iter()
            .map(|p| {
                Ok(ParamDescriptor {
                    name: p.name.clone(),
                    location: location(&p.location)?,
                    literal: literal(p)?,
                    required: p.required,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Descriptor {
            resource: resource.name.clone(),
            action: action.name.clone(),
            resource_display: resource.display_name.clone(),
            action_display: action.display_name.clone(),
            description: action.description.clone(),
            kind: action_kind(&action.kind)?,
            destructive: action.destructive,
            idempotent: action.idempotent,
            method: method(&action.method)?,
            path: action.path.clone(),
            params,
            response: response_kind(&action.output.kind)?,
            retry_safe: action.retry_safe,
            input_schema: canonical_compact(&action.input_schema),
            output_schema: canonical_compact(&action.output.schema),
        })
    }

    /// The descriptor of a compiled-in action (to compare it with an imported one).
    pub fn of(action: &HttpAction) -> Descriptor {
        let (meta, template) = (&action.meta, &action.template);
        Descriptor {
            resource: meta.resource.to_owned(),
            action: meta.action.to_owned(),
            resource_display: meta.resource_display.to_owned(),
            action_display: meta.action_display.to_owned(),
            description: meta.description.to_owned(),
            kind: meta.kind,
            destructive: meta.destructive,
            idempotent: meta.idempotent,
            method: template.method,
            path: template.path.to_owned(),
            params: template
                .params
                .iter()
                .map(|p| ParamDescriptor {
                    name: p.name.to_owned(),
                    location: p.location,
                    literal: p.literal,
                    required: p.required,
                })
                .collect(),
            response: template.response,
            retry_safe: template.retry_safe,
            input_schema: action.input_schema.to_owned(),
            output_schema: action.output_schema.to_owned(),
        }
    }

    /// A `'static` action made from this descriptor. Its strings are leaked on purpose: the
    /// registry hands out `&'static dyn Operation`, and a process loads one spec per PBX version
    /// (callers cache by spec hash), so the memory is bounded and lives as long as the process.
    pub fn leak(self) -> &'static HttpAction {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let params: Vec<Param> = self
            .params
            .into_iter()
            .map(|p| Param {
                name: leak(p.name),
                location: p.location,
                literal: p.literal,
                required: p.required,
            })
            .collect();
        Box::leak(Box::new(HttpAction {
            meta: ActionMeta {
                resource: leak(self.resource),
                action: leak(self.action),
                resource_display: leak(self.resource_display),
                action_display: leak(self.action_display),
                description: leak(self.description),
                kind: self.kind,
                destructive: self.destructive,
                idempotent: self.idempotent,
            },
            template: RequestTemplate {
                method: self.method,
                path: leak(self.path),
                params: Box::leak(params.into_boxed_slice()),
                response: self.response,
                retry_safe: self.retry_safe,
            },
            input_schema: leak(self.input_schema),
            output_schema: leak(self.output_schema),
        }))
    }
}

/// Every action of a schema set, in resource then action order.
pub fn descriptors(resources: &[Resource]) -> Result<Vec<Descriptor>, Error> {
    let mut out = Vec::new();
    for resource in resources {
        for action in &resource.actions {
            out.push(
                Descriptor::new(resource, action)
                    .map_err(|e| e.context(format!("{}/{}", resource.name, action.name)))?,
            );
        }
    }
    Ok(out)
}

fn action_kind(kind: &str) -> Result<ActionKind, Error> {
    Ok(match kind {
        "list" => ActionKind::List,
        "get" => ActionKind::Get,
        "create" => ActionKind::Create,
        "update" => ActionKind::Update,
        "delete" => ActionKind::Delete,
        "function" => ActionKind::Function,
        "action" => ActionKind::Action,
        "function_import" => ActionKind::FunctionImport,
        "action_import" => ActionKind::ActionImport,
        other => return Err(Error::new(format!("unknown action kind `{other}`"))),
    })
}

fn method(m: &str) -> Result<Method, Error> {
    Ok(match m {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        other => return Err(Error::new(format!("unknown HTTP method `{other}`"))),
    })
}

fn location(l: &str) -> Result<Location, Error> {
    Ok(match l {
        "path" => Location::Path,
        "query" => Location::Query,
        "header" => Location::Header,
        "body" => Location::Body,
        "entity" => Location::Entity,
        other => return Err(Error::new(format!("unknown parameter location `{other}`"))),
    })
}

/// Path parameters say how they are written; every other parameter is bare.
fn literal(p: &Parameter) -> Result<Literal, Error> {
    if p.location != "path" {
        return Ok(Literal::Bare);
    }
    match p.literal.as_deref() {
        Some("quoted") => Ok(Literal::Quoted),
        Some("bare") => Ok(Literal::Bare),
        other => Err(Error::new(format!(
            "path parameter {}: literal must be `quoted` or `bare`, not {other:?}",
            p.name
        ))),
    }
}

fn response_kind(k: &str) -> Result<ResponseKind, Error> {
    Ok(match k {
        "json" => ResponseKind::Json,
        "collection" => ResponseKind::Collection,
        "empty" => ResponseKind::Empty,
        "download" => ResponseKind::Download,
        other => return Err(Error::new(format!("unknown output kind `{other}`"))),
    })
}
