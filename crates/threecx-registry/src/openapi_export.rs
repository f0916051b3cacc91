//! An OpenAPI 3.0 document of a registry's HTTP actions, written from the descriptors themselves
//! (not from any third-party file): what a simulated PBX serves at `/xapi/v1/swagger.yaml`.
//!
//! It is the inverse of the codegen's import: importing this document gives the same
//! descriptors back (tested in `tests/tests/runtime_spec.rs`), so a client that pulls the spec
//! of a sandbox sees exactly the built-in set. JSON Schema 2020-12 is written back the OpenAPI
//! 3.0 way: `type: [T, "null"]` as `nullable`, `#/$defs/M` as `#/components/schemas/M`,
//! `x-threecx-flags` as a flag enum, `x-threecx-navigation` as `x-ms-navigationProperty`.

use serde_json::{json, Map, Value};
use threecx_core::{Location, Method, ResponseKind};

use crate::operation::{ActionKind, Operation};
use crate::Registry;

/// The document: every action that is one HTTP request, and every model.
pub fn openapi_document(registry: &Registry, version: &str) -> Value {
    let mut paths = Map::new();
    for &op in registry.actions() {
        let Some((path, method, operation)) = operation_of(op) else {
            continue;
        };
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(method.to_owned(), operation);
        }
    }
    let schemas: Map<String, Value> = registry
        .models()
        .iter()
        .map(|(name, schema)| (name.clone(), to_openapi(schema)))
        .collect();
    json!({
        "openapi": "3.0.4",
        "info": {"title": "XAPI", "version": version},
        "servers": [{"url": "/xapi/v1"}],
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// `(path, method, operation object)` of an HTTP action; `None` for a composed one.
fn operation_of(op: &dyn Operation) -> Option<(String, &'static str, Value)> {
    let template = op.template()?;
    let meta = op.meta();
    // The operation's own schemas: `$ref`s to models, no `$defs` of their own.
    let input = op.input_schema();
    let property = |name: &str| to_openapi(&input["properties"][name]);
    let mut parameters = Vec::new();
    let mut body_properties = Map::new();
    let mut body_required = Vec::new();
    let mut request_body = None;
    for p in template.params {
        match p.location {
            Location::Path | Location::Query | Location::Header => parameters.push(json!({
                "name": p.name,
                "in": match p.location {
                    Location::Path => "path",
                    Location::Query => "query",
                    _ => "header",
                },
                "required": p.required,
                "schema": property(p.name),
            })),
            Location::Body => {
                body_properties.insert(p.name.to_owned(), property(p.name));
                if p.required {
                    body_required.push(p.name);
                }
            }
            Location::Entity => {
                request_body = Some(json!({
                    "required": p.required,
                    "content": {"application/json": {"schema": property(p.name)}},
                }));
            }
        }
    }
    if !body_properties.is_empty() {
        request_body = Some(json!({
            "required": true,
            "content": {"application/json": {"schema": {
                "type": "object", "properties": body_properties, "required": body_required,
            }}},
        }));
    }
    let mut operation = json!({
        "tags": [meta.resource],
        "operationId": meta.action,
        "responses": responses(meta.kind, template.response, &op.output_schema()),
    });
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = request_body {
        operation["requestBody"] = body;
    }
    let method = match template.method {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Patch => "patch",
        Method::Delete => "delete",
    };
    Some((template.path.to_owned(), method, operation))
}

/// The success response (201 for a create, whose status tells it from an action import; 204
/// for no content) and a default error.
fn responses(kind: ActionKind, response: ResponseKind, output: &Value) -> Value {
    let (status, content) = match response {
        ResponseKind::Empty => ("204", None),
        ResponseKind::Download => (
            "200",
            Some(
                json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}),
            ),
        ),
        ResponseKind::Json | ResponseKind::Collection => {
            let media = match output.as_object() {
                Some(schema) if schema.is_empty() => json!({}),
                _ => json!({"schema": to_openapi(output)}),
            };
            ("200", Some(json!({"application/json": media})))
        }
    };
    let status = if kind == ActionKind::Create {
        "201"
    } else {
        status
    };
    let mut success = json!({"description": "Success"});
    if let Some(content) = content {
        success["content"] = content;
    }
    json!({ status: success, "default": {"description": "Error"} })
}

/// A JSON Schema as the registry holds it, written as an OpenAPI 3.0 schema.
pub fn to_openapi(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    let nullable_type = match map.get("type") {
        Some(Value::Array(types)) if types.len() == 2 && types.contains(&json!("null")) => {
            types.iter().find(|t| *t != "null").cloned()
        }
        _ => None,
    };
    for (key, value) in map {
        match key.as_str() {
            "$ref" => {
                let model = value.as_str().unwrap_or("").trim_start_matches("#/$defs/");
                out.insert(key.clone(), json!(format!("#/components/schemas/{model}")));
            }
            "type" if nullable_type.is_some() => {
                out.insert("type".into(), nullable_type.clone().unwrap_or_default());
                out.insert("nullable".into(), Value::Bool(true));
            }
            "enum" if nullable_type.is_some() => {
                let values: Vec<Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| !v.is_null())
                    .cloned()
                    .collect();
                out.insert("enum".into(), Value::Array(values));
            }
            "x-threecx-flags" => {
                out.insert("enum".into(), value.clone());
                out.insert("x-ms-enum-flags".into(), json!({"isFlags": true}));
            }
            "x-threecx-navigation" => {
                out.insert("x-ms-navigationProperty".into(), value.clone());
            }
            "properties" => {
                let props = value.as_object().into_iter().flatten();
                out.insert(
                    key.clone(),
                    Value::Object(props.map(|(k, v)| (k.clone(), to_openapi(v))).collect()),
                );
            }
            "items" | "additionalProperties" => {
                out.insert(key.clone(), to_openapi(value));
            }
            "allOf" | "anyOf" => {
                let parts = value.as_array().into_iter().flatten().map(to_openapi);
                out.insert(key.clone(), Value::Array(parts.collect()));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_types_refs_flags_and_navigation_are_written_the_openapi_way() {
        assert_eq!(
            to_openapi(&json!({"type": ["string", "null"], "enum": ["A", null]})),
            json!({"type": "string", "nullable": true, "enum": ["A"]})
        );
        assert_eq!(
            to_openapi(&json!({"anyOf": [{"$ref": "#/$defs/User"}, {"type": "null"}]})),
            json!({"anyOf": [{"$ref": "#/components/schemas/User"}, {"type": "null"}]})
        );
        assert_eq!(
            to_openapi(&json!({"type": "string", "x-threecx-flags": ["A", "B"]})),
            json!({"type": "string", "enum": ["A", "B"], "x-ms-enum-flags": {"isFlags": true}})
        );
        assert_eq!(
            to_openapi(
                &json!({"type": "array", "items": {"$ref": "#/$defs/G"}, "x-threecx-navigation": true})
            ),
            json!({"type": "array", "items": {"$ref": "#/components/schemas/G"}, "x-ms-navigationProperty": true})
        );
    }
}
