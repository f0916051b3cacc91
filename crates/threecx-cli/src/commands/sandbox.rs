//! `threecx sandbox`: a simulated 3CX PBX on 127.0.0.1 until Ctrl-C, SIGTERM or SIGHUP (each saves
//! `--data` and exits 0); and `--sandbox`: one started
//! inside this process for the one command.
//!
//! Nothing here runs for `list`, `describe` or `completions`: the sandbox (its routes and
//! catalog) is built only when asked for.

use std::io::{IsTerminal, Write};

use threecx_sandbox::{
    Sandbox, SandboxConfig, SandboxError, SandboxHandle, SandboxSpec, SeedSizes,
};
use tokio::runtime::Runtime;

use crate::cli::{GlobalArgs, SandboxArgs};
use crate::connection::Connection;
use crate::exit::{CliError, CliResult, LOCAL, USAGE};

/// `threecx sandbox [...]`: serves until Ctrl-C, SIGTERM or SIGHUP, then saves the state to
/// `--data`, if given.
pub fn run(global: &GlobalArgs, args: &SandboxArgs) -> CliResult {
    let (spec, spec_version) = simulated_spec(global)?;
    let emulate_version = args
        .emulate_version
        .clone()
        .or(spec_version)
        .unwrap_or_else(|| threecx_sandbox::DEFAULT_VERSION.to_owned());
    let config = SandboxConfig {
        port: args.port,
        seed: args.seed,
        sizes: SeedSizes {
            users: args.users,
            groups: args.groups,
            call_history: args.call_history,
            chat_messages: args.chat_messages,
        },
        recent_history_days: args.recent_history,
        data_file: args.data.clone(),
        token_lifetime: args.token_lifetime,
        emulate_version,
        one_active_token_per_client: args.one_active_token,
        spec,
        ..SandboxConfig::default()
    };
    // Several threads: a client paging through a million rows and the answers being computed
    // should not wait on each other.
    server_runtime()?.block_on(serve_until_interrupted(config))
}

/// `--spec FILE`: the action set of that document (and the document, served at
/// `/xapi/v1/swagger.yaml`), and its version when the file name tells it.
fn simulated_spec(global: &GlobalArgs) -> CliResult<(Option<SandboxSpec>, Option<String>)> {
    let active = crate::spec_choice::active(global, None)?;
    let crate::spec_choice::Origin::File(path) = &active.origin else {
        return Ok((None, None));
    };
    let document = std::fs::read(path)
        .map_err(|e| CliError::usage(format!("cannot read --spec {}: {e}", path.display())))?;
    let version = (active.version != "unknown").then(|| active.version.clone());
    Ok((
        Some(SandboxSpec {
            registry: active.registry,
            document: std::sync::Arc::new(document),
        }),
        version,
    ))
}

/// What [`threecx_sandbox::serve_forever`] does (start, print the banner, wait for a signal,
/// stop and save), but listening for signals *before* the banner says the sandbox is ready: a
/// script that sends SIGINT or SIGTERM as soon as it reads the banner must stop it, not kill it
/// unsaved (or, in a background job, where SIGINT starts out ignored, be missed and leave it
/// running).
async fn serve_until_interrupted(config: SandboxConfig) -> CliResult {
    let interrupted = interrupt_listener()?;
    let handle = Sandbox::start(config).await.map_err(from_sandbox)?;
    {
        let mut out = std::io::stdout().lock();
        out.write_all(threecx_sandbox::banner(&handle).as_bytes())?;
        out.flush()?;
    }
    interrupted.await;
    let saved = handle.config().data_file.clone();
    handle.shutdown().await.map_err(from_sandbox)?;
    if let Some(path) = saved {
        println!("Saved the sandbox state to {}.", path.display());
    }
    Ok(())
}

/// A future that completes on Ctrl-C (SIGINT), SIGTERM (what `kill`, systemd, Docker and
/// Kubernetes send) or SIGHUP (the terminal closed), listening from now on: `sandbox`, `serve`
/// and `mcp` stop the same way on each (the sandbox saves `--data`), and exit 0.
#[cfg(unix)]
pub(super) fn interrupt_listener() -> CliResult<impl std::future::Future<Output = ()> + Send> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind| {
        signal(kind).map_err(|e| CliError::local(format!("cannot listen for signals: {e}")))
    };
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let mut hangup = listen(SignalKind::hangup())?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
        };
        tracing::info!(signal = name, "stopping");
    })
}

#[cfg(not(unix))]
pub(super) fn interrupt_listener() -> CliResult<impl std::future::Future<Output = ()> + Send> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Starts the `--sandbox` PBX on `runtime` and points `conn` at it. Dropping the handle stops it.
pub fn start_for_command(
    runtime: &Runtime,
    global: &GlobalArgs,
    conn: &mut Connection,
) -> CliResult<SandboxHandle> {
    let mut config = SandboxConfig::default();
    if let Some(seed) = global.sandbox_seed {
        config.seed = seed;
    }
    // `--spec FILE` names the actions offered; the PBX started for them simulates the same.
    let (spec, version) = simulated_spec(global)?;
    config.spec = spec;
    if let Some(version) = version {
        config.emulate_version = version;
    }
    let handle = runtime
        .block_on(Sandbox::start(config))
        .map_err(from_sandbox)?;
    conn.use_sandbox(
        handle.url(),
        handle.client_id().to_owned(),
        handle.client_secret().to_owned(),
    );
    tracing::info!(url = %handle.url(), seed = handle.config().seed, "sandbox started");
    if std::io::stderr().is_terminal() {
        eprintln!(
            "note: --sandbox: a simulated PBX on {} (seed {}), gone when this command ends",
            handle.url(),
            handle.config().seed
        );
    }
    Ok(handle)
}

/// A current-thread runtime, for one command's requests (and its `--sandbox`, if any).
pub fn command_runtime() -> CliResult<Runtime> {
    runtime(tokio::runtime::Builder::new_current_thread())
}

/// A multi-thread runtime, for commands that serve until stopped (`sandbox`, `serve`).
pub fn server_runtime() -> CliResult<Runtime> {
    runtime(tokio::runtime::Builder::new_multi_thread())
}

fn runtime(mut builder: tokio::runtime::Builder) -> CliResult<Runtime> {
    builder
        .enable_all()
        .build()
        .map_err(|e| CliError::local(format!("cannot start the async runtime: {e}")))
}

fn from_sandbox(error: SandboxError) -> CliError {
    match error {
        e @ SandboxError::Bind { .. } => CliError::new(USAGE, format!("sandbox: {e}")),
        e @ SandboxError::Load { .. } => CliError::new(USAGE, format!("sandbox: {e}")),
        e => CliError::new(LOCAL, format!("sandbox: {e}")),
    }
}
