//! The operation registry of threecx: every 3CX action (and any extension action) by resource
//! and action name, with its JSON Schemas, input validation and one dispatch path.
//!
//! Operations register themselves with `inventory` (`threecx_registry::inventory::submit!`);
//! [`global`] collects them once on first use. Names are looked up in any spelling that
//! normalises the same (`Purge Settings`, `purge-settings`, `PURGESETTINGS`).
//!
//! ```no_run
//! # async fn run(client: &threecx_core::Client) -> threecx_core::Result<()> {
//! use serde_json::json;
//! let registry = threecx_registry::global();
//! // Looked up once; the handle reaches the cached schema and validator.
//! let action = registry.action("Purge Settings", "Purge Chats")?;
//! println!("{}", action.input_schema());
//! // Validated and built once; refused unless confirmed, since a purge is destructive.
//! let call = action.prepare(json!({"period": {"All": true}}))?;
//! call.confirm(true).send(client).await?;
//! # Ok(()) }
//! ```

mod action_ref;
mod http_action;
pub mod names;
mod openapi_export;
mod operation;
mod prepared;
mod registry;
pub mod relative_time;
pub mod schema;
pub mod schema_view;
mod suggest;
mod summary;
#[cfg(feature = "test-util")]
pub mod test_util;
#[cfg(test)]
mod testing;
mod validate;

pub use action_ref::ActionRef;
pub use openapi_export::{openapi_document, to_openapi};
pub use operation::{ActionKind, ActionMeta, HttpAction, ModelDefs, Operation, Registration};
pub use prepared::PreparedCall;
pub use registry::{global, DuplicateError, Registry, ResourceEntry};
pub use relative_time::{resolve_relative_times, ResolvedTime};
pub use summary::{ActionDescription, ActionSummary, ResourceSummary, Returns};

/// Re-exported for `async_trait` implementations of [`Operation`] in other crates.
pub use async_trait::async_trait;

/// Re-exported so generated code and extensions can write `threecx_registry::inventory::submit!`.
#[doc(hidden)]
pub use inventory;

use serde_json::Value;
use threecx_core::{Client, Response, Result};

/// What an operation runs with: the client, and the registry so composed actions can call other
/// actions (validated like any call).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub client: &'a Client,
    pub registry: &'a Registry,
}

impl Context<'_> {
    /// Calls another action by name, as [`Registry::call`] does.
    pub async fn call(&self, resource: &str, action: &str, input: Value) -> Result<Response> {
        self.registry
            .call(self.client, resource, action, input)
            .await
    }
}
