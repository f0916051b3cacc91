//! The analysis of `models.json`: which model becomes a struct (with `allOf` inheritance
//! flattened), a string enum, a flags string or a type alias, and which fields need a `Box` to
//! break a recursive cycle.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::scc::strongly_connected;
use super::type_names::unique_type_name;
use super::{map_schema, ref_target, Ty};
use crate::generate::rust_names::{self, Namer};
use crate::generate::Error;

/// One field of a model struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The JSON property name.
    pub json: String,
    /// The Rust field name (escaped).
    pub rust: String,
    /// The type inside the field's `Option`.
    pub ty: Ty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelKind {
    Struct(Vec<Field>),
    /// A string enum: (variant ident, value).
    Enum(Vec<(String, String)>),
    /// A flags enum, written as a string such as `"A, B"`.
    Flags(Vec<String>),
    Alias(Ty),
}

#[derive(Debug, Clone)]
pub struct Model {
    pub rust: String,
    pub description: Option<String>,
    pub kind: ModelKind,
}

/// Every model of `models.json`, analysed.
#[derive(Debug, Clone, Default)]
pub struct ModelTable {
    models: BTreeMap<String, Model>,
}

impl ModelTable {
    pub fn contains(&self, name: &str) -> bool {
        self.models.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&Model> {
        self.models.get(name)
    }

    pub fn rust_name(&self, name: &str) -> &str {
        &self.models[name].rust
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Model)> {
        self.models.iter()
    }

    /// Analyses `$defs`: names, kinds, flattened inheritance, boxed cycles.
    pub fn build(defs: &BTreeMap<String, Value>) -> Result<ModelTable, Error> {
        let mut table = ModelTable::default();
        let mut namer = Namer::camel();
        for name in defs.keys() {
            let rust = unique_type_name(&mut namer, name);
            table.models.insert(
                name.clone(),
                Model {
                    rust,
                    description: defs[name]
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    kind: ModelKind::Alias(Ty::Value),
                },
            );
        }
        // Kinds; structs get their flattened fields.
        let mut flat = BTreeMap::new();
        for name in defs.keys() {
            let kind = if is_struct_schema(&defs[name]) {
                let props = flattened_properties(name, defs, &mut flat, &mut Vec::new())?;
                if props.is_empty() {
                    ModelKind::Alias(Ty::Value)
                } else {
                    let mut fnamer = Namer::snake();
                    let mut fields = Vec::new();
                    for (json, schema) in props {
                        let ty = map_schema(&schema, &table)
                            .map_err(|e| e.context(format!("model {name}, property {json}")))?
                            .strip_option();
                        fields.push(Field {
                            rust: fnamer.unique(&rust_names::snake(&json)),
                            json,
                            ty,
                        });
                    }
                    ModelKind::Struct(fields)
                }
            } else {
                classify_non_struct(&defs[name], &table)
                    .map_err(|e| e.context(format!("model {name}")))?
            };
            table.models.get_mut(name).expect("named above").kind = kind;
        }
        table.check_alias_cycles()?;
        table.box_cycles();
        Ok(table)
    }

    /// Models reached by value (not through `Vec` or `Box`) from a type, through aliases.
    fn value_targets(&self, ty: &Ty, out: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
        match ty {
            Ty::Model(m) => {
                if !seen.insert(m.clone()) {
                    return;
                }
                match &self.models[m].kind {
                    ModelKind::Struct(_) => {
                        out.insert(m.clone());
                    }
                    ModelKind::Alias(t) => self.value_targets(t, out, seen),
                    ModelKind::Enum(_) | ModelKind::Flags(_) => {}
                }
            }
            Ty::Option(t) => self.value_targets(t, out, seen),
            Ty::Scalar(_) | Ty::Value | Ty::Boxed(_) | Ty::Vec(_) => {}
        }
    }

    /// `pub type A = B; pub type B = A;` cannot be written: refuse it.
    fn check_alias_cycles(&self) -> Result<(), Error> {
        for (name, model) in &self.models {
            if let ModelKind::Alias(ty) = &model.kind {
                let mut stack = vec![ty.clone()];
                let mut seen = BTreeSet::new();
                while let Some(t) = stack.pop() {
                    match t {
                        Ty::Model(m) => {
                            if m == *name {
                                return Err(Error::new(format!(
                                    "model {name} is an alias of itself"
                                )));
                            }
                            if seen.insert(m.clone()) {
                                if let ModelKind::Alias(inner) = &self.models[&m].kind {
                                    stack.push(inner.clone());
                                }
                            }
                        }
                        Ty::Option(inner) | Ty::Vec(inner) | Ty::Boxed(inner) => stack.push(*inner),
                        Ty::Scalar(_) | Ty::Value => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Boxes every by-value field that stays inside its struct's strongly connected component of
    /// the "contains by value" graph, so no struct has infinite size.
    fn box_cycles(&mut self) {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (name, model) in &self.models {
            if let ModelKind::Struct(fields) = &model.kind {
                let mut targets = BTreeSet::new();
                for f in fields {
                    self.value_targets(&f.ty, &mut targets, &mut BTreeSet::new());
                }
                edges.insert(name.clone(), targets);
            }
        }
        let component = strongly_connected(&edges);
        let mut updates = Vec::new();
        for (name, model) in &self.models {
            if let ModelKind::Struct(fields) = &model.kind {
                let mut new_fields = fields.clone();
                let mut changed = false;
                for f in &mut new_fields {
                    let mut targets = BTreeSet::new();
                    self.value_targets(&f.ty, &mut targets, &mut BTreeSet::new());
                    if targets.iter().any(|t| component[t] == component[name]) {
                        f.ty = box_value_model(f.ty.clone());
                        changed = true;
                    }
                }
                if changed {
                    updates.push((name.clone(), new_fields));
                }
            }
        }
        for (name, fields) in updates {
            self.models.get_mut(&name).expect("exists").kind = ModelKind::Struct(fields);
        }
    }
}

/// `Option<M>` → `Option<Box<M>>`, `M` → `Box<M>`.
fn box_value_model(ty: Ty) -> Ty {
    match ty {
        Ty::Option(inner) => Ty::Option(Box::new(box_value_model(*inner))),
        Ty::Model(m) => Ty::Boxed(Box::new(Ty::Model(m))),
        other => other,
    }
}

/// An object with `properties`, or an `allOf` that is more than a single reference.
fn is_struct_schema(schema: &Value) -> bool {
    if schema.get("enum").is_some() || schema.get("x-threecx-flags").is_some() {
        return false;
    }
    if schema.get("properties").is_some_and(Value::is_object) {
        return true;
    }
    match schema.get("allOf").and_then(Value::as_array) {
        Some(parts) => parts.len() > 1 || parts.iter().any(is_struct_schema),
        None => false,
    }
}

/// Properties of a struct model, inherited ones first (transitively), each group sorted by name;
/// a redefined property keeps its first position and takes the later schema.
fn flattened_properties(
    name: &str,
    defs: &BTreeMap<String, Value>,
    memo: &mut BTreeMap<String, Vec<(String, Value)>>,
    visiting: &mut Vec<String>,
) -> Result<Vec<(String, Value)>, Error> {
    if let Some(done) = memo.get(name) {
        return Ok(done.clone());
    }
    if visiting.iter().any(|v| v == name) {
        return Err(Error::new(format!(
            "model {name} inherits from itself ({} → {name})",
            visiting.join(" → ")
        )));
    }
    visiting.push(name.to_owned());
    let mut out = Vec::new();
    flatten_schema(name, &defs[name], defs, memo, visiting, &mut out)?;
    visiting.pop();
    memo.insert(name.to_owned(), out.clone());
    Ok(out)
}

fn flatten_schema(
    model: &str,
    schema: &Value,
    defs: &BTreeMap<String, Value>,
    memo: &mut BTreeMap<String, Vec<(String, Value)>>,
    visiting: &mut Vec<String>,
    out: &mut Vec<(String, Value)>,
) -> Result<(), Error> {
    let push = |out: &mut Vec<(String, Value)>, k: String, v: Value| {
        if let Some(slot) = out.iter_mut().find(|(name, _)| *name == k) {
            slot.1 = v;
        } else {
            out.push((k, v));
        }
    };
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for part in parts {
            if let Some(base) = ref_target(part) {
                let base_schema = defs.get(base).ok_or_else(|| {
                    Error::new(format!(
                        "model {model} inherits from unknown model `{base}`"
                    ))
                })?;
                if !is_struct_schema(base_schema) {
                    return Err(Error::new(format!(
                        "model {model} inherits from `{base}`, which is not an object model"
                    )));
                }
                for (k, v) in flattened_properties(base, defs, memo, visiting)? {
                    push(out, k, v);
                }
            } else {
                flatten_schema(model, part, defs, memo, visiting, out)?;
            }
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let mut keys: Vec<&String> = props.keys().collect();
        keys.sort();
        for k in keys {
            push(out, k.clone(), props[k.as_str()].clone());
        }
    }
    Ok(())
}

fn classify_non_struct(schema: &Value, models: &ModelTable) -> Result<ModelKind, Error> {
    if let Some(flags) = schema.get("x-threecx-flags").and_then(Value::as_array) {
        return Ok(ModelKind::Flags(
            flags
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let all_strings = values.iter().all(|v| v.is_string() || v.is_null());
        let ty = map_schema(schema, models)?.strip_option();
        if all_strings && ty == Ty::Scalar("String") {
            let mut namer = Namer::camel();
            namer.reserve(&["Unknown"]);
            let mut seen = BTreeSet::new();
            let mut variants = Vec::new();
            for v in values.iter().filter_map(Value::as_str) {
                if !seen.insert(v) {
                    continue;
                }
                let base = match rust_names::variant_name(v) {
                    n if n == "Unknown" => "UnknownValue".to_owned(),
                    n => n,
                };
                variants.push((namer.unique(&base), v.to_owned()));
            }
            if variants.is_empty() {
                return Ok(ModelKind::Alias(Ty::Scalar("String")));
            }
            return Ok(ModelKind::Enum(variants));
        }
        return Ok(ModelKind::Alias(ty));
    }
    Ok(ModelKind::Alias(map_schema(schema, models)?))
}
