//! Embedding threecx in other programs: every 3CX action of the registry offered
//!
//! - over HTTP to scripts and automation platforms ([`gateway`]: `threecx serve`),
//! - to AI agents over the Model Context Protocol ([`mcp`]: `threecx mcp`).
//!
//! (n8n has a node of its own, generated from `schemas/`: `integrations/n8n-nodes-threecx`.)
//!
//! Both are thin layers over one [`threecx_registry::Registry`] (by default
//! [`threecx_ops::registry()`], which also holds the actions of any linked extension crate) and
//! one [`threecx_core::Client`]: names in any spelling, inputs validated against the action's
//! JSON Schema before anything is sent, destructive actions refused unless confirmed, and the
//! PBX's credentials never leaving the process.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use threecx_core::{Client, Config};
//! use threecx_gateway::gateway::{self, GatewayState};
//!
//! let client = Client::new(Config::from_env()?)?;
//! let state = GatewayState::new(client, std::env::var("THREECX_GATEWAY_KEY")?)?;
//! gateway::serve("127.0.0.1:8080".parse()?, state).await?;
//! # Ok(()) }
//! ```

pub mod audit;
pub mod catalog;
pub mod gateway;
pub mod mcp;
pub mod openapi;
pub mod preview;

/// The MCP SDK this crate serves with, re-exported so callers (and tests) use the same version.
pub use rmcp;

use std::net::SocketAddr;

/// Why a server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Bad settings or names (e.g. an unknown resource in [`mcp::McpOptions::resources`]).
    #[error(transparent)]
    Threecx(#[from] threecx_core::Error),
    #[error(
        "cannot listen on {addr}: {source}; choose another address or port (port 0 takes any \
         free one)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
    #[error("the MCP session failed: {0}")]
    Mcp(String),
}
