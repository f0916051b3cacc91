//! `generated/models.rs` (one Rust type per model) and `generated/model_defs.rs` (the models'
//! JSON Schemas, registered for the registry to resolve `#/$defs/...` references).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::rust_names::{doc_line, raw_string, str_lit};
use super::schemas::canonical_compact;
use super::types::{ModelKind, ModelTable};
use super::HEADER;

pub fn render_models(models: &ModelTable) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str(
        "//! The 3CX models: structs with every field optional (3CX omits and nulls freely, and newer\n\
         //! versions add fields, which are ignored), enums that keep unknown values, and aliases.\n",
    );
    for (_, model) in models.iter() {
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
