//! The n8n emitter: `schemas/` → `integrations/n8n-nodes-threecx/generated/`, the data the
//! hand-written node runtime is driven by (see that package's README).
//!
//! - `actions.json`: every action with what the runtime needs to build its request exactly as
//!   `threecx_core::RequestTemplate` does (method, path template, parameters with their location
//!   and literal kind), its input JSON Schema (model references point into `models.json`), its
//!   output kind, whether it is destructive, and the node fields it is given.
//! - `models.json`: the models' JSON Schemas, with `$id` [`MODELS_ID`] so that validators can
//!   resolve the actions' references.
//! - `properties.json`: the node's `properties` (n8n `INodeProperties`): the Resource selector,
//!   one Operation selector per resource, then the fields. Fields that are identical across
//!   actions are emitted once with every action in their `displayOptions`, which keeps the
//!   description small.
//!
//! Every file is JSON with sorted keys (so `"@generated"` comes first), two-space indent and a
//! trailing newline.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::schemas::{Action, Resource, Schemas};
use super::{Error, Files};
use crate::names::split_words;

/// First key of every generated n8n file; its value says where the file comes from.
pub const MARKER_KEY: &str = "@generated";
/// The value of [`MARKER_KEY`].
pub const MARKER: &str = "by threecx-codegen from schemas/ — do not edit; run `cargo run -p threecx-codegen -- generate`";
/// The file whose marker proves an output directory is generated (see `emit::write_tree`).
pub const MARKER_FILE: &str = "actions.json";
/// `$id` of `models.json`; the actions' schemas refer to `<MODELS_ID>#/$defs/<Model>`.
pub const MODELS_ID: &str = "threecx-models.json";

/// Input keys of OData query options, and the name of each in the node's `options` collection.
const QUERY_OPTIONS: [(&str, &str, &str); 8] = [
    ("$filter", "filter", "OData filter, e.g. Number eq '100'"),
    (
        "$select",
        "select",
        "Properties to return, comma-separated, e.g. Id,Number",
    ),
    (
        "$expand",
        "expand",
        "Related entities to include, comma-separated, e.g. Groups",
    ),
    ("$orderby", "orderby", "Sort order, e.g. Number desc"),
    ("$search", "search", "Search text"),
    ("$top", "top", "Most items to return"),
    ("$skip", "skip", "Items to skip"),
    ("$count", "count", "Include the total count (@odata.count)"),
];

/// Options that collections handle with `returnAll` / `limit` instead.
const PAGING_OPTIONS: [&str; 3] = ["$top", "$skip", "$count"];

/// Property names of the node itself, which no field may take. `options` is taken only for
/// actions with query options, `returnAll` and `limit` only for paged actions, `confirm` only
/// for destructive ones (n8n allows one name for
/// several properties whose `displayOptions` never show together).
fn reserved(action: &Action) -> Vec<&'static str> {
    let mut names = vec!["resource", "operation"];
    if !query_options(action).is_empty() {
        names.push("options");
    }
    if action.output.kind == "collection" {
        names.extend(["returnAll", "limit"]);
    }
    if action.destructive {
        names.push("confirm");
    }
    names
}

/// Renders the three files.
pub fn render(schemas: &Schemas) -> Result<Files, Error> {
    let mut node = NodeParts::default();
    for resource in &schemas.resources {
        node.add_resource(resource, &schemas.models)?;
    }
    let first_resource = schemas.resources.first().map(|r| r.name.clone());
    let (actions, properties) = node.into_entries_and_properties(first_resource);

    let mut files = Files::new();
    files.insert(
        MARKER_FILE.into(),
        pretty(&with_header(schemas, actions_file(schemas, actions))),
    );
    files.insert(
        "models.json".into(),
        pretty(&with_header(schemas, models_file(schemas))),
    );
    let mut p = Map::new();
    p.insert("properties".into(), Value::Array(properties));
    files.insert("properties.json".into(), pretty(&with_header(schemas, p)));
    Ok(files)
}

/// What the node is built from, gathered resource by resource.
#[derive(Default)]
struct NodeParts {
    /// Action name -> its entry in the marker file.
    actions: Map<String, Value>,
    /// The resource selector's options.
    resources: Vec<Value>,
    /// One operation selector per resource.
    selectors: Vec<Value>,
    fields: FieldTable,
    /// (resource, action) of the actions that list items, and of the destructive ones.
    collections: Vec<(String, String)>,
    destructive: Vec<(String, String)>,
}

impl NodeParts {
    /// One resource: its actions' entries and fields, its option and its operation selector.
    fn add_resource(&mut self, resource: &Resource, models: &Models) -> Result<(), Error> {
        let mut options = Vec::new();
        for action in &resource.actions {
            let node_fields = node_fields(action, models)?;
            let query = query_options(action);
            let paged = action.output.kind == "collection";
            for f in &node_fields {
                self.fields
                    .add(f.property.clone(), &resource.name, &action.name);
            }
            if !query.is_empty() {
                self.fields
                    .add(options_property(&query), &resource.name, &action.name);
            }
            if paged {
                self.collections
                    .push((resource.name.clone(), action.name.clone()));
            }
            if action.destructive {
                self.destructive
                    .push((resource.name.clone(), action.name.clone()));
            }
            options.push(operation_option(action));
            self.actions.insert(
                action.name.clone(),
                action_entry(&resource.name, action, &node_fields, &query, paged),
            );
        }
        self.resources.push(
            json!({"name": resource.display_name, "value": resource.name,
                "description": resource.description}),
        );
        let default = resource.actions.first().map(|a| a.name.clone());
        self.selectors.push(json!({
            "displayName": "Operation",
            "name": "operation",
            "type": "options",
            "noDataExpression": true,
            "displayOptions": {"show": {"resource": [resource.name]}},
            "options": options,
            "default": default,
        }));
        Ok(())
    }

    /// The marker file's action entries, and the node's properties: resource and operation
    /// selectors, confirm, return all and limit, then every field.
    fn into_entries_and_properties(
        self,
        first_resource: Option<String>,
    ) -> (Map<String, Value>, Vec<Value>) {
        let mut properties = vec![json!({
            "displayName": "Resource",
            "name": "resource",
            "type": "options",
            "noDataExpression": true,
            "options": self.resources,
            "default": first_resource,
        })];
        properties.extend(self.selectors);
        properties.push(json!({
            "displayName": "Confirm Destructive Action",
            "name": "confirm",
            "type": "boolean",
            "default": false,
            "description": "Whether to really run this destructive action (purge, delete, restart, \
                restore...). Without it the node fails and sends nothing.",
            "displayOptions": show(&self.destructive),
        }));
        properties.push(json!({
            "displayName": "Return All",
            "name": "returnAll",
            "type": "boolean",
            "default": false,
            "description": "Whether to return all results or only up to a given limit",
            "displayOptions": show(&self.collections),
        }));
        let mut limit_show = show(&self.collections);
        limit_show["show"]["returnAll"] = json!([false]);
        properties.push(json!({
            "displayName": "Limit",
            "name": "limit",
            "type": "number",
            "default": 50,
            "typeOptions": {"minValue": 1},
            "description": "Max number of results to return",
            "displayOptions": limit_show,
        }));
        properties.extend(self.fields.into_properties());
        (self.actions, properties)
    }
}

/// A file's object with the marker and the spec it was generated from.
fn with_header(schemas: &Schemas, mut m: Map<String, Value>) -> Value {
    m.insert(MARKER_KEY.into(), json!(MARKER));
    m.insert("threecx_version".into(), json!(schemas.threecx_version));
    m.insert("spec_sha256".into(), json!(schemas.spec_sha256));
    Value::Object(m)
}

/// The marker file: every resource with its actions' names, and every action's entry.
fn actions_file(schemas: &Schemas, actions: Map<String, Value>) -> Map<String, Value> {
    let mut a = Map::new();
    a.insert(
        "resources".into(),
        Value::Array(
            schemas
                .resources
                .iter()
                .map(|r| {
                    json!({"name": r.name, "display_name": r.display_name,
                        "actions": r.actions.iter().map(|a| a.name.clone()).collect::<Vec<_>>()})
                })
                .collect(),
        ),
    );
    a.insert("actions".into(), Value::Object(actions));
    a
}

/// `models.json`: the models as one JSON Schema document's `$defs`.
fn models_file(schemas: &Schemas) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("$id".into(), json!(MODELS_ID));
    m.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    m.insert(
        "$defs".into(),
        Value::Object(
            schemas
                .models
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    );
    m
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values always serialise");
    s.push('\n');
    s
}

/// `displayOptions` showing a property for these (resource, action) pairs.
fn show(pairs: &[(String, String)]) -> Value {
    let mut resources: Vec<&str> = pairs.iter().map(|(r, _)| r.as_str()).collect();
    resources.dedup();
    let actions: Vec<&str> = pairs.iter().map(|(_, a)| a.as_str()).collect();
    json!({"show": {"resource": resources, "operation": actions}})
}

/// One entry of a resource's Operation selector; destructive ones say so in their name.
fn operation_option(action: &Action) -> Value {
    let (name, description) = if action.destructive {
        (
            format!("{} (Destructive)", action.display_name),
            format!(
                "Destructive: runs only with Confirm Destructive Action on. {}",
                action.description
            ),
        )
    } else {
        (action.display_name.clone(), action.description.clone())
    };
    json!({"name": name, "value": action.name, "description": description,
        "action": action.display_name})
}

/// A node field: one top-level input property that is not an OData query option.
struct NodeField {
    /// The n8n property (without `displayOptions`).
    property: Value,
    /// `string`, `number`, `boolean`, `options` or `json`.
    n8n_type: &'static str,
    required: bool,
}

fn node_fields(action: &Action, models: &Models) -> Result<Vec<NodeField>, Error> {
    let schema = &action.input_schema;
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    // Parameter order: path, query, header, body, entity; required ones first.
    let mut params: Vec<_> = action
        .parameters
        .iter()
        .filter(|p| !p.name.starts_with('$'))
        .collect();
    params.sort_by_key(|p| !required.contains(&p.name.as_str()));
    let reserved = reserved(action);
    for p in params {
        if reserved.contains(&p.name.as_str()) {
            return Err(Error::new(format!(
                "{}: input key {} is also a property of the n8n node itself",
                action.name, p.name
            )));
        }
        let prop = &schema["properties"][&p.name];
        let is_required = required.contains(&p.name.as_str());
        out.push(field(&p.name, prop, is_required, models));
    }
    Ok(out)
}

fn field(key: &str, schema: &Value, required: bool, models: &Models) -> NodeField {
    let mut prop = Map::new();
    prop.insert("displayName".into(), json!(field_display_name(key)));
    prop.insert("name".into(), json!(key));
    prop.insert("required".into(), json!(required));
    let kind = n8n_kind(schema, models);
    let (n8n_type, default, description) = match &kind {
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
            ("options", json!(default), None)
        }
        Kind::String(format) => {
            if format.as_deref() == Some("date-time") {
                prop.insert("placeholder".into(), json!("2024-01-01T00:00:00Z"));
            }
            let d = (!required).then_some("Left empty, it is not sent");
            ("string", json!(""), d)
        }
        Kind::Integer => {
            prop.insert("typeOptions".into(), json!({"numberPrecision": 0}));
            let d = (!required).then_some("0 is not sent");
            ("number", json!(0), d)
        }
        Kind::Number => ("number", json!(0), (!required).then_some("0 is not sent")),
        Kind::Boolean => ("boolean", json!(false), None),
        Kind::Json(array) => {
            let default = match (required, array) {
                (false, _) => "",
                (true, true) => "[]",
                (true, false) => "{}",
            };
            let d = if required {
                "JSON"
            } else {
                "JSON; left empty, it is not sent"
            };
            ("json", json!(default), Some(d))
        }
    };
    prop.insert("type".into(), json!(n8n_type));
    prop.insert("default".into(), default);
    if let Some(d) = description {
        prop.insert("description".into(), json!(d));
    }
    NodeField {
        property: Value::Object(prop),
        n8n_type,
        required,
    }
}

enum Kind {
    Options(Vec<String>),
    String(Option<String>),
    Integer,
    Number,
    Boolean,
    /// `true` for arrays.
    Json(bool),
}

/// The models of `schemas/models.json`, by name.
type Models = BTreeMap<String, Value>;

/// The n8n type of an input property. A `$ref` to an enum model is an options field; to any
/// other model, a JSON field.
fn n8n_kind(schema: &Value, models: &Models) -> Kind {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let strings: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if !strings.is_empty() {
            return Kind::Options(strings);
        }
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let branches: Vec<&Value> = branches
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if let [only] = branches.as_slice() {
            return n8n_kind(only, models);
        }
        return Kind::Json(false);
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return match reference
            .strip_prefix("#/$defs/")
            .and_then(|name| models.get(name))
        {
            Some(model) if model.get("enum").is_some() => n8n_kind(model, models),
            _ => Kind::Json(false),
        };
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
        Some("array") => Kind::Json(true),
        _ => Kind::Json(false),
    }
}

/// `period` → "Period", `periodFrom` → "Period From", `If-Match` → "If Match".
fn field_display_name(key: &str) -> String {
    split_words(key, &[])
        .into_iter()
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

/// The action's OData query options that go in the node's `options` collection, as
/// (input key, option name, description).
fn query_options(action: &Action) -> Vec<(&'static str, &'static str, &'static str)> {
    let paged = action.output.kind == "collection";
    QUERY_OPTIONS
        .iter()
        .copied()
        .filter(|(key, _, _)| action.parameters.iter().any(|p| p.name == *key))
        .filter(|(key, _, _)| !(paged && PAGING_OPTIONS.contains(key)))
        .collect()
}

fn options_property(query: &[(&str, &str, &str)]) -> Value {
    let options: Vec<Value> = query
        .iter()
        .map(|(key, name, description)| {
            let (ty, default) = match *key {
                "$top" | "$skip" => ("number", json!(0)),
                "$count" => ("boolean", json!(false)),
                _ => ("string", json!("")),
            };
            json!({"displayName": field_display_name(name), "name": name, "type": ty,
                "default": default, "description": description})
        })
        .collect();
    json!({"displayName": "Options", "name": "options", "type": "collection",
        "placeholder": "Add Option", "default": {}, "options": options})
}

fn action_entry(
    resource: &str,
    action: &Action,
    fields: &[NodeField],
    query: &[(&str, &str, &str)],
    paged: bool,
) -> Value {
    let params: Vec<Value> = action
        .parameters
        .iter()
        .map(|p| {
            json!({"name": p.name, "location": p.location, "literal": p.literal,
                "required": p.required})
        })
        .collect();
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| json!({"name": f.property["name"], "type": f.n8n_type, "required": f.required}))
        .collect();
    let options: Map<String, Value> = query
        .iter()
        .map(|(key, name, _)| ((*name).to_owned(), json!(key)))
        .collect();
    json!({
        "resource": resource,
        "display_name": action.display_name,
        "method": action.method,
        "path": action.path,
        "kind": action.kind,
        "params": params,
        "input_schema": models_refs(&action.input_schema),
        "output": action.output.kind,
        "destructive": action.destructive,
        "retry_safe": action.retry_safe,
        "paged": paged,
        "fields": fields,
        "options": options,
    })
}

/// `#/$defs/X` → `threecx-models.json#/$defs/X`, everywhere in `schema`.
fn models_refs(schema: &Value) -> Value {
    match schema {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) if r.starts_with("#/$defs/") => {
                        (k.clone(), json!(format!("{MODELS_ID}{r}")))
                    }
                    _ => (k.clone(), models_refs(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(models_refs).collect()),
        other => other.clone(),
    }
}

/// Field properties merged across actions: one property per distinct definition, shown for
/// every (resource, action) that has it, in order of first appearance.
#[derive(Default)]
struct FieldTable {
    order: Vec<String>,
    by_definition: BTreeMap<String, (Value, Vec<(String, String)>)>,
}

impl FieldTable {
    fn add(&mut self, property: Value, resource: &str, action: &str) {
        let key = property.to_string();
        let entry = self.by_definition.entry(key.clone()).or_insert_with(|| {
            self.order.push(key);
            (property, Vec::new())
        });
        entry.1.push((resource.to_owned(), action.to_owned()));
    }

    fn into_properties(mut self) -> Vec<Value> {
        self.order
            .iter()
            .map(|key| {
                let (mut property, pairs) = self.by_definition.remove(key).expect("in order");
                property["displayOptions"] = show(&pairs);
                property
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_read_as_words() {
        assert_eq!(field_display_name("period"), "Period");
        assert_eq!(field_display_name("periodFrom"), "Period From");
        assert_eq!(field_display_name("If-Match"), "If Match");
        assert_eq!(field_display_name("Id"), "Id");
    }

    #[test]
    fn kinds_follow_the_schema() {
        let models = Models::from([
            (
                "E".to_owned(),
                json!({"type": "string", "enum": ["X", "Y"]}),
            ),
            ("M".to_owned(), json!({"type": "object"})),
        ]);
        let n8n_kind = |s: &Value| n8n_kind(s, &models);
        assert!(
            matches!(n8n_kind(&json!({"$ref": "#/$defs/E"})), Kind::Options(v) if v == ["X", "Y"])
        );
        assert!(matches!(
            n8n_kind(&json!({"$ref": "#/$defs/M"})),
            Kind::Json(false)
        ));
        assert!(matches!(
            n8n_kind(&json!({"type": ["string", "null"], "format": "date-time"})),
            Kind::String(Some(f)) if f == "date-time"
        ));
        assert!(matches!(
            n8n_kind(&json!({"$ref": "#/$defs/PurgeSettings"})),
            Kind::Json(false)
        ));
        assert!(matches!(
            n8n_kind(&json!({"type": "array", "items": {"type": "integer"}})),
            Kind::Json(true)
        ));
        assert!(matches!(
            n8n_kind(&json!({"type": "string", "enum": ["A", "B"]})),
            Kind::Options(v) if v == ["A", "B"]
        ));
        assert!(matches!(
            n8n_kind(&json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})),
            Kind::Integer
        ));
    }

    #[test]
    fn model_references_point_into_models_json() {
        let s = models_refs(&json!({"properties": {"p": {"$ref": "#/$defs/A"},
            "q": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]}}}));
        assert_eq!(s["properties"]["p"]["$ref"], "threecx-models.json#/$defs/A");
        assert_eq!(
            s["properties"]["q"]["anyOf"][0]["$ref"],
            "threecx-models.json#/$defs/B"
        );
    }
}
