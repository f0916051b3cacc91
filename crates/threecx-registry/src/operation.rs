//! What an action is: static metadata, schemas, and how it runs.

use async_trait::async_trait;
use serde_json::Value;
use threecx_core::{RequestTemplate, Response, Result};

use crate::Context;

/// The shape of an action, as OData sees it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    List,
    Get,
    Create,
    Update,
    Delete,
    /// A bound OData function (GET `/Set/Pbx.Name(...)`).
    Function,
    /// A bound OData action (POST `/Set/Pbx.Name`).
    Action,
    FunctionImport,
    ActionImport,
    /// Not an HTTP call of its own: an action composed in Rust (extensions).
    Custom,
}

impl ActionKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionKind::List => "list",
            ActionKind::Get => "get",
            ActionKind::Create => "create",
            ActionKind::Update => "update",
            ActionKind::Delete => "delete",
            ActionKind::Function => "function",
            ActionKind::Action => "action",
            ActionKind::FunctionImport => "function_import",
            ActionKind::ActionImport => "action_import",
            ActionKind::Custom => "custom",
        }
    }
}

/// Names and flags of an action; `'static` so descriptors can live in statics.
#[derive(Debug, Clone, Copy)]
pub struct ActionMeta {
    /// Canonical resource name (the spec tag): `PurgeSettings`.
    pub resource: &'static str,
    /// Canonical action name (the operationId): `PurgeChats`.
    pub action: &'static str,
    /// `Purge Settings`.
    pub resource_display: &'static str,
    /// `Purge Chats`.
    pub action_display: &'static str,
    pub description: &'static str,
    pub kind: ActionKind,
    /// Deletes, purges, restarts, restores...: never sent without confirmation by the CLI and
    /// gateways.
    pub destructive: bool,
    /// Sending it twice has the same effect as once.
    pub idempotent: bool,
}

impl ActionMeta {
    /// `Purge Settings / Purge Chats`: how messages and prompts name the action.
    pub fn label(&self) -> String {
        format!("{} / {}", self.resource_display, self.action_display)
    }
}

/// One callable action. Generated actions are [`HttpAction`]s; other crates may implement this
/// trait for composed actions and register them with `inventory::submit!`.
#[async_trait]
pub trait Operation: Send + Sync + 'static {
    fn meta(&self) -> &ActionMeta;

    /// JSON Schema of the input object. `$ref`s of the form `#/$defs/<Model>` that the schema
    /// does not define itself are resolved against the registered models.
    fn input_schema(&self) -> Value;

    /// JSON Schema of the output (see `Response::to_json`).
    fn output_schema(&self) -> Value;

    /// The HTTP request template, for actions that are one HTTP call (used by dry runs and
    /// paging). Borrowed from `self`, so a `&'static` operation gives a `&'static` template.
    fn template(&self) -> Option<&RequestTemplate> {
        None
    }

    /// Runs the action with an input that already passed validation.
    async fn invoke(&self, ctx: &Context<'_>, input: Value) -> Result<Response>;
}

impl std::fmt::Debug for dyn Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let meta = self.meta();
        write!(f, "Operation({}/{})", meta.resource, meta.action)
    }
}

/// A generated action: one HTTP request described by static data.
#[derive(Debug)]
pub struct HttpAction {
    pub meta: ActionMeta,
    pub template: RequestTemplate,
    /// Input JSON Schema, as compact JSON text (parsed on demand).
    pub input_schema: &'static str,
    /// Output JSON Schema, as compact JSON text.
    pub output_schema: &'static str,
}

/// What `inventory` collects: one per action.
pub struct Registration(pub &'static dyn Operation);

inventory::collect!(Registration);

/// JSON Schema `$defs` shared by actions (the generated models), as a JSON object text
/// `{"<Model>": {...}, ...}`.
pub struct ModelDefs(pub &'static str);

inventory::collect!(ModelDefs);
