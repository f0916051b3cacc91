//! What differs between two snapshots: per resource, the entities added, removed and changed
//! (matched by key), and for a changed one each changed field with its path (`Groups[0].Name`)
//! and its old and new value. Resources that one side could not read are not compared.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::{Resource, Snapshot};
use crate::output::printable;

/// The whole comparison (`--output json` prints it as is).
#[derive(Debug, Serialize)]
pub struct Report {
    pub equal: bool,
    /// Resources that differ, by name.
    pub resources: Vec<ResourceDiff>,
    /// Resources left out because one side skipped them, with why.
    pub not_compared: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ResourceDiff {
    pub resource: String,
    /// The key property entities are matched by (`Id`); null for singletons and sets without.
    pub key_property: Option<String>,
    pub added: Vec<Entity>,
    pub removed: Vec<Entity>,
    pub changed: Vec<Changed>,
}

/// An entity added or removed: its key value (null for a singleton or a set without a key) and
/// the whole entity.
#[derive(Debug, Serialize)]
pub struct Entity {
    pub key: Value,
    pub entity: Value,
}

#[derive(Debug, Serialize)]
pub struct Changed {
    pub key: Value,
    pub fields: Vec<FieldChange>,
}

/// One changed field; `old` or `new` is left out when the field is absent on that side.
#[derive(Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// Compares `old` with `new`.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Report {
    let mut not_compared = BTreeMap::new();
    for (side, snapshot) in [("old", old), ("new", new)] {
        for (name, why) in &snapshot.skipped {
            not_compared.insert(
                name.clone(),
                format!("not read in the {side} snapshot: {why}"),
            );
        }
    }
    let names: BTreeSet<&String> = old.resources.keys().chain(new.resources.keys()).collect();
    let resources: Vec<ResourceDiff> = names
        .into_iter()
        .filter(|name| !not_compared.contains_key(*name))
        .map(|name| compare_resource(name, old.resources.get(name), new.resources.get(name)))
        .filter(|d| !(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty()))
        .collect();
    Report {
        equal: resources.is_empty(),
        resources,
        not_compared,
    }
}

fn compare_resource(name: &str, old: Option<&Resource>, new: Option<&Resource>) -> ResourceDiff {
    let key = new.or(old).and_then(|r| r.key.clone());
    let old_entities = entities(old, key.as_deref());
    let mut new_entities = entities(new, key.as_deref());
    let mut diff = ResourceDiff {
        resource: name.to_owned(),
        key_property: key.clone(),
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (id, (key_value, before)) in old_entities {
        match new_entities.remove(&id) {
            None => diff.removed.push(Entity {
                key: key_value,
                entity: before.clone(),
            }),
            Some((_, after)) => {
                let mut fields = Vec::new();
                field_changes("", before, after, &mut fields);
                if !fields.is_empty() {
                    diff.changed.push(Changed {
                        key: key_value,
                        fields,
                    });
                }
            }
        }
    }
    diff.added = new_entities
        .into_values()
        .map(|(key, entity)| Entity {
            key,
            entity: entity.clone(),
        })
        .collect();
    diff
}

/// A resource's entities by identity (the key value's JSON text, or the entity's own JSON
/// text when there is no key; a singleton is always the same one), each with its key value.
fn entities<'a>(
    resource: Option<&'a Resource>,
    key: Option<&str>,
) -> BTreeMap<String, (Value, &'a Value)> {
    let Some(resource) = resource else {
        return BTreeMap::new();
    };
    let items = match &resource.data {
        Value::Array(items) => items,
        // A singleton is one entity whatever it holds.
        singleton => return BTreeMap::from([("settings".to_owned(), (Value::Null, singleton))]),
    };
    items
        .iter()
        .map(|item| {
            let key_value = key.and_then(|k| item.get(k)).cloned();
            let id = match &key_value {
                Some(v) => format!("key:{v}"),
                None => format!("entity:{item}"),
            };
            (id, (key_value.unwrap_or(Value::Null), item))
        })
        .collect()
}

/// The fields that differ between `old` and `new`, below `path`.
fn field_changes(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                either_side(&child, a.get(key), b.get(key), out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                either_side(&format!("{path}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        _ if old != new => out.push(FieldChange {
            path: path.to_owned(),
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
        _ => {}
    }
}

fn either_side(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(a), Some(b)) => field_changes(path, a, b, out),
        (None, None) => {}
        _ => out.push(FieldChange {
            path: path.to_owned(),
            old: old.cloned(),
            new: new.cloned(),
        }),
    }
}

/// The report for people: one block per resource that differs, then a summary line.
pub fn write_human(out: &mut impl Write, report: &Report) -> io::Result<()> {
    for diff in &report.resources {
        let mut counts = Vec::new();
        for (n, what) in [
            (diff.added.len(), "added"),
            (diff.removed.len(), "removed"),
            (diff.changed.len(), "changed"),
        ] {
            if n > 0 {
                counts.push(format!("{n} {what}"));
            }
        }
        writeln!(out, "{}: {}", printable(&diff.resource), counts.join(", "))?;
        let key = diff.key_property.as_deref().unwrap_or("key");
        for e in &diff.added {
            writeln!(out, "  + {}", entity_label(key, &e.key, &e.entity))?;
        }
        for e in &diff.removed {
            writeln!(out, "  - {}", entity_label(key, &e.key, &e.entity))?;
        }
        for c in &diff.changed {
            writeln!(out, "  ~ {}", key_label(key, &c.key))?;
            for f in &c.fields {
                writeln!(
                    out,
                    "      {}: {} -> {}",
                    printable(&f.path),
                    shown(f.old.as_ref()),
                    shown(f.new.as_ref())
                )?;
            }
        }
    }
    for (name, why) in &report.not_compared {
        writeln!(
            out,
            "not compared: {} ({})",
            printable(name),
            printable(why)
        )?;
    }
    if report.equal {
        writeln!(out, "no differences")
    } else {
        writeln!(out, "{} resource(s) differ", report.resources.len())
    }
}

/// `Id=4`; `(settings)` for a singleton.
fn key_label(property: &str, key: &Value) -> String {
    match key {
        Value::Null => "(settings)".to_owned(),
        other => format!("{}={}", printable(property), shown(Some(other))),
    }
}

/// `Id=4 (Name "Lab")`: the key and a name to recognise the entity by, if it has one.
fn entity_label(property: &str, key: &Value, entity: &Value) -> String {
    let name = ["Name", "DisplayName", "Number"]
        .iter()
        .find_map(|p| entity.get(*p).filter(|v| !v.is_null()).map(|v| (p, v)));
    match (key, name) {
        (Value::Null, None) => shown(Some(entity)),
        (key, Some((p, v))) => format!("{} ({p} {})", key_label(property, key), shown(Some(v))),
        (key, None) => key_label(property, key),
    }
}

/// A value on one line: compact JSON, escapes shown, cut after 80 characters; `(absent)` for a
/// field one side does not have.
fn shown(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".to_owned();
    };
    let text = printable(&value.to_string());
    if text.chars().count() > 80 {
        let mut cut: String = text.chars().take(79).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::rules::Read;
    use serde_json::json;

    fn snapshot(users: Value, settings: Value) -> Snapshot {
        let mut s = Snapshot::default();
        s.resources.insert(
            "Users".into(),
            Resource {
                action: "ListUser".into(),
                read: Read::List,
                key: Some("Id".into()),
                data: users,
            },
        );
        s.resources.insert(
            "AISettings".into(),
            Resource {
                action: "GetAISettings".into(),
                read: Read::Get,
                key: None,
                data: settings,
            },
        );
        s
    }

    #[test]
    fn added_removed_and_changed_with_paths() {
        let old = snapshot(
            json!([{"Id": 1, "Name": "a", "Groups": [{"Name": "x"}]}, {"Id": 2, "Name": "b"}]),
            json!({"On": true}),
        );
        let new = snapshot(
            json!([{"Id": 1, "Name": "a", "Groups": [{"Name": "y"}, {"Name": "z"}]}, {"Id": 3}]),
            json!({"On": true}),
        );
        let report = compare(&old, &new);
        assert!(!report.equal);
        assert_eq!(report.resources.len(), 1);
        let users = &report.resources[0];
        assert_eq!(users.added.len(), 1);
        assert_eq!(users.added[0].key, json!(3));
        assert_eq!(users.removed[0].key, json!(2));
        assert_eq!(
            users.changed[0].fields,
            [
                FieldChange {
                    path: "Groups[0].Name".into(),
                    old: Some(json!("x")),
                    new: Some(json!("y"))
                },
                FieldChange {
                    path: "Groups[1]".into(),
                    old: None,
                    new: Some(json!({"Name": "z"}))
                },
            ]
        );
        let mut text = Vec::new();
        write_human(&mut text, &report).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("Users: 1 added, 1 removed, 1 changed"),
            "{text}"
        );
        assert!(text.contains("Groups[0].Name: \"x\" -> \"y\""), "{text}");
        assert!(text.contains("- Id=2 (Name \"b\")"), "{text}");
    }

    #[test]
    fn equal_and_skipped() {
        let a = snapshot(json!([{"Id": 1}]), json!({"On": true}));
        let mut b = snapshot(json!([]), json!({"On": false}));
        b.resources.remove("Users");
        b.skipped.insert("Users".into(), "HTTP 403".into());
        let report = compare(&a, &b);
        assert_eq!(report.resources.len(), 1, "only the settings differ");
        assert_eq!(report.resources[0].changed[0].key, Value::Null);
        assert!(report.not_compared.contains_key("Users"));
        assert!(compare(&a, &a).equal);
    }
}
