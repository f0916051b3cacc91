//! What every front end publishes about resources and actions, in one shape: the CLI's
//! `--output json`, the HTTP gateway, the MCP server. The JSON Schemas of these types (from
//! `schemars`) document them in the gateway's OpenAPI document.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use threecx_core::ResponseKind;

use crate::operation::{ActionKind, Operation};
use crate::{Registry, ResourceEntry};

/// One resource: `{"resource": "PurgeSettings", "resource_display": "Purge Settings",
/// "actions": 4}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ResourceSummary {
    /// Canonical name (the spec tag).
    pub resource: &'static str,
    pub resource_display: &'static str,
    /// Number of actions.
    pub actions: usize,
}

impl From<&ResourceEntry> for ResourceSummary {
    fn from(r: &ResourceEntry) -> Self {
        ResourceSummary {
            resource: r.name(),
            resource_display: r.display_name(),
            actions: r.actions().len(),
        }
    }
}

/// What a call answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Returns {
    Json,
    /// An OData collection: can be paged through item by item.
    Collection,
    Empty,
    /// A file.
    Download,
    /// An action composed in Rust of other calls: whatever its output schema says.
    Composed,
}

impl Returns {
    pub fn of(op: &dyn Operation) -> Returns {
        match op.template().map(|t| t.response) {
            Some(ResponseKind::Json) => Returns::Json,
            Some(ResponseKind::Collection) => Returns::Collection,
            Some(ResponseKind::Empty) => Returns::Empty,
            Some(ResponseKind::Download) => Returns::Download,
            None => Returns::Composed,
        }
    }

    /// Whether the answer can be paged through item by item.
    pub fn is_pageable(self) -> bool {
        self == Returns::Collection
    }
}

/// One action's names, flags and the PBX request it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ActionSummary {
    /// Canonical resource name (the spec tag): `PurgeSettings`.
    pub resource: &'static str,
    /// `Purge Settings`.
    pub resource_display: &'static str,
    /// Canonical action name (the operationId): `PurgeChats`.
    pub action: &'static str,
    /// `Purge Chats`.
    pub action_display: &'static str,
    pub description: &'static str,
    pub kind: ActionKind,
    /// Deletes, purges, restarts, restores...: never sent unless confirmed.
    pub destructive: bool,
    /// Sending it twice has the same effect as once.
    pub idempotent: bool,
    /// HTTP method at the PBX; null for composed actions.
    pub method: Option<&'static str>,
    /// Path at the PBX, relative to `/xapi/v1`; null for composed actions.
    pub path: Option<&'static str>,
    pub returns: Returns,
}

impl ActionSummary {
    pub fn of(op: &'static dyn Operation) -> ActionSummary {
        let meta = op.meta();
        let template = op.template();
        ActionSummary {
            resource: meta.resource,
            resource_display: meta.resource_display,
            action: meta.action,
            action_display: meta.action_display,
            description: meta.description,
            kind: meta.kind,
            destructive: meta.destructive,
            idempotent: meta.idempotent,
            method: template.map(|t| t.method.as_str()),
            path: template.map(|t| t.path),
            returns: Returns::of(op),
        }
    }
}

/// Everything about one action: its summary, its self-contained input and output JSON
/// Schemas (2020-12) and an example input.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ActionDescription {
    #[serde(flatten)]
    pub summary: ActionSummary,
    /// Whether the answer can be paged through item by item.
    pub pageable: bool,
    /// Whether a call must be confirmed (destructive actions).
    pub needs_confirmation: bool,
    /// JSON Schema 2020-12 of the input.
    pub input_schema: Value,
    /// JSON Schema 2020-12 of the result.
    pub output_schema: Value,
    pub example_input: Value,
}

impl Registry {
    /// The [`ActionDescription`] of `op`.
    pub fn describe(&self, op: &'static dyn Operation) -> ActionDescription {
        let summary = ActionSummary::of(op);
        ActionDescription {
            pageable: summary.returns.is_pageable(),
            needs_confirmation: summary.destructive,
            summary,
            input_schema: self.input_schema(op),
            output_schema: self.output_schema(op),
            example_input: self.example_input(op),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, COUNTER, LIST_USERS, PURGE_CHATS};
    use serde_json::json;

    #[test]
    fn summaries_serialise_in_the_documented_shape() {
        assert_eq!(
            serde_json::to_value(ActionSummary::of(&PURGE_CHATS)).unwrap(),
            json!({
                "resource": "PurgeSettings", "resource_display": "Purge Settings",
                "action": "PurgeChats", "action_display": "Purge Chats",
                "description": "test action", "kind": "action_import",
                "destructive": true, "idempotent": false,
                "method": "POST", "path": "/PurgeChats", "returns": "empty"
            })
        );
        let composed = serde_json::to_value(ActionSummary::of(&COUNTER)).unwrap();
        assert_eq!(
            (&composed["method"], &composed["returns"]),
            (&Value::Null, &json!("composed"))
        );
        let r = testing::registry();
        let resources: Vec<_> = r.resources().iter().map(ResourceSummary::from).collect();
        assert_eq!(
            serde_json::to_value(&resources[0]).unwrap(),
            json!({"resource": "PurgeSettings", "resource_display": "Purge Settings", "actions": 2})
        );
    }

    #[test]
    fn a_description_is_the_summary_plus_schemas() {
        let r = testing::registry();
        let d = serde_json::to_value(r.describe(&LIST_USERS)).unwrap();
        assert_eq!(d["action"], "ListUser");
        assert_eq!(d["pageable"], true);
        assert_eq!(d["needs_confirmation"], false);
        assert_eq!(d["input_schema"], r.input_schema(&LIST_USERS));
        assert!(d["example_input"].is_object());
    }

    #[test]
    fn the_published_schema_names_every_field() {
        let schema = serde_json::to_value(schemars::schema_for!(ActionDescription)).unwrap();
        let props = schema["properties"].as_object().unwrap();
        for field in [
            "resource",
            "action_display",
            "returns",
            "pageable",
            "input_schema",
        ] {
            assert!(props.contains_key(field), "{field} missing: {schema}");
        }
    }
}
