//! Input validation with JSON Schema, and the translation of its findings into one
//! [`Error::InvalidInput`] a person can act on: where (a JSON pointer), what was expected (in
//! words, from the schema at that place) and an example.

use std::fmt::Display;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{Map, Value};
use threecx_core::Error;

use crate::schema::{self, is_null_schema, string_example, string_kind};
use crate::schema_view::{self, stated_type};

/// Compiles a self-contained schema (see [`schema::self_contained`]).
///
/// `format` is not asserted: 3CX's formats (`duration`, its date-time variant) differ from the
/// JSON Schema ones, and the spec's `pattern`s already carry the date-time rule.
pub fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Checks `input` against `validator` (compiled from `schema`).
pub fn check(validator: &Validator, schema: &Value, input: &Value) -> Result<(), Error> {
    if validator.is_valid(input) {
        return Ok(());
    }
    let errors: Vec<ValidationError<'_>> = validator.iter_errors(input).collect();
    let leaf = errors.iter().map(Leaf::of).reduce(|best, next| {
        if next.depth() > best.depth() {
            next
        } else {
            best
        }
    });
    Err(match leaf {
        Some(leaf) => humanize(&leaf, schema),
        // `is_valid` and `iter_errors` disagreeing would be a jsonschema bug; still refuse.
        None => Error::invalid("", "an input matching the action's schema"),
    })
}

/// The most specific finding under one validation error: inside `anyOf` / `oneOf`, the
/// alternative that matches the value's type is followed, so `{"period": {"Start": "x"}}`
/// against `anyOf [PurgeSettings, null]` reports `/period/Start`, not `/period`.
struct Leaf<'e> {
    instance_path: &'e str,
    schema_path: &'e str,
    kind: &'e ValidationErrorKind,
    message: &'e dyn Display,
}

impl<'e> Leaf<'e> {
    fn of(error: &'e ValidationError<'_>) -> Leaf<'e> {
        let here = Leaf {
            instance_path: error.instance_path().as_str(),
            schema_path: error.schema_path().as_str(),
            kind: error.kind(),
            message: error,
        };
        let (ValidationErrorKind::AnyOf { context }
        | ValidationErrorKind::OneOfNotValid { context }) = error.kind()
        else {
            return here;
        };
        let mut best: Option<Leaf<'e>> = None;
        for branch in context {
            // A branch that only says "wrong type here" is an alternative the value never meant.
            let type_mismatch = branch.iter().all(|e| {
                matches!(e.kind(), ValidationErrorKind::Type { .. })
                    && e.instance_path().as_str() == here.instance_path
            });
            if type_mismatch {
                continue;
            }
            let candidate = branch.iter().map(Leaf::of).reduce(|best, next| {
                if next.depth() > best.depth() {
                    next
                } else {
                    best
                }
            });
            if let Some(candidate) = candidate {
                if best.as_ref().is_none_or(|b| candidate.depth() > b.depth()) {
                    best = Some(candidate);
                }
            }
        }
        best.unwrap_or(here)
    }

    fn depth(&self) -> usize {
        self.instance_path.matches('/').count()
    }
}

/// Examples longer than this are left out of messages.
const MAX_EXAMPLE_LEN: usize = 160;

fn humanize(leaf: &Leaf<'_>, root: &Value) -> Error {
    // The schema object holding the failed keyword: the schema path minus its last segment.
    let holder_path = leaf
        .schema_path
        .rsplit_once('/')
        .map_or("", |(parent, _)| parent);
    let holder = root.pointer(holder_path).unwrap_or(&Value::Bool(true));
    let holder_map = holder.as_object();
    let pointer = leaf.instance_path.to_owned();
    let describe_here = || describe(holder, root, 0);
    let example_here = || example_text(holder, root);

    let (pointer, expected, example) = match leaf.kind {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let allowed: Vec<&str> = holder_map
                .and_then(|m| m.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            (pointer, unexpected_text(unexpected, &allowed), None)
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let example = holder_map
                .and_then(|m| m.get("properties"))
                .and_then(|p| p.get(name))
                .and_then(|p| example_text(p, root));
            (
                pointer,
                format!("a value for the required property \"{name}\""),
                example,
            )
        }
        ValidationErrorKind::Minimum { .. }
        | ValidationErrorKind::Maximum { .. }
        | ValidationErrorKind::ExclusiveMinimum { .. }
        | ValidationErrorKind::ExclusiveMaximum { .. } => {
            let noun = if holder_map.and_then(stated_type) == Some("integer") {
                "an integer"
            } else {
                "a number"
            };
            let range = holder_map.map(|m| range_text(m, true)).unwrap_or_default();
            (pointer, format!("{noun}{range}"), example_here())
        }
        ValidationErrorKind::MinLength { .. } | ValidationErrorKind::MaxLength { .. } => {
            let range = holder_map
                .map(|m| count_text(m, "minLength", "maxLength", "character"))
                .unwrap_or_default();
            (pointer, format!("a string of {range}"), None)
        }
        ValidationErrorKind::MinItems { .. } | ValidationErrorKind::MaxItems { .. } => {
            let range = holder_map
                .map(|m| count_text(m, "minItems", "maxItems", "item"))
                .unwrap_or_default();
            (pointer, format!("a list of {range}"), None)
        }
        ValidationErrorKind::MinProperties { .. } | ValidationErrorKind::MaxProperties { .. } => {
            let range = holder_map
                .map(|m| count_text(m, "minProperties", "maxProperties", "property"))
                .unwrap_or_default();
            (pointer, format!("an object with {range}"), None)
        }
        ValidationErrorKind::UniqueItems => (pointer, "a list without repeated items".into(), None),
        ValidationErrorKind::MultipleOf { multiple_of } => {
            (pointer, format!("a multiple of {multiple_of}"), None)
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => (
            pointer,
            format!("exactly one of: {}", describe_here()),
            None,
        ),
        ValidationErrorKind::FalseSchema => (pointer, "no value here".into(), None),
        ValidationErrorKind::Type { .. }
        | ValidationErrorKind::AnyOf { .. }
        | ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::Enum { .. }
        | ValidationErrorKind::Constant { .. }
        | ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::Format { .. } => (pointer, describe_here(), example_here()),
        _ => (pointer, format!("a valid value ({})", leaf.message), None),
    };
    Error::InvalidInput {
        pointer,
        expected,
        example,
    }
}

/// `no property "preiod" (allowed: period)`.
fn unexpected_text(unexpected: &[String], allowed: &[&str]) -> String {
    let quoted: Vec<String> = unexpected.iter().map(|u| format!("\"{u}\"")).collect();
    let head = if quoted.len() == 1 {
        format!("no property {}", quoted[0])
    } else {
        format!("no properties {}", quoted.join(", "))
    };
    if allowed.is_empty() {
        format!("{head} (this object takes no properties)")
    } else {
        format!("{head} (allowed: {})", list_text(allowed, 20))
    }
}

/// `A, B, C` or `A, B, ... (40 in all)`.
fn list_text(items: &[&str], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{}, ... ({} in all)", items[..max].join(", "), items.len())
    }
}

/// `1 to 5 characters`, `at least 1 item`, `at most 3 properties`.
fn count_text(s: &Map<String, Value>, min_key: &str, max_key: &str, unit: &str) -> String {
    let min = s.get(min_key).and_then(Value::as_u64);
    let max = s.get(max_key).and_then(Value::as_u64);
    let plural = |n: u64| {
        if n == 1 {
            unit.to_owned()
        } else if let Some(stem) = unit.strip_suffix('y') {
            format!("{stem}ies")
        } else {
            format!("{unit}s")
        }
    };
    match (min, max) {
        (Some(a), Some(b)) => format!("{a} to {b} {}", plural(b)),
        (Some(a), None) => format!("at least {a} {}", plural(a)),
        (None, Some(b)) => format!("at most {b} {}", plural(b)),
        (None, None) => format!("any number of {}", plural(2)),
    }
}

/// ` from 1 to 10`, ` of at least 0`... Full 32/64-bit integer ranges say nothing useful to a
/// person and are left out unless `always`.
fn range_text(s: &Map<String, Value>, always: bool) -> String {
    let min = s.get("minimum").or_else(|| s.get("exclusiveMinimum"));
    let max = s.get("maximum").or_else(|| s.get("exclusiveMaximum"));
    let boilerplate = |v: Option<&Value>, limits: [i64; 2]| {
        v.and_then(Value::as_i64)
            .is_some_and(|n| limits.contains(&n))
    };
    if !always
        && (min.is_none() || boilerplate(min, [i32::MIN.into(), i64::MIN]))
        && (max.is_none() || boilerplate(max, [i32::MAX.into(), i64::MAX]))
    {
        return String::new();
    }
    let below = if s.contains_key("exclusiveMaximum") {
        " (exclusive)"
    } else {
        ""
    };
    let above = if s.contains_key("exclusiveMinimum") {
        " (exclusive)"
    } else {
        ""
    };
    match (min, max) {
        (Some(a), Some(b)) => format!(" from {a}{above} to {b}{below}"),
        (Some(a), None) => format!(" of at least {a}{above}"),
        (None, Some(b)) => format!(" of at most {b}{below}"),
        (None, None) => String::new(),
    }
}

/// `$ref`s followed at most this deep when describing.
const MAX_DESCRIBE_DEPTH: usize = 8;

/// What `schema` accepts, in words: `an object with properties All, Start, Stop`,
/// `a date-time such as 2024-01-01T00:00:00Z or null`, `one of "A", "B"`.
pub fn describe(schema: &Value, root: &Value, depth: usize) -> String {
    let s = match schema {
        Value::Object(s) => s,
        Value::Bool(true) => return "any value".into(),
        _ => return "no value".into(),
    };
    if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
        return match schema_view::resolve(root, reference) {
            Some(target) if depth < MAX_DESCRIBE_DEPTH => describe(target, root, depth + 1),
            _ => "a value".into(),
        };
    }
    if let Some(value) = s.get("const") {
        return format!("exactly {value}");
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return enum_text(values);
    }
    if let Some(flags) = s.get("x-threecx-flags").and_then(Value::as_array) {
        let names: Vec<String> = flags.iter().map(Value::to_string).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        return format!("a comma-separated combination of {}", list_text(&names, 12));
    }
    for keyword in ["anyOf", "oneOf"] {
        if let Some(branches) = s.get(keyword).and_then(Value::as_array) {
            let has_null = branches.iter().any(is_null_schema);
            let parts: Vec<String> = branches
                .iter()
                .filter(|b| !is_null_schema(b))
                .map(|b| describe(b, root, depth + 1))
                .collect();
            return alternatives(parts, has_null);
        }
    }
    if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
        let mut names = own_properties(s);
        for part in parts {
            let part = follow(part, root);
            names.extend(
                part.and_then(|p| p.as_object())
                    .map(own_properties)
                    .unwrap_or_default(),
            );
        }
        return object_text(&names);
    }

    let nullable = match s.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => false,
    };
    let main = match stated_type(s) {
        Some("object") => object_text(&own_properties(s)),
        Some("string") => string_text(s),
        Some("integer") => format!("an integer{}", range_text(s, false)),
        Some("number") => format!("a number{}", range_text(s, false)),
        Some("boolean") => "true or false".into(),
        Some("array") => "a list".into(),
        Some("null") => return "null".into(),
        _ => return "a value".into(),
    };
    alternatives(vec![main], nullable)
}

fn follow<'a>(schema: &'a Value, root: &'a Value) -> Option<&'a Value> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => schema_view::resolve(root, reference),
        None => Some(schema),
    }
}

fn own_properties(s: &Map<String, Value>) -> Vec<&str> {
    s.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn object_text(names: &[&str]) -> String {
    if names.is_empty() {
        "an object".into()
    } else {
        format!("an object with properties {}", list_text(names, 12))
    }
}

fn string_text(s: &Map<String, Value>) -> String {
    let kind = string_kind(s);
    let example = string_example(kind);
    match kind {
        Some("date-time") => format!("a date-time such as {example}"),
        Some("date") => format!("a date such as {example}"),
        Some("time") => format!("a time such as {example}"),
        Some("uuid") => format!("a UUID such as {example}"),
        Some("duration") => format!("a duration such as {example}"),
        _ => match s.get("pattern").and_then(Value::as_str) {
            Some(pattern) => format!("a string matching {pattern}"),
            None if s.contains_key("minLength") || s.contains_key("maxLength") => format!(
                "a string of {}",
                count_text(s, "minLength", "maxLength", "character")
            ),
            None => "a string".into(),
        },
    }
}

/// `one of "A", "B"` (`or null` when null is allowed).
fn enum_text(values: &[Value]) -> String {
    let names: Vec<String> = values
        .iter()
        .filter(|v| !v.is_null())
        .map(Value::to_string)
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let main = match names.as_slice() {
        [] => return "null".into(),
        [one] => format!("exactly {one}"),
        _ => format!("one of {}", list_text(&names, 12)),
    };
    alternatives(vec![main], values.iter().any(Value::is_null))
}

/// `A or B`, with `or null` last; a comma before it when the text already lists things.
fn alternatives(mut parts: Vec<String>, nullable: bool) -> String {
    parts.dedup();
    let mut text = parts.join(" or ");
    if text.is_empty() {
        return if nullable {
            "null".into()
        } else {
            "a value".into()
        };
    }
    if nullable {
        text.push_str(if text.contains(',') {
            ", or null"
        } else {
            " or null"
        });
    }
    text
}

/// The example for `schema`, as JSON text, when it is short enough to print.
fn example_text(schema: &Value, root: &Value) -> Option<String> {
    let value = schema::example(schema, root);
    if value.is_null() {
        return None;
    }
    let text = value.to_string();
    (text.len() <= MAX_EXAMPLE_LEN).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::self_contained;
    use crate::schema::tests::{models, purge_chats_input};
    use crate::testing::DATE_TIME_PATTERN;
    use serde_json::json;

    fn run(schema: Value, input: Value) -> Result<(), Error> {
        let schema = self_contained(schema, &models());
        let validator = compile(&schema).expect("schema compiles");
        check(&validator, &schema, &input)
    }

    fn invalid(schema: Value, input: Value) -> (String, String, Option<String>) {
        match run(schema, input) {
            Err(Error::InvalidInput {
                pointer,
                expected,
                example,
            }) => (pointer, expected, example),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    /// PurgeChats as the spec has it: `period` a plain `$ref`.
    fn purge_chats_plain_ref() -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {"period": {"$ref": "#/$defs/PurgeSettings"}}
        })
    }

    #[test]
    fn pattern_is_the_real_3cx_one() {
        assert_eq!(
            models()["PurgeSettings"]["properties"]["Start"]["pattern"],
            DATE_TIME_PATTERN
        );
    }

    #[test]
    fn valid_inputs_pass() {
        for schema in [purge_chats_input(), purge_chats_plain_ref()] {
            for input in [
                json!({}),
                json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59.123+02:00"}}),
                json!({"period": {"All": true, "Start": null}}),
            ] {
                run(schema.clone(), input.clone()).unwrap_or_else(|e| panic!("{input}: {e}"));
            }
        }
        run(purge_chats_input(), json!({"period": null})).unwrap();
    }

    #[test]
    fn bad_date_time_points_at_the_field() {
        for schema in [purge_chats_input(), purge_chats_plain_ref()] {
            let (pointer, expected, example) =
                invalid(schema, json!({"period": {"Start": "yesterday"}}));
            assert_eq!(pointer, "/period/Start");
            assert!(expected.contains("date-time"), "{expected}");
            assert_eq!(expected, "a date-time such as 2024-01-01T00:00:00Z or null");
            assert_eq!(example.as_deref(), Some("\"2024-01-01T00:00:00Z\""));
        }
    }

    #[test]
    fn wrong_type_names_the_object() {
        let (pointer, expected, example) = invalid(purge_chats_input(), json!({"period": "x"}));
        assert_eq!(pointer, "/period");
        assert_eq!(
            expected,
            "an object with properties All, Start, Stop, or null"
        );
        assert_eq!(
            example.as_deref(),
            Some(r#"{"All":false,"Start":"2024-01-01T00:00:00Z","Stop":"2024-01-01T00:00:00Z"}"#)
        );
        let (pointer, expected, _) = invalid(purge_chats_plain_ref(), json!({"period": "x"}));
        assert_eq!(pointer, "/period");
        assert_eq!(expected, "an object with properties All, Start, Stop");
    }

    #[test]
    fn unknown_property_is_named() {
        let (pointer, expected, example) = invalid(purge_chats_input(), json!({"preiod": {}}));
        assert_eq!(pointer, "");
        assert_eq!(expected, "no property \"preiod\" (allowed: period)");
        assert_eq!(example, None);
    }

    #[test]
    fn root_must_be_an_object() {
        let (pointer, expected, _) = invalid(purge_chats_input(), json!([1]));
        assert_eq!(pointer, "");
        assert_eq!(expected, "an object with properties period");
    }

    #[test]
    fn error_message_reads_well() {
        let e = run(
            purge_chats_input(),
            json!({"period": {"Start": "yesterday"}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid input at /period/Start: expected a date-time such as 2024-01-01T00:00:00Z \
             or null, for example \"2024-01-01T00:00:00Z\""
        );
    }

    fn user_input() -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["Number"],
            "properties": {
                "Number": {"type": "string"},
                "Id": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
                "Priority": {"type": "integer", "minimum": 1, "maximum": 10},
                "Kind": {"anyOf": [{"$ref": "#/$defs/UserKind"}, {"type": "null"}]},
                "Tags": {"type": ["array", "null"], "items": {"type": "string"}, "maxItems": 2},
                "Name": {"type": "string", "maxLength": 3},
                "$select": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}
            }
        })
    }

    #[test]
    fn required_property() {
        let (pointer, expected, example) = invalid(user_input(), json!({}));
        assert_eq!(pointer, "");
        assert_eq!(expected, "a value for the required property \"Number\"");
        assert_eq!(example.as_deref(), Some("\"string\""));
    }

    #[test]
    fn type_errors() {
        let (p, e, _) = invalid(user_input(), json!({"Number": 100}));
        assert_eq!((p.as_str(), e.as_str()), ("/Number", "a string"));
        let (p, e, ex) = invalid(user_input(), json!({"Number": "1", "Id": "7"}));
        assert_eq!((p.as_str(), e.as_str()), ("/Id", "an integer"));
        assert_eq!(ex.as_deref(), Some("0"));
        let (p, e, _) = invalid(user_input(), json!({"Number": "1", "Tags": "a"}));
        assert_eq!((p.as_str(), e.as_str()), ("/Tags", "a list or null"));
        let (p, e, _) = invalid(user_input(), json!({"Number": "1", "Tags": ["a", 1]}));
        assert_eq!((p.as_str(), e.as_str()), ("/Tags/1", "a string"));
        let (p, e, _) = invalid(user_input(), json!({"Number": "1", "$select": 5}));
        assert_eq!((p.as_str(), e.as_str()), ("/$select", "a list or a string"));
    }

    #[test]
    fn enum_errors() {
        let (p, e, ex) = invalid(user_input(), json!({"Number": "1", "Kind": "Robot"}));
        assert_eq!(p, "/Kind");
        assert_eq!(e, "one of \"Person\", \"Room\", or null");
        assert_eq!(ex.as_deref(), Some("\"Person\""));
    }

    #[test]
    fn range_errors() {
        let (p, e, ex) = invalid(user_input(), json!({"Number": "1", "Priority": 11}));
        assert_eq!(
            (p.as_str(), e.as_str()),
            ("/Priority", "an integer from 1 to 10")
        );
        assert_eq!(ex.as_deref(), Some("1"));
        let (_, e, _) = invalid(
            user_input(),
            json!({"Number": "1", "Id": 3_000_000_000_i64}),
        );
        assert_eq!(e, "an integer from -2147483648 to 2147483647");
        let (p, e, _) = invalid(user_input(), json!({"Number": "1", "Name": "Alice"}));
        assert_eq!(
            (p.as_str(), e.as_str()),
            ("/Name", "a string of at most 3 characters")
        );
        let (_, e, _) = invalid(
            user_input(),
            json!({"Number": "1", "Tags": ["a", "b", "c"]}),
        );
        assert_eq!(e, "a list of at most 2 items");
    }

    #[test]
    fn several_unknown_properties() {
        let (_, e, _) = invalid(user_input(), json!({"Number": "1", "x": 1, "y": 2}));
        assert!(
            e.starts_with("no properties \"x\", \"y\" (allowed: $select, Id, Kind"),
            "{e}"
        );
    }

    #[test]
    fn formats_are_not_asserted() {
        let schema = json!({"type": "object", "properties": {"d": {"type": "string", "format": "duration"}}});
        run(schema, json!({"d": "00:01:00"})).unwrap();
    }
}
