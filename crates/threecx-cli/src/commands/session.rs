//! What every command that talks to a PBX does first: resolve the connection, start the
//! `--sandbox` PBX if asked for, and build the client.

use std::path::PathBuf;
use std::time::Duration;

use threecx_gateway::audit::AuditLog;

use threecx_ops::core::Client;
use threecx_sandbox::SandboxHandle;
use tokio::runtime::Runtime;

use crate::cli::GlobalArgs;
use crate::connection::{Connection, Setting};
use crate::exit::{CliError, CliResult};

/// A client for this command, and the `--sandbox` PBX it talks to, if any.
pub struct Session {
    pub client: Client,
    sandbox: Option<SandboxHandle>,
    /// Where the servers (`serve`, `mcp`) record destructive calls, with where that came from.
    audit_log: Setting<Option<PathBuf>>,
}

impl Session {
    /// Resolves `conn` into a client (a sandbox, started on `runtime`, replaces its settings);
    /// warns on stderr when TLS verification is off. Sends nothing.
    pub fn open(
        runtime: &Runtime,
        global: &GlobalArgs,
        mut conn: Connection,
        timeout: Option<Duration>,
    ) -> CliResult<Session> {
        let sandbox = if global.sandbox {
            Some(super::sandbox::start_for_command(
                runtime, global, &mut conn,
            )?)
        } else {
            None
        };
        let config = conn.config(timeout)?;
        let audit_log = conn.audit_log.clone();
        if config.insecure() {
            eprintln!(
                "warning: TLS certificate verification is disabled (--insecure): anyone on the \
                 network path can read the client secret and tokens; prefer --ca-cert FILE"
            );
        }
        let client = Client::new(config)?;
        Ok(Session {
            client,
            sandbox,
            audit_log,
        })
    }

    /// The audit log of a server's destructive calls, opened now so that an unwritable one
    /// stops it from starting; `None` with `--no-audit-log`.
    pub fn audit_log(&self) -> CliResult<Option<AuditLog>> {
        open_audit_log(&self.audit_log)
    }

    /// Stops the `--sandbox` PBX, if any (it lives in memory only: nothing to save).
    pub fn close(self, runtime: &Runtime) {
        if let Some(sandbox) = self.sandbox {
            let _ = runtime.block_on(sandbox.shutdown());
        }
    }
}

/// Opens the audit log a connection names (`None` with `--no-audit-log`); an unwritable one is
/// an error before anything is sent.
pub fn open_audit_log(setting: &Setting<Option<PathBuf>>) -> CliResult<Option<AuditLog>> {
    let Some(path) = &setting.value else {
        return Ok(None);
    };
    AuditLog::open(path).map(Some).map_err(|e| {
        CliError::local(format!(
            "cannot write the audit log {} (from {}): {e}",
            path.display(),
            setting.source
        ))
        .hint(
            "name another file with --audit-log FILE (or THREECX_AUDIT_LOG), or keep none \
             with --no-audit-log",
        )
    })
}
