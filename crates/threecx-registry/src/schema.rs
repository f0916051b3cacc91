//! Publishing schemas: an action's schema made self-contained (the `$defs` it needs, taken from
//! the registered models) and an example input built from a schema.

use serde_json::{Map, Value};

use crate::schema_view::{resolve, stated_type};

/// The dialect of every published schema.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

const DEFS_PREFIX: &str = "#/$defs/";

/// Keywords whose values are data, not schemas: a `$ref` key inside them is not a reference.
const DATA_KEYWORDS: &[&str] = &["enum", "const", "default", "examples", "example"];

/// `schema` with a `$defs` holding every model it uses, directly or through other models.
///
/// Definitions the schema has itself (e.g. schemars' `$defs` of an extension's input type) are
/// kept as they are and win over models of the same name; references to names defined nowhere
/// are left for the validator to report.
pub fn self_contained(schema: Value, models: &Map<String, Value>) -> Value {
    let Value::Object(mut root) = schema else {
        // `true` / `false` schemas reference nothing.
        return schema;
    };
    let mut defs = match root.remove("$defs") {
        Some(Value::Object(own)) => own,
        _ => Map::new(),
    };
    let mut pending = Vec::new();
    collect_refs_in(&root, &mut pending);
    for own in defs.values() {
        collect_refs(own, &mut pending);
    }
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        if let Some(model) = models.get(&name) {
            collect_refs(model, &mut pending);
            defs.insert(name, model.clone());
        }
    }
    root.entry("$schema")
        .or_insert_with(|| Value::String(DRAFT_2020_12.to_owned()));
    if !defs.is_empty() {
        root.insert("$defs".to_owned(), Value::Object(defs));
    }
    Value::Object(root)
}

/// Names `X` of every `{"$ref": "#/$defs/X..."}` in `schema`.
fn collect_refs(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => collect_refs_in(map, out),
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn collect_refs_in(map: &Map<String, Value>, out: &mut Vec<String>) {
    if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(def_name) {
        out.push(name);
    }
    for (key, value) in map {
        if !DATA_KEYWORDS.contains(&key.as_str()) {
            collect_refs(value, out);
        }
    }
}

/// `#/$defs/ODataErrors.MainError` → `ODataErrors.MainError` (JSON pointer escapes undone).
fn def_name(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix(DEFS_PREFIX)?;
    let segment = rest.split('/').next().unwrap_or(rest);
    Some(segment.replace("~1", "/").replace("~0", "~"))
}

/// What kind of text a string schema holds, when it says (by `format`, or by the date-time
/// `pattern` the 3CX spec puts beside it).
pub(crate) fn string_kind(schema: &Map<String, Value>) -> Option<&'static str> {
    let format = schema.get("format").and_then(Value::as_str);
    let pattern = schema.get("pattern").and_then(Value::as_str).unwrap_or("");
    match format {
        Some("date-time") => Some("date-time"),
        Some("date") => Some("date"),
        Some("time") => Some("time"),
        Some("uuid") => Some("uuid"),
        Some("duration") => Some("duration"),
        _ if looks_like_date_time_pattern(pattern) => Some("date-time"),
        _ => None,
    }
}

/// The 3CX date-time pattern: `^[0-9]{4,}-(0[1-9]|1[012])-...T([01][0-9]|2[0-3]):...$`.
fn looks_like_date_time_pattern(pattern: &str) -> bool {
    pattern.starts_with("^[0-9]{4,}-") && pattern.contains("T([01][0-9]|2[0-3])")
}

/// An example of each kind of text [`string_kind`] knows.
pub(crate) fn string_example(kind: Option<&str>) -> &'static str {
    match kind {
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "00:00:00",
        Some("uuid") => "00000000-0000-0000-0000-000000000000",
        Some("duration") => "PT0S",
        _ => "string",
    }
}

/// `$ref`s followed at most this deep when building an example (models can be recursive).
const MAX_REF_DEPTH: usize = 4;

/// Objects with at most this many properties get all of them in an example; larger ones only
/// their required properties.
const SMALL_OBJECT: usize = 8;

/// An example value for `schema`, resolving references inside `root` (a self-contained schema,
/// usually `schema` itself).
///
/// Required properties are always given; small objects get all their properties except OData
/// options (`$filter`, `$top`...), which are optional by nature.
pub fn example(schema: &Value, root: &Value) -> Value {
    Example { root }.of(schema, 0)
}

struct Example<'a> {
    root: &'a Value,
}

impl Example<'_> {
    fn of(&self, schema: &Value, depth: usize) -> Value {
        let Value::Object(s) = schema else {
            return Value::Null;
        };
        if let Some(target) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(self.root, r))
        {
            return if depth < MAX_REF_DEPTH {
                self.of(target, depth + 1)
            } else {
                shallow(target)
            };
        }
        if let Some(value) = s.get("const") {
            return value.clone();
        }
        if let Some(value) = s.get("default").filter(|v| !v.is_null()) {
            return value.clone();
        }
        if let Some(value) = first_non_null(s.get("enum")) {
            return value.clone();
        }
        if let Some(flag) = first_non_null(s.get("x-threecx-flags")) {
            return flag.clone();
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = s.get(keyword).and_then(Value::as_array) {
                let branch = branches
                    .iter()
                    .find(|b| !is_null_schema(b))
                    .or(branches.first());
                return branch.map_or(Value::Null, |b| self.of(b, depth));
            }
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(fields) = self.of(part, depth) {
                    merged.extend(fields);
                }
            }
            if let Value::Object(own) = self.object(s, depth) {
                merged.extend(own);
            }
            return Value::Object(merged);
        }
        match stated_type(s) {
            Some("object") => self.object(s, depth),
            Some("array") => match s.get("items") {
                Some(items) => Value::Array(vec![self.of(items, depth)]),
                None => Value::Array(Vec::new()),
            },
            Some("string") => Value::String(string_example(string_kind(s)).to_owned()),
            Some("integer") | Some("number") => number_example(s),
            Some("boolean") => Value::Bool(false),
            _ => Value::Null,
        }
    }

    fn object(&self, s: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let Some(properties) = s.get("properties").and_then(Value::as_object) else {
            return Value::Object(out);
        };
        let required = required_names(s);
        let small = properties.len() <= SMALL_OBJECT;
        for (name, property) in properties {
            let wanted = required.contains(&name.as_str()) || (small && !name.starts_with('$'));
            if wanted {
                out.insert(name.clone(), self.of(property, depth));
            }
        }
        Value::Object(out)
    }
}

/// An example that follows no further references: `{}` for objects, `[]` for lists.
fn shallow(schema: &Value) -> Value {
    let Value::Object(s) = schema else {
        return Value::Null;
    };
    match stated_type(s) {
        Some("object") => Value::Object(Map::new()),
        Some("array") => Value::Array(Vec::new()),
        Some("string") => Value::String(string_example(string_kind(s)).to_owned()),
        Some("integer") | Some("number") => number_example(s),
        Some("boolean") => Value::Bool(false),
        _ => Value::Null,
    }
}

/// 0, moved into `[minimum, maximum]`.
fn number_example(s: &Map<String, Value>) -> Value {
    let min = s.get("minimum").and_then(Value::as_f64);
    let max = s.get("maximum").and_then(Value::as_f64);
    let mut n = 0.0_f64;
    if let Some(min) = min {
        n = n.max(min);
    }
    if let Some(max) = max {
        n = n.min(max);
    }
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

pub(crate) fn required_names(s: &Map<String, Value>) -> Vec<&str> {
    s.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `{"type": "null"}`, the second half of a nullable reference.
pub(crate) fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn first_non_null(values: Option<&Value>) -> Option<&Value> {
    values?.as_array()?.iter().find(|v| !v.is_null())
}

/// The models of every registration in one map (the first definition of a name wins).
pub(crate) fn merge_models<'m>(texts: impl IntoIterator<Item = &'m str>) -> Map<String, Value> {
    let mut merged = Map::new();
    for text in texts {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(defs)) => {
                for (name, def) in defs {
                    match merged.get(&name) {
                        Some(existing) if *existing != def => tracing::warn!(
                            model = %name,
                            "model defined twice with different schemas; keeping the first"
                        ),
                        Some(_) => {}
                        None => {
                            merged.insert(name, def);
                        }
                    }
                }
            }
            Ok(_) => tracing::error!("registered model definitions are not a JSON object; skipped"),
            Err(e) => {
                tracing::error!("registered model definitions are not valid JSON ({e}); skipped")
            }
        }
    }
    merged
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testing::DATE_TIME_PATTERN;
    use serde_json::json;

    /// The models PurgeChats needs, plus unrelated ones, as `models.json` has them.
    pub fn models() -> Map<String, Value> {
        let date_time = json!({"type": ["string", "null"], "format": "date-time", "pattern": DATE_TIME_PATTERN});
        json!({
            "PurgeSettings": {
                "title": "PurgeSettings", "type": "object",
                "properties": {"All": {"type": "boolean"}, "Start": date_time, "Stop": date_time}
            },
            "User": {
                "title": "User", "type": "object",
                "properties": {
                    "Id": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
                    "Groups": {"type": "array", "items": {"$ref": "#/$defs/UserGroup"}},
                    "Kind": {"anyOf": [{"$ref": "#/$defs/UserKind"}, {"type": "null"}]}
                }
            },
            "UserGroup": {"type": "object", "properties": {"User": {"$ref": "#/$defs/User"}}},
            "UserKind": {"type": ["string", "null"], "enum": ["Person", "Room", null]},
            "Unused": {"type": "string"}
        })
        .as_object()
        .unwrap()
        .clone()
    }

    pub fn purge_chats_input() -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {"period": {"anyOf": [{"$ref": "#/$defs/PurgeSettings"}, {"type": "null"}]}}
        })
    }

    #[test]
    fn defs_hold_exactly_the_closure() {
        let s = self_contained(purge_chats_input(), &models());
        let defs = s["$defs"].as_object().unwrap();
        assert_eq!(defs.keys().collect::<Vec<_>>(), ["PurgeSettings"]);
        assert_eq!(s["$schema"], DRAFT_2020_12);

        let user = self_contained(json!({"$ref": "#/$defs/User"}), &models());
        let mut names: Vec<_> = user["$defs"].as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(names, ["User", "UserGroup", "UserKind"]);
    }

    #[test]
    fn own_defs_are_kept_and_win() {
        let own = json!({
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/PurgeSettings"}, "b": {"$ref": "#/$defs/Local"}},
            "$defs": {
                "PurgeSettings": {"type": "string"},
                "Local": {"type": "object", "properties": {"u": {"$ref": "#/$defs/UserKind"}}}
            }
        });
        let s = self_contained(own, &models());
        let defs = s["$defs"].as_object().unwrap();
        assert_eq!(defs["PurgeSettings"], json!({"type": "string"}));
        assert!(defs.contains_key("Local"));
        assert!(
            defs.contains_key("UserKind"),
            "models used by own defs are added"
        );
        assert!(!defs.contains_key("User"));
    }

    #[test]
    fn no_refs_no_defs() {
        let s = self_contained(json!({"type": "object"}), &models());
        assert!(s.get("$defs").is_none());
        assert_eq!(self_contained(json!(true), &models()), json!(true));
    }

    #[test]
    fn data_is_not_scanned_for_refs() {
        let s = self_contained(json!({"const": {"$ref": "#/$defs/User"}}), &models());
        assert!(s.get("$defs").is_none());
    }

    #[test]
    fn purge_chats_example() {
        let s = self_contained(purge_chats_input(), &models());
        assert_eq!(
            example(&s, &s),
            json!({"period": {"All": false, "Start": "2024-01-01T00:00:00Z", "Stop": "2024-01-01T00:00:00Z"}})
        );
    }

    #[test]
    fn example_rules() {
        let s = json!({
            "type": "object",
            "required": ["Number"],
            "properties": {
                "Number": {"type": "string"},
                "Id": {"type": "integer", "minimum": 5, "maximum": 10},
                "Neg": {"type": "integer", "maximum": -3},
                "Kind": {"$ref": "#/$defs/UserKind"},
                "Tags": {"type": "array", "items": {"type": "string"}},
                "$top": {"type": "integer"},
                "Flags": {"type": "string", "x-threecx-flags": ["A", "B"]}
            },
            "$defs": {"UserKind": models()["UserKind"].clone()}
        });
        assert_eq!(
            example(&s, &s),
            json!({"Number": "string", "Id": 5, "Neg": -3, "Kind": "Person", "Tags": ["string"], "Flags": "A"})
        );
    }

    #[test]
    fn recursive_models_stop() {
        let s = self_contained(json!({"$ref": "#/$defs/User"}), &models());
        let e = example(&s, &s);
        assert_eq!(e["Id"], 0);
        assert_eq!(e["Kind"], "Person");
        assert!(e["Groups"][0]["User"].is_object());
    }

    #[test]
    fn large_objects_get_required_only() {
        let mut props = Map::new();
        for i in 0..20 {
            props.insert(format!("P{i}"), json!({"type": "boolean"}));
        }
        let s = json!({"type": "object", "properties": props, "required": ["P3"]});
        assert_eq!(example(&s, &s), json!({"P3": false}));
    }
}
