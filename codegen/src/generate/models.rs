//! `generated/models.rs` (one Rust type per model) and `generated/model_defs.rs` (the models'
//! JSON Schemas, registered for the registry to resolve `#/$defs/...` references).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use super::rust_names::{doc_line, raw_string, str_lit};
use super::schemas::{canonical_compact, Resource};
use super::types::{ref_target, ModelKind, ModelTable, Ty};
use super::HEADER;

/// Renders every model except those in `skip`.
pub fn render_models(models: &ModelTable, skip: &BTreeSet<String>) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str(
        "//! The 3CX models: structs with every field optional (3CX omits and nulls freely, and newer\n\
         //! versions add fields, which are ignored), enums that keep unknown values, and aliases.\n",
    );
    for (_, model) in models.iter().filter(|(name, _)| !skip.contains(*name)) {
        out.push('\n');
        let doc = model
            .description
            .as_deref()
            .map(|d| format!("/// {}\n", doc_line(d)))
            .unwrap_or_default();
        match &model.kind {
            ModelKind::Struct(fields) => {
                out.push_str(&doc);
                out.push_str(
                    "#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]\n",
                );
                let _ = writeln!(out, "pub struct {} {{", model.rust);
                for f in fields {
                    let _ = writeln!(
                        out,
                        "    #[serde(rename = {}, default, skip_serializing_if = \"Option::is_none\")]",
                        str_lit(&f.json)
                    );
                    let _ = writeln!(
                        out,
                        "    pub {}: Option<{}>,",
                        f.rust,
                        f.ty.render(models, "")
                    );
                }
                out.push_str("}\n");
            }
            ModelKind::Enum(variants) => {
                out.push_str("crate::string_enum!(\n");
                for line in doc.lines() {
                    let _ = writeln!(out, "    {line}");
                }
                let _ = writeln!(out, "    {} {{", model.rust);
                for (ident, value) in variants {
                    let _ = writeln!(out, "        {ident} = {},", str_lit(value));
                }
                out.push_str("    }\n);\n");
            }
            ModelKind::Flags(flags) => {
                out.push_str(&doc);
                if !doc.is_empty() {
                    out.push_str("///\n");
                }
                let list: Vec<String> = flags.iter().map(|f| format!("`{f}`")).collect();
                let _ = writeln!(
                    out,
                    "/// Flags, combined in one string as `\"A, B\"`: {}.",
                    list.join(", ")
                );
                let _ = writeln!(out, "pub type {} = String;", model.rust);
            }
            ModelKind::Alias(ty) => {
                out.push_str(&doc);
                let _ = writeln!(out, "pub type {} = {};", model.rust, ty.render(models, ""));
            }
        }
    }
    out
}

/// The OData collection wrappers (`UserCollectionResponse`: `value` and `@odata.count`) that no
/// generated Rust type refers to. Collection actions return `threecx_core::Collection<T>`, so
/// as structs these would be dead code; their JSON Schemas stay in `model_defs.rs`, where the
/// actions' output schemas refer to them.
pub fn unused_collection_wrappers(models: &ModelTable, resources: &[Resource]) -> BTreeSet<String> {
    let is_wrapper = |name: &str| {
        name.ends_with("CollectionResponse")
            && models.get(name).is_some_and(|m| match &m.kind {
                ModelKind::Struct(fields) => {
                    fields.iter().any(|f| f.json == "value")
                        && fields.iter().all(|f| {
                            ["value", "@odata.count", "@odata.nextLink"].contains(&f.json.as_str())
                        })
                }
                _ => false,
            })
    };
    let mut used = BTreeSet::new();
    for (_, model) in models.iter().filter(|(name, _)| !is_wrapper(name)) {
        match &model.kind {
            ModelKind::Struct(fields) => fields.iter().for_each(|f| models_of(&f.ty, &mut used)),
            ModelKind::Alias(ty) => models_of(ty, &mut used),
            ModelKind::Enum(_) | ModelKind::Flags(_) => {}
        }
    }
    // What actions refer to, counted generously: any `$ref` of a parameter, a non-collection
    // output or a collection's item (a collection's own output schema maps to `Collection<T>`).
    for action in resources.iter().flat_map(|r| &r.actions) {
        action
            .parameters
            .iter()
            .for_each(|p| refs_in(&p.schema, &mut used));
        if action.output.kind != "collection" {
            refs_in(&action.output.schema, &mut used);
        }
        if let Some(item) = &action.output.item {
            refs_in(item, &mut used);
        }
    }
    models
        .iter()
        .map(|(name, _)| name)
        .filter(|name| is_wrapper(name) && !used.contains(*name))
        .cloned()
        .collect()
}

/// The models a Rust type names.
fn models_of(ty: &Ty, out: &mut BTreeSet<String>) {
    match ty {
        Ty::Model(name) => {
            out.insert(name.clone());
        }
        Ty::Boxed(t) | Ty::Vec(t) | Ty::Option(t) => models_of(t, out),
        Ty::Scalar(_) | Ty::Value => {}
    }
}

/// The models a JSON Schema refers to, anywhere inside it.
fn refs_in(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = ref_target(schema) {
                out.insert(name.to_owned());
            }
            map.values().for_each(|v| refs_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs_in(v, out)),
        _ => {}
    }
}

pub fn render_model_defs(defs: &BTreeMap<String, Value>) -> String {
    let map: serde_json::Map<String, Value> =
        defs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let text = canonical_compact(&Value::Object(map));
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str(
        "//! The JSON Schemas of the models (`models.json` `$defs`), for the registry.\n\n",
    );
    let _ = writeln!(
        out,
        "pub(crate) static MODEL_DEFS: &str = {};",
        raw_string(&text)
    );
    out.push('\n');
    out.push_str("inventory::submit! { threecx_registry::ModelDefs(MODEL_DEFS) }\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_unreferenced_collection_wrappers_are_left_out() {
        let wrapper = |item: &str| {
            json!({"type": "object", "properties": {
                "@odata.count": {"type": "integer"},
                "value": {"type": "array", "items": {"$ref": format!("#/$defs/{item}")}}}})
        };
        let mut defs = BTreeMap::new();
        defs.insert(
            "User".to_owned(),
            json!({"type": "object", "properties": {"Id": {"type": "integer"}}}),
        );
        defs.insert("UserCollectionResponse".to_owned(), wrapper("User"));
        defs.insert("GroupCollectionResponse".to_owned(), wrapper("User"));
        // A model that embeds a wrapper keeps it: its field's type needs the struct.
        defs.insert(
            "Page".to_owned(),
            json!({"type": "object", "properties": {"Users": {"$ref": "#/$defs/GroupCollectionResponse"}}}),
        );
        let models = ModelTable::build(&defs).unwrap();
        let unused = unused_collection_wrappers(&models, &[]);
        assert_eq!(
            unused.into_iter().collect::<Vec<_>>(),
            ["UserCollectionResponse"]
        );
        let rendered = render_models(&models, &unused_collection_wrappers(&models, &[]));
        assert!(rendered.contains("pub struct GroupCollectionResponse"));
        assert!(!rendered.contains("pub struct UserCollectionResponse"));
    }
}
