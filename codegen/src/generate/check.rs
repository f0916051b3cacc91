//! `codegen check`: regenerates everything from the spec in a temporary directory (import, then
//! generate from the fresh `schemas/`) and compares it with the committed `schemas/` and
//! generated code. Any difference means someone edited generated files or forgot to regenerate.

use std::path::{Path, PathBuf};

use super::emit::TempDir;
use super::{diff_trees, Difference, Error};
use crate::import;
use crate::openapi;
use crate::rules::Rules;

/// What `check` compares.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The spec: a file path or an `http(s)://` URL.
    pub spec: String,
    pub threecx_version: Option<String>,
    pub insecure: bool,
    pub rules: Rules,
    /// The committed `schemas/`.
    pub schemas: PathBuf,
    /// The committed generated code (`crates/threecx-ops/src/generated`).
    pub generated: PathBuf,
    /// The committed n8n node data (`integrations/n8n-nodes-threecx/generated`).
    pub n8n: PathBuf,
}

/// Every file that differs from a fresh regeneration; empty when all is up to date. Paths are
/// shown under the committed directories as given (`schemas/models.json`).
pub fn check(options: &CheckOptions) -> Result<Vec<Difference>, Error> {
    let tmp = TempDir::new("threecx-codegen-check")?;
    let fresh_schemas = tmp.path().join("schemas");
    let fresh_generated = tmp.path().join("generated");
    let fresh_n8n = tmp.path().join("n8n");

    let raw = openapi::load(&options.spec, options.insecure)
        .map_err(|e| Error::new(format!("import: {e}")))?;
    let rendered = import::render(&raw, options.threecx_version.as_deref(), &options.rules)
        .map_err(|e| Error::new(format!("import: {e}")))?;
    import::write_dir(&fresh_schemas, &rendered).map_err(|e| Error::new(format!("import: {e}")))?;
    let out = super::OutDirs {
        rust: &fresh_generated,
        n8n: &fresh_n8n,
    };
    super::generate(&fresh_schemas, out)
        .map_err(|e| e.context("generate from the fresh schemas"))?;

    let mut differences = diff_trees(&options.schemas, &fresh_schemas, &label(&options.schemas))?;
    differences.extend(diff_trees(
        &options.generated,
        &fresh_generated,
        &label(&options.generated),
    )?);
    differences.extend(diff_trees(&options.n8n, &fresh_n8n, &label(&options.n8n))?);
    Ok(differences)
}

fn label(path: &Path) -> String {
    path.display().to_string()
}
