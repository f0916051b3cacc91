//! `threecx serve`: the HTTP action gateway of `threecx-gateway`, until Ctrl-C, SIGTERM or
//! SIGHUP (each stops it the same way: no new connections, the calls in flight finish within
//! `--shutdown-grace`, exit 0).

use std::io::Write;

use secrecy::SecretString;
use threecx_gateway::gateway::{self, GatewayState, ServeOptions};
use threecx_gateway::ServeError;

use super::session::Session;
use crate::cli::{GlobalArgs, ServeArgs};
use crate::connection::Connection;
use crate::exit::{CliError, CliResult, USAGE};

/// Holds the gateway's API key itself (not a file name).
pub const ENV_GATEWAY_KEY: &str = "THREECX_GATEWAY_KEY";

pub fn run(global: &GlobalArgs, args: &ServeArgs) -> CliResult {
    let key = api_key(args)?;
    warn_if_on_network(args.listen);
    let conn = Connection::resolve(global)?;
    let active = crate::spec_choice::active(global, Some(&conn))?;
    // Several threads: one slow PBX call must not hold up the other callers.
    let runtime = super::sandbox::server_runtime()?;
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let mut state = GatewayState::new(session.client.clone(), key)?
        .registry(active.registry)
        .max_body_bytes(args.max_body)
        .page_size(args.page_size);
    if let Some(log) = session.audit_log()? {
        state = state.audit_log(log);
    }
    let options = ServeOptions::default()
        .max_connections(args.max_connections as usize)
        .header_read_timeout(args.header_timeout)
        .shutdown_grace(args.shutdown_grace);
    let result = runtime.block_on(async {
        let interrupted = super::sandbox::interrupt_listener()?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| {
                from_serve(ServeError::Bind {
                    addr: args.listen,
                    source,
                })
            })?;
        let local = listener.local_addr()?;
        {
            // The first line of stdout: scripts that asked for port 0 read the address here.
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "threecx gateway on http://{local} for {} (Ctrl-C stops it)",
                session.client.config().base_url()
            )?;
            if !matches!(active.origin, crate::spec_choice::Origin::Builtin) {
                eprintln!("actions of {}", active.describe());
            }
            out.flush()?;
        }
        gateway::serve_listener_with(listener, state, options, interrupted)
            .await
            .map_err(from_serve)
    });
    session.close(&runtime);
    result
}

/// The gateway speaks plain HTTP: on an address other than loopback its API key and the PBX's
/// data cross the network unencrypted. Said on stderr (whatever the log level), not refused:
/// behind a TLS-terminating reverse proxy or in a container, listening on all addresses is how
/// it is reached.
fn warn_if_on_network(addr: std::net::SocketAddr) {
    if addr.ip().is_loopback() {
        return;
    }
    eprintln!(
        "warning: --listen {addr} is not a loopback address, and the gateway speaks plain HTTP: \
         its API key and the PBX's data would cross the network unencrypted. Put it behind a \
         reverse proxy that terminates TLS (nginx, Caddy, Traefik...) or reach it through an SSH \
         tunnel; listen on 127.0.0.1 when the callers run on this machine."
    );
}

/// The key from `--api-key-file` (surrounding whitespace dropped), else `THREECX_GATEWAY_KEY`.
fn api_key(args: &ServeArgs) -> CliResult<SecretString> {
    if let Some(path) = &args.api_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(format!(
                "cannot read the API key file {}: {e}",
                path.display()
            ))
        })?;
        return Ok(SecretString::from(text.trim().to_owned()));
    }
    match std::env::var(ENV_GATEWAY_KEY) {
        Ok(key) if !key.trim().is_empty() => Ok(SecretString::from(key.trim().to_owned())),
        _ => Err(CliError::usage(
            "the gateway needs an API key that its callers must send",
        )
        .hint(format!(
            "set {ENV_GATEWAY_KEY} or give --api-key-file FILE (make a key with `openssl rand -hex 32`)"
        ))),
    }
}

pub(super) fn from_serve(error: ServeError) -> CliError {
    match error {
        ServeError::Threecx(e) => CliError::from(e),
        e @ ServeError::Bind { .. } => CliError::new(USAGE, e.to_string()),
        e => CliError::local(e.to_string()),
    }
}
