//! Deterministic values from JSON Schemas (the registry's self-contained schemas): answers of
//! actions the sandbox has no behaviour for, and the fields of seeded entities.

use serde_json::{Map, Value};
use threecx_registry::schema_view::stated_type;

/// SplitMix64: a fast, well-mixed hash of one 64-bit value. Everything random in the sandbox is
/// `mix` of the seed and an index, so any row can be computed on its own, on demand.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of several values.
pub fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5EED_u64, |acc, &p| mix(acc ^ mix(p)))
}

/// A hash of a text (FNV-1a), to seed per-action values.
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub use threecx_registry::schema_view::{deref, property_names, property_schema, resolve};

/// The item schema of an OData collection schema (`{"value": {"type": "array", "items": X}}`).
pub fn collection_item<'a>(schema: &'a Value, root: &'a Value) -> Option<&'a Value> {
    property_schema(schema, root, "value")
        .map(|v| deref(v, root))
        .and_then(|v| v.get("items"))
}

/// `item` made self-contained with the `$defs` of `root`.
pub fn with_defs(item: &Value, root: &Value) -> Value {
    let mut out = match item {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    if let Some(defs) = root.get("$defs") {
        out.entry("$defs").or_insert_with(|| defs.clone());
    }
    Value::Object(out)
}

fn nullable(s: &Map<String, Value>) -> bool {
    match s.get("type") {
        Some(Value::Array(t)) => t.iter().any(|t| t == "null"),
        Some(Value::String(t)) => t == "null",
        _ => s.get("anyOf").and_then(Value::as_array).is_some_and(|b| {
            b.iter()
                .any(|s| s.get("type").and_then(Value::as_str) == Some("null"))
        }),
    }
}

/// Objects nested deeper than this in an answer are `null` where allowed, lists empty.
const MAX_DEPTH: usize = 3;
/// `$ref`s followed at most this many times along one path (models can be recursive).
const MAX_REFS: usize = 12;

/// A value of `schema`, resolving references inside `root`. `seed` varies numbers, texts and
/// the enum value picked.
pub fn value(schema: &Value, root: &Value, seed: u64) -> Value {
    Gen {
        root,
        seed,
        max_depth: MAX_DEPTH,
    }
    .of(schema, "", 0, 0)
}

/// A lean entity of `schema`: every top-level property, but nested objects `null` where the
/// schema allows it and lists empty (what a stored row starts as).
pub fn entity(schema: &Value, root: &Value, seed: u64) -> Value {
    Gen {
        root,
        seed,
        max_depth: 0,
    }
    .of(schema, "", 0, 0)
}

/// A new entity's defaults, what a create fills in for the properties its body leaves out and
/// what `Init*` offers: `false`, `0` (or the minimum), the first enum value, `""` for plain
/// text, empty lists; `null` only for nullable objects, dates, times and other formatted text.
pub fn defaults(schema: &Value, root: &Value) -> Value {
    defaults_at(schema, root, 0)
}

/// Nested objects are filled in down to this depth (models can be recursive).
const MAX_DEFAULT_DEPTH: usize = 3;

fn defaults_at(schema: &Value, root: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    if depth > MAX_DEFAULT_DEPTH {
        return Value::Object(out);
    }
    for name in property_names(schema, root) {
        if let Some(p) = property_schema(schema, root, &name) {
            // A reference to another entity (`PrimaryGroupId`) names none until it is set.
            let reference = name.ends_with("Id") && name != "Id" && is_nullable(p);
            let value = if reference {
                Value::Null
            } else {
                default_of(p, root, depth)
            };
            out.insert(name, value);
        }
    }
    Value::Object(out)
}

fn is_nullable(schema: &Value) -> bool {
    schema.as_object().is_some_and(nullable)
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|b| {
                b.iter()
                    .any(|x| x.get("type").and_then(Value::as_str) == Some("null"))
            })
}

fn default_of(schema: &Value, root: &Value, depth: usize) -> Value {
    let nullable_here = is_nullable(schema);
    let s = deref(schema, root);
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.iter().find(|x| !x.is_null()))
    {
        return first.clone();
    }
    if let Some(first) = s
        .get("x-threecx-flags")
        .and_then(Value::as_array)
        .and_then(|f| f.first())
    {
        return first.clone();
    }
    let Some(obj) = s.as_object() else {
        return Value::Null;
    };
    match stated_type(obj) {
        Some("boolean") => Value::Bool(false),
        Some("integer") => Value::from(
            obj.get("minimum")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .max(0),
        ),
        Some("number") => Value::from(
            obj.get("minimum")
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                .max(0.0),
        ),
        Some("array") => Value::Array(Vec::new()),
        Some("string") if obj.contains_key("format") || obj.contains_key("pattern") => {
            if nullable_here {
                Value::Null
            } else {
                Gen {
                    root,
                    seed: 0,
                    max_depth: 0,
                }
                .of(s, "", 0, 0)
            }
        }
        Some("string") => Value::String(String::new()),
        Some("object") if nullable_here => Value::Null,
        Some("object") => defaults_at(s, root, depth + 1),
        _ => Value::Null,
    }
}

struct Gen<'a> {
    root: &'a Value,
    seed: u64,
    max_depth: usize,
}

impl Gen<'_> {
    /// `depth`: how many objects/lists this value is nested in; `refs`: references followed.
    fn of(&self, schema: &Value, name: &str, depth: usize, refs: usize) -> Value {
        let Value::Object(s) = schema else {
            return Value::Null;
        };
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(self.root, r))
        {
            if refs >= MAX_REFS {
                return shallow(target);
            }
            return self.of(target, name, depth, refs + 1);
        }
        if let Some(v) = s.get("const") {
            return v.clone();
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            let choices: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            return match choices.len() {
                0 => Value::Null,
                n => choices[(hash(&[self.seed, hash_str(name)]) % n as u64) as usize].clone(),
            };
        }
        if let Some(flag) = s
            .get("x-threecx-flags")
            .and_then(Value::as_array)
            .and_then(|f| f.first())
        {
            return flag.clone();
        }
        if let Some(branches) = s.get("anyOf").and_then(Value::as_array) {
            let concrete = branches
                .iter()
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"));
            let has_null = branches.len() > concrete.iter().len();
            return match concrete {
                Some(b) if !(has_null && depth > self.max_depth && is_container(b, self.root)) => {
                    self.of(b, name, depth, refs)
                }
                _ => Value::Null,
            };
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(fields) = self.of(part, name, depth, refs) {
                    merged.extend(fields);
                }
            }
            if let Value::Object(own) = self.object(s, depth, refs) {
                merged.extend(own);
            }
            return Value::Object(merged);
        }
        match stated_type(s) {
            Some("object") => {
                if depth > self.max_depth && nullable(s) {
                    Value::Null
                } else {
                    self.object(s, depth, refs)
                }
            }
            Some("array") => match s.get("items") {
                Some(items) if depth < self.max_depth && !is_navigation(s) => {
                    Value::Array(vec![self.of(items, name, depth + 1, refs)])
                }
                _ => Value::Array(Vec::new()),
            },
            Some("string") => Value::String(self.string(s, name)),
            Some("integer") => self.integer(s),
            Some("number") => self.number(s),
            Some("boolean") => Value::Bool(hash(&[self.seed, hash_str(name)]) % 2 == 0),
            _ => Value::Null,
        }
    }

    fn object(&self, s: &Map<String, Value>, depth: usize, refs: usize) -> Value {
        let mut out = Map::new();
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                let v = if is_navigation(prop.as_object().unwrap_or(&Map::new())) {
                    if prop.get("type").and_then(Value::as_str) == Some("array") {
                        Value::Array(Vec::new())
                    } else {
                        continue;
                    }
                } else {
                    self.of(prop, name, depth + 1, refs)
                };
                out.insert(name.clone(), v);
            }
        }
        Value::Object(out)
    }

    fn string(&self, s: &Map<String, Value>, name: &str) -> String {
        let h = hash(&[self.seed, hash_str(name)]);
        let format = s.get("format").and_then(Value::as_str);
        let pattern = s.get("pattern").and_then(Value::as_str).unwrap_or("");
        let text = match format {
            Some("date-time") => crate::time::format(1_717_243_200 + (h % 86_400) as i64),
            Some("date") => "2024-06-01".to_owned(),
            Some("time") => format!("{:02}:{:02}:00", h % 24, h / 24 % 60),
            Some("uuid") => uuid(h),
            Some("duration") => crate::time::duration((h % 600) as i64),
            _ if pattern.contains("[0-9a-fA-F]{8}-") => uuid(h),
            _ if pattern.starts_with("^[0-9]{4,}-") => crate::time::format(1_717_243_200),
            _ => sample_text(name, h),
        };
        let max = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX) as usize;
        let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let mut text: String = text.chars().take(max).collect();
        while text.chars().count() < min {
            text.push('x');
        }
        text
    }

    fn integer(&self, s: &Map<String, Value>) -> Value {
        let min = s.get("minimum").and_then(Value::as_f64).unwrap_or(f64::MIN);
        let max = s.get("maximum").and_then(Value::as_f64).unwrap_or(f64::MAX);
        let n = (1 + self.seed % 9) as f64;
        Value::from(n.clamp(min.max(-9.0e15), max.min(9.0e15)) as i64)
    }

    fn number(&self, s: &Map<String, Value>) -> Value {
        let min = s.get("minimum").and_then(Value::as_f64).unwrap_or(f64::MIN);
        let max = s.get("maximum").and_then(Value::as_f64).unwrap_or(f64::MAX);
        let n = (1.5_f64 + (self.seed % 9) as f64).clamp(min, max);
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A value that follows no further references: `{}` for objects, `[]` for lists.
fn shallow(schema: &Value) -> Value {
    match schema.as_object().and_then(stated_type) {
        Some("object") => Value::Object(Map::new()),
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::String("sample".to_owned()),
        Some("integer") | Some("number") => Value::from(0),
        Some("boolean") => Value::Bool(false),
        _ => Value::Null,
    }
}

fn is_navigation(s: &Map<String, Value>) -> bool {
    s.get("x-threecx-navigation") == Some(&Value::Bool(true))
}

/// Whether `schema` is an object or list (worth cutting off when nested deep).
fn is_container(schema: &Value, root: &Value) -> bool {
    let target = deref(schema, root);
    target.get("properties").is_some()
        || target.get("allOf").is_some()
        || target
            .as_object()
            .and_then(stated_type)
            .is_some_and(|t| t == "object" || t == "array")
}

fn uuid(h: u64) -> String {
    let g = mix(h);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        h >> 16 & 0xffff,
        h & 0xfff,
        g >> 52,
        g & 0xffff_ffff_ffff
    )
}

/// A plausible text for a property, by its name.
fn sample_text(name: &str, h: u64) -> String {
    let lower = name.to_ascii_lowercase();
    let n = h % 1000;
    if lower.contains("email") {
        format!("sample{n}@example.com")
    } else if lower.contains("url") || lower.contains("link") {
        format!("https://sandbox.example.com/{n}")
    } else if lower == "number" || lower.ends_with("number") || lower.ends_with("dn") {
        format!("{}", 900 + n % 100)
    } else if lower.contains("ip") && lower.len() <= 12 {
        "127.0.0.1".to_owned()
    } else if lower.contains("name") {
        format!("Sample {}", n)
    } else if lower.contains("language") {
        "EN".to_owned()
    } else {
        format!("sample-{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deterministic_and_conformant_for_every_output() {
        let registry = threecx_ops::registry();
        let mut checked = 0;
        for op in registry.actions() {
            let schema = registry.output_schema(*op);
            let a = value(&schema, &schema, 7);
            assert_eq!(a, value(&schema, &schema, 7), "{op:?}");
            if op.meta().kind == threecx_registry::ActionKind::Custom {
                continue;
            }
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(false)
                .build(&schema)
                .unwrap();
            if let Some(e) = validator.iter_errors(&a).next() {
                panic!("{op:?}: {e} at {}: {a}", e.instance_path().as_str());
            }
            checked += 1;
        }
        assert!(checked > 500, "{checked}");
    }

    #[test]
    fn navigation_lists_are_empty_and_deep_objects_null() {
        let root = json!({
            "$defs": {
                "Node": {"type": "object", "properties": {
                    "Id": {"type": "integer", "minimum": 5},
                    "Next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                    "Kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "x-threecx-navigation": true}
                }}
            },
            "$ref": "#/$defs/Node"
        });
        let v = value(&root, &root, 1);
        assert_eq!(v["Kids"], json!([]));
        assert!(v["Id"].as_i64().unwrap() >= 5);
        let mut depth = 0;
        let mut cur = &v;
        while cur["Next"].is_object() {
            cur = &cur["Next"];
            depth += 1;
        }
        assert!(depth <= MAX_DEPTH, "{depth}");
        let lean = entity(&root, &root, 1);
        assert_eq!(lean["Next"], Value::Null);
        assert!(lean["Id"].is_i64());
    }

    #[test]
    fn helpers() {
        let registry = threecx_ops::registry();
        let op = registry.find("Users", "List User").unwrap();
        let out = registry.output_schema(op);
        let item = collection_item(&out, &out).unwrap();
        let names = property_names(item, &out);
        for n in ["Id", "Number", "FirstName", "Groups", "EmailAddress"] {
            assert!(names.contains(n), "{n}");
        }
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
    }
}
