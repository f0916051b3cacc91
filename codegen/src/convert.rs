//! OpenAPI 3.0 schema → JSON Schema 2020-12 (FORMAT.md, conversion rules). Only facts are kept:
//! types, formats, constraints, enums, structure. Prose (`description`, `title`, examples) is
//! dropped; `title`/`description` of models are written by the codegen.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::openapi::SCHEMA_REF;
use crate::{Error, Result};

/// Keywords copied unchanged.
const COPIED: &[&str] = &[
    "type",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "maxLength",
    "minLength",
    "enum",
    "required",
    "uniqueItems",
    "default",
];

/// Keywords dropped on purpose (prose, or handled elsewhere). Anything else unknown is dropped
/// too but reported as a warning, so a newer spec's new keyword is noticed.
const DROPPED: &[&str] = &[
    "description",
    "summary",
    "title",
    "example",
    "examples",
    "externalDocs",
    "nullable",
    "x-enum-varnames",
];

/// Component schema name → model name: `Pbx.` removed unless two names would then collide.
#[derive(Debug, Clone, Default)]
pub struct ModelNames {
    names: BTreeMap<String, String>,
}

impl ModelNames {
    pub fn new<'a>(components: impl IntoIterator<Item = &'a str>) -> ModelNames {
        let components: Vec<&str> = components.into_iter().collect();
        let short = |c: &str| c.strip_prefix("Pbx.").unwrap_or(c).to_string();
        let mut uses: BTreeMap<String, usize> = BTreeMap::new();
        for c in &components {
            *uses.entry(short(c)).or_default() += 1;
        }
        let names = components
            .iter()
            .map(|c| {
                let s = short(c);
                let name = if uses[&s] > 1 { c.to_string() } else { s };
                (c.to_string(), name)
            })
            .collect();
        ModelNames { names }
    }

    pub fn model_name(&self, component: &str) -> Option<&str> {
        self.names.get(component).map(String::as_str)
    }

    /// Component name → model name, sorted by component name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.names.iter().map(|(c, m)| (c.as_str(), m.as_str()))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The component schema a schema stands for: `{$ref}` or a one-element `allOf` of a `$ref`
/// (nullable or not). `None` for anything else.
pub fn referenced_component(schema: &Value) -> Option<&str> {
    let reference = match schema.get("allOf").and_then(Value::as_array) {
        Some(parts) if parts.len() == 1 && schema.get("properties").is_none() => {
            parts[0].get("$ref")
        }
        Some(_) => None,
        None => schema.get("$ref"),
    }?;
    reference.as_str()?.strip_prefix(SCHEMA_REF)
}

/// Converts schemas; collects warnings about keywords it did not know.
#[derive(Debug)]
pub struct Converter<'a> {
    names: &'a ModelNames,
    unknown: RefCell<BTreeSet<String>>,
}

impl<'a> Converter<'a> {
    pub fn new(names: &'a ModelNames) -> Converter<'a> {
        Converter {
            names,
            unknown: RefCell::new(BTreeSet::new()),
        }
    }

    /// Keywords seen in the spec that are neither converted nor knowingly dropped.
    pub fn unknown_keywords(&self) -> Vec<String> {
        self.unknown.borrow().iter().cloned().collect()
    }

    /// `#/components/schemas/Pbx.User` → `#/$defs/User`.
    pub fn convert_ref(&self, reference: &str) -> Result<Value> {
        let component = reference.strip_prefix(SCHEMA_REF).ok_or_else(|| {
            Error::new(format!(
                "unsupported schema $ref {reference:?} (expected {SCHEMA_REF}...)"
            ))
        })?;
        let model = self.names.model_name(component).ok_or_else(|| {
            Error::new(format!(
                "schema $ref {reference:?} points to no component schema"
            ))
        })?;
        Ok(json!({ "$ref": format!("#/$defs/{model}") }))
    }

    pub fn convert(&self, schema: &Value) -> Result<Value> {
        let obj = match schema {
            Value::Bool(_) => return Ok(schema.clone()),
            Value::Object(obj) => obj,
            other => {
                return Err(Error::new(format!(
                    "a schema must be an object, got {other}"
                )))
            }
        };
        let mut out = Map::new();
        let flags = obj
            .get("x-ms-enum-flags")
            .and_then(|f| f.get("isFlags"))
            .and_then(Value::as_bool)
            .unwrap_or(false);

        for (key, value) in obj {
            match key.as_str() {
                "$ref" => {
                    let r = value
                        .as_str()
                        .ok_or_else(|| Error::new("$ref must be a string"))?;
                    out.extend(as_object(self.convert_ref(r)?));
                }
                "allOf" => {
                    let parts = self.convert_list(value)?;
                    // A lone `$ref` wrapped in allOf (how the spec marks a nullable reference)
                    // is just that reference.
                    match parts.as_slice() {
                        [only] if only.get("$ref").is_some() && obj.get("properties").is_none() => {
                            out.extend(as_object(only.clone()));
                        }
                        _ => {
                            out.insert("allOf".into(), Value::Array(parts));
                        }
                    }
                }
                // The spec's oneOf alternatives overlap (number|null, string|null and an enum
                // of "INF"/"NaN" all accept null), so "exactly one" would reject valid values.
                "oneOf" | "anyOf" => {
                    let mut parts = self.convert_list(value)?;
                    if let Some(Value::Array(existing)) = out.get_mut("anyOf") {
                        existing.append(&mut parts);
                    } else {
                        out.insert("anyOf".into(), Value::Array(parts));
                    }
                }
                "items" => {
                    out.insert("items".into(), self.convert(value)?);
                }
                "additionalProperties" => {
                    out.insert("additionalProperties".into(), self.convert(value)?);
                }
                "properties" => {
                    let props = value
                        .as_object()
                        .ok_or_else(|| Error::new("properties must be an object"))?;
                    let mut converted = Map::new();
                    for (name, prop) in props {
                        converted.insert(name.clone(), self.convert(prop)?);
                    }
                    out.insert("properties".into(), Value::Object(converted));
                }
                "enum" if flags => {
                    out.insert("x-threecx-flags".into(), value.clone());
                }
                "x-ms-enum-flags" => {}
                "x-ms-navigationProperty" => {
                    if value.as_bool() == Some(true) {
                        out.insert("x-threecx-navigation".into(), Value::Bool(true));
                    }
                }
                k if COPIED.contains(&k) => {
                    out.insert(k.to_string(), value.clone());
                }
                k if DROPPED.contains(&k) || k.starts_with("x-ms-") => {}
                k => {
                    self.unknown.borrow_mut().insert(k.to_string());
                }
            }
        }
        if flags {
            // Flag values combine as "A, B": a string, not one of the listed values.
            out.insert("type".into(), Value::String("string".into()));
        }
        if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
            return Ok(make_nullable(out));
        }
        Ok(Value::Object(out))
    }

    fn convert_list(&self, value: &Value) -> Result<Vec<Value>> {
        value
            .as_array()
            .ok_or_else(|| Error::new("allOf/oneOf/anyOf must be a list"))?
            .iter()
            .map(|s| self.convert(s))
            .collect()
    }
}

/// `nullable: true`: a `null` type (and enum value) next to a plain type; around a reference
/// or composition, `anyOf [<schema>, {"type": "null"}]`.
fn make_nullable(mut out: Map<String, Value>) -> Value {
    let composed = ["$ref", "allOf", "anyOf"]
        .iter()
        .any(|k| out.contains_key(*k));
    if composed {
        return json!({ "anyOf": [Value::Object(out), {"type": "null"}] });
    }
    match out.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".into()));
            }
        }
        // No type: the schema already accepts null.
        _ => return Value::Object(out),
    }
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
    Value::Object(out)
}

fn as_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ModelNames {
        ModelNames::new([
            "Pbx.User",
            "Pbx.Period",
            "Pbx.ODataErrors.MainError",
            "Reference",
        ])
    }

    fn conv(schema: Value) -> Value {
        let n = names();
        Converter::new(&n).convert(&schema).unwrap()
    }

    #[test]
    fn model_names_strip_pbx_unless_colliding() {
        let n = ModelNames::new(["Pbx.User", "Pbx.ODataErrors.MainError", "Pbx.Foo", "Foo"]);
        assert_eq!(n.model_name("Pbx.User"), Some("User"));
        assert_eq!(
            n.model_name("Pbx.ODataErrors.MainError"),
            Some("ODataErrors.MainError")
        );
        assert_eq!(n.model_name("Pbx.Foo"), Some("Pbx.Foo"));
        assert_eq!(n.model_name("Foo"), Some("Foo"));
    }

    #[test]
    fn refs_and_nullable_refs() {
        assert_eq!(
            conv(json!({"$ref": "#/components/schemas/Pbx.User"})),
            json!({"$ref": "#/$defs/User"})
        );
        assert_eq!(
            conv(json!({"allOf": [{"$ref": "#/components/schemas/Pbx.User"}]})),
            json!({"$ref": "#/$defs/User"})
        );
        assert_eq!(
            conv(json!({"allOf": [{"$ref": "#/components/schemas/Pbx.User"}], "nullable": true})),
            json!({"anyOf": [{"$ref": "#/$defs/User"}, {"type": "null"}]})
        );
        let n = names();
        let c = Converter::new(&n);
        assert!(c
            .convert(&json!({"$ref": "#/components/schemas/Nope"}))
            .is_err());
    }

    #[test]
    fn nullable_types_and_enums() {
        assert_eq!(
            conv(
                json!({"type": "string", "format": "date-time", "nullable": true, "description": "x"})
            ),
            json!({"type": ["string", "null"], "format": "date-time"})
        );
        assert_eq!(
            conv(
                json!({"type": "string", "enum": ["A", "B"], "nullable": true, "x-enum-varnames": ["a", "b"]})
            ),
            json!({"type": ["string", "null"], "enum": ["A", "B", null]})
        );
        assert_eq!(conv(json!({"nullable": true})), json!({}));
    }

    #[test]
    fn inheritance_keeps_all_of() {
        let s = conv(json!({
            "title": "User",
            "type": "object",
            "allOf": [
                {"$ref": "#/components/schemas/Reference"},
                {"title": "User", "type": "object", "properties": {
                    "Id": {"type": "integer", "format": "int32", "maximum": 10, "minimum": 0},
                    "Groups": {"type": "array", "items": {"$ref": "#/components/schemas/Pbx.User"},
                               "x-ms-navigationProperty": true}
                }}
            ]
        }));
        assert_eq!(
            s,
            json!({
                "type": "object",
                "allOf": [
                    {"$ref": "#/$defs/Reference"},
                    {"type": "object", "properties": {
                        "Id": {"type": "integer", "format": "int32", "maximum": 10, "minimum": 0},
                        "Groups": {"type": "array", "items": {"$ref": "#/$defs/User"},
                                   "x-threecx-navigation": true}
                    }}
                ]
            })
        );
    }

    #[test]
    fn flags_enum_is_a_string_with_flag_names() {
        assert_eq!(
            conv(json!({"title": "T", "type": "string", "enum": ["A", "B"],
                        "x-ms-enum-flags": {"isFlags": true}})),
            json!({"type": "string", "x-threecx-flags": ["A", "B"]})
        );
    }

    #[test]
    fn one_of_becomes_any_of() {
        assert_eq!(
            conv(json!({"oneOf": [
                {"type": "number", "format": "float", "nullable": true},
                {"$ref": "#/components/schemas/Reference"}
            ]})),
            json!({"anyOf": [
                {"type": ["number", "null"], "format": "float"},
                {"$ref": "#/$defs/Reference"}
            ]})
        );
    }

    #[test]
    fn unknown_keywords_are_reported() {
        let n = names();
        let c = Converter::new(&n);
        let out = c
            .convert(&json!({"type": "string", "readOnly": true, "x-ms-foo": 1, "example": "e"}))
            .unwrap();
        assert_eq!(out, json!({"type": "string"}));
        assert_eq!(c.unknown_keywords(), vec!["readOnly".to_string()]);
    }

    #[test]
    fn referenced_component_unwraps() {
        assert_eq!(
            referenced_component(&json!({"$ref": "#/components/schemas/Pbx.IActionResult"})),
            Some("Pbx.IActionResult")
        );
        assert_eq!(
            referenced_component(
                &json!({"allOf": [{"$ref": "#/components/schemas/Pbx.IActionResult"}], "nullable": true})
            ),
            Some("Pbx.IActionResult")
        );
        assert_eq!(referenced_component(&json!({"type": "object"})), None);
    }
}
