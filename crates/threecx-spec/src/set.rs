//! [`SpecSet`]: every action and model of one OpenAPI document, in the form the registry runs,
//! made by the codegen's own import and descriptor code (so it agrees with the compiled-in set).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use threecx_codegen::descriptor::{descriptors, Descriptor};
use threecx_codegen::generate::schemas::{canonical_compact, Schemas};
use threecx_codegen::import;
use threecx_codegen::openapi::RawSpec;
use threecx_codegen::rules::Rules;

use crate::SpecError;

/// What the cache format looks like; bumped when [`SpecSet`] changes shape, so an old cache
/// is re-pulled instead of misread.
pub const CACHE_FORMAT: u32 = 1;

/// The actions and models of one spec document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecSet {
    /// The 3CX version this document is for (`20.0.9`), or `unknown`.
    pub version: String,
    /// SHA-256 of the document's bytes, hex.
    pub sha256: String,
    /// Where it came from: a file name or a URL (never credentials).
    pub source: String,
    /// The models' JSON Schemas, one compact JSON object `{"<Model>": {...}}`.
    pub models: String,
    /// Sorted by resource, then action (as `schemas/` lists them).
    pub actions: Vec<Descriptor>,
}

impl SpecSet {
    /// Imports an OpenAPI document (YAML or JSON) with the rules the built-in set was made with
    /// (`codegen/config.toml`). `source` names it (a file name or URL, used for version
    /// detection from `swagger-X.Y.Z.yaml`); `version` overrides that detection.
    pub fn import(
        bytes: Vec<u8>,
        source: &str,
        version: Option<&str>,
    ) -> Result<SpecSet, SpecError> {
        let file_name = source
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(source)
            .to_owned();
        let raw = RawSpec {
            bytes,
            source: source.to_owned(),
            file_name,
        };
        let rendered = import::render(&raw, version, &Rules::default_rules())
            .map_err(|e| SpecError::new(format!("cannot import {source}: {e}")))?;
        let schemas = Schemas::from_files(&rendered.files)
            .map_err(|e| SpecError::new(format!("cannot import {source}: {e}")))?;
        let actions = descriptors(&schemas.resources)
            .map_err(|e| SpecError::new(format!("cannot import {source}: {e}")))?;
        let models = Value::Object(schemas.models.into_iter().collect());
        Ok(SpecSet {
            version: schemas.threecx_version,
            sha256: schemas.spec_sha256,
            source: source.to_owned(),
            models: canonical_compact(&models),
            actions,
        })
    }

    /// The set compiled into this build (`threecx_ops`), to compare a pulled spec with.
    pub fn builtin() -> SpecSet {
        // Every registered model; an extension's models are never referenced by a generated
        // action, so they cannot show up in a comparison of actions.
        let models = Value::Object(threecx_ops::registry().models().clone());
        SpecSet {
            version: threecx_ops::THREECX_VERSION.to_owned(),
            sha256: threecx_ops::SPEC_SHA256.to_owned(),
            source: "built-in".to_owned(),
            models: canonical_compact(&models),
            actions: threecx_ops::ALL_ACTIONS
                .iter()
                .map(|a| Descriptor::of(a))
                .collect(),
        }
    }

    /// The models as a map (parsed from [`SpecSet::models`]).
    pub fn model_map(&self) -> Result<Map<String, Value>, SpecError> {
        serde_json::from_str(&self.models).map_err(|e| {
            SpecError::new(format!(
                "the models of {} are not a JSON object: {e}",
                self.source
            ))
        })
    }
}
