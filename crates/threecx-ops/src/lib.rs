//! Every action of the 3CX Configuration API (XAPI), generated from `schemas/`: typed models, one
//! typed call per action, and one registered by-name operation per action.
//!
//! Typed and by-name calls go down one path: a typed action is serialised to the same JSON input
//! object a by-name caller would write, validated against the same schema, built by the same
//! request builder and sent by the same client.
//!
//! ```no_run
//! # async fn run() -> threecx_ops::core::Result<()> {
//! use threecx_ops::{core::{Client, Config}, models, purge_settings::PurgeChats};
//! use serde_json::json;
//!
//! let client = Client::new(Config::from_env()?)?;
//! // By name, as automation platforms do:
//! threecx_ops::registry()
//!     .call(&client, "Purge Settings", "Purge Chats",
//!           json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}}))
//!     .await?;
//! // Typed:
//! let period = models::PurgeSettings {
//!     start: Some("2024-01-01T00:00:00Z".into()),
//!     stop: Some("2024-06-30T23:59:59Z".into()),
//!     ..Default::default()
//! };
//! threecx_ops::call(&client, &PurgeChats { period: Some(period) }).await?;
//! # Ok(()) }
//! ```

#[doc(hidden)]
pub mod macros;
mod typed;

#[rustfmt::skip]
mod generated;

pub use generated::actions::*;
pub use generated::models;
pub use typed::{call, paginate, prepare, TypedAction, TypedList};

pub use threecx_core as core;
/// The registry's API (`Registry`, `Operation`, `HttpAction`...): the crate `threecx_registry`,
/// named apart from [`registry()`], the registry itself.
pub use threecx_registry as registry_api;

use threecx_registry::Registry;

/// The registry holding every generated action (and any registered by other linked crates).
///
/// Prefer this to `threecx_registry::global()`: referring to this crate guarantees the linker keeps
/// its registrations.
pub fn registry() -> &'static Registry {
    generated::ensure_linked();
    threecx_registry::global()
}

/// Version of 3CX and checksum of the spec the generated code was built from.
pub use generated::{SPEC_SHA256, THREECX_VERSION};

/// Every generated action's descriptor. Each is also registered with `inventory`, as
/// extensions' actions are, so [`registry()`] holds these and any others linked in.
pub use generated::ALL_ACTIONS;

#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde;
    pub use serde_json;
    pub use threecx_core;
    pub use threecx_registry;
}

/// The README's Rust examples, compiled by `cargo test` as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExamples;
