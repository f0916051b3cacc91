//! One action of `schemas/` from one OpenAPI operation: its name and resource, kind, parameters
//! (renamed where they collide), input schema and output.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::convert::{referenced_component, Converter};
use crate::format::{
    canonical, download_schema, Action, ActionKind, Literal, Location, Output, OutputKind,
    Parameter,
};
use crate::names;
use crate::openapi::Spec;
use crate::rules::Rules;
use crate::{Error, Result};

/// OData query options given as a list or one comma-separated string.
const LIST_OPTIONS: &[&str] = &["$select", "$orderby", "$expand"];
/// String formats written bare in an OData URL (`2024-01-01T00:00:00Z`, a GUID, `PT1H`).
const BARE_FORMATS: &[&str] = &["date-time", "date", "time", "uuid", "duration"];

/// Builds one action from one operation.
pub(super) struct ActionBuilder<'a> {
    pub(super) spec: &'a Spec,
    pub(super) converter: &'a Converter<'a>,
    pub(super) rules: &'a Rules,
    pub(super) paths: &'a Map<String, Value>,
    pub(super) path: &'a str,
    pub(super) method: &'a str,
    pub(super) op: &'a Value,
    pub(super) path_parameters: Option<&'a Value>,
}

/// (true = a renamed parameter collision, false = a warning, message)
pub(super) type Notes = Vec<(bool, String)>;

impl ActionBuilder<'_> {
    pub(super) fn build(&self) -> Result<(String, Action, Notes)> {
        let mut notes = Notes::new();
        let name = self
            .op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new("no operationId"))?
            .to_string();
        let tags: Vec<&str> = self
            .op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let tag = tags
            .first()
            .ok_or_else(|| Error::new(format!("{name} has no tag")))?
            .to_string();
        if tags.len() > 1 {
            notes.push((
                false,
                format!("{name}: several tags, filed under the first ({tag})"),
            ));
        }
        if tag.is_empty()
            || tag.starts_with('.')
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(Error::new(format!("tag {tag:?} cannot be a file name")));
        }

        let (status, response) = self.success_response()?;
        let output = self.output(&name, status, response)?;
        let kind = self.kind(status, output.kind == OutputKind::Collection);
        if let Some(declared) = self
            .op
            .get("x-ms-docs-operation-type")
            .and_then(Value::as_str)
        {
            if !declared_kind_matches(declared, kind) {
                notes.push((
                    false,
                    format!("{name}: derived kind {kind:?}, the spec says {declared}"),
                ));
            }
        }
        let mut parameters = self.parameters()?;
        resolve_collisions(&name, &mut parameters, &mut notes)?;

        let keep = &self.rules.display_names.keep_words;
        let display_name = names::display_name(&name, keep);
        let action = Action {
            description: names::action_description(&display_name, self.method, self.path),
            display_name,
            method: self.method.to_string(),
            path: self.path.to_string(),
            kind,
            input_schema: input_schema(&parameters),
            parameters,
            output,
            destructive: self.rules.is_destructive(self.method, &name),
            idempotent: self.rules.is_idempotent(self.method, &name),
            retry_safe: self.rules.is_retry_safe(self.method, &name),
            name,
        };
        Ok((tag, action, notes))
    }

    /// The lowest 2xx response the spec declares.
    fn success_response(&self) -> Result<(u16, &Value)> {
        let responses = self
            .op
            .get("responses")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::new("no responses"))?;
        let (status, response) = responses
            .iter()
            .filter_map(|(code, r)| Some((code.parse::<u16>().ok()?, r)))
            .filter(|(code, _)| (200..300).contains(code))
            .min_by_key(|(code, _)| *code)
            .ok_or_else(|| Error::new("no 2xx response"))?;
        Ok((status, self.spec.resolve(response, "responses")?))
    }

    fn output(&self, name: &str, status: u16, response: &Value) -> Result<Output> {
        let content = response
            .get("content")
            .and_then(Value::as_object)
            .filter(|c| !c.is_empty());
        let Some(content) = content else {
            return Ok(Output {
                kind: OutputKind::Empty,
                status,
                schema: json!({"type": "null"}),
                item: None,
            });
        };
        let json_media = content
            .iter()
            .find(|(media, _)| media.as_str() == "application/json")
            .or_else(|| content.iter().find(|(media, _)| media.contains("json")));
        let schema = json_media.and_then(|(_, m)| m.get("schema"));
        let component = schema.and_then(referenced_component);
        // Anything but JSON is a file; so is whatever the config calls a download.
        if json_media.is_none() || self.rules.is_download(name, component) {
            return Ok(Output {
                kind: OutputKind::Download,
                status,
                schema: download_schema(),
                item: None,
            });
        }
        let Some(schema) = schema else {
            return Ok(Output {
                kind: OutputKind::Json,
                status,
                schema: json!({}),
                item: None,
            });
        };
        let converted = canonical(self.converter.convert(schema)?);
        if let Some(item) = self.collection_item(schema)? {
            return Ok(Output {
                kind: OutputKind::Collection,
                status,
                schema: converted,
                item: Some(canonical(self.converter.convert(item)?)),
            });
        }
        Ok(Output {
            kind: OutputKind::Json,
            status,
            schema: converted,
            item: None,
        })
    }

    /// The item schema when a response is an OData collection: an object (directly, or via a
    /// component or `allOf` parts) whose `value` is an array.
    fn collection_item<'s>(&'s self, schema: &'s Value) -> Result<Option<&'s Value>> {
        let schema = match referenced_component(schema) {
            Some(c) => self.component_schema(c)?,
            None => schema,
        };
        let mut parts = vec![schema];
        if let Some(all_of) = schema.get("allOf").and_then(Value::as_array) {
            for part in all_of {
                parts.push(match referenced_component(part) {
                    Some(c) => self.component_schema(c)?,
                    None => part,
                });
            }
        }
        Ok(parts.into_iter().find_map(|p| {
            let value = p.get("properties")?.get("value")?;
            (value.get("type")? == "array").then(|| value.get("items"))?
        }))
    }

    fn component_schema(&self, component: &str) -> Result<&Value> {
        self.spec
            .doc
            .pointer(&format!(
                "/components/schemas/{}",
                component.replace('~', "~0").replace('/', "~1")
            ))
            .ok_or_else(|| Error::new(format!("no component schema {component}")))
    }

    /// The kind, from the path's shape: a namespace-qualified segment (`/Pbx.Name`) is a bound
    /// function/action; a root segment that is no entity set or singleton is an import.
    fn kind(&self, status: u16, collection: bool) -> ActionKind {
        let segments: Vec<&str> = self.path.trim_start_matches('/').split('/').collect();
        let qualified = |s: &&str| s.split('(').next().unwrap_or("").contains('.');
        let bound = segments.iter().skip(1).any(qualified);
        match (self.method, bound) {
            ("GET", true) => return ActionKind::Function,
            ("POST", true) => return ActionKind::Action,
            _ => {}
        }
        if segments.len() == 1 {
            let first = segments[0];
            let base = first.split('(').next().unwrap_or(first);
            let member_elsewhere = self.paths.keys().any(|p| {
                p != self.path
                    && (p == &format!("/{base}")
                        || p.starts_with(&format!("/{base}("))
                        || p.starts_with(&format!("/{base}/")))
            });
            let has_get = self
                .paths
                .get(self.path)
                .and_then(|item| item.get("get"))
                .is_some();
            if self.method == "GET" && first.ends_with(')') && !member_elsewhere {
                return ActionKind::FunctionImport;
            }
            if self.method == "POST" && !first.contains('(') && status != 201 && !has_get {
                return ActionKind::ActionImport;
            }
        }
        match self.method {
            "GET" if collection => ActionKind::List,
            "GET" => ActionKind::Get,
            "POST" => ActionKind::Create,
            "DELETE" => ActionKind::Delete,
            _ => ActionKind::Update,
        }
    }

    /// Path (template order), query and header (spec order), body (by name), entity.
    fn parameters(&self) -> Result<Vec<Parameter>> {
        // Operation parameters override path-item ones with the same name and location.
        let mut merged: Vec<&Value> = Vec::new();
        for list in [self.path_parameters, self.op.get("parameters")]
            .into_iter()
            .flatten()
        {
            let list = list
                .as_array()
                .ok_or_else(|| Error::new("parameters must be a list"))?;
            for p in list {
                let p = self.spec.resolve(p, "parameters")?;
                let id = |v: &Value| (v.get("name").cloned(), v.get("in").cloned());
                merged.retain(|q| id(q) != id(p));
                merged.push(p);
            }
        }

        let template = template_names(self.path);
        let mut path_params = Vec::new();
        let mut others = Vec::new();
        for p in merged {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::new("a parameter has no name"))?;
            let location = match p.get("in").and_then(Value::as_str) {
                Some("path") => Location::Path,
                Some("query") => Location::Query,
                Some("header") => Location::Header,
                other => {
                    return Err(Error::new(format!(
                        "parameter {name}: location {other:?} is not supported"
                    )))
                }
            };
            let raw_schema = p.get("schema").cloned().unwrap_or_else(|| json!({}));
            let schema = if location == Location::Query && LIST_OPTIONS.contains(&name) {
                json!({"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]})
            } else {
                self.converter.convert(&raw_schema)?
            };
            let parameter = Parameter {
                name: name.to_string(),
                wire_name: None,
                location,
                required: location == Location::Path
                    || p.get("required").and_then(Value::as_bool).unwrap_or(false),
                literal: (location == Location::Path)
                    .then(|| self.literal(&raw_schema))
                    .transpose()?,
                schema: canonical(schema),
            };
            if location == Location::Path {
                path_params.push(parameter);
            } else {
                others.push(parameter);
            }
        }
        for p in &path_params {
            if !template.contains(&p.name) {
                return Err(Error::new(format!(
                    "path parameter {} is not in the path template",
                    p.name
                )));
            }
        }
        let mut out = Vec::new();
        for name in &template {
            let i = path_params
                .iter()
                .position(|p| &p.name == name)
                .ok_or_else(|| Error::new(format!("path template {{{name}}} has no parameter")))?;
            out.push(path_params.remove(i));
        }
        // Stable: query before header, spec order within each.
        others.sort_by_key(|p| p.location);
        out.extend(others);
        out.extend(self.body_parameters()?);
        Ok(out)
    }

    /// An OData action's parameter object becomes one `body` parameter per property; any other
    /// body (an entity to create or update) is the single `entity` parameter `body`.
    fn body_parameters(&self) -> Result<Vec<Parameter>> {
        let Some(body) = self.op.get("requestBody") else {
            return Ok(Vec::new());
        };
        let body = self.spec.resolve(body, "requestBodies")?;
        let content = body
            .get("content")
            .and_then(Value::as_object)
            .ok_or_else(|| Error::new("requestBody without content"))?;
        let media = content
            .get("application/json")
            .or_else(|| content.values().next())
            .ok_or_else(|| Error::new("requestBody without a media type"))?;
        let schema = media.get("schema").cloned().unwrap_or_else(|| json!({}));
        let parameter_object = schema.get("$ref").is_none()
            && schema.get("allOf").is_none()
            && schema.get("oneOf").is_none()
            && schema.get("anyOf").is_none()
            && (schema.get("type") == Some(&json!("object")) || schema.get("properties").is_some());
        if !parameter_object {
            return Ok(vec![Parameter {
                name: "body".into(),
                wire_name: None,
                location: Location::Entity,
                required: body
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                literal: None,
                schema: canonical(self.converter.convert(&schema)?),
            }]);
        }
        let required: BTreeSet<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                out.push(Parameter {
                    name: name.clone(),
                    wire_name: None,
                    location: Location::Body,
                    required: required.contains(name.as_str()),
                    literal: None,
                    schema: canonical(self.converter.convert(prop)?),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// How a path value is written into the URL (FORMAT.md, `literal`).
    fn literal(&self, schema: &Value) -> Result<Literal> {
        let schema = match referenced_component(schema) {
            Some(c) => self.component_schema(c)?,
            None => schema,
        };
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        let bare = types
            .iter()
            .any(|t| ["integer", "number", "boolean"].contains(t))
            || (types.contains(&"string") && BARE_FORMATS.contains(&format));
        Ok(if bare { Literal::Bare } else { Literal::Quoted })
    }
}

/// `{Name}` placeholders of a path template, in order.
fn template_names(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

fn declared_kind_matches(declared: &str, kind: ActionKind) -> bool {
    use ActionKind::*;
    match declared {
        "function" => kind == Function,
        "action" => kind == Action,
        "functionImport" => kind == FunctionImport,
        "actionImport" => kind == ActionImport,
        "operation" => matches!(kind, List | Get | Create | Update | Delete),
        _ => true,
    }
}

/// Input keys must be unique. A later parameter (order: path, query, header, body, entity)
/// whose name is taken gets `_<location>` appended and keeps its spec name as `wire_name`.
fn resolve_collisions(action: &str, parameters: &mut [Parameter], notes: &mut Notes) -> Result<()> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for p in parameters.iter_mut() {
        if taken.contains(&p.name) {
            let renamed = format!("{}_{}", p.name, p.location.as_str());
            if taken.contains(&renamed) {
                return Err(Error::new(format!(
                    "{action}: parameter {} collides and {renamed} is taken too",
                    p.name
                )));
            }
            notes.push((
                true,
                format!(
                    "{action}: {} parameter {} renamed {renamed} (the name is taken)",
                    p.location.as_str(),
                    p.name
                ),
            ));
            p.wire_name = Some(std::mem::replace(&mut p.name, renamed));
        }
        taken.insert(p.name.clone());
    }
    Ok(())
}

/// `{"type": "object", "additionalProperties": false, "properties": {...}, "required": [...]}`
fn input_schema(parameters: &[Parameter]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in parameters {
        properties.insert(p.name.clone(), p.schema.clone());
        if p.required {
            required.push(Value::String(p.name.clone()));
        }
    }
    canonical(json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "required": required,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, location: Location) -> Parameter {
        Parameter {
            name: name.into(),
            wire_name: None,
            location,
            required: false,
            literal: None,
            schema: json!({}),
        }
    }

    #[test]
    fn template_names_in_order() {
        assert_eq!(
            template_names("/A/Pbx.F(b={b},a={a})"),
            vec!["b".to_string(), "a".to_string()]
        );
        assert!(template_names("/Users").is_empty());
    }

    #[test]
    fn collisions_rename_the_later_parameter() {
        let mut ps = vec![
            param("Id", Location::Path),
            param("Id", Location::Body),
            param("x", Location::Query),
        ];
        let mut notes = Notes::new();
        resolve_collisions("A", &mut ps, &mut notes).unwrap();
        assert_eq!(ps[1].name, "Id_body");
        assert_eq!(ps[1].wire_name.as_deref(), Some("Id"));
        assert_eq!(ps[0].wire_name, None);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn input_schema_shape() {
        let mut p = param("Id", Location::Path);
        p.required = true;
        p.schema = json!({"type": "integer"});
        let s = input_schema(&[p, param("$top", Location::Query)]);
        assert_eq!(
            s,
            json!({"type": "object", "additionalProperties": false,
                   "properties": {"Id": {"type": "integer"}, "$top": {}},
                   "required": ["Id"]})
        );
    }
}
