//! A local simulated 3CX PBX: the OAuth token endpoint and every XAPI action of the registry,
//! on loopback, for trying automations without a licence and for tests.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use threecx_sandbox::{Sandbox, SandboxConfig};
//! let pbx = Sandbox::start(SandboxConfig::default()).await?;
//! let client = threecx_ops::core::Client::new(pbx.client_config().build()?)?;
//! let out = threecx_ops::registry()
//!     .call(&client, "Users", "List User", serde_json::json!({"$top": 5}))
//!     .await?;
//! println!("{}", out.to_json());
//! pbx.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! What is real: tokens (lifetime, expiry, one active token per client), every entity set as a
//! store (list with `$filter $orderby $top $skip $count $select $search`, get by key or
//! alternate key, create, update, delete), singletons (get, update), the call history and chat
//! history (computed rows, purged by `PurgeCalls`/`PurgeChats`), `GetCallLogData`,
//! `Users/Pbx.BatchDelete`, `GetFirstAvailableExtensionNumber` and `SystemStatus`. Every other
//! action is matched, its input validated against the registry's schema, and answered with data
//! generated from its output schema.

mod api;
mod auth;
mod config;
mod entity_sets;
mod faults;
mod form;
mod gen;
mod history;
pub mod odata;
mod people;
mod reply;
mod routes;
mod rules;
mod seed;
mod server;
mod store;
pub mod time;
mod tls;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use threecx_registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{
    version_before, SandboxConfig, SandboxSpec, SeedSizes, TlsConfig, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_VERSION,
};
pub use faults::{Fault, FaultConfig, FaultRule, Trigger};
pub use history::{HISTORY_SPAN, HISTORY_START};

use api::{lock, App};
use entity_sets::Catalog;
use routes::RouteTable;

/// One request the sandbox received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query as received (percent-encoded).
    pub path: String,
    /// The status answered; 0 when the connection was closed without an answer.
    pub status: u16,
    /// The injected fault, if one fired.
    pub fault: Option<String>,
    pub elapsed: Duration,
}

/// What can go wrong starting or stopping a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}; choose another port (0 takes any free one)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the sandbox data file {path}: {source}; move it away to start fresh")]
    Load {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot save the sandbox data file {path}: {source}")]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the sandbox stopped unexpectedly: {0}")]
    Stopped(String),
    #[error(
        "cannot serve HTTPS: {0}; give a PEM certificate (chain) and its PEM private key \
         (PKCS#8, PKCS#1 or SEC1)"
    )]
    Tls(String),
}

pub type Result<T, E = SandboxError> = std::result::Result<T, E>;

/// Counts of what the sandbox holds, for tests and the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub groups: u64,
    /// Call history rows not purged.
    pub call_history: u64,
    /// Chat messages not purged.
    pub chat_messages: u64,
}

/// Starts sandboxes.
pub struct Sandbox;

/// What every sandbox of one action set shares: the route table and the catalog of entity sets,
/// built once per registry (the built-in one, or one per `--spec` document).
fn shared(registry: &'static Registry) -> (&'static RouteTable, &'static Catalog) {
    type Built = Vec<(usize, &'static RouteTable, &'static Catalog)>;
    static SHARED: Mutex<Built> = Mutex::new(Vec::new());
    let key = registry as *const Registry as usize;
    let mut built = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&(_, routes, catalog)) = built.iter().find(|(k, _, _)| *k == key) {
        return (routes, catalog);
    }
    let routes: &'static RouteTable = Box::leak(Box::new(RouteTable::new(registry.actions())));
    let catalog: &'static Catalog = Box::leak(Box::new(Catalog::build(registry)));
    built.push((key, routes, catalog));
    (routes, catalog)
}

impl Sandbox {
    /// Starts a sandbox: loads `data_file` when it exists (else seeds from `seed` and `sizes`),
    /// listens, and serves in the background until [`SandboxHandle::shutdown`].
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle> {
        // Checked before binding, so a bad certificate never leaves a port half set up.
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let registry = match &config.spec {
            Some(spec) => spec.registry,
            None => threecx_ops::registry(),
        };
        let (routes, catalog) = shared(registry);
        let data = match &config.data_file {
            Some(path) if path.exists() => {
                store::Data::load(path).map_err(|source| SandboxError::Load {
                    path: path.clone(),
                    source,
                })?
            }
            _ => {
                let mut data = seed::seed_data(catalog, config.seed, config.sizes);
                if let Some(days) = config.recent_history_days {
                    let span = i64::from(days.max(1)) * 86_400;
                    let start = time::now() - span;
                    data.calls = data.calls.spread_over(start, span);
                    data.chats = data.chats.spread_over(start, span);
                }
                data
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let app = Arc::new(App {
            registry,
            routes,
            catalog,
            data: Mutex::new(data),
            auth: Mutex::new(auth::Auth::new(
                &config.client_id,
                &config.client_secret,
                config.token_lifetime,
                config.expires_in_minutes(),
                config.jwt_tokens,
                config.one_active_token_per_client,
                base_url.clone(),
                config.seed,
            )),
            faults: Mutex::new(faults::FaultState::new(&config.faults, config.seed)),
            log: Mutex::new(Vec::new()),
            config,
            base_url,
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(server::run(listener, tls, Arc::clone(&app), stopped));
        Ok(SandboxHandle {
            app,
            addr,
            stop,
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server without saving; [`SandboxHandle::shutdown`]
/// stops it cleanly and saves the state to the data file.
pub struct SandboxHandle {
    app: Arc<App>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:PORT` (`https://` with [`SandboxConfig::tls`]): the PBX URL to give a
    /// client.
    pub fn url(&self) -> String {
        self.app.base_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn client_id(&self) -> &str {
        &self.app.config.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.app.config.client_secret
    }

    /// The configuration the sandbox runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.app.config
    }

    /// A client configuration for this sandbox (URL and credentials set); add timeouts etc.
    pub fn client_config(&self) -> threecx_core::ConfigBuilder {
        threecx_core::Config::builder()
            .base_url(self.url())
            .client_id(self.client_id())
            .client_secret(self.client_secret().to_owned())
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.app.log).clone()
    }

    /// Requests with `method` (any when empty or `*`) whose path starts with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        lock(&self.app.log)
            .iter()
            .filter(|r| method.is_empty() || method == "*" || r.method.eq_ignore_ascii_case(method))
            .filter(|r| r.path.starts_with(path_prefix))
            .count()
    }

    /// Requests to the token endpoint.
    pub fn token_requests(&self) -> usize {
        self.count("POST", "/connect/token")
    }

    /// Every access token issued so far (the latest 10,000), oldest first: for tests that check
    /// that no token appears in a log, an error or an output.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.app.auth).issued_tokens()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        lock(&self.app.log).clear();
    }

    /// Replaces the fault rules (and their counters).
    pub fn set_faults(&self, faults: FaultConfig) {
        lock(&self.app.faults).set(&faults);
    }

    /// Adds one fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.app.faults).add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.set_faults(FaultConfig::default());
    }

    /// What the sandbox holds now.
    pub fn counts(&self) -> Counts {
        let data = lock(&self.app.data);
        Counts {
            users: data.rows("Users") as u64,
            groups: data.rows("Groups") as u64,
            call_history: data.calls.visible_total(),
            chat_messages: data.chats.visible_total(),
        }
    }

    /// Saves the state to the data file now (no-op without one).
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.app.config.data_file else {
            return Ok(());
        };
        let data = lock(&self.app.data).clone();
        data.save(path).map_err(|source| SandboxError::Save {
            path: path.clone(),
            source,
        })
    }

    /// Stops serving and saves the state to the data file.
    pub async fn shutdown(mut self) -> Result<()> {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.await
                .map_err(|e| SandboxError::Stopped(e.to_string()))?;
        }
        self.save()
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// What `threecx sandbox` prints once the sandbox listens: URL, credentials, data, and how to
/// point the CLI at it.
pub fn banner(handle: &SandboxHandle) -> String {
    let config = handle.config();
    let counts = handle.counts();
    let data = match &config.data_file {
        Some(p) => format!(
            "{} (loaded at start if present, saved on Ctrl-C, SIGTERM or SIGHUP)",
            p.display()
        ),
        None => "in memory (use --data FILE to keep changes)".to_owned(),
    };
    let url = handle.url();
    format!(
        "threecx sandbox: a simulated 3CX PBX {version} on {url}\n\
         \n\
         \x20 URL            {url}\n\
         \x20 client id      {id}\n\
         \x20 client secret  {secret}\n\
         \x20 seed           {seed}\n\
         \x20 data           {data}\n\
         \x20 contents       {users} users, {groups} groups, {calls} call history rows, {chats} chat messages\n\
         \x20 actions        {actions}\n\
         \n\
         Point threecx at it:\n\
         \n\
         \x20 export THREECX_URL={url} THREECX_CLIENT_ID={id} THREECX_CLIENT_SECRET={secret}\n\
         \x20 threecx call Users \"List User\" --param '$top=5'\n\
         \x20 threecx call \"Purge Settings\" \"Purge Chats\" --input '{{\"period\":{{\"Start\":\"2024-01-01T00:00:00Z\",\"Stop\":\"2024-06-30T23:59:59Z\"}}}}' --yes\n\
         \n\
         Press Ctrl-C to stop.\n",
        version = config.emulate_version,
        id = handle.client_id(),
        secret = handle.client_secret(),
        seed = config.seed,
        users = counts.users,
        groups = counts.groups,
        calls = counts.call_history,
        chats = counts.chat_messages,
        actions = match &config.spec {
            Some(spec) => format!(
                "{} (of the --spec document, served at /xapi/v1/swagger.yaml)",
                spec.registry.len()
            ),
            None => format!("{} (built in)", threecx_ops::registry().len()),
        },
    )
}

/// Runs a sandbox until Ctrl-C, SIGTERM or SIGHUP (for
/// `threecx sandbox [--port N] [--seed N] [--data FILE]`): prints [`banner`] to stdout, then
/// saves the state to the data file on the way out.
pub async fn serve_forever(config: SandboxConfig) -> Result<()> {
    let stop = stop_signal().map_err(|e| SandboxError::Stopped(e.to_string()))?;
    let handle = Sandbox::start(config).await?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner(&handle).as_bytes());
    let _ = out.flush();
    drop(out);
    stop.await;
    let saved = handle.config().data_file.clone();
    handle.shutdown().await?;
    if let Some(path) = saved {
        println!("Saved the sandbox state to {}.", path.display());
    }
    Ok(())
}

/// Completes on the first SIGINT, SIGTERM or SIGHUP (listening from the call on): each one
/// stops the sandbox and saves its data, none loses it.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
