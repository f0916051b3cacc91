//! Which actions a command offers: the built-in set (this build's 3CX version), a spec pulled
//! from the PBX (`threecx spec pull`, cached per PBX URL), or an OpenAPI file (`--spec FILE`).

use std::path::PathBuf;

use threecx_ops::registry_api::{ActionRef, Registry};
use threecx_spec::{FromSpec, PulledSpec, SpecCache};

use crate::cli::GlobalArgs;
use crate::connection::Connection;
use crate::exit::{CliError, CliResult};

/// Names the spec to use: `builtin` or a file.
pub const ENV_SPEC: &str = "THREECX_SPEC";
/// Moves the cache of pulled specs (default `<cache dir>/threecx/specs`).
pub const ENV_SPEC_CACHE: &str = "THREECX_SPEC_CACHE";

/// Where the active action set came from.
#[derive(Debug, Clone)]
pub enum Origin {
    Builtin,
    /// Pulled from the connected PBX.
    Pulled(PulledSpec),
    /// `--spec FILE` (or THREECX_SPEC=FILE).
    File(PathBuf),
}

/// The action set a command uses.
#[derive(Debug, Clone)]
pub struct Active {
    pub registry: &'static Registry,
    /// The 3CX version of the set (`20.0.10`, or `unknown`).
    pub version: String,
    pub origin: Origin,
}

/// The cache of pulled specs.
pub fn spec_cache() -> SpecCache {
    let dir = std::env::var_os(ENV_SPEC_CACHE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("threecx").join("specs")))
        .unwrap_or_else(|| PathBuf::from(".threecx-specs"));
    SpecCache::new(dir)
}

/// The `--spec` choice: flag, then THREECX_SPEC.
fn spec_choice(global: &GlobalArgs) -> Option<String> {
    global.spec.clone().or_else(|| {
        std::env::var(ENV_SPEC)
            .ok()
            .filter(|v| !v.trim().is_empty())
    })
}

/// The set for `conn`: `--spec` when given, else the spec pulled from the PBX at `conn`'s URL,
/// else the built-in set. Reads no YAML for a pulled spec (the cache holds it imported).
pub fn active(global: &GlobalArgs, conn: Option<&Connection>) -> CliResult<Active> {
    match spec_choice(global).as_deref() {
        Some("builtin") => return Ok(builtin()),
        Some(file) => return from_file(PathBuf::from(file)),
        None => {}
    }
    // A --sandbox PBX is this build's own: its URL changes every run.
    let root = match conn.filter(|_| !global.sandbox) {
        Some(conn) => conn.root()?,
        None => None,
    };
    let Some(root) = root else {
        return Ok(builtin());
    };
    // Recorded under the API root by `spec pull`.
    match spec_cache().load(root.as_str()).map_err(spec_error)? {
        Some((record, set)) => Ok(Active {
            registry: Registry::from_spec(&set).map_err(spec_error)?,
            version: record.pbx_version.clone().unwrap_or(set.version),
            origin: Origin::Pulled(record),
        }),
        None => Ok(builtin()),
    }
}

fn builtin() -> Active {
    Active {
        registry: threecx_ops::registry(),
        version: threecx_ops::THREECX_VERSION.to_owned(),
        origin: Origin::Builtin,
    }
}

fn from_file(path: PathBuf) -> CliResult<Active> {
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::usage(format!("cannot read --spec {}: {e}", path.display())))?;
    // Imported once per document: the next run with the same file reads the cached set.
    let set = spec_cache()
        .set_or_import(bytes, &path.display().to_string())
        .map_err(spec_error)?;
    Ok(Active {
        registry: Registry::from_spec(&set).map_err(spec_error)?,
        version: set.version,
        origin: Origin::File(path),
    })
}

pub fn spec_error(e: threecx_spec::SpecError) -> CliError {
    CliError::usage(e.to_string())
}

impl Active {
    /// One line for messages: `3CX 20.0.9 (spec pulled from https://pbx)`.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::Builtin => format!("3CX {} (built in)", self.version),
            Origin::Pulled(record) => {
                format!("3CX {} (spec pulled from {})", self.version, record.url)
            }
            Origin::File(path) => format!("3CX {} (spec {})", self.version, path.display()),
        }
    }

    /// The action, or a usage error that names this set's version and the closest names; an
    /// action the built-in set has but this PBX does not is said so.
    pub fn action(&self, resource: &str, action: &str) -> CliResult<ActionRef<'static>> {
        match self.registry.action(resource, action) {
            Ok(found) => Ok(found),
            Err(e) if matches!(self.origin, Origin::Builtin) => Err(e.into()),
            Err(e) => {
                let mut err =
                    CliError::from(e).context(format!("not offered by {}", self.describe()));
                if threecx_ops::registry().find(resource, action).is_ok() {
                    err = err.hint(format!(
                        "the built-in set ({}) has it: this PBX's version does not; \
                         --spec builtin would send it anyway",
                        threecx_ops::THREECX_VERSION
                    ));
                }
                Err(err)
            }
        }
    }
}
