//! An MCP server (`threecx mcp`) that lets AI agents find, describe and call 3CX actions,
//! served over stdio with [rmcp](https://crates.io/crates/rmcp), the official Rust MCP SDK.
//!
//! Tools:
//!
//! | tool | arguments | answer |
//! |---|---|---|
//! | `list_actions` | `resource?`, `q?` (words to match in names), `limit?` (default 100) | `{count, total, truncated, actions: [...]}` |
//! | `describe_action` | `resource`, `action` | names, flags, input/output JSON Schemas, example input |
//! | `call_action` | `resource`, `action`, `input?` (default `{}`), `confirm?` | `{"result": <output>}` |
//!
//! With [`McpOptions::resources`], every action of those resources is also a tool of its own,
//! named `<resource>__<action>` in snake case (`users__list_user`,
//! `purge_settings__purge_chats`; names longer than 64 characters are cut and end in a short
//! hash), whose input schema is the action's own, plus `confirm` for destructive actions.
//!
//! Date-time inputs take relative times (`now-90d`); a purge with a count rule answers
//! `{"result": ..., "preview": {...}}` (what it removed, counted just before), and destructive
//! calls sent are recorded in the audit log, if one is set ([`McpServer::audit_log`]).
//!
//! Destructive actions run only with `confirm: true`; without it the tool answers an error
//! (`not_confirmed`) and nothing is sent. Every failure is a tool error (`isError: true`) whose
//! structured content is `{"error": {...}}` as the HTTP gateway answers it (see
//! [`crate::catalog::error_json`]), so the agent sees what to fix. The PBX's credentials are never
//! part of any answer.
//!
//! stdout carries the protocol: logs must go to stderr.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use threecx_core::{Client, Error, Method, Response};
use threecx_registry::{relative_time, schema_view, ActionRef, ActionSummary, Operation, Registry};

use crate::audit::{AuditContext, AuditLog};
use crate::{catalog, preview, ServeError};

/// What the MCP server offers beyond its three generic tools.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// Resources (any spelling) whose every action becomes a tool of its own; `None`: only
    /// `list_actions`, `describe_action` and `call_action`.
    pub resources: Option<Vec<String>>,
}

/// Most catalogue entries `list_actions` answers unless asked for more.
pub const DEFAULT_LIST_LIMIT: usize = 100;
/// Longest tool name (the limit of common agent APIs).
pub const MAX_TOOL_NAME: usize = 64;
/// Largest text download included in a tool answer (bigger or binary files: size only).
pub const MAX_INLINE_DOWNLOAD: usize = 256 * 1024;

const INSTRUCTIONS: &str = "Tools for a 3CX phone system (its Configuration API). Find an \
action with list_actions (filter by resource, search with q), read its input schema with \
describe_action, then run it with call_action. Inputs are one JSON object: path keys and \
function parameters by name (e.g. {\"Number\": \"100\"}), OData options as $top, $filter, \
$select..., an entity under \"body\". Keep answers small with $top and $select. Destructive \
actions (purge, delete, restart, restore...) run only with confirm: true: ask the user first.";

/// The MCP server: an rmcp [`ServerHandler`] over the action registry. Serve it on any rmcp
/// transport (`server.serve(transport)` from [`rmcp::ServiceExt`]), or use [`serve_stdio`].
#[derive(Clone)]
pub struct McpServer {
    client: Client,
    registry: &'static Registry,
    tools: Arc<Vec<Tool>>,
    /// Per-action tool name → its operation.
    per_action: Arc<HashMap<String, &'static dyn Operation>>,
    audit: Option<AuditLog>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("pbx", &self.client.config().base_url())
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// A server for `client` over [`threecx_ops::registry()`]; fails on an unknown resource
    /// name in `options` (with suggestions).
    pub fn new(client: Client, options: McpOptions) -> Result<McpServer, Error> {
        McpServer::with_registry(client, options, threecx_ops::registry())
    }

    /// A server over another registry.
    pub fn with_registry(
        client: Client,
        options: McpOptions,
        registry: &'static Registry,
    ) -> Result<McpServer, Error> {
        let mut tools = generic_tools();
        let mut per_action = HashMap::new();
        for name in options.resources.iter().flatten() {
            let resource = registry.find_resource(name)?;
            for op in resource.actions() {
                let tool = action_tool(registry, *op);
                if per_action.insert(tool.name.to_string(), *op).is_none() {
                    tools.push(tool);
                }
            }
        }
        Ok(McpServer {
            client,
            registry,
            tools: Arc::new(tools),
            per_action: Arc::new(per_action),
            audit: None,
        })
    }

    /// Record every destructive call sent in `log` (see [`crate::audit`]).
    pub fn audit_log(mut self, log: AuditLog) -> Self {
        self.audit = Some(log);
        self
    }

    /// Every tool this server offers.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    async fn run_tool(&self, name: &str, args: JsonObject) -> Result<CallToolResult, McpError> {
        let outcome = match name {
            "list_actions" => self.list_actions(args),
            "describe_action" => self.describe_action(args),
            "call_action" => self.call_action(args).await,
            other => match self.per_action.get(other) {
                Some(op) => self.call_per_action(*op, args).await,
                None => {
                    return Err(McpError::invalid_params(
                        format!("unknown tool {other:?}; see tools/list"),
                        None,
                    ))
                }
            },
        };
        Ok(match outcome {
            Ok(value) => CallToolResult::structured(value),
            Err(e) => CallToolResult::structured_error(catalog::error_json(&e)),
        })
    }

    fn list_actions(&self, args: JsonObject) -> Result<Value, Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Args {
            resource: Option<String>,
            q: Option<String>,
            limit: Option<usize>,
        }
        let args: Args = parse_args(args)?;
        let ops = catalog::search(self.registry, args.resource.as_deref(), args.q.as_deref())?;
        let limit = args.limit.unwrap_or(DEFAULT_LIST_LIMIT).max(1);
        let actions: Vec<ActionSummary> = ops
            .iter()
            .take(limit)
            .map(|op| ActionSummary::of(*op))
            .collect();
        Ok(json!({
            "count": actions.len(),
            "total": ops.len(),
            "truncated": ops.len() > limit,
            "actions": actions,
        }))
    }

    fn describe_action(&self, args: JsonObject) -> Result<Value, Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Args {
            resource: String,
            action: String,
        }
        let args: Args = parse_args(args)?;
        let op = self.registry.find(&args.resource, &args.action)?;
        Ok(serde_json::to_value(self.registry.describe(op)).unwrap_or_default())
    }

    async fn call_action(&self, args: JsonObject) -> Result<Value, Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Args {
            resource: String,
            action: String,
            #[serde(default)]
            input: Option<Value>,
            #[serde(default)]
            confirm: bool,
        }
        let args: Args = parse_args(args)?;
        let input = match args.input {
            None | Some(Value::Null) => json!({}),
            Some(v) => v,
        };
        let action = self.registry.action(&args.resource, &args.action)?;
        self.send(action, input, args.confirm).await
    }

    /// Resolves relative times, validates, and sends (previewed and audited when destructive):
    /// `{"result": ..., "preview": ...}`.
    async fn send(
        &self,
        action: ActionRef<'_>,
        mut input: Value,
        confirm: bool,
    ) -> Result<Value, Error> {
        action.resolve_relative_times(&mut input, relative_time::now());
        let call = action.prepare(input)?.confirm(confirm);
        let who = AuditContext {
            front_end: "mcp",
            api_key: None,
        };
        let (result, preview) =
            preview::send_previewed(self.registry, &self.client, call, self.audit.as_ref(), &who)
                .await;
        let mut answer = result_json(result?);
        if let Some(p) = preview {
            answer["preview"] = json!(p);
        }
        Ok(answer)
    }

    async fn call_per_action(
        &self,
        op: &'static dyn Operation,
        mut args: JsonObject,
    ) -> Result<Value, Error> {
        let action = self.registry.action_of(op);
        let confirm = if takes_confirm(action) {
            match args.remove("confirm") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => b,
                Some(_) => return Err(Error::invalid("/confirm", "true or false")),
            }
        } else {
            false
        };
        self.send(action, Value::Object(args), confirm).await
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("threecx", env!("CARGO_PKG_VERSION"))
                    .with_title("3CX Configuration API"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.unwrap_or_default();
        tracing::info!(tool = %request.name, "mcp tool call");
        self.run_tool(&request.name, args).await.map(Into::into)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }
}

/// Serves the MCP server on stdin/stdout until the client disconnects (for `threecx mcp`).
pub async fn serve_stdio(client: Client, options: McpOptions) -> Result<(), ServeError> {
    let server = McpServer::new(client, options)?;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| ServeError::Mcp(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| ServeError::Mcp(e.to_string()))?;
    Ok(())
}

/// The per-action tool name of `op`: `users__list_user`.
pub fn tool_name(op: &dyn Operation) -> String {
    let meta = op.meta();
    let name = format!(
        "{}__{}",
        snake(meta.resource_display),
        snake(meta.action_display)
    );
    if name.len() <= MAX_TOOL_NAME {
        return name;
    }
    // Deterministic and unique enough: a prefix and an FNV-1a hash of the whole name.
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let keep = MAX_TOOL_NAME - 9;
    format!("{}_{hash:08x}", name[..keep].trim_end_matches('_'))
}

fn snake(display: &str) -> String {
    display
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// Whether the per-action tool of `op` has a `confirm` argument of its own (destructive
/// actions whose input has no `confirm` property).
fn takes_confirm(action: ActionRef<'_>) -> bool {
    let schema = action.input_schema();
    action.meta().destructive && schema_view::property_schema(&schema, &schema, "confirm").is_none()
}

fn action_tool(registry: &Registry, op: &'static dyn Operation) -> Tool {
    let action = registry.action_of(op);
    let meta = op.meta();
    let mut schema = match action.input_schema().into_owned() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".into()));
    if takes_confirm(action) {
        let props = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(props) = props {
            props.insert(
                "confirm".into(),
                json!({
                    "type": "boolean",
                    "default": false,
                    "description": "This action is destructive: it runs only with true. Ask the user first.",
                }),
            );
        }
    }
    let mut description = format!(
        "{} / {}: {}",
        meta.resource_display, meta.action_display, meta.description
    );
    if meta.destructive {
        description.push_str(" DESTRUCTIVE: needs confirm: true.");
    }
    Tool::new(tool_name(op), description, schema).with_annotations(annotations(op))
}

fn annotations(op: &dyn Operation) -> ToolAnnotations {
    let meta = op.meta();
    let read_only = op.template().is_some_and(|t| t.method == Method::Get);
    let mut a = ToolAnnotations::with_title(format!(
        "{} / {}",
        meta.resource_display, meta.action_display
    ))
    .read_only(read_only)
    .idempotent(meta.idempotent);
    if !read_only {
        a = a.destructive(meta.destructive);
    }
    a
}

fn generic_tools() -> Vec<Tool> {
    let object = |v: Value| match v {
        Value::Object(map) => map,
        _ => unreachable!("literal objects"),
    };
    vec![
        Tool::new(
            "list_actions",
            "Lists the 3CX actions (601 of them in 132 resources): names, whether destructive, \
             the PBX request. Filter with resource (e.g. \"Users\") and/or q (words of the \
             resource or action name, e.g. \"purge chats\").",
            object(json!({
                "type": "object",
                "properties": {
                    "resource": {"type": "string", "description": "Only this resource's actions (any spelling: \"Purge Settings\", \"PurgeSettings\")."},
                    "q": {"type": "string", "description": "Words that must all appear in the resource or action name."},
                    "limit": {"type": "integer", "minimum": 1, "default": DEFAULT_LIST_LIMIT, "description": "Most entries to answer."},
                },
                "additionalProperties": false,
            })),
        )
        .with_annotations(
            ToolAnnotations::with_title("List 3CX actions")
                .read_only(true)
                .idempotent(true),
        ),
        Tool::new(
            "describe_action",
            "Describes one 3CX action: its input JSON Schema (what call_action's input must \
             be), output schema, an example input, and whether it is destructive.",
            object(json!({
                "type": "object",
                "properties": {
                    "resource": {"type": "string", "description": "Resource name, e.g. \"Users\"."},
                    "action": {"type": "string", "description": "Action name, e.g. \"Get User By Number\"."},
                },
                "required": ["resource", "action"],
                "additionalProperties": false,
            })),
        )
        .with_annotations(
            ToolAnnotations::with_title("Describe a 3CX action")
                .read_only(true)
                .idempotent(true),
        ),
        Tool::new(
            "call_action",
            "Calls a 3CX action by resource and action name with one JSON input (validated \
             before anything is sent). Destructive actions (purge, delete, restart, \
             restore...) run only with confirm: true; ask the user before confirming.",
            object(json!({
                "type": "object",
                "properties": {
                    "resource": {"type": "string", "description": "Resource name, e.g. \"Purge Settings\"."},
                    "action": {"type": "string", "description": "Action name, e.g. \"Purge Chats\"."},
                    "input": {"type": "object", "default": {}, "description": "The action's input (see describe_action), e.g. {\"Number\": \"100\"} or {\"$top\": 10, \"$select\": \"Id,Number\"}."},
                    "confirm": {"type": "boolean", "default": false, "description": "Must be true for destructive actions."},
                },
                "required": ["resource", "action"],
                "additionalProperties": false,
            })),
        )
        .with_annotations(
            ToolAnnotations::with_title("Call a 3CX action")
                .read_only(false)
                .destructive(true),
        ),
    ]
}

fn parse_args<T: serde::de::DeserializeOwned>(args: JsonObject) -> Result<T, Error> {
    serde_json::from_value(Value::Object(args)).map_err(|e| Error::InvalidInput {
        pointer: String::new(),
        expected: format!("the tool's arguments as its input schema says ({e})"),
        example: None,
    })
}

/// `{"result": <output>}`; a text download within [`MAX_INLINE_DOWNLOAD`] also under `text`.
fn result_json(out: Response) -> Value {
    match &out {
        Response::Download(d) => {
            let mut value = json!({"result": out.to_json()});
            let textual = d.content_type.starts_with("text/")
                || d.content_type.contains("json")
                || d.content_type.contains("csv")
                || d.content_type.contains("xml");
            if textual && d.bytes.len() <= MAX_INLINE_DOWNLOAD {
                if let Ok(text) = std::str::from_utf8(&d.bytes) {
                    value["text"] = Value::String(text.to_owned());
                }
            }
            value
        }
        _ => json!({"result": out.into_json()}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_snake_case_and_short() {
        let registry = threecx_ops::registry();
        let op = registry.find("Users", "List User").unwrap();
        assert_eq!(tool_name(op), "users__list_user");
        let op = registry.find("Purge Settings", "Purge Chats").unwrap();
        assert_eq!(tool_name(op), "purge_settings__purge_chats");
        let mut seen = std::collections::HashSet::new();
        for op in registry.actions() {
            let name = tool_name(*op);
            assert!(name.len() <= MAX_TOOL_NAME, "{name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert!(seen.insert(name.clone()), "duplicate {name}");
        }
    }
}
