//! Inputs that exercise an action's request building: the schema example enriched with every
//! OData query option the action takes, string keys and function parameters that need quoting
//! and percent-encoding, date-times with an offset, `If-Match`, and bodies with every property
//! filled in. Used by the Prism contract test and the n8n conformance test.

use serde_json::{json, Value};
use threecx_core::Location;
use threecx_ops::registry_api::{Operation, Registry};

/// The awkward values [`enrich`] puts in strings.
#[derive(Debug, Clone, Copy)]
pub struct Strings {
    /// For string keys, function parameters and body strings.
    pub awkward: &'static str,
    /// For keys with a `maxLength` the awkward one does not fit (quotes counted).
    pub short_awkward: &'static str,
    /// For date-time keys, parameters and body fields.
    pub date_time: &'static str,
}

/// Makes the schema example exercise more of the request building: every OData query option the
/// action takes (lists comma-joined, `explode: false` in the spec), string keys and function
/// parameters that need quoting and percent-encoding, date-times with an offset, and `If-Match`.
/// Bodies stay as the example builds them. The result must still pass our own validation.
pub fn enrich(
    registry: &Registry,
    op: &dyn Operation,
    mut input: Value,
    strings: &Strings,
) -> Value {
    let Some(template) = op.template() else {
        return input;
    };
    let schema = registry.input_schema(op);
    let plain = input.clone();
    let obj = input.as_object_mut().expect("example inputs are objects");
    for p in template.params {
        let prop = &schema["properties"][p.name];
        let value = match p.location {
            Location::Query => match p.name {
                "$top" => json!(5),
                "$skip" => json!(10),
                "$count" => json!(true),
                "$filter" => json!("Id gt 0 and Name eq 'O''Brien'"),
                "$search" => json!("O'Brien & co"),
                "$select" => json!(["Id", "Name"]),
                "$orderby" => json!(["Name desc", "Id"]),
                "$expand" => json!(["Groups"]),
                _ => continue,
            },
            Location::Header if p.name.eq_ignore_ascii_case("If-Match") => json!("*"),
            Location::Body | Location::Entity => match FullValue::new(&schema, strings).of(prop, 0)
            {
                Some(full) => full,
                None => continue,
            },
            Location::Path => match path_kind(prop) {
                PathKind::DateTime => json!(strings.date_time),
                PathKind::Integer => json!(42),
                PathKind::Boolean => json!(true),
                PathKind::String => {
                    // Prism measures `maxLength` on the literal as sent, quotes included (it
                    // cannot tell quoted from unquoted keys): keep the literal within it.
                    let max = prop["maxLength"].as_u64().unwrap_or(u64::MAX) as usize;
                    let fits = |s: &&str| s.chars().count() + 2 + s.matches('\'').count() <= max;
                    let value = [strings.awkward, strings.short_awkward, "x"]
                        .into_iter()
                        .find(fits)
                        .unwrap_or("");
                    json!(value)
                }
                PathKind::Other => continue,
            },
            _ => continue,
        };
        obj.insert(p.name.to_owned(), value);
    }
    // Our own schema has the last word: a body it refuses (which would never be sent) falls back
    // to the plain example, path and query enrichment kept.
    if let Err(e) = registry.validate(op, &input) {
        eprintln!(
            "{}: our schema refuses the full body ({e}); using the plain example",
            op.meta().action
        );
        let obj = input.as_object_mut().expect("an object");
        for p in template.params {
            if matches!(p.location, Location::Body | Location::Entity) {
                match plain.get(p.name) {
                    Some(v) => obj.insert(p.name.to_owned(), v.clone()),
                    None => obj.remove(p.name),
                };
            }
        }
    }
    input
}

/// How many `$ref`s deep [`FullValue`] follows.
const FULL_DEPTH: usize = 6;

/// A value for a schema with every property filled in (down to [`FULL_DEPTH`] references), so
/// that Prism checks our input schemas against the spec's body schemas in full: the last enum
/// value rather than the first, formats and patterns honoured, awkward strings.
struct FullValue<'a> {
    root: &'a Value,
    strings: &'a Strings,
}

impl<'a> FullValue<'a> {
    fn new(root: &'a Value, strings: &'a Strings) -> Self {
        FullValue { root, strings }
    }

    /// `None`: leave the property out (references too deep, a pattern we cannot satisfy).
    fn of(&self, schema: &Value, depth: usize) -> Option<Value> {
        let s = schema.as_object()?;
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/$defs/")?;
            return (depth < FULL_DEPTH)
                .then(|| self.of(&self.root["$defs"][name], depth + 1))
                .flatten();
        }
        if let Some(v) = s.get("const") {
            return Some(v.clone());
        }
        for key in ["enum", "x-threecx-flags"] {
            if let Some(values) = s.get(key).and_then(Value::as_array) {
                return values.iter().rev().find(|v| !v.is_null()).cloned();
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = s.get(key).and_then(Value::as_array) {
                return branches
                    .iter()
                    .filter(|b| b["type"] != "null")
                    .find_map(|b| self.of(b, depth));
            }
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            let mut merged = serde_json::Map::new();
            for part in parts {
                if let Some(Value::Object(fields)) = self.of(part, depth) {
                    merged.extend(fields);
                }
            }
            if let Some(Value::Object(own)) = self.object(s, depth) {
                merged.extend(own);
            }
            return Some(Value::Object(merged));
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if s.contains_key("properties") => vec!["object"],
            _ => vec![],
        };
        let number = |n: f64| {
            let lo = s.get("minimum").and_then(Value::as_f64).unwrap_or(f64::MIN);
            let hi = s.get("maximum").and_then(Value::as_f64).unwrap_or(f64::MAX);
            n.clamp(lo, hi)
        };
        match types.iter().copied().find(|t| *t != "null") {
            Some("object") => self.object(s, depth),
            Some("array") => Some(match s.get("items").and_then(|i| self.of(i, depth)) {
                Some(item) => json!([item]),
                None => json!([]),
            }),
            Some("integer") => Some(json!(number(7.0) as i64)),
            Some("number") => Some(json!(number(1.5))),
            Some("boolean") => Some(json!(true)),
            Some("string") => {
                let text = match s.get("format").and_then(Value::as_str).unwrap_or("") {
                    "date-time" => self.strings.date_time,
                    "date" => "2024-05-06",
                    "time" => "07:08:09.25",
                    // No fraction: the spec's pattern allows `4.5S`, but Prism's `duration`
                    // format check (ajv-formats) does not.
                    "duration" => "P1DT2H3M4S",
                    "uuid" => "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "byte" => "AAEC",
                    _ if s.contains_key("pattern") => return None,
                    _ => self.strings.awkward,
                };
                let max = s
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .unwrap_or(u64::MAX) as usize;
                Some(json!(text.chars().take(max).collect::<String>()))
            }
            _ => None,
        }
    }

    fn object(&self, s: &serde_json::Map<String, Value>, depth: usize) -> Option<Value> {
        let mut out = serde_json::Map::new();
        for (name, prop) in s.get("properties").and_then(Value::as_object)? {
            if let Some(v) = self.of(prop, depth) {
                out.insert(name.clone(), v);
            }
        }
        Some(Value::Object(out))
    }
}

enum PathKind {
    DateTime,
    Integer,
    Boolean,
    String,
    Other,
}

fn path_kind(prop: &Value) -> PathKind {
    let types: Vec<&str> = match &prop["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let format = prop["format"].as_str().unwrap_or("");
    if types.contains(&"integer") {
        PathKind::Integer
    } else if types.contains(&"boolean") {
        PathKind::Boolean
    } else if types.contains(&"string") && format == "date-time" {
        PathKind::DateTime
    } else if types.contains(&"string") && format.is_empty() && prop.get("enum").is_none() {
        PathKind::String
    } else {
        PathKind::Other
    }
}
