//! Transport for the 3CX Configuration API (XAPI, OData v4 at `/xapi/v1`).
//!
//! Knows HTTP, OAuth client credentials, OData encoding and paging; knows no 3CX action (those
//! come from `threecx-ops` through `threecx-registry`).
//!
//! Transient failures are retried only where sending again is safe, within a per-client retry
//! budget and a whole-call time limit, and failed token requests back off so that 3CX's
//! anti-hacking rules never block the caller's IP; the rules are in `RELIABILITY.md` at the root
//! of the repository, the settings on [`ConfigBuilder`].

mod api_root;
pub mod client;
pub mod config;
mod download;
pub mod error;
pub mod literal;
mod outgoing;
mod paginate;
pub mod request;
pub mod response;
mod retry;
mod token;
mod wire;

pub use api_root::ApiRoot;
pub use client::{Client, DownloadInfo, DownloadStream};
pub use config::{Config, ConfigBuilder, ExpiresInUnit};
pub use error::{ApiErrorDetail, Error, NameKind, Result};
pub use literal::Literal;
pub use request::{Location, Method, Param, PreparedRequest, RequestTemplate, ResponseKind};
pub use response::{Collection, Download, FromResponse, Response};

/// The secret type of [`ConfigBuilder::client_secret`], re-exported so callers need not depend
/// on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};
