//! The retention side of `threecx call`: relative date-times in the input (`now-90d`), the
//! purge preview (counted before a purge is sent, or alone with `--preview`) and the audit log
//! of destructive calls. The rules themselves live in `threecx-registry` (relative times) and
//! `threecx-gateway` (the preview table, the audit writer), shared with `serve` and `mcp`.

use serde_json::Value;
use threecx_gateway::audit::{send_audited, AuditContext, AuditLog};
use threecx_gateway::preview::{self, count_query, count_rule, Preview, COUNT_RULES};
use threecx_ops::core::{Client, Response};
use threecx_ops::registry_api::relative_time::{self, ResolvedTime};
use threecx_ops::registry_api::{ActionRef, PreparedCall, Registry};
use tokio::runtime::Runtime;

use super::super::session::Session;
use crate::cli::{CallArgs, GlobalArgs};
use crate::connection::Connection;
use crate::exit::{CliError, CliResult};
use crate::output::write_json;

/// Replaces the relative date-times of `input` (as of now); what was replaced is logged.
pub(super) fn resolve_times(action: ActionRef<'_>, input: &mut Value) -> Vec<ResolvedTime> {
    let resolved = action.resolve_relative_times(input, relative_time::now());
    for r in &resolved {
        tracing::info!(field = %r.pointer, relative = %r.relative, value = %r.value, "relative time");
    }
    resolved
}

/// Says on stderr what each relative date-time became (dry runs and previews).
pub(super) fn show_resolved(resolved: &[ResolvedTime]) {
    for r in resolved {
        eprintln!("note: {} \"{}\" is {}", r.pointer, r.relative, r.value);
    }
}

/// The audit log a destructive `call` is recorded in (opened before anything is sent); `None`
/// for other calls or with `--no-audit-log`.
pub(super) fn audit_log_for(
    session: &Session,
    call: &PreparedCall<'_>,
) -> CliResult<Option<AuditLog>> {
    if call.is_destructive() {
        session.audit_log()
    } else {
        Ok(None)
    }
}

/// Counts what `call` would remove, when it is a purge with a preview, and says it on stderr
/// (`preview: would remove 312 chat messages from ... to ...`). A count that fails is a warning:
/// the purge is still asked about (or sent with `--yes`) as before.
pub(super) fn announce_preview(
    runtime: &Runtime,
    registry: &Registry,
    client: &Client,
    call: &PreparedCall<'_>,
) -> Option<Preview> {
    count_rule(call.op())?;
    match runtime.block_on(preview::preview(registry, client, call.op(), call.input())) {
        Ok(Some(p)) => {
            eprintln!("preview: {}", p.message);
            Some(p)
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!(
                "warning: could not count what {} removes: {e}",
                call.meta().label()
            );
            None
        }
    }
}

/// Sends `call` (confirmed), recording it in `audit`; a record that cannot be written is a
/// warning (the call was sent).
pub(super) async fn send(
    call: PreparedCall<'_>,
    client: &Client,
    audit: Option<&AuditLog>,
    preview: Option<&Preview>,
) -> CliResult<Response> {
    let who = AuditContext {
        front_end: "cli",
        api_key: None,
    };
    let sent = send_audited(call, client, audit, &who, preview.map(|p| p.count)).await;
    if let (Some(e), Some(log)) = (&sent.audit_error, audit) {
        eprintln!(
            "warning: the call was sent, but its audit line could not be written to {}: {e}",
            log.path().display()
        );
    }
    Ok(sent.result?)
}

/// `--preview`: the count query of the purge `call` (or, with `--dry-run`, that query's
/// request); the purge itself is never sent.
pub(super) fn preview_only(
    global: &GlobalArgs,
    args: &CallArgs,
    registry: &Registry,
    call: PreparedCall<'_>,
    resolved: &[ResolvedTime],
) -> CliResult {
    let label = call.meta().label();
    let Some(rule) = count_rule(call.op()) else {
        let with: Vec<String> = COUNT_RULES
            .iter()
            .filter_map(|r| registry.find(r.resource, r.action).ok())
            .map(|op| op.meta().label())
            .collect();
        return Err(CliError::usage(format!(
            "--preview counts what a purge would remove, and {label} has no count"
        ))
        .hint(format!("purges with a preview: {}", with.join(", "))));
    };
    let Some((_, query)) = count_query(rule, call.input()) else {
        return Err(CliError::usage(format!(
            "--preview needs the period {label} would purge: \"{}\" with \"All\": true, or a \
             \"Start\" and/or \"Stop\"",
            rule.period
        ))
        .hint(r#"e.g. --input '{"period":{"Start":null,"Stop":"now-90d"}}'"#));
    };
    show_resolved(resolved);
    let conn = Connection::resolve(global)?;
    if args.dry_run {
        let view = registry.action(rule.view_resource, rule.view_action)?;
        return super::dry_run(view.prepare(query)?, &conn, args.output);
    }
    let runtime = super::super::sandbox::command_runtime()?;
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let counted = runtime.block_on(preview::preview(
        registry,
        &session.client,
        call.op(),
        call.input(),
    ));
    session.close(&runtime);
    let preview = counted?.ok_or_else(|| CliError::usage("nothing to count"))?;
    eprintln!("preview: {}", preview.message);
    let mut out = std::io::stdout().lock();
    write_json(
        &mut out,
        &serde_json::to_value(&preview).unwrap_or_default(),
    )?;
    Ok(())
}

/// `--dry-run` of a purge with a preview: counted too when a PBX is configured (the count is a
/// read; the purge is not sent), else said why not. Never fails the dry run.
pub(super) fn dry_run_preview(global: &GlobalArgs, args: &CallArgs, call: &PreparedCall<'_>) {
    if count_rule(call.op()).is_none() {
        return;
    }
    if global.sandbox {
        eprintln!("preview: not counted (--sandbox starts no PBX for a dry run; use --preview)");
        return;
    }
    let conn = match Connection::resolve(global) {
        Ok(conn) if conn.missing().is_empty() => conn,
        _ => {
            eprintln!("preview: not counted (no PBX connection configured)");
            return;
        }
    };
    let counted = super::super::sandbox::command_runtime().and_then(|runtime| {
        let session = Session::open(&runtime, global, conn, args.timeout)?;
        let p = runtime.block_on(preview::preview(
            threecx_ops::registry(),
            &session.client,
            call.op(),
            call.input(),
        ));
        session.close(&runtime);
        Ok(p?)
    });
    match counted {
        Ok(Some(p)) => eprintln!("preview: {}", p.message),
        Ok(None) => {}
        Err(e) => eprintln!("preview: not counted: {e}"),
    }
}
