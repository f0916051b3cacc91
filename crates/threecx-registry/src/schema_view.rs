//! A read-only view over the JSON Schemas the registry publishes: follow `$ref`s and nullable
//! `anyOf`s, find a property, tell its type. One walker for every front end and the sandbox.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// The schema a local `$ref` points to inside `root`.
pub fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    root.pointer(reference.strip_prefix('#')?)
}

/// `schema` with its `$ref`s (through `anyOf` with `null`, too) followed to a concrete schema.
pub fn deref<'a>(mut schema: &'a Value, root: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(root, r))
        {
            schema = target;
            continue;
        }
        if let Some(branch) = schema.get("anyOf").and_then(Value::as_array).and_then(|b| {
            b.iter()
                .find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
        }) {
            schema = branch;
            continue;
        }
        break;
    }
    schema
}

/// Property names of an object schema, through `$ref`, `allOf` and nullable `anyOf`.
pub fn property_names(schema: &Value, root: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_properties(schema, root, &mut out, 0);
    out
}

fn collect_properties(schema: &Value, root: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    let schema = deref(schema, root);
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.keys().cloned());
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            collect_properties(part, root, out, depth + 1);
        }
    }
}

/// The schema of property `name` of an object schema (through `$ref` and `allOf`).
pub fn property_schema<'a>(schema: &'a Value, root: &'a Value, name: &str) -> Option<&'a Value> {
    let schema = deref(schema, root);
    if let Some(p) = schema.get("properties").and_then(|p| p.get(name)) {
        return Some(p);
    }
    schema
        .get("allOf")
        .and_then(Value::as_array)?
        .iter()
        .find_map(|part| property_schema(part, root, name))
}

/// The JSON types `schema` allows, after [`deref`] (`["string", "null"]` gives both).
pub fn types<'a>(schema: &'a Value, root: &'a Value) -> Vec<&'a str> {
    match deref(schema, root).get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The first type other than `null` that `schema` allows, if it says one.
pub fn primary_type<'a>(schema: &'a Value, root: &'a Value) -> Option<&'a str> {
    types(schema, root).into_iter().find(|t| *t != "null")
}

/// The type a schema object states for itself, other than `null` (`["string", "null"]` →
/// `string`); inferred from `properties` / `items` when absent. No `$ref` is followed (see
/// [`primary_type`] for that).
pub fn stated_type(s: &Map<String, Value>) -> Option<&str> {
    match s.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .or_else(|| types.first().and_then(Value::as_str)),
        _ if s.contains_key("properties") => Some("object"),
        _ if s.contains_key("items") => Some("array"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_refs_nullable_branches_and_all_of() {
        let root = json!({
            "type": "object",
            "properties": {
                "period": {"anyOf": [{"$ref": "#/$defs/P"}, {"type": "null"}]},
                "Number": {"type": ["string", "null"]}
            },
            "$defs": {"P": {"allOf": [{"properties": {"Start": {"type": "string"}}}]}}
        });
        let period = property_schema(&root, &root, "period").unwrap();
        assert_eq!(deref(period, &root), &root["$defs"]["P"]);
        assert!(property_schema(period, &root, "Start").is_some());
        assert_eq!(
            property_names(period, &root)
                .into_iter()
                .collect::<Vec<_>>(),
            ["Start"]
        );
        let number = property_schema(&root, &root, "Number").unwrap();
        assert_eq!(types(number, &root), ["string", "null"]);
        assert_eq!(primary_type(number, &root), Some("string"));
        assert_eq!(primary_type(period, &root), None);
    }

    #[test]
    fn a_stated_type_skips_null_and_is_inferred_from_the_shape() {
        let stated = |v: Value| stated_type(v.as_object().unwrap()).map(str::to_owned);
        assert_eq!(
            stated(json!({"type": ["null", "integer"]})).as_deref(),
            Some("integer")
        );
        assert_eq!(stated(json!({"type": ["null"]})).as_deref(), Some("null"));
        assert_eq!(stated(json!({"properties": {}})).as_deref(), Some("object"));
        assert_eq!(stated(json!({"items": {}})).as_deref(), Some("array"));
        assert_eq!(stated(json!({"$ref": "#/$defs/P"})), None);
    }
}
