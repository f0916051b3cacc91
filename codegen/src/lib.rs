//! threecx-codegen: turns the 3CX XAPI OpenAPI document into the project's own `schemas/`
//! files (`import`, FORMAT.md), from which the ops crate is generated.
//!
//! Stages are modules with a `run` entry point that the CLI (`src/main.rs`) calls:
//! - [`import`]: OpenAPI → `schemas/` (uses [`openapi`], [`convert`], [`names`], [`rules`]).
//! - [`generate`]: `schemas/` → `crates/threecx-ops/src/generated/`; [`generate::check`]
//!   regenerates both stages in a temporary directory and names every file that differs.

pub mod convert;
pub mod descriptor;
pub mod format;
pub mod generate;
pub mod import;
pub mod names;
pub mod openapi;
pub mod rules;

use std::fmt;

/// A codegen failure: one message that says what was being done and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
