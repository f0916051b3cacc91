//! Transport for the 3CX Configuration API (XAPI, OData v4 at `/xapi/v1`).
//!
//! Knows HTTP, OAuth client credentials, OData encoding and paging; knows no 3CX action (those
//! come from `threecx-ops` through `threecx-registry`).

pub mod client;
pub mod config;
pub mod error;
pub mod literal;
mod paginate;
pub mod request;
pub mod response;
mod token;

pub use client::Client;
pub use config::{Config, ConfigBuilder, ExpiresInUnit};
pub use error::{ApiErrorDetail, Error, Result};
pub use literal::Literal;
pub use request::{Location, Method, Param, PreparedRequest, RequestTemplate, ResponseKind};
pub use response::{Collection, Download, FromResponse, Response};

/// The secret type of [`ConfigBuilder::client_secret`], re-exported so callers need not depend
/// on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};
