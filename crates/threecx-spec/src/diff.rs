//! How two action sets differ: actions added, removed, and changed (request, flags, input or
//! output schema, or a model either schema refers to).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};
use threecx_codegen::descriptor::Descriptor;

use crate::{SpecError, SpecSet};

/// Added, removed and changed actions as `Resource/Action` names, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpecDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl SpecDiff {
    /// What `new` has that `old` does not, and the reverse.
    pub fn between(old: &SpecSet, new: &SpecSet) -> Result<SpecDiff, SpecError> {
        let (old_models, new_models) = (old.model_map()?, new.model_map()?);
        let by_name = |set: &'_ SpecSet| -> BTreeMap<String, Descriptor> {
            set.actions
                .iter()
                .map(|d| (format!("{}/{}", d.resource, d.action), d.clone()))
                .collect()
        };
        let (old_actions, new_actions) = (by_name(old), by_name(new));
        let mut diff = SpecDiff::default();
        for (name, d) in &new_actions {
            match old_actions.get(name) {
                None => diff.added.push(name.clone()),
                Some(before) => {
                    if before != d
                        || schema_models(before, &old_models) != schema_models(d, &new_models)
                    {
                        diff.changed.push(name.clone());
                    }
                }
            }
        }
        diff.removed = old_actions
            .keys()
            .filter(|name| !new_actions.contains_key(*name))
            .cloned()
            .collect();
        Ok(diff)
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The models an action's schemas refer to, directly or through other models, with their
/// definitions: an action changes when one of them does.
fn schema_models<'m>(
    d: &Descriptor,
    models: &'m Map<String, Value>,
) -> BTreeMap<String, &'m Value> {
    referenced_models([d.input_schema.as_str(), d.output_schema.as_str()], models)
        .into_iter()
        .filter_map(|name| models.get(&name).map(|m| (name, m)))
        .collect()
}

/// Names of the models that schema texts refer to (`#/$defs/<Model>`), transitively.
fn referenced_models<'a>(
    schemas: impl IntoIterator<Item = &'a str>,
    models: &Map<String, Value>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    for text in schemas {
        if let Ok(schema) = serde_json::from_str::<Value>(text) {
            collect_refs(&schema, &mut todo);
        }
    }
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            if let Some(model) = models.get(&name) {
                collect_refs(model, &mut todo);
            }
        }
    }
    seen
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                if let Some(name) = r.strip_prefix("#/$defs/") {
                    out.push(name.to_owned());
                }
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
