//! JSON Schema (as written in `schemas/`) → Rust types, and the analysis of `models.json`: which
//! model becomes a struct (with `allOf` inheritance flattened), a string enum, a flags string or a
//! type alias, and which fields need a `Box` to break a recursive cycle.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::rust_names::{self, Namer};
use super::Error;

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

/// Names that must not be model or action type names: the generated code and its users refer to
/// these unqualified.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Drop",
    "Eq",
    "Err",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Hash",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Value",
    "Vec",
];

/// A type name that avoids [`RESERVED_TYPE_NAMES`] (`String` → `StringModel`), unique in `namer`.
pub fn unique_type_name(namer: &mut Namer, name: &str) -> String {
    let mut base = rust_names::type_name(name);
    if RESERVED_TYPE_NAMES.contains(&base.as_str()) {
        base.push_str("Model");
    }
    namer.unique(&base)
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

/// Tarjan's algorithm; returns each node's component number.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        on_stack: BTreeSet<&'a str>,
        stack: Vec<&'a str>,
        next: usize,
        component: BTreeMap<String, usize>,
        components: usize,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in &edges[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            loop {
                let w = s.stack.pop().expect("on stack");
                s.on_stack.remove(w);
                s.component.insert(w.to_owned(), s.components);
                if w == v {
                    break;
                }
            }
            s.components += 1;
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        component: BTreeMap::new(),
        components: 0,
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.component
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

#[cfg(test)]
mod tests {
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
