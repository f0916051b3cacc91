//! A PBX's own OpenAPI document at run time (`/xapi/v1/swagger.yaml`): imported by the codegen's
//! import stage into a [`SpecSet`], cached per PBX ([`SpecCache`]), compared with the built-in
//! set ([`SpecDiff`]), and turned into a registry of exactly that PBX's actions
//! ([`FromSpec::from_spec`]). Typed Rust stays at the compiled-in version; by-name calls use
//! whichever registry is active.
//!
//! ```no_run
//! use threecx_spec::{FromSpec, SpecSet};
//! use threecx_ops::registry_api::Registry;
//! # fn run() -> Result<(), threecx_spec::SpecError> {
//! let bytes = std::fs::read("swagger-20.0.9.yaml").unwrap();
//! let set = SpecSet::import(bytes, "swagger-20.0.9.yaml", None)?;
//! let registry = Registry::from_spec(&set)?;
//! println!("{} actions for 3CX {}", registry.len(), set.version);
//! # Ok(()) }
//! ```

mod cache;
mod diff;
mod registry;
mod set;

pub use cache::{sha256_hex, url_key, PulledSpec, SpecCache};
pub use diff::SpecDiff;
pub use registry::{extensions, registry_of, FromSpec};
pub use set::{SpecSet, CACHE_FORMAT};

/// Why a spec could not be imported, cached or loaded; the message says which and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(String);

impl SpecError {
    pub fn new(message: impl Into<String>) -> SpecError {
        SpecError(message.into())
    }
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}
