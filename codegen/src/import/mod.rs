//! `codegen import`: OpenAPI document → `schemas/` (FORMAT.md).
//!
//! [`render`] builds every file in memory (pure, deterministic); [`write_dir`] writes them and
//! removes stale resource files; [`compare_dir`] tells how a directory differs (for `check`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

mod action;

use crate::convert::{Converter, ModelNames};
use crate::format::{
    canonical, to_json_text, Action, Counts, Manifest, Models, Resource, SpecInfo, FORMAT_VERSION,
    GENERATOR, JSON_SCHEMA_DIALECT,
};
use crate::names;
use crate::openapi::{self, RawSpec, Spec};
use crate::rules::Rules;
use crate::{Error, Result};
use action::ActionBuilder;

const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

/// What `codegen import` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// A file path or an `http(s)://` URL.
    pub spec: String,
    pub out: std::path::PathBuf,
    pub threecx_version: Option<String>,
    pub insecure: bool,
    pub rules: Rules,
}

/// Every file of a `schemas/` directory, in memory.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Relative path (`/`-separated) → content.
    pub files: BTreeMap<String, String>,
    pub manifest: Manifest,
    /// Parameter names that collided inside an action and were renamed (FORMAT.md).
    pub collisions: Vec<String>,
    /// Things a maintainer should look at; the output is valid regardless.
    pub warnings: Vec<String>,
}

/// What [`write_dir`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<String>,
    pub unchanged: usize,
    pub removed: Vec<String>,
}

/// Loads the spec, renders and writes it.
pub fn run(options: &ImportOptions) -> Result<(Rendered, WriteReport)> {
    let raw = openapi::load(&options.spec, options.insecure)?;
    let rendered = render(&raw, options.threecx_version.as_deref(), &options.rules)?;
    let report = write_dir(&options.out, &rendered)?;
    Ok((rendered, report))
}

/// Builds all files of `schemas/` from a raw spec.
pub fn render(raw: &RawSpec, threecx_version: Option<&str>, rules: &Rules) -> Result<Rendered> {
    let spec = Spec::new(openapi::parse(&raw.bytes)?)?;
    let components = spec.components("schemas");
    let model_names = ModelNames::new(components.keys().map(String::as_str));
    let converter = Converter::new(&model_names);
    let defs = convert_models(&components, &model_names, &converter)?;
    let mut actions = collect_actions(&spec, &converter, rules)?;
    actions.warnings.extend(
        converter
            .unknown_keywords()
            .into_iter()
            .map(|k| format!("schema keyword {k:?} is not converted (dropped)")),
    );
    for (list, name) in rules.named_operations() {
        if !actions.operation_ids.contains(name) {
            actions.warnings.push(format!(
                "config {list} names {name}, which the spec does not have"
            ));
        }
    }

    let mut resources = actions.resources;
    let (mut files, tally) = resource_files(&mut resources, &rules.display_names.keep_words)?;
    let threecx_version = threecx_version
        .map(str::to_string)
        .or_else(|| rules.version_from_file_name(&raw.file_name))
        .unwrap_or_else(|| "unknown".to_string());
    let manifest = Manifest {
        format: FORMAT_VERSION,
        generator: GENERATOR.to_string(),
        threecx_version,
        spec: SpecInfo {
            source: raw.source.clone(),
            sha256: raw.sha256(),
            openapi: spec.openapi_version().to_string(),
        },
        counts: Counts {
            resources: resources.len(),
            actions: tally.actions,
            models: defs.len(),
            methods: tally.methods,
            destructive: tally.destructive,
        },
        resources: resources.keys().cloned().collect(),
    };
    let models = Models {
        schema: JSON_SCHEMA_DIALECT.to_string(),
        defs,
    };
    files.insert("manifest.json".into(), to_json_text(&manifest));
    files.insert("models.json".into(), to_json_text(&models));
    Ok(Rendered {
        files,
        manifest,
        collisions: actions.collisions,
        warnings: actions.warnings,
    })
}

/// Every component schema as a model of `models.json`, under its model name, with a title and
/// a description.
fn convert_models(
    components: &Map<String, Value>,
    model_names: &ModelNames,
    converter: &Converter<'_>,
) -> Result<BTreeMap<String, Value>> {
    let mut defs = BTreeMap::new();
    for (component, model) in model_names.iter() {
        let mut schema = converter
            .convert(&components[component])
            .map_err(|e| Error::new(format!("model {component}: {e}")))?;
        if let Value::Object(map) = &mut schema {
            map.insert("title".into(), Value::String(model.to_string()));
            map.insert(
                "description".into(),
                Value::String(names::model_description(model)),
            );
        }
        defs.insert(model.to_string(), canonical(schema));
    }
    Ok(defs)
}

/// The actions of every operation of the spec, and what building them noted.
struct CollectedActions {
    /// Actions grouped by resource (the operation's tag), in spec order.
    resources: BTreeMap<String, Vec<Action>>,
    operation_ids: BTreeSet<String>,
    collisions: Vec<String>,
    warnings: Vec<String>,
}

/// Builds one action per operation of every path; an operation id used twice is an error.
fn collect_actions(
    spec: &Spec,
    converter: &Converter<'_>,
    rules: &Rules,
) -> Result<CollectedActions> {
    let paths = spec
        .doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::new("the spec has no paths"))?;
    let mut out = CollectedActions {
        resources: BTreeMap::new(),
        operation_ids: BTreeSet::new(),
        collisions: Vec::new(),
        warnings: Vec::new(),
    };
    for (path, item) in paths {
        let item = item
            .as_object()
            .ok_or_else(|| Error::new(format!("path {path} is not an object")))?;
        for (key, op) in item {
            let method = key.to_ascii_uppercase();
            if !METHODS.contains(&key.as_str()) {
                if ["head", "options", "trace"].contains(&key.as_str()) {
                    out.warnings
                        .push(format!("{method} {path}: skipped (method not supported)"));
                }
                continue;
            }
            let builder = ActionBuilder {
                spec,
                converter,
                rules,
                paths,
                path,
                method: &method,
                op,
                path_parameters: item.get("parameters"),
            };
            let (tag, action, notes) = builder
                .build()
                .map_err(|e| Error::new(format!("{method} {path}: {e}")))?;
            if !out.operation_ids.insert(action.name.clone()) {
                return Err(Error::new(format!(
                    "operationId {} is used twice (second at {method} {path})",
                    action.name
                )));
            }
            for (renamed, note) in notes {
                if renamed {
                    out.collisions.push(note);
                } else {
                    out.warnings.push(note);
                }
            }
            out.resources.entry(tag).or_default().push(action);
        }
    }
    Ok(out)
}

/// The manifest's action counts.
#[derive(Default)]
struct ActionTally {
    actions: usize,
    methods: BTreeMap<String, usize>,
    destructive: usize,
}

/// One `resources/<Tag>.json` per resource, its actions sorted by name (taken out of
/// `resources`, whose keys stay); names must stay distinct once normalised.
fn resource_files(
    resources: &mut BTreeMap<String, Vec<Action>>,
    keep: &[String],
) -> Result<(BTreeMap<String, String>, ActionTally)> {
    check_unique_normalised("resource", resources.keys())?;
    let mut files = BTreeMap::new();
    let mut tally = ActionTally::default();
    for (tag, actions) in resources.iter_mut() {
        actions.sort_by(|a, b| a.name.cmp(&b.name));
        check_unique_normalised(&format!("action of {tag}"), actions.iter().map(|a| &a.name))?;
        for a in actions.iter() {
            *tally.methods.entry(a.method.clone()).or_default() += 1;
            tally.destructive += usize::from(a.destructive);
        }
        tally.actions += actions.len();
        let display = names::display_name(tag, keep);
        let resource = Resource {
            name: tag.clone(),
            description: names::resource_description(&display, actions.len()),
            display_name: display,
            actions: std::mem::take(actions),
        };
        files.insert(format!("resources/{tag}.json"), to_json_text(&resource));
    }
    Ok((files, tally))
}

/// Two names that differ only in case or punctuation could not be told apart by lookup.
fn check_unique_normalised<'a>(what: &str, names: impl Iterator<Item = &'a String>) -> Result<()> {
    let mut seen: BTreeMap<String, &String> = BTreeMap::new();
    for name in names {
        if let Some(first) = seen.insert(names::normalise(name), name) {
            return Err(Error::new(format!(
                "{what} names {first} and {name} normalise to the same lookup name"
            )));
        }
    }
    Ok(())
}

/// Writes the rendered files under `out` (only those whose content changed) and removes
/// `resources/*.json` files that are no longer produced.
pub fn write_dir(out: &Path, rendered: &Rendered) -> Result<WriteReport> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        Error::new(format!("cannot {what} {}: {e}", path.display()))
    };
    let mut report = WriteReport::default();
    std::fs::create_dir_all(out.join("resources"))
        .map_err(|e| io("create", &out.join("resources"), e))?;
    for (relative, content) in &rendered.files {
        let path = out.join(relative);
        if std::fs::read(&path).ok().as_deref() == Some(content.as_bytes()) {
            report.unchanged += 1;
            continue;
        }
        std::fs::write(&path, content).map_err(|e| io("write", &path, e))?;
        report.written.push(relative.clone());
    }
    for stale in stale_resource_files(out, rendered)? {
        let path = out.join(&stale);
        std::fs::remove_file(&path).map_err(|e| io("remove", &path, e))?;
        report.removed.push(stale);
    }
    Ok(report)
}

/// How `out` differs from the rendered files: `missing`, `differs` and `stale` entries, sorted.
/// Empty when the directory is up to date.
pub fn compare_dir(out: &Path, rendered: &Rendered) -> Result<Vec<String>> {
    let mut differences = Vec::new();
    for (relative, content) in &rendered.files {
        match std::fs::read(out.join(relative)) {
            Err(_) => differences.push(format!("missing {relative}")),
            Ok(bytes) if bytes != content.as_bytes() => {
                differences.push(format!("differs {relative}"))
            }
            Ok(_) => {}
        }
    }
    for stale in stale_resource_files(out, rendered)? {
        differences.push(format!("stale {stale}"));
    }
    Ok(differences)
}

fn stale_resource_files(out: &Path, rendered: &Rendered) -> Result<Vec<String>> {
    let dir = out.join("resources");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut stale = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("resources/{name}");
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && name.ends_with(".json") && !rendered.files.contains_key(&relative) {
            stale.push(relative);
        }
    }
    stale.sort();
    Ok(stale)
}
