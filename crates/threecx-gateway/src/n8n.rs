//! The description an n8n node is built from (`threecx export n8n`): resources, their
//! operations, and each operation's properties, in n8n's own `INodeProperties` vocabulary, for
//! every action of the registry.
//!
//! ```text
//! {
//!   "generator":  {"name": "threecx", "version", "threecx_version", "spec_sha256", "notes"},
//!   "node":       {"displayName": "3CX", "name": "threeCx", ...},          // node basics
//!   "counts":     {"resources": 132, "operations": 601},
//!   "resources":  [{"name": "Purge Settings", "value": "PurgeSettings"}, ...],
//!   "operations": {"PurgeSettings": [{"name": "Purge Chats", "value": "PurgeChats",
//!                                     "description": "...", "action": "Purge Chats"}, ...]},
//!   "properties": [ <the node's `properties` array: the Resource selector, one Operation
//!                   selector per resource, then each operation's fields> ],
//!   "actions":    {"PurgeSettings": {"PurgeChats": {"destructive": true, "method": "POST",
//!                                     "path": "/PurgeChats", "returns": "empty", ...}}}
//! }
//! ```
//!
//! Field properties: `displayName` (the input key in words: `period` → "Period",
//! `periodFrom` → "Period From"), `name` (**the input key itself**, so a node builds the
//! by-name input as `{name: value}`), `type` (`string`, `number`, `boolean`, `options` for
//! enums, `json` for objects, arrays and anything nested), `required`, `default`, `options`,
//! `description`, and `displayOptions.show = {resource: [<Resource>], operation: [<Action>]}`.
//! The OData query options (`$top`, `$skip`, `$filter`, `$select`, `$expand`, `$orderby`,
//! `$count`, `$search`) are grouped in one `collection` named `queryOptions` ("Query Options"),
//! whose entries are again named by input key.
//!
//! Building the input of a call from the node's parameters: every field that is required or
//! differs from its default goes in under its name (`json` fields parsed from their text), and
//! every entry of `queryOptions` too; then call the gateway's `POST /v1/actions/<Resource>/<Action>`
//! with `{"input": ..., "confirm": true}` (an n8n workflow runs unattended: whoever builds it has
//! chosen the operation; `actions.<R>.<A>.destructive` tells which ones to flag in the UI).

use serde_json::{json, Map, Value};
use threecx_registry::names::display_name;
use threecx_registry::{Operation, Registry};

use crate::catalog;

/// Name of the collection holding the OData query options.
pub const QUERY_OPTIONS: &str = "queryOptions";

/// Property names of the node itself, which no field may take.
pub const RESERVED_NAMES: [&str; 3] = ["resource", "operation", QUERY_OPTIONS];

/// The n8n description of every action of `registry` (see the module documentation).
pub fn export(registry: &Registry) -> Value {
    let mut resources = Vec::new();
    let mut operations = Map::new();
    let mut actions = Map::new();
    let mut properties = Vec::new();
    let mut field_properties = Vec::new();
    let mut count = 0usize;

    for resource in registry.resources() {
        resources.push(json!({
            "name": resource.display_name(),
            "value": resource.name(),
        }));
        let mut options = Vec::new();
        let mut details = Map::new();
        for op in resource.actions() {
            count += 1;
            let meta = op.meta();
            let mut description = meta.description.to_owned();
            if meta.destructive {
                description.push_str(" Destructive.");
            }
            options.push(json!({
                "name": meta.action_display,
                "value": meta.action,
                "description": description,
                "action": meta.action_display,
            }));
            details.insert(
                meta.action.to_owned(),
                json!({
                    "destructive": meta.destructive,
                    "idempotent": meta.idempotent,
                    "kind": meta.kind.as_str(),
                    "method": op.template().map(|t| t.method.as_str()),
                    "path": op.template().map(|t| t.path),
                    "returns": catalog::returns(*op),
                    "pageable": catalog::pageable(*op),
                }),
            );
            field_properties.extend(fields(registry, *op));
        }
        let default_op = options
            .first()
            .map(|o| o["value"].clone())
            .unwrap_or(Value::Null);
        operations.insert(resource.name().to_owned(), Value::Array(options.clone()));
        properties.push(json!({
            "displayName": "Operation",
            "name": "operation",
            "type": "options",
            "noDataExpression": true,
            "displayOptions": {"show": {"resource": [resource.name()]}},
            "options": options,
            "default": default_op,
        }));

        actions.insert(resource.name().to_owned(), Value::Object(details));
    }

    let default_resource = resources
        .first()
        .map(|r| r["value"].clone())
        .unwrap_or(Value::Null);
    let mut all = vec![json!({
        "displayName": "Resource",
        "name": "resource",
        "type": "options",
        "noDataExpression": true,
        "options": resources,
        "default": default_resource,
    })];
    all.extend(properties);
    all.extend(field_properties);

    json!({
        "generator": {
            "name": "threecx",
            "version": env!("CARGO_PKG_VERSION"),
            "threecx_version": threecx_ops::THREECX_VERSION,
            "spec_sha256": threecx_ops::SPEC_SHA256,
            "notes": "Field names are the input keys of the by-name call. Send a field when it is \
                required or differs from its default (json fields parsed from their text), plus \
                every entry of queryOptions; call POST /v1/actions/<resource>/<operation> of \
                `threecx serve` with {\"input\": ..., \"confirm\": true}.",
        },
        "node": {
            "displayName": "3CX",
            "name": "threeCx",
            "group": ["transform"],
            "version": 1,
            "subtitle": "={{$parameter[\"operation\"] + \": \" + $parameter[\"resource\"]}}",
            "description": "Call any action of the 3CX Configuration API (XAPI)",
            "defaults": {"name": "3CX"},
            "inputs": ["main"],
            "outputs": ["main"],
        },
        "counts": {"resources": registry.resources().len(), "operations": count},
        "resources": all[0]["options"].clone(),
        "operations": operations,
        "properties": all,
        "actions": actions,
    })
}

/// The field properties of one operation: its non-OData input keys (required first, then in
/// name order), then the Query Options collection when it has any.
fn fields(registry: &Registry, op: &dyn Operation) -> Vec<Value> {
    let meta = op.meta();
    let schema = registry.input_schema(op);
    let root = &schema;
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    let show = json!({"show": {"resource": [meta.resource], "operation": [meta.action]}});
    let mut keys: Vec<&String> = props.keys().collect();
    keys.sort_by_key(|k| (!required.contains(&k.as_str()), k.to_ascii_lowercase()));

    let mut out = Vec::new();
    let mut query = Vec::new();
    for key in keys {
        let is_required = required.contains(&key.as_str());
        let mut prop = field(key, &props[key], root, is_required);
        if key.starts_with('$') {
            query.push(prop);
            continue;
        }
        let map = prop.as_object_mut().expect("fields are objects");
        map.insert("required".into(), Value::Bool(is_required));
        map.insert("displayOptions".into(), show.clone());
        out.push(prop);
    }
    if !query.is_empty() {
        out.push(json!({
            "displayName": "Query Options",
            "name": QUERY_OPTIONS,
            "type": "collection",
            "placeholder": "Add Option",
            "default": {},
            "displayOptions": show,
            "options": query,
        }));
    }
    out
}

/// One n8n property for input key `key` with JSON Schema `schema`.
fn field(key: &str, schema: &Value, root: &Value, required: bool) -> Value {
    let resolved = resolve(schema, root);
    let mut prop = Map::new();
    prop.insert("displayName".into(), json!(field_display_name(key)));
    prop.insert("name".into(), json!(key));
    let description = schema
        .get("description")
        .or_else(|| resolved.get("description"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| query_option_description(key).map(str::to_owned));

    let (kind, default) = match n8n_type(resolved, root) {
        Kind::Options(values) => {
            let mut options: Vec<Value> = values
                .iter()
                .map(|v| json!({"name": v, "value": v}))
                .collect();
            let default = if required {
                values.first().cloned().unwrap_or_default()
            } else {
                options.insert(0, json!({"name": "(Not Set)", "value": ""}));
                String::new()
            };
            prop.insert("options".into(), Value::Array(options));
            ("options", json!(default))
        }
        Kind::String(format) => {
            if format.as_deref() == Some("date-time") {
                prop.insert("placeholder".into(), json!("2024-01-01T00:00:00Z"));
            }
            ("string", json!(""))
        }
        Kind::Integer => {
            prop.insert("typeOptions".into(), json!({"numberPrecision": 0}));
            ("number", json!(0))
        }
        Kind::Number => ("number", json!(0)),
        Kind::Boolean => ("boolean", json!(false)),
        Kind::JsonArray => ("json", json!("[]")),
        Kind::Json => ("json", json!("{}")),
    };
    prop.insert("type".into(), json!(kind));
    prop.insert("default".into(), default);
    if let Some(d) = description {
        prop.insert("description".into(), json!(d));
    }
    Value::Object(prop)
}

enum Kind {
    Options(Vec<String>),
    String(Option<String>),
    Integer,
    Number,
    Boolean,
    JsonArray,
    Json,
}

fn n8n_type(schema: &Value, root: &Value) -> Kind {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let strings: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if !strings.is_empty() {
            return Kind::Options(strings);
        }
    }
    if let Some(branches) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        let branches: Vec<&Value> = branches
            .iter()
            .map(|b| resolve(b, root))
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if let [only] = branches.as_slice() {
            return n8n_type(only, root);
        }
        // `$select`-like: a list or a comma-separated string; the string is simplest.
        if let Some(string) = branches
            .iter()
            .find(|b| b.get("type").and_then(Value::as_str) == Some("string"))
        {
            return n8n_type(string, root);
        }
        return Kind::Json;
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    };
    match ty {
        Some("string") => Kind::String(
            schema
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("array") => Kind::JsonArray,
        _ => Kind::Json,
    }
}

/// Follows local `$ref`s (`#/$defs/X`) within the self-contained schema.
fn resolve<'a>(mut schema: &'a Value, root: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

/// `period` → "Period", `periodFrom` → "Period From", `$orderby` → "Order By",
/// `If-Match` → "If Match", `purge_chats_before` → "Purge Chats Before".
pub fn field_display_name(key: &str) -> String {
    match key {
        "$top" => return "Top".into(),
        "$skip" => return "Skip".into(),
        "$filter" => return "Filter".into(),
        "$select" => return "Select".into(),
        "$expand" => return "Expand".into(),
        "$orderby" => return "Order By".into(),
        "$count" => return "Count".into(),
        "$search" => return "Search".into(),
        _ => {}
    }
    display_name(key)
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn query_option_description(key: &str) -> Option<&'static str> {
    Some(match key {
        "$top" => "Most items to return",
        "$skip" => "Items to skip",
        "$filter" => "OData filter, e.g. Number eq '100'",
        "$select" => "Properties to return, comma-separated, e.g. Id,Number",
        "$expand" => "Related entities to include, comma-separated",
        "$orderby" => "Sort order, e.g. Number desc",
        "$count" => "Include the total count (@odata.count)",
        "$search" => "Search text",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_of_fields() {
        assert_eq!(field_display_name("period"), "Period");
        assert_eq!(field_display_name("periodFrom"), "Period From");
        assert_eq!(field_display_name("If-Match"), "If Match");
        assert_eq!(
            field_display_name("purge_chats_before"),
            "Purge Chats Before"
        );
        assert_eq!(field_display_name("$orderby"), "Order By");
        assert_eq!(field_display_name("Id"), "Id");
    }
}
