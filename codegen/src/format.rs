//! The `schemas/` format (FORMAT.md, version 1) as Rust types: `import` writes them, `generate`
//! can read them back with serde. Field order here is the key order in the files; JSON Schema
//! values are written with their keys sorted (see [`canonical`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const FORMAT_VERSION: u32 = 1;
pub const GENERATOR: &str = "threecx-codegen";
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generator: String,
    pub threecx_version: String,
    pub spec: SpecInfo,
    pub counts: Counts,
    /// Sorted; one file `resources/<name>.json` each.
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecInfo {
    /// The spec's file name, or its URL without credentials, query or fragment.
    pub source: String,
    /// sha256 of the raw spec bytes, lower-case hex.
    pub sha256: String,
    pub openapi: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub resources: usize,
    pub actions: usize,
    pub models: usize,
    pub methods: BTreeMap<String, usize>,
    pub destructive: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Models {
    #[serde(rename = "$schema")]
    pub schema: String,
    /// Model name → JSON Schema, sorted by name.
    #[serde(rename = "$defs")]
    pub defs: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// Sorted by name.
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub method: String,
    pub path: String,
    pub kind: ActionKind,
    pub parameters: Vec<Parameter>,
    pub input_schema: Value,
    pub output: Output,
    pub destructive: bool,
    pub idempotent: bool,
    pub retry_safe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    List,
    Get,
    Create,
    Update,
    Delete,
    Function,
    Action,
    FunctionImport,
    ActionImport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The input key.
    pub name: String,
    /// The name on the wire, only when it differs from `name` (a renamed collision, see
    /// FORMAT.md); never present for 3CX 20.0.10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_name: Option<String>,
    pub location: Location,
    pub required: bool,
    /// Path parameters only.
    pub literal: Option<Literal>,
    pub schema: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    Path,
    Query,
    Header,
    Body,
    Entity,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Body => "body",
            Location::Entity => "entity",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    Quoted,
    Bare,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub kind: OutputKind,
    pub status: u16,
    pub schema: Value,
    /// Collections only: the item schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Json,
    Collection,
    Empty,
    Download,
}

/// The documented result of a `download` output.
pub fn download_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "content_type": {"type": "string"},
            "file_name": {"type": ["string", "null"]},
            "size": {"type": "integer"}
        }
    })
}

/// The same value with every object's keys inserted in sorted order, so the output does not
/// depend on whether serde_json's `preserve_order` feature is on somewhere in the workspace.
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k, canonical(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Pretty JSON with two-space indent and one trailing newline.
pub fn to_json_text<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("format types serialise");
    text.push('\n');
    text
}
