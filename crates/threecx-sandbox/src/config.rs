//! How a sandbox is set up.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultConfig;

/// How much data is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedSizes {
    /// User extensions (numbers 100, 101, ...).
    pub users: u64,
    /// Groups (departments).
    pub groups: u64,
    /// Call history rows (computed on demand: a million cost almost no memory).
    pub call_history: u64,
    /// Chat messages (computed on demand too).
    pub chat_messages: u64,
}

impl Default for SeedSizes {
    fn default() -> Self {
        SeedSizes {
            users: 25,
            groups: 3,
            call_history: 10_000,
            chat_messages: 1_000,
        }
    }
}

/// Everything a [`crate::Sandbox`] is started with. `Default` gives a sandbox on a free
/// loopback port with the default credentials and sizes.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// TCP port; 0 takes any free port.
    pub port: u16,
    /// Address to listen on; 127.0.0.1 by default.
    pub bind: IpAddr,
    /// Seed of all generated data: the same seed gives the same PBX.
    pub seed: u64,
    pub sizes: SeedSizes,
    /// Spread the seeded call and chat history over the `N` days before the sandbox starts
    /// (up to its start) instead of over the year 2024, so that purges relative to now
    /// (`now-90d`) find rows on both sides of their period. `None`: 2024.
    pub recent_history_days: Option<u32>,
    /// Where the state is saved on clean shutdown and loaded from at start (JSON). `None`:
    /// in memory only.
    pub data_file: Option<PathBuf>,
    /// How long an access token lives.
    pub token_lifetime: Duration,
    /// The 3CX version to behave like: before 20.0.9 `expires_in` is in minutes, from 20.0.9 on
    /// in seconds; `SystemStatus.Version` reports it.
    pub emulate_version: String,
    /// 3CX keeps one active token per API client: a new token invalidates the previous one.
    pub one_active_token_per_client: bool,
    /// Issue JWT-shaped tokens (with `iat`/`exp`), as 3CX does; `false` gives opaque tokens,
    /// so clients must rely on `expires_in`.
    pub jwt_tokens: bool,
    pub client_id: String,
    pub client_secret: String,
    /// Most rows of a computed view (call history, chats) in one answer; more are offered
    /// through `@odata.nextLink`.
    pub max_page_size: u64,
    pub faults: FaultConfig,
    /// Serve HTTPS with this certificate and key instead of plain HTTP (`None`: plain HTTP).
    pub tls: Option<TlsConfig>,
    /// Simulate the actions of another OpenAPI document than this build's (`None`: the
    /// built-in set).
    pub spec: Option<SandboxSpec>,
}

/// The action set of a PBX version other than this build's: the registry built from its
/// OpenAPI document (`threecx_spec`), and the document itself, served at
/// `/xapi/v1/swagger.yaml`.
#[derive(Clone)]
pub struct SandboxSpec {
    pub registry: &'static threecx_registry::Registry,
    pub document: std::sync::Arc<Vec<u8>>,
}

impl std::fmt::Debug for SandboxSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxSpec")
            .field("actions", &self.registry.len())
            .field("document_bytes", &self.document.len())
            .finish()
    }
}

/// The certificate and key of an HTTPS sandbox, both PEM: e.g. a server certificate for
/// `127.0.0.1` and `localhost` issued by a private CA, to try a client's CA bundle and
/// `insecure` settings. TLS is rustls with the *ring* provider (as reqwest's `rustls-tls`).
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The server certificate, optionally followed by its intermediates (PEM,
    /// `-----BEGIN CERTIFICATE-----`).
    pub cert_pem: String,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"[REDACTED]")
            .finish()
    }
}

/// Default API client ID.
pub const DEFAULT_CLIENT_ID: &str = "sandbox";
/// Default API client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";
/// The 3CX version emulated by default (the one the generated code is built from).
pub const DEFAULT_VERSION: &str = "20.0.10";

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            seed: 1,
            sizes: SeedSizes::default(),
            recent_history_days: None,
            data_file: None,
            token_lifetime: Duration::from_secs(3600),
            emulate_version: DEFAULT_VERSION.to_owned(),
            one_active_token_per_client: true,
            jwt_tokens: true,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            max_page_size: 10_000,
            faults: FaultConfig::default(),
            tls: None,
            spec: None,
        }
    }
}

impl SandboxConfig {
    /// Whether the emulated version sends `expires_in` in minutes (before 20.0.9).
    pub fn expires_in_minutes(&self) -> bool {
        version_before(&self.emulate_version, &[20, 0, 9])
    }
}

/// Whether dotted version `v` is lower than `than` (missing parts count as 0; text after the
/// numbers is ignored).
pub fn version_before(v: &str, than: &[u64]) -> bool {
    let parts: Vec<u64> = v
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    for (i, want) in than.iter().enumerate() {
        let have = parts.get(i).copied().unwrap_or(0);
        if have != *want {
            return have < *want;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_before("20.0.8", &[20, 0, 9]));
        assert!(version_before("18.0.1", &[20, 0, 9]));
        assert!(!version_before("20.0.9", &[20, 0, 9]));
        assert!(!version_before("20.0.10", &[20, 0, 9]));
        assert!(!version_before("20.1", &[20, 0, 9]));
        assert!(version_before("20", &[20, 0, 9]));
        assert!(!version_before("20.0.10 Update 3", &[20, 0, 9]));
    }
}
