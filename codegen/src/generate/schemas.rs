//! Reading `schemas/` (the format of `codegen/FORMAT.md`) into plain structs. Only the fields the
//! generator needs are read; anything malformed is an error naming the file and the field.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::Error;

/// Everything under `schemas/`.
#[derive(Debug, Clone)]
pub struct Schemas {
    pub threecx_version: String,
    pub spec_sha256: String,
    /// The `$defs` of `models.json`, by model name.
    pub models: BTreeMap<String, Value>,
    /// Resources in `manifest.json` order (sorted by name).
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone)]
pub struct Action {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub method: String,
    pub path: String,
    pub kind: String,
    pub parameters: Vec<Parameter>,
    pub input_schema: Value,
    pub output: Output,
    pub destructive: bool,
    pub idempotent: bool,
    pub retry_safe: bool,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    /// `path`, `query`, `header`, `body` or `entity`.
    pub location: String,
    pub required: bool,
    /// `quoted`, `bare`, or `None` (non-path parameters).
    pub literal: Option<String>,
    /// The name on the wire when it differs from the input key (a renamed collision).
    pub wire_name: Option<String>,
    pub schema: Value,
}

#[derive(Debug, Clone)]
pub struct Output {
    /// `json`, `collection`, `empty` or `download`.
    pub kind: String,
    pub schema: Value,
    /// The item schema of a collection.
    pub item: Option<Value>,
}

struct Obj<'a> {
    what: String,
    map: &'a serde_json::Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn new(what: impl Into<String>, v: &'a Value) -> Result<Self, Error> {
        let what = what.into();
        match v.as_object() {
            Some(map) => Ok(Obj { what, map }),
            None => Err(Error::new(format!("{what}: expected a JSON object"))),
        }
    }

    fn get(&self, key: &str) -> Result<&'a Value, Error> {
        self.map
            .get(key)
            .ok_or_else(|| Error::new(format!("{}: missing field `{key}`", self.what)))
    }

    fn str(&self, key: &str) -> Result<String, Error> {
        match self.get(key)? {
            Value::String(s) => Ok(s.clone()),
            _ => Err(Error::new(format!(
                "{}: `{key}` must be a string",
                self.what
            ))),
        }
    }

    fn opt_str(&self, key: &str) -> Result<Option<String>, Error> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::new(format!(
                "{}: `{key}` must be a string or null",
                self.what
            ))),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, Error> {
        self.get(key)?
            .as_bool()
            .ok_or_else(|| Error::new(format!("{}: `{key}` must be a boolean", self.what)))
    }

    fn array(&self, key: &str) -> Result<&'a Vec<Value>, Error> {
        self.get(key)?
            .as_array()
            .ok_or_else(|| Error::new(format!("{}: `{key}` must be an array", self.what)))
    }
}

impl Schemas {
    /// Reads `dir/manifest.json`, `dir/models.json` and `dir/resources/<R>.json` for every
    /// resource the manifest lists.
    pub fn load(dir: &Path) -> Result<Schemas, Error> {
        Self::read(|relative| {
            let path = dir.join(relative);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
            Ok((path.display().to_string(), text))
        })
    }

    /// Reads the same files from memory (relative path → text), as `import::render` makes them:
    /// how a spec imported at run time becomes descriptors without touching the disk.
    pub fn from_files(files: &BTreeMap<String, String>) -> Result<Schemas, Error> {
        Self::read(|relative| match files.get(relative) {
            Some(text) => Ok((relative.to_owned(), text.clone())),
            None => Err(Error::new(format!("missing {relative}"))),
        })
    }

    /// `file(relative path)` gives a name for messages and the file's text.
    fn read(file: impl Fn(&str) -> Result<(String, String), Error>) -> Result<Schemas, Error> {
        let json = |relative: &str| -> Result<(String, Value), Error> {
            let (name, text) = file(relative)?;
            let value = serde_json::from_str(&text)
                .map_err(|e| Error::new(format!("{name} is not valid JSON: {e}")))?;
            Ok((name, value))
        };
        let (manifest_name, manifest) = json("manifest.json")?;
        let m = Obj::new(manifest_name.clone(), &manifest)?;
        let threecx_version = m.str("threecx_version")?;
        let spec = Obj::new(format!("{manifest_name} `spec`"), m.get("spec")?)?;
        let spec_sha256 = spec.str("sha256")?;
        let mut resource_names = Vec::new();
        for r in m.array("resources")? {
            match r.as_str() {
                Some(s) => resource_names.push(s.to_owned()),
                None => {
                    return Err(Error::new(format!(
                        "{manifest_name}: `resources` must list strings"
                    )))
                }
            }
        }

        let (models_name, models_json) = json("models.json")?;
        let mj = Obj::new(models_name.clone(), &models_json)?;
        let defs = Obj::new(format!("{models_name} `$defs`"), mj.get("$defs")?)?;
        let models: BTreeMap<String, Value> = defs
            .map
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();

        let mut resources = Vec::new();
        for name in &resource_names {
            let (file_name, v) = json(&format!("resources/{name}.json"))?;
            resources.push(Self::resource(&file_name, &v)?);
        }
        Ok(Schemas {
            threecx_version,
            spec_sha256,
            models,
            resources,
        })
    }

    fn resource(file: &str, v: &Value) -> Result<Resource, Error> {
        let r = Obj::new(file, v)?;
        let mut actions = Vec::new();
        for (i, a) in r.array("actions")?.iter().enumerate() {
            actions.push(Self::action(&format!("{file} actions[{i}]"), a)?);
        }
        Ok(Resource {
            name: r.str("name")?,
            display_name: r.str("display_name")?,
            description: r.str("description")?,
            actions,
        })
    }

    fn action(what: &str, v: &Value) -> Result<Action, Error> {
        let a = Obj::new(what, v)?;
        let name = a.str("name")?;
        let what = format!("{what} ({name})");
        let a = Obj::new(what.clone(), v)?;
        let mut parameters = Vec::new();
        for (i, p) in a.array("parameters")?.iter().enumerate() {
            let p = Obj::new(format!("{what} parameters[{i}]"), p)?;
            parameters.push(Parameter {
                name: p.str("name")?,
                location: p.str("location")?,
                required: p.bool("required")?,
                literal: p.opt_str("literal")?,
                wire_name: p.opt_str("wire_name")?,
                schema: p.get("schema")?.clone(),
            });
        }
        let o = Obj::new(format!("{what} output"), a.get("output")?)?;
        let output = Output {
            kind: o.str("kind")?,
            schema: o.get("schema")?.clone(),
            item: o.map.get("item").filter(|v| !v.is_null()).cloned(),
        };
        Ok(Action {
            name,
            display_name: a.str("display_name")?,
            description: a.str("description")?,
            method: a.str("method")?,
            path: a.str("path")?,
            kind: a.str("kind")?,
            parameters,
            input_schema: a.get("input_schema")?.clone(),
            output,
            destructive: a.bool("destructive")?,
            idempotent: a.bool("idempotent")?,
            retry_safe: a.bool("retry_safe")?,
        })
    }
}

/// Compact JSON with object keys sorted at every level, whatever the `serde_json` features: the
/// text embedded in generated code must not depend on how the map type orders keys.
pub fn canonical_compact(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_at_every_level() {
        let v = json!({"b": [ {"z": 1, "a": null} ], "a": "x\"y"});
        assert_eq!(
            canonical_compact(&v),
            r#"{"a":"x\"y","b":[{"a":null,"z":1}]}"#
        );
    }
}
