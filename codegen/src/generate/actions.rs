//! `generated/actions/<resource>.rs`: per action, a typed input struct, its static
//! `HttpAction` descriptor, its `inventory` registration and its `TypedAction` impl.

use std::fmt::Write as _;

use serde_json::Value;

use super::rust_names::{self, doc_line, raw_string, str_lit, Namer};
use super::schemas::{Action, Parameter, Resource};
use super::types::{self, map_schema, ModelTable, Ty};
use super::{Error, HEADER};
use crate::descriptor::{Descriptor, ParamDescriptor};

/// The Rust module name of a resource: `PurgeSettings` → `purge_settings`.
pub const RESERVED_MODULE_NAMES: &[&str] = &[
    "__private",
    "actions",
    "call",
    "core",
    "generated",
    "macros",
    "model_defs",
    "models",
    "paginate",
    "prepare",
    "registry",
    "registry_api",
    "typed",
];

/// One field of an action struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputField {
    pub json: String,
    pub rust: String,
    pub ty: Ty,
    /// `skip_serializing_if = "Option::is_none"` (optional inputs).
    pub skip_none: bool,
}

/// The input struct fields of an action, in parameter order.
pub fn input_fields(action: &Action, models: &ModelTable) -> Result<Vec<InputField>, Error> {
    let mut namer = Namer::snake();
    let mut out = Vec::new();
    for p in &action.parameters {
        let mut ty = param_type(p, models)
            .map_err(|e| e.context(format!("action {}, parameter {}", action.name, p.name)))?;
        if p.location == "path" && is_entity_key(action, &p.name) {
            // An entity key is never null, whatever the spec's `nullable` says: the typed field
            // is plain (`Users(Number={Number})` → `number: String`). Function parameters keep
            // their nullability (`sourceFilter=null` is meaningful).
            ty = ty.strip_option();
        }
        let (ty, skip_none) = if p.required {
            (ty, false)
        } else {
            (Ty::option(ty), true)
        };
        out.push(InputField {
            rust: namer.unique(&rust_names::snake(&p.name)),
            json: p.name.clone(),
            ty,
            skip_none,
        });
    }
    Ok(out)
}

/// Whether path parameter `name` is an entity key (`/Users({Id})`, `/Users(Number={Number})`,
/// `/Users({Id})/Pbx.Regenerate`) rather than a function parameter (`/Set/Pbx.Func(x={x})`, or
/// any parameter of an unbound `function_import` such as `/GetUpdateDetails(key={key})`).
pub fn is_entity_key(action: &Action, name: &str) -> bool {
    if matches!(action.kind.as_str(), "function_import" | "action_import") {
        return false;
    }
    let placeholder = format!("{{{name}}}");
    action
        .path
        .split('/')
        .find(|segment| segment.contains(&placeholder))
        .is_some_and(|segment| !segment.starts_with("Pbx."))
}

/// The type of a parameter's value (nullable → `Option`), before optionality.
fn param_type(p: &Parameter, models: &ModelTable) -> Result<Ty, Error> {
    if p.location == "query" {
        let fixed = match p.name.as_str() {
            "$top" | "$skip" => Some(Ty::Scalar("i64")),
            "$filter" | "$search" => Some(Ty::Scalar("String")),
            "$count" => Some(Ty::Scalar("bool")),
            "$select" | "$orderby" | "$expand" => Some(Ty::Vec(Box::new(Ty::Scalar("String")))),
            _ => None,
        };
        if let Some(t) = fixed {
            return Ok(t);
        }
    }
    map_schema(&p.schema, models)
}

/// The Rust output type of an action and, for collections, the item type.
pub fn output_type(
    action: &Action,
    models: &ModelTable,
) -> Result<(String, Option<String>), Error> {
    let model_ty = |schema: &Value| -> Result<Option<String>, Error> {
        let ty = map_schema(schema, models)?;
        Ok(match ty {
            Ty::Model(_) => Some(ty.render(models, "crate::models::")),
            Ty::Option(ref inner) if matches!(**inner, Ty::Model(_)) => {
                Some(ty.render(models, "crate::models::"))
            }
            _ => None,
        })
    };
    Ok(match action.output.kind.as_str() {
        "empty" => ("()".to_owned(), None),
        "download" => ("threecx_core::Download".to_owned(), None),
        "json" => (
            model_ty(&action.output.schema)?.unwrap_or_else(|| "serde_json::Value".to_owned()),
            None,
        ),
        "collection" => {
            let item = match &action.output.item {
                Some(item) => match map_schema(item, models)? {
                    t @ (Ty::Model(_) | Ty::Scalar(_)) => t.render(models, "crate::models::"),
                    _ => "serde_json::Value".to_owned(),
                },
                None => "serde_json::Value".to_owned(),
            };
            (format!("threecx_core::Collection<{item}>"), Some(item))
        }
        other => {
            return Err(Error::new(format!(
                "action {}: unknown output kind `{other}`",
                action.name
            )))
        }
    })
}

/// Names of a resource's generated items: module, and per action (struct, static).
#[derive(Debug, Clone)]
pub struct ResourceNames {
    pub module: String,
    pub actions: Vec<(String, String)>,
}

/// Module names for every resource, unique and clear of the crate's own items.
pub fn resource_names(resources: &[Resource]) -> Vec<ResourceNames> {
    let mut modules = Namer::snake();
    modules.reserve(RESERVED_MODULE_NAMES);
    resources
        .iter()
        .map(|r| {
            let module = modules.unique(&rust_names::snake(&r.name));
            let mut structs = Namer::camel();
            structs.reserve(types::RESERVED_TYPE_NAMES);
            let mut statics = Namer::snake();
            let actions = r
                .actions
                .iter()
                .map(|a| {
                    (
                        types::unique_type_name(&mut structs, &a.name),
                        statics.unique(&rust_names::screaming(&a.name)),
                    )
                })
                .collect();
            ResourceNames { module, actions }
        })
        .collect()
}

/// The source of one resource module.
pub fn render_resource(
    resource: &Resource,
    names: &ResourceNames,
    models: &ModelTable,
) -> Result<String, Error> {
    let mut out = String::new();
    out.push_str(HEADER);
    let _ = writeln!(out, "//! {}", doc_line(&resource.description));
    for (action, (struct_name, static_name)) in resource.actions.iter().zip(&names.actions) {
        out.push('\n');
        render_action(&mut out, resource, action, struct_name, static_name, models)
            .map_err(|e| e.context(format!("resource {}", resource.name)))?;
    }
    Ok(out)
}

fn render_action(
    out: &mut String,
    resource: &Resource,
    action: &Action,
    struct_name: &str,
    static_name: &str,
    models: &ModelTable,
) -> Result<(), Error> {
    let fields = input_fields(action, models)?;
    let (output, item) = output_type(action, models)?;
    render_input_struct(out, action, struct_name, &fields, models);
    out.push('\n');
    render_descriptor(out, resource, action, static_name)?;
    out.push('\n');
    render_typed_impls(out, struct_name, static_name, &output, item.as_deref());
    Ok(())
}

/// The action's input struct: one field per parameter, renamed where the JSON name is not a
/// Rust one; `Default` when every field is optional.
fn render_input_struct(
    out: &mut String,
    action: &Action,
    struct_name: &str,
    fields: &[InputField],
    models: &ModelTable,
) {
    let all_default = fields.iter().all(|f| f.ty.is_option());
    let derives = if all_default {
        "Debug, Clone, Default, serde::Serialize"
    } else {
        "Debug, Clone, serde::Serialize"
    };
    let _ = writeln!(out, "/// {}", doc_line(&action.description));
    let _ = writeln!(out, "#[derive({derives})]");
    if fields.is_empty() {
        let _ = writeln!(out, "pub struct {struct_name} {{}}");
    } else {
        let _ = writeln!(out, "pub struct {struct_name} {{");
        for f in fields {
            let bare = f.rust.trim_start_matches("r#");
            let mut attrs = Vec::new();
            if bare != f.json {
                attrs.push(format!("rename = {}", str_lit(&f.json)));
            }
            if f.skip_none {
                attrs.push("skip_serializing_if = \"Option::is_none\"".to_owned());
            }
            if !attrs.is_empty() {
                let _ = writeln!(out, "    #[serde({})]", attrs.join(", "));
            }
            let _ = writeln!(
                out,
                "    pub {}: {},",
                f.rust,
                f.ty.render(models, "crate::models::")
            );
        }
        out.push_str("}\n");
    }
}

/// The action's `HttpAction` static (meta, request template, schemas) and its registration,
/// printed from its [`Descriptor`] (the same one a spec imported at run time leaks).
fn render_descriptor(
    out: &mut String,
    resource: &Resource,
    action: &Action,
    static_name: &str,
) -> Result<(), Error> {
    let d = Descriptor::new(resource, action)?;
    let _ = writeln!(
        out,
        "pub static {static_name}: threecx_registry::HttpAction = threecx_registry::HttpAction {{"
    );
    render_meta(out, &d);
    render_template(out, &d);
    let _ = writeln!(out, "    input_schema: {},", raw_string(&d.input_schema));
    let _ = writeln!(out, "    output_schema: {},", raw_string(&d.output_schema));
    out.push_str("};\n");
    let _ = writeln!(
        out,
        "inventory::submit! {{ threecx_registry::Registration(&{static_name}) }}"
    );
    Ok(())
}

/// The `ActionMeta` of the descriptor: names, description, kind and flags.
fn render_meta(out: &mut String, d: &Descriptor) {
    out.push_str("    meta: threecx_registry::ActionMeta {\n");
    let _ = writeln!(out, "        resource: {},", str_lit(&d.resource));
    let _ = writeln!(out, "        action: {},", str_lit(&d.action));
    let _ = writeln!(
        out,
        "        resource_display: {},",
        str_lit(&d.resource_display)
    );
    let _ = writeln!(
        out,
        "        action_display: {},",
        str_lit(&d.action_display)
    );
    let _ = writeln!(out, "        description: {},", str_lit(&d.description));
    let _ = writeln!(
        out,
        "        kind: threecx_registry::ActionKind::{:?},",
        d.kind
    );
    let _ = writeln!(out, "        destructive: {},", d.destructive);
    let _ = writeln!(out, "        idempotent: {},", d.idempotent);
    out.push_str("    },\n");
}

/// The `RequestTemplate` of the descriptor: method, path, parameters, response and retry.
fn render_template(out: &mut String, d: &Descriptor) {
    out.push_str("    template: threecx_core::RequestTemplate {\n");
    let _ = writeln!(out, "        method: threecx_core::Method::{:?},", d.method);
    let _ = writeln!(out, "        path: {},", str_lit(&d.path));
    render_params(out, &d.params);
    let _ = writeln!(
        out,
        "        response: threecx_core::ResponseKind::{:?},",
        d.response
    );
    let _ = writeln!(out, "        retry_safe: {},", d.retry_safe);
    out.push_str("    },\n");
}

/// The template's `params` slice: where each parameter goes and how it is written.
fn render_params(out: &mut String, params: &[ParamDescriptor]) {
    if params.is_empty() {
        out.push_str("        params: &[],\n");
        return;
    }
    out.push_str("        params: &[\n");
    for p in params {
        out.push_str("            threecx_core::Param {\n");
        let _ = writeln!(out, "                name: {},", str_lit(&p.name));
        let _ = writeln!(
            out,
            "                location: threecx_core::Location::{:?},",
            p.location
        );
        let _ = writeln!(
            out,
            "                literal: threecx_core::Literal::{:?},",
            p.literal
        );
        let _ = writeln!(out, "                required: {},", p.required);
        out.push_str("            },\n");
    }
    out.push_str("        ],\n");
}

/// `TypedAction` for the input struct, and `TypedList` when the action lists items.
fn render_typed_impls(
    out: &mut String,
    struct_name: &str,
    static_name: &str,
    output: &str,
    item: Option<&str>,
) {
    let _ = writeln!(out, "impl crate::TypedAction for {struct_name} {{");
    let _ = writeln!(
        out,
        "    const ACTION: &'static threecx_registry::HttpAction = &{static_name};"
    );
    let _ = writeln!(out, "    type Output = {output};");
    out.push_str("}\n");
    if let Some(item) = item {
        out.push('\n');
        let _ = writeln!(out, "impl crate::TypedList for {struct_name} {{");
        let _ = writeln!(out, "    type Item = {item};");
        out.push_str("}\n");
    }
}

/// `generated/actions/mod.rs`.
pub fn render_mod(names: &[ResourceNames]) -> String {
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str(
        "//! One module per 3CX resource (spec tag), one struct and descriptor per action.\n\n",
    );
    let mut modules: Vec<&str> = names.iter().map(|n| n.module.as_str()).collect();
    modules.sort();
    for m in modules {
        let _ = writeln!(out, "pub mod {m};");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::schemas::Output;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn models() -> ModelTable {
        let mut defs = BTreeMap::new();
        defs.insert(
            "User".to_owned(),
            json!({"type": "object", "properties": {"Id": {"type": "integer", "format": "int32"}}}),
        );
        ModelTable::build(&defs).unwrap()
    }

    fn param(name: &str, location: &str, required: bool, schema: Value) -> Parameter {
        Parameter {
            name: name.into(),
            location: location.into(),
            required,
            literal: (location == "path").then(|| "bare".to_owned()),
            wire_name: None,
            schema,
        }
    }

    fn action(parameters: Vec<Parameter>, output: Output) -> Action {
        Action {
            name: "GetUser".into(),
            display_name: "Get User".into(),
            description: "Get user. GET /Users({Id})".into(),
            method: "GET".into(),
            path: "/Users({Id})".into(),
            kind: "get".into(),
            parameters,
            input_schema: json!({}),
            output,
            destructive: false,
            idempotent: true,
            retry_safe: true,
        }
    }

    fn json_output(schema: Value) -> Output {
        Output {
            kind: "json".into(),
            schema,
            item: None,
        }
    }

    #[test]
    fn input_fields_follow_the_input_schema_shape() {
        let m = models();
        let a = action(
            vec![
                param(
                    "Id",
                    "path",
                    true,
                    json!({"type": "integer", "format": "int32"}),
                ),
                param(
                    "extension",
                    "path",
                    true,
                    json!({"type": ["string", "null"]}),
                ),
                param(
                    "$top",
                    "query",
                    false,
                    json!({"type": "integer", "minimum": 0}),
                ),
                param("$select", "query", false, json!({"anyOf": []})),
                param("$count", "query", false, json!({"type": "boolean"})),
                param("If-Match", "header", false, json!({"type": "string"})),
                param("body", "entity", true, json!({"$ref": "#/$defs/User"})),
            ],
            json_output(json!({"$ref": "#/$defs/User"})),
        );
        let f: Vec<(String, String, bool)> = input_fields(&a, &m)
            .unwrap()
            .into_iter()
            .map(|f| (f.rust, f.ty.render(&m, "crate::models::"), f.skip_none))
            .collect();
        let expect = [
            ("id", "i32", false),
            ("extension", "Option<String>", false),
            ("top", "Option<i64>", true),
            ("select", "Option<Vec<String>>", true),
            ("count", "Option<bool>", true),
            ("if_match", "Option<String>", true),
            ("body", "crate::models::User", false),
        ];
        let expect: Vec<(String, String, bool)> = expect
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
            .collect();
        assert_eq!(f, expect);
    }

    #[test]
    fn entity_keys_are_plain_and_function_parameters_keep_null() {
        let m = models();
        let nullable = json!({"type": ["string", "null"]});
        let mut a = action(
            vec![param("Number", "path", true, nullable.clone())],
            json_output(json!({"$ref": "#/$defs/User"})),
        );
        a.path = "/Users(Number={Number})".into();
        assert!(is_entity_key(&a, "Number"));
        assert_eq!(input_fields(&a, &m).unwrap()[0].ty, Ty::Scalar("String"));

        a.kind = "function".into();
        a.path = "/Users({Id})/Pbx.Find(Number={Number})".into();
        assert!(is_entity_key(&a, "Id"));
        assert!(!is_entity_key(&a, "Number"));
        assert_eq!(
            input_fields(&a, &m).unwrap()[0].ty,
            Ty::option(Ty::Scalar("String"))
        );

        a.kind = "function_import".into();
        a.path = "/GetUpdateDetails(key={Number})".into();
        assert!(!is_entity_key(&a, "Number"));
    }

    #[test]
    fn output_types() {
        let m = models();
        let out = |o: Output| output_type(&action(vec![], o), &m).unwrap();
        assert_eq!(
            out(json_output(json!({"$ref": "#/$defs/User"}))),
            ("crate::models::User".to_owned(), None)
        );
        assert_eq!(
            out(json_output(json!({"type": "object"}))),
            ("serde_json::Value".to_owned(), None)
        );
        let coll = |item: Value| Output {
            kind: "collection".into(),
            schema: json!({}),
            item: Some(item),
        };
        assert_eq!(
            out(coll(json!({"$ref": "#/$defs/User"}))),
            (
                "threecx_core::Collection<crate::models::User>".to_owned(),
                Some("crate::models::User".to_owned())
            )
        );
        assert_eq!(
            out(coll(json!({"type": "string"}))).0,
            "threecx_core::Collection<String>"
        );
        assert_eq!(
            out(coll(json!({"type": ["string", "null"]}))).0,
            "threecx_core::Collection<serde_json::Value>"
        );
        let kind = |k: &str| Output {
            kind: k.into(),
            schema: json!({}),
            item: None,
        };
        assert_eq!(out(kind("empty")).0, "()");
        assert_eq!(out(kind("download")).0, "threecx_core::Download");
    }
}
