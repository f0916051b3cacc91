//! The OpenAPI 3.1 document of the gateway itself (`GET /openapi.json`): its own routes, the
//! generic call body, and on request one operation per action with its input schema, so that
//! API tools (and n8n's or an agent's OpenAPI import) can offer every action.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use threecx_registry::{ActionDescription, ActionSummary, Operation, Registry, Returns};

const DEFS_PREFIX: &str = "#/$defs/";
const COMPONENTS_PREFIX: &str = "#/components/schemas/";

/// The gateway's OpenAPI 3.1 document. With `per_action`, every action of `registry` is listed
/// too, as `POST /v1/actions/<Resource>/<Action>` with operation id `<Resource>_<Action>`, its
/// input schema under `input` and its output under `result` (models in
/// `components/schemas`).
pub fn document(registry: &Registry, per_action: bool) -> Value {
    let security = json!([{"apiKey": []}, {"bearer": []}]);
    let error_responses = json!({
        "400": {"$ref": "#/components/responses/InvalidInput"},
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "404": {"$ref": "#/components/responses/NotFound"},
    });
    let mut paths = open_paths();
    paths.extend(catalogue_paths(&security, &error_responses));
    let mut schemas = base_schemas();
    if per_action {
        let mut hoister = Hoister::default();
        for op in registry.actions() {
            let meta = op.meta();
            let operation =
                action_operation(registry, *op, &mut hoister, &security, &error_responses);
            paths.insert(
                format!("/v1/actions/{}/{}", meta.resource, meta.action),
                json!({"post": operation}),
            );
        }
        for (name, schema) in hoister.components {
            schemas.entry(name).or_insert(schema);
        }
    }

    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": info(),
        "servers": [{"url": "/"}],
        "security": security,
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes(),
            "schemas": schemas,
            "responses": error_components(),
        },
    })
}

/// The routes that need no API key: liveness and this document.
fn open_paths() -> Map<String, Value> {
    let mut paths = Map::new();
    paths.insert(
        "/healthz".into(),
        json!({"get": {
            "operationId": "healthz",
            "summary": "Liveness: the gateway runs (no API key needed; the PBX is not contacted).",
            "security": [],
            "responses": {"200": {"description": "Running.", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"status": {"const": "ok"}, "actions": {"type": "integer"}},
            }}}}},
        }}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({"get": {
            "operationId": "openapi",
            "summary": "This document (no API key needed).",
            "security": [],
            "parameters": [{"name": "actions", "in": "query", "required": false,
                "schema": {"type": "boolean", "default": false},
                "description": "Also list one operation per action, with its input schema."}],
            "responses": {"200": {"description": "OpenAPI 3.1 document.",
                "content": {"application/json": {"schema": {"type": "object"}}}}},
        }}),
    );
    paths
}

/// The catalogue's routes: resources, actions, one action's description and the generic call.
fn catalogue_paths(security: &Value, error_responses: &Value) -> Map<String, Value> {
    let name_params = json!([
        {"name": "resource", "in": "path", "required": true, "schema": {"type": "string"},
         "description": "Resource name in any spelling: `PurgeSettings`, `Purge Settings`, `purge-settings`.",
         "example": "PurgeSettings"},
        {"name": "action", "in": "path", "required": true, "schema": {"type": "string"},
         "description": "Action name in any spelling: `PurgeChats`, `Purge Chats`, `purge_chats`.",
         "example": "PurgeChats"},
    ]);
    let mut paths = Map::new();
    paths.insert(
        "/v1/resources".into(),
        json!({"get": {
            "operationId": "listResources",
            "summary": "Every resource, with its display name and number of actions.",
            "security": security,
            "responses": {
                "200": {"description": "Resources.", "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer"},
                        "resources": {"type": "array", "items": {"type": "object", "properties": {
                            "resource": {"type": "string"},
                            "resource_display": {"type": "string"},
                            "actions": {"type": "integer"},
                        }}},
                    },
                }}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }}),
    );
    paths.insert(
        "/v1/actions".into(),
        json!({"get": {
            "operationId": "listActions",
            "summary": "The action catalogue, optionally of one resource or matching a search.",
            "security": security,
            "parameters": [
                {"name": "resource", "in": "query", "required": false, "schema": {"type": "string"},
                 "description": "Only this resource's actions (any spelling)."},
                {"name": "q", "in": "query", "required": false, "schema": {"type": "string"},
                 "description": "Words that must all appear in the resource or action name (case and punctuation ignored)."},
            ],
            "responses": {
                "200": {"description": "Matching actions.", "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "count": {"type": "integer"},
                        "actions": {"type": "array", "items": {"$ref": "#/components/schemas/ActionSummary"}},
                    },
                }}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        }}),
    );
    paths.insert(
        "/v1/actions/{resource}/{action}".into(),
        json!({
            "parameters": name_params,
            "get": {
                "operationId": "describeAction",
                "summary": "An action's names, flags, input and output JSON Schemas and an example input.",
                "security": security,
                "responses": {
                    "200": {"description": "The action.", "content": {"application/json": {"schema":
                        {"$ref": "#/components/schemas/ActionDescription"}}}},
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            },
            "post": call_operation(
                "callAction",
                "Calls an action with a JSON input; destructive actions need \"confirm\": true.",
                json!({"$ref": "#/components/schemas/CallBody"}),
                json!({}),
                security,
                error_responses,
                true,
            ),
        }),
    );

    paths
}

/// One action's `POST /v1/actions/<Resource>/<Action>` operation: its input under `input`
/// (with `confirm` required when it is destructive) and its output as the result; the
/// schemas' models are hoisted into `hoister`.
fn action_operation(
    registry: &Registry,
    op: &dyn Operation,
    hoister: &mut Hoister,
    security: &Value,
    error_responses: &Value,
) -> Value {
    let meta = op.meta();
    let input = hoister.hoist(registry.input_schema(op), meta.resource, meta.action);
    let output = hoister.hoist(registry.output_schema(op), meta.resource, meta.action);
    let mut body = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "input": input,
            "confirm": {"type": "boolean", "default": false},
        },
    });
    if meta.destructive {
        body["properties"]["confirm"] =
            json!({"const": true, "description": "Destructive: must be true."});
        body["required"] = json!(["confirm"]);
    }
    let summary = format!(
        "{} / {}{}",
        meta.resource_display,
        meta.action_display,
        if meta.destructive {
            " (destructive)"
        } else {
            ""
        }
    );
    let mut operation = call_operation(
        &format!("{}_{}", meta.resource, meta.action),
        &summary,
        body,
        output,
        security,
        error_responses,
        pageable(op),
    );
    operation["description"] = json!(describe_op(op));
    operation["tags"] = json!([meta.resource_display]);
    operation
}

/// The document's title, version and description.
fn info() -> Value {
    json!({
        "title": "threecx gateway",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Every action of the 3CX Configuration API (XAPI) by resource and action \
            name, with one JSON input validated before anything reaches the PBX. The PBX's \
            credentials stay in the gateway; clients authenticate with the gateway's own API key.",
    })
}

/// How clients authenticate: the gateway's API key, as a header or a bearer token.
fn security_schemes() -> Value {
    json!({
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        "bearer": {"type": "http", "scheme": "bearer",
            "description": "The gateway's API key as a bearer token."},
    })
}

/// The shared error responses the operations refer to.
fn error_components() -> Value {
    json!({
        "InvalidInput": {"description": "Invalid input (`invalid_input`, with `pointer` and `expected`); nothing was sent.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Unauthorized": {"description": "Missing or wrong API key.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "NotFound": {"description": "Unknown resource or action (`unknown_name`, with `suggestions`).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "NotConfirmed": {"description": "A destructive action without \"confirm\": true; nothing was sent.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "TooLarge": {"description": "The request body is over the gateway's limit.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Upstream": {"description": "The PBX failed: `upstream_auth` (the gateway's credentials were refused), `upstream_api` (an error of the PBX), `transport`, `decode`. A 4xx error of the PBX other than 401/407 is answered with the PBX's status instead.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "Timeout": {"description": "The PBX did not answer in time.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    })
}

fn pageable(op: &dyn Operation) -> bool {
    Returns::of(op).is_pageable()
}

fn describe_op(op: &dyn Operation) -> String {
    let meta = op.meta();
    let mut text = meta.description.to_owned();
    if meta.destructive {
        text.push_str(" Destructive: runs only with \"confirm\": true.");
    }
    if pageable(op) {
        text.push_str(" A list: `?all=true` streams every item as NDJSON.");
    }
    text
}

fn call_operation(
    id: &str,
    summary: &str,
    body: Value,
    result: Value,
    security: &Value,
    errors: &Value,
    pageable: bool,
) -> Value {
    let mut responses = errors.clone();
    responses["200"] = json!({
        "description": "The action's output under `result` (`null` for no content); a download \
            is answered with its bytes instead; with `?all=true`, NDJSON items.",
        "content": {
            "application/json": {"schema": {
                "type": "object",
                "properties": {"result": result},
                "required": ["result"],
            }},
            "application/x-ndjson": {"schema": {"type": "object"}},
            "application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}},
        },
    });
    responses["409"] = json!({"$ref": "#/components/responses/NotConfirmed"});
    responses["413"] = json!({"$ref": "#/components/responses/TooLarge"});
    responses["502"] = json!({"$ref": "#/components/responses/Upstream"});
    responses["504"] = json!({"$ref": "#/components/responses/Timeout"});
    let mut params = Vec::new();
    if pageable {
        params.push(json!({"name": "all", "in": "query", "required": false,
            "schema": {"type": "boolean", "default": false},
            "description": "Stream every item of every page as NDJSON (list actions only)."}));
        params.push(
            json!({"name": "page_size", "in": "query", "required": false,
            "schema": {"type": "integer", "minimum": 1, "default": 100},
            "description": "Items per PBX page with `all=true`."}),
        );
    }
    json!({
        "operationId": id,
        "summary": summary,
        "security": security,
        "parameters": params,
        "requestBody": {"required": false, "content": {"application/json": {"schema": body}}},
        "responses": responses,
    })
}

fn base_schemas() -> Map<String, Value> {
    // The catalogue entries are documented from their Rust types, so this cannot drift from
    // what the gateway, MCP and the CLI print.
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    generator.subschema_for::<ActionSummary>();
    generator.subschema_for::<ActionDescription>();
    let mut schemas = generator.take_definitions(true);
    if let Some(Value::Object(props)) = schemas
        .get_mut("ActionDescription")
        .and_then(|d| d.get_mut("properties"))
    {
        props.insert(
            "call".into(),
            json!({"type": "object", "description": "How to call it through this gateway: method, path and an example body."}),
        );
    }
    schemas.insert(
        "CallBody".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "description": "An empty body is the same as {}.",
            "properties": {
                "input": {"type": "object", "default": {},
                    "description": "The action's input: path keys and function parameters by their spec name, OData options as `$top`, `$filter`..., action parameters by name, an entity under `body` (see the action's input_schema)."},
                "confirm": {"type": "boolean", "default": false,
                    "description": "Must be true to run a destructive action (purge, delete, restart, restore...)."},
            },
            "examples": [{"input": {"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}}, "confirm": true}],
        }),
    );
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["kind", "message"],
                "properties": {
                    "kind": {"enum": ["invalid_input", "invalid_query", "unknown_name", "not_found",
                        "not_confirmed", "unauthorized", "payload_too_large", "upstream_auth",
                        "upstream_api", "timeout", "transport", "decode", "config", "internal"]},
                    "message": {"type": "string"},
                    "pointer": {"type": "string", "description": "invalid_input: JSON pointer into the input."},
                    "expected": {"type": "string", "description": "invalid_input: what was expected there."},
                    "example": {"type": ["string", "null"]},
                    "suggestions": {"type": "array", "items": {"type": "string"},
                        "description": "unknown_name: the closest names."},
                    "upstream_status": {"type": ["integer", "null"]},
                    "hint": {"type": "string"},
                    "retryable": {"type": "boolean"},
                },
            }},
        }),
    );
    schemas
}

/// Moves the `$defs` of self-contained schemas into `components/schemas`, rewriting their
/// references. A definition whose name is taken by a different schema is renamed
/// `<Resource>.<Action>.<Name>`.
#[derive(Default)]
struct Hoister {
    components: Map<String, Value>,
}

impl Hoister {
    fn hoist(&mut self, schema: Value, resource: &str, action: &str) -> Value {
        let Value::Object(mut root) = schema else {
            return schema;
        };
        root.remove("$schema");
        let defs = match root.remove("$defs") {
            Some(Value::Object(defs)) => defs,
            _ => Map::new(),
        };
        let mut names = HashMap::new();
        for (name, def) in &defs {
            let target = match self.components.get(name) {
                Some(existing) if existing != def => format!("{resource}.{action}.{name}"),
                _ => name.clone(),
            };
            names.insert(name.clone(), target);
        }
        for (name, mut def) in defs {
            rewrite(&mut def, &names);
            let target = names[&name].clone();
            self.components.entry(target).or_insert(def);
        }
        let mut root = Value::Object(root);
        rewrite(&mut root, &names);
        root
    }
}

fn rewrite(value: &mut Value, names: &HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(rest) = r.strip_prefix(DEFS_PREFIX) {
                    let (name, tail) = match rest.find('/') {
                        Some(i) => (&rest[..i], &rest[i..]),
                        None => (rest, ""),
                    };
                    let unescaped = name.replace("~1", "/").replace("~0", "~");
                    let target = names.get(&unescaped).cloned().unwrap_or(unescaped);
                    *r = format!("{COMPONENTS_PREFIX}{target}{tail}");
                }
            }
            for (key, v) in map.iter_mut() {
                if !matches!(
                    key.as_str(),
                    "enum" | "const" | "default" | "examples" | "example"
                ) {
                    rewrite(v, names);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, names)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_document_lists_the_routes() {
        let doc = document(threecx_ops::registry(), false);
        assert_eq!(doc["openapi"], "3.1.0");
        for path in [
            "/healthz",
            "/openapi.json",
            "/v1/resources",
            "/v1/actions",
            "/v1/actions/{resource}/{action}",
        ] {
            assert!(doc["paths"][path].is_object(), "{path}");
        }
    }

    #[test]
    fn per_action_refs_all_resolve() {
        let doc = document(threecx_ops::registry(), true);
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() > 601);
        let op = &doc["paths"]["/v1/actions/PurgeSettings/PurgeChats"]["post"];
        assert_eq!(op["operationId"], "PurgeSettings_PurgeChats");
        let body = &op["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["required"], json!(["confirm"]));
        assert_eq!(
            body["properties"]["input"]["properties"]["period"]["$ref"],
            "#/components/schemas/PurgeSettings"
        );
        let mut refs = Vec::new();
        collect(&doc, &mut refs);
        for r in refs {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
    }

    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| collect(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
}
