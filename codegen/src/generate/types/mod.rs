//! JSON Schema (as written in `schemas/`) → Rust types. The analysis of `models.json` (which
//! model becomes a struct, enum, flags string or alias, and which fields are boxed) is in
//! [`model_table`]; type names in [`type_names`].
use serde_json::Value;

use super::Error;

mod model_table;
mod scc;
mod type_names;

pub use model_table::{Field, Model, ModelKind, ModelTable};
pub use type_names::{unique_type_name, RESERVED_TYPE_NAMES};

/// A Rust type, before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A primitive: `String`, `i32`, `i64`, `u8`, `f64`, `bool`...
    Scalar(&'static str),
    /// `serde_json::Value`: anything without one Rust shape.
    Value,
    /// A model, by its `models.json` name.
    Model(String),
    /// `Box<T>` (only inserted to break a recursive cycle).
    Boxed(Box<Ty>),
    Vec(Box<Ty>),
    Option(Box<Ty>),
}

impl Ty {
    pub fn option(inner: Ty) -> Ty {
        match inner {
            Ty::Option(_) => inner,
            other => Ty::Option(Box::new(other)),
        }
    }

    /// The type without one outer `Option`.
    pub fn strip_option(self) -> Ty {
        match self {
            Ty::Option(inner) => *inner,
            other => other,
        }
    }

    pub fn is_option(&self) -> bool {
        matches!(self, Ty::Option(_))
    }

    /// Rust source of the type; models are written as `{model_prefix}{RustName}`.
    pub fn render(&self, models: &ModelTable, model_prefix: &str) -> String {
        match self {
            Ty::Scalar(s) => (*s).to_owned(),
            Ty::Value => "serde_json::Value".to_owned(),
            Ty::Model(name) => format!("{model_prefix}{}", models.rust_name(name)),
            Ty::Boxed(t) => format!("Box<{}>", t.render(models, model_prefix)),
            Ty::Vec(t) => format!("Vec<{}>", t.render(models, model_prefix)),
            Ty::Option(t) => format!("Option<{}>", t.render(models, model_prefix)),
        }
    }
}

/// The model name a `$ref` points to (`#/$defs/User` → `User`).
pub fn ref_target(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// Maps a schema to a Rust type. Nullable schemas give `Option<T>`; references to unknown models
/// are errors.
pub fn map_schema(schema: &Value, models: &ModelTable) -> Result<Ty, Error> {
    if let Some(r) = schema.get("$ref") {
        let name = ref_target(schema).ok_or_else(|| {
            Error::new(format!("unsupported $ref {r} (expected #/$defs/<Model>)"))
        })?;
        if !models.contains(name) {
            return Err(Error::new(format!("$ref to unknown model `{name}`")));
        }
        return Ok(Ty::Model(name.to_owned()));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            let non_null: Vec<&Value> = parts.iter().filter(|p| !is_null_schema(p)).collect();
            if non_null.len() == 1 && parts.len() == 2 {
                return Ok(Ty::option(map_schema(non_null[0], models)?));
            }
            return Ok(Ty::Value);
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        if parts.len() == 1 {
            return map_schema(&parts[0], models);
        }
        return Ok(Ty::Value);
    }
    let (ty, nullable) = match schema.get("type") {
        Some(Value::String(t)) => (t.as_str(), false),
        Some(Value::Array(ts)) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            let non_null: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
            if non_null.len() != 1 {
                return Ok(Ty::Value);
            }
            (non_null[0], names.contains(&"null"))
        }
        _ => return Ok(Ty::Value),
    };
    let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
    let base = match ty {
        "string" => Ty::Scalar("String"),
        "integer" => Ty::Scalar(match format {
            "int8" => "i8",
            "int16" => "i16",
            "int32" => "i32",
            "uint8" => "u8",
            _ => "i64",
        }),
        "number" => Ty::Scalar("f64"),
        "boolean" => Ty::Scalar("bool"),
        "array" => match schema.get("items") {
            Some(items) => Ty::Vec(Box::new(map_schema(items, models)?)),
            None => Ty::Vec(Box::new(Ty::Value)),
        },
        _ => Ty::Value,
    };
    Ok(if nullable { Ty::option(base) } else { base })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    fn table(defs: Value) -> ModelTable {
        let defs: BTreeMap<String, Value> = defs
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ModelTable::build(&defs).unwrap()
    }

    fn render(t: &ModelTable, schema: Value) -> String {
        map_schema(&schema, t).unwrap().render(t, "m::")
    }

    #[test]
    fn scalars_and_formats() {
        let t =
            table(json!({"User": {"type": "object", "properties": {"Id": {"type": "integer"}}}}));
        assert_eq!(render(&t, json!({"type": "string"})), "String");
        assert_eq!(
            render(&t, json!({"type": "string", "format": "date-time"})),
            "String"
        );
        assert_eq!(
            render(&t, json!({"type": "string", "format": "uuid"})),
            "String"
        );
        assert_eq!(
            render(&t, json!({"type": "integer", "format": "int32"})),
            "i32"
        );
        assert_eq!(
            render(&t, json!({"type": "integer", "format": "int64"})),
            "i64"
        );
        assert_eq!(
            render(&t, json!({"type": "integer", "format": "uint8"})),
            "u8"
        );
        assert_eq!(render(&t, json!({"type": "integer"})), "i64");
        assert_eq!(
            render(&t, json!({"type": "number", "format": "float"})),
            "f64"
        );
        assert_eq!(render(&t, json!({"type": "boolean"})), "bool");
        assert_eq!(
            render(
                &t,
                json!({"type": "array", "items": {"$ref": "#/$defs/User"}})
            ),
            "Vec<m::User>"
        );
        assert_eq!(render(&t, json!({"type": "object"})), "serde_json::Value");
        assert_eq!(render(&t, json!({})), "serde_json::Value");
        assert_eq!(
            render(
                &t,
                json!({"oneOf": [{"type": "number"}, {"type": "string"}]})
            ),
            "serde_json::Value"
        );
    }

    #[test]
    fn nullable_forms_give_one_option() {
        let t =
            table(json!({"User": {"type": "object", "properties": {"Id": {"type": "integer"}}}}));
        assert_eq!(
            render(&t, json!({"type": ["string", "null"]})),
            "Option<String>"
        );
        assert_eq!(
            render(
                &t,
                json!({"anyOf": [{"$ref": "#/$defs/User"}, {"type": "null"}]})
            ),
            "Option<m::User>"
        );
        assert_eq!(
            render(
                &t,
                json!({"anyOf": [{"type": ["integer", "null"]}, {"type": "null"}]})
            ),
            "Option<i64>"
        );
        assert_eq!(
            render(
                &t,
                json!({"type": "array", "items": {"type": ["string", "null"]}})
            ),
            "Vec<Option<String>>"
        );
    }

    #[test]
    fn unknown_refs_are_errors() {
        let t = table(json!({}));
        assert!(map_schema(&json!({"$ref": "#/$defs/Nope"}), &t).is_err());
    }

    #[test]
    fn inheritance_is_flattened_base_first() {
        let t = table(json!({
            "Base": {"type": "object", "properties": {"Z": {"type": "string"}, "Id": {"type": "integer", "format": "int32"}}},
            "Mid": {"allOf": [{"$ref": "#/$defs/Base"}, {"type": "object", "properties": {"M": {"type": "boolean"}}}]},
            "Leaf": {"allOf": [{"$ref": "#/$defs/Mid"}, {"type": "object", "properties": {"A": {"type": ["number", "null"]}, "Id": {"type": "integer", "format": "int64"}}}]}
        }));
        let ModelKind::Struct(fields) = &t.get("Leaf").unwrap().kind else {
            panic!("Leaf is a struct")
        };
        let got: Vec<(String, String)> = fields
            .iter()
            .map(|f| (f.rust.clone(), f.ty.render(&t, "")))
            .collect();
        assert_eq!(
            got,
            [
                ("id".to_owned(), "i64".to_owned()),
                ("z".to_owned(), "String".to_owned()),
                ("m".to_owned(), "bool".to_owned()),
                ("a".to_owned(), "f64".to_owned()),
            ]
        );
    }

    #[test]
    fn recursion_by_value_is_boxed_and_vec_is_not() {
        let t = table(json!({
            "Node": {"type": "object", "properties": {
                "Parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                "Children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                "Other": {"$ref": "#/$defs/Leaf"}
            }},
            "A": {"type": "object", "properties": {"B": {"$ref": "#/$defs/B"}}},
            "B": {"type": "object", "properties": {"A": {"$ref": "#/$defs/AliasA"}}},
            "AliasA": {"$ref": "#/$defs/A"},
            "Leaf": {"type": "object", "properties": {"X": {"type": "string"}}}
        }));
        let field_types = |name: &str| -> Vec<String> {
            let ModelKind::Struct(fields) = &t.get(name).unwrap().kind else {
                panic!("{name} is a struct")
            };
            fields.iter().map(|f| f.ty.render(&t, "")).collect()
        };
        assert_eq!(field_types("Node"), ["Vec<Node>", "Leaf", "Box<Node>"]);
        assert_eq!(field_types("A"), ["Box<B>"]);
        assert_eq!(field_types("B"), ["Box<AliasA>"]);
        assert_eq!(
            t.get("AliasA").unwrap().kind,
            ModelKind::Alias(Ty::Model("A".into()))
        );
    }

    #[test]
    fn enums_flags_and_aliases() {
        let t = table(json!({
            "Kind": {"type": "string", "enum": ["MS", "-INF", "Unknown", "some-value", "0", "MS"]},
            "NullableKind": {"type": ["string", "null"], "enum": ["A", null]},
            "Flags": {"type": "string", "x-threecx-flags": ["A", "B"]},
            "Number": {"type": "integer", "format": "int32"},
            "IntEnum": {"type": "integer", "enum": [1, 2]},
            "Free": {"type": "object"},
            "Empty": {"type": "object", "properties": {}}
        }));
        assert_eq!(
            t.get("Kind").unwrap().kind,
            ModelKind::Enum(vec![
                ("MS".into(), "MS".into()),
                ("NegInf".into(), "-INF".into()),
                ("UnknownValue".into(), "Unknown".into()),
                ("SomeValue".into(), "some-value".into()),
                ("V0".into(), "0".into()),
            ])
        );
        assert_eq!(
            t.get("NullableKind").unwrap().kind,
            ModelKind::Enum(vec![("A".into(), "A".into())])
        );
        assert_eq!(
            t.get("Flags").unwrap().kind,
            ModelKind::Flags(vec!["A".into(), "B".into()])
        );
        assert_eq!(
            t.get("Number").unwrap().kind,
            ModelKind::Alias(Ty::Scalar("i32"))
        );
        assert_eq!(
            t.get("IntEnum").unwrap().kind,
            ModelKind::Alias(Ty::Scalar("i64"))
        );
        assert_eq!(t.get("Free").unwrap().kind, ModelKind::Alias(Ty::Value));
        assert_eq!(t.get("Empty").unwrap().kind, ModelKind::Alias(Ty::Value));
    }

    #[test]
    fn model_names_are_unique_and_avoid_prelude_names() {
        let t = table(json!({
            "String": {"type": "string"},
            "ODataErrors.MainError": {"type": "object", "properties": {"code": {"type": "string"}}},
            "ODataErrorsMainError": {"type": "string"}
        }));
        assert_eq!(t.rust_name("String"), "StringModel");
        assert_eq!(t.rust_name("ODataErrors.MainError"), "ODataErrorsMainError");
        assert_eq!(t.rust_name("ODataErrorsMainError"), "ODataErrorsMainError2");
    }

    #[test]
    fn field_names_are_snake_escaped_and_unique() {
        let t = table(json!({"X": {"type": "object", "properties": {
            "Type": {"type": "string"}, "ID": {"type": "string"}, "Id": {"type": "string"},
            "@odata.type": {"type": "string"}
        }}}));
        let ModelKind::Struct(fields) = &t.get("X").unwrap().kind else {
            panic!()
        };
        let names: Vec<(&str, &str)> = fields
            .iter()
            .map(|f| (f.json.as_str(), f.rust.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("@odata.type", "odata_type"),
                ("ID", "id"),
                ("Id", "id_2"),
                ("Type", "r#type")
            ]
        );
    }
}
