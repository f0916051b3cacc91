//! Small sandboxes (threecx-sandbox) for tests, and clients for them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use threecx_core::Client;
use threecx_sandbox::{Sandbox, SandboxConfig, SandboxHandle, SeedSizes};

/// Seed sizes small enough that a sandbox starts in milliseconds.
pub fn small_seed() -> SeedSizes {
    SeedSizes {
        users: 25,
        groups: 3,
        call_history: 1000,
        chat_messages: 400,
    }
}

/// A client ID no other test of this process uses, starting with `prefix`.
///
/// The SDK keeps one token cache per (URL, client ID) for the whole process, and a port may be
/// reused by the next sandbox: a fresh client ID per sandbox keeps tests from seeing each
/// other's tokens.
pub fn unique_client_id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A sandbox configuration with [`small_seed`] sizes and a [`unique_client_id`].
pub fn small_sandbox_config(client_id_prefix: &str) -> SandboxConfig {
    SandboxConfig {
        sizes: small_seed(),
        client_id: unique_client_id(client_id_prefix),
        ..SandboxConfig::default()
    }
}

/// Starts a sandbox on 127.0.0.1 (panics if it cannot).
pub async fn start_sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("the sandbox starts")
}

/// Timeout of the clients built by [`sandbox_client`].
pub const SANDBOX_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// An SDK client for `pbx` with its credentials and a 10 s timeout.
pub fn sandbox_client(pbx: &SandboxHandle) -> Client {
    sandbox_client_with_secret(pbx, pbx.client_secret())
}

/// An SDK client for `pbx` that presents `secret` (right or wrong) as its client secret.
pub fn sandbox_client_with_secret(pbx: &SandboxHandle, secret: &str) -> Client {
    Client::new(
        pbx.client_config()
            .client_secret(secret.to_owned())
            .timeout(SANDBOX_CLIENT_TIMEOUT)
            .build()
            .expect("client config"),
    )
    .expect("client")
}
