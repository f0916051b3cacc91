//! Configuration snapshots: every configuration resource of a PBX read into memory in a stable
//! form (entities sorted by key, object keys sorted, volatile and secret properties dropped),
//! written to a folder as one pretty JSON file per resource, read back, and compared.
//!
//! - [`rules`]: which resources are read and which properties are dropped (the rule tables).
//! - [`read`]: reading them from a PBX.
//! - [`folder`]: the folder format (`<Resource>.json` plus the `snapshot.json` manifest).
//! - [`compare`]: what differs between two snapshots, for people and as JSON.

pub mod compare;
pub mod folder;
pub mod help;
pub mod read;
pub mod rules;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use rules::Read;

/// One resource of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// The action it was read with (`ListUser`).
    pub action: String,
    pub read: Read,
    /// The key property of its entities (`Id`), for entity sets that have one.
    pub key: Option<String>,
    /// A list's entities (an array, sorted) or a singleton's object.
    pub data: Value,
}

/// A whole snapshot: its resources by name, and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub resources: BTreeMap<String, Resource>,
    /// Resources that could not be read, with the reason (an HTTP status, a message).
    pub skipped: BTreeMap<String, String>,
}

/// `value` with the OData annotations (`@odata.context`, `@odata.etag`) of objects removed and
/// every object's keys in sorted order, at every depth.
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map
                .into_iter()
                .filter(|(k, _)| !k.starts_with("@odata."))
                .map(|(k, v)| (k, canonical(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// One entity (or singleton) as stored: canonical, without the properties the rules drop.
pub fn normalise_entity(resource: &str, value: Value) -> Value {
    let mut value = canonical(value);
    if let Value::Object(map) = &mut value {
        for (field, _) in rules::dropped_fields(resource) {
            map.remove(field);
        }
    }
    value
}

/// A list's entities, normalised and sorted by `key` (entities without it, or all entities of a
/// set without a key, by their JSON text).
pub fn normalise_list(resource: &str, key: Option<&str>, items: Vec<Value>) -> Value {
    let mut items: Vec<Value> = items
        .into_iter()
        .map(|item| normalise_entity(resource, item))
        .collect();
    items.sort_by(|a, b| compare_entities(a, b, key));
    Value::Array(items)
}

fn compare_entities(a: &Value, b: &Value, key: Option<&str>) -> Ordering {
    let by_key = match key {
        Some(k) => compare_keys(a.get(k), b.get(k)),
        None => Ordering::Equal,
    };
    by_key.then_with(|| a.to_string().cmp(&b.to_string()))
}

/// Key values in order: numbers by value, then text, then anything else by its JSON text.
pub fn compare_keys(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entities_sorted_by_key_keys_sorted_volatile_dropped() {
        let items = vec![
            json!({"Number": "101", "Id": 10, "IsRegistered": true, "@odata.etag": "x"}),
            json!({"Id": 2, "Number": "100", "VMPIN": "1234", "Nested": {"b": 1, "a": 2}}),
        ];
        let list = normalise_list("Users", Some("Id"), items);
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"[{"Id":2,"Nested":{"a":2,"b":1},"Number":"100"},{"Id":10,"Number":"101"}]"#
        );
    }
}
