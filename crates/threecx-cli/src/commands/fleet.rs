//! Fleets: one command over several PBXs (`--profile a --profile b`, `--profiles a,b`,
//! `--all-profiles`). Each PBX has its own connection, token and action set (its pulled spec);
//! at most `--concurrency` are served at once; every output line is tagged with its profile;
//! a summary goes to stderr; the exit code says whether all, some or none succeeded.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use threecx_gateway::audit::{send_audited, AuditContext};
use threecx_gateway::preview;
use threecx_ops::core::{Client, ResponseKind};
use threecx_ops::registry_api::{relative_time, PreparedCall};

use crate::cli::{CallArgs, CallFormat, GlobalArgs};
use crate::connection::{profile_names, Connection};
use crate::exit::{self, CliError, CliResult};
use crate::output::{write_items_table, write_ndjson_line};
use crate::spec_choice::{self, Active};

/// The profiles named as a fleet, in the order given (without repeats); `None` when the
/// command is for one PBX.
pub fn selected(global: &GlobalArgs) -> CliResult<Option<Vec<String>>> {
    let mut names: Vec<String> = if global.all_profiles {
        let (path, all) = profile_names()?;
        if all.is_empty() {
            return Err(CliError::usage(format!(
                "--all-profiles: {} has no profiles",
                path.display()
            ))
            .hint(
                "add tables [profiles.NAME] with url, client_id and client_secret or secret_file",
            ));
        }
        all
    } else if global.profile.len() > 1 || !global.profiles.is_empty() {
        global
            .profile
            .iter()
            .chain(&global.profiles)
            .cloned()
            .collect()
    } else {
        return Ok(None);
    };
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    if global.sandbox {
        return Err(CliError::usage(
            "--sandbox starts one PBX for one command; it does not combine with a fleet",
        ));
    }
    Ok(Some(names))
}

/// Per PBX (in profile order): its member and validated call, or why it has none.
type Prepared = Vec<(String, CliResult<(Member, PreparedCall<'static>)>)>;

/// One PBX of the fleet, as far as it could be set up.
pub struct Member {
    pub conn: Connection,
    pub active: Active,
}

/// Resolves every profile's connection and action set (no I/O but files).
pub fn members(global: &GlobalArgs, profiles: &[String]) -> Vec<(String, CliResult<Member>)> {
    profiles
        .iter()
        .map(|profile| {
            let member = Connection::resolve_profile(global, profile).and_then(|conn| {
                let active = spec_choice::active(global, Some(&conn))?;
                Ok(Member { conn, active })
            });
            (profile.clone(), member)
        })
        .collect()
}

/// Runs `work` for every PBX, at most `concurrency` at once, on a current-thread runtime;
/// results in profile order.
pub fn run_all<T, F, Fut>(
    concurrency: u16,
    items: Vec<(String, CliResult<F>)>,
    work: impl Fn(String, F) -> Fut,
) -> CliResult<Vec<(String, CliResult<T>)>>
where
    Fut: Future<Output = CliResult<T>>,
{
    let runtime = super::sandbox::command_runtime()?;
    let results = runtime.block_on(async {
        let work = &work;
        let mut results: Vec<(usize, String, CliResult<T>)> =
            stream::iter(items.into_iter().enumerate())
                .map(|(i, (profile, item))| async move {
                    let result = match item {
                        Ok(item) => work(profile.clone(), item).await,
                        Err(e) => Err(e),
                    };
                    (i, profile, result)
                })
                .buffer_unordered(usize::from(concurrency))
                .collect()
                .await;
        results.sort_by_key(|(i, _, _)| *i);
        results
    });
    Ok(results.into_iter().map(|(_, p, r)| (p, r)).collect())
}

/// The stderr summary and the exit: 0 when every PBX succeeded, the failure's own code when
/// all failed, [`exit::FLEET_PARTIAL`] when some did.
pub fn finish<T>(what: &str, results: &[(String, CliResult<T>)]) -> CliResult {
    let failed: Vec<(&String, &CliError)> = results
        .iter()
        .filter_map(|(p, r)| r.as_ref().err().map(|e| (p, e)))
        .collect();
    eprintln!(
        "{what}: {} PBXs, {} ok, {} failed",
        results.len(),
        results.len() - failed.len(),
        failed.len()
    );
    for (profile, e) in &failed {
        eprintln!("  {profile}: {}", e.message());
    }
    match failed.first() {
        None => Ok(()),
        Some((_, first)) if failed.len() == results.len() => Err(CliError::new(
            first.code(),
            format!("every PBX of the fleet failed ({} of them)", failed.len()),
        )),
        Some(_) => Err(CliError::new(
            exit::FLEET_PARTIAL,
            format!(
                "{} of {} PBXs failed; the others succeeded",
                failed.len(),
                results.len()
            ),
        )),
    }
}

/// What a failed PBX's line says.
pub fn error_json(e: &CliError) -> Value {
    json!({"message": e.message(), "exit_code": e.code()})
}

/// `threecx call` over a fleet: validated per PBX with its own schema; a destructive call is
/// confirmed once for all PBXs (or refused for all) before anything is sent.
pub fn call(global: &GlobalArgs, args: &CallArgs, profiles: &[String]) -> CliResult {
    let format = args.output.unwrap_or(CallFormat::Ndjson);
    if matches!(format, CallFormat::Json | CallFormat::Csv) {
        return Err(CliError::usage(
            "a fleet's answers come as one line per PBX per item: use --output ndjson or table",
        ));
    }
    if args.out.is_some() {
        return Err(CliError::usage(
            "--out writes one file; it does not combine with a fleet",
        ));
    }
    // One "now" for the whole fleet: `now-90d` is the same instant on every PBX.
    let now = relative_time::now();
    let prepared: Prepared = members(global, profiles)
        .into_iter()
        .map(|(profile, member)| {
            let prepared = member.and_then(|m| {
                let action = m.active.action(&args.resource, &args.action)?;
                let mut input = super::call::read_input(args, action)?;
                action.resolve_relative_times(&mut input, now);
                let call = action.prepare(input)?;
                Ok((m, call))
            });
            (profile, prepared)
        })
        .collect();
    refuse_downloads(&prepared)?;
    let destructive = prepared
        .iter()
        .any(|(_, r)| matches!(r, Ok((_, call)) if call.is_destructive()));
    if args.all && destructive {
        return Err(CliError::usage(
            "--all would send a destructive action once per page; call it without --all",
        ));
    }
    let prepared = confirm_fleet(prepared, args)?;
    let out = Mutex::new(Sink::new(format));
    if args.dry_run {
        let results: Vec<(String, CliResult<()>)> = prepared
            .into_iter()
            .map(|(profile, item)| {
                let line = item.and_then(|(m, call)| {
                    super::call::request_json(&call.into_request()?, &m.conn)
                });
                let result = match line {
                    Ok(request) => emit(&out, &profile, "request", request),
                    Err(e) => emit_error(&out, &profile, e),
                };
                (profile, result)
            })
            .collect();
        out.into_inner().unwrap_or_else(|e| e.into_inner()).end()?;
        return finish("dry run", &results);
    }
    // PBXs that could not be set up (connection, unknown action, invalid input) get their
    // error line now; the others theirs as they answer.
    for (profile, item) in &prepared {
        if let Err(e) = item {
            emit(&out, profile, "error", error_json(e))?;
        }
    }
    let results = run_all(global.concurrency, prepared, |profile, (m, call)| {
        let out = &out;
        async move {
            let result = send_one(&m, call, args, format, out, &profile).await;
            match result {
                Ok(()) => Ok(()),
                Err(e) => emit_error(out, &profile, e),
            }
        }
    })?;
    out.into_inner().unwrap_or_else(|e| e.into_inner()).end()?;
    finish(&format!("{} / {}", args.resource, args.action), &results)
}

fn refuse_downloads<T>(prepared: &[(String, CliResult<(T, PreparedCall<'static>)>)]) -> CliResult {
    let download = prepared.iter().any(
        |(_, r)| matches!(r, Ok((_, call)) if call.response_kind() == Some(ResponseKind::Download)),
    );
    if download {
        return Err(CliError::usage(
            "this action downloads a file; call it for one PBX at a time with --out FILE",
        ));
    }
    Ok(())
}

/// A destructive call goes to no PBX unless confirmed: `--yes`, or a yes on a terminal to a
/// question that lists the PBXs. Refused: nothing is sent anywhere.
fn confirm_fleet(prepared: Prepared, args: &CallArgs) -> CliResult<Prepared> {
    let destructive: Vec<&str> = prepared
        .iter()
        .filter(|(_, r)| matches!(r, Ok((_, call)) if call.is_destructive()))
        .map(|(p, _)| p.as_str())
        .collect();
    let confirmed = args.yes || args.dry_run || destructive.is_empty() || ask(&destructive, args);
    if !confirmed {
        return Err(CliError::usage(format!(
            "{} / {} is destructive: nothing was sent to any of the {} PBXs",
            args.resource,
            args.action,
            destructive.len()
        ))
        .hint("add --yes to send it to every PBX of the fleet"));
    }
    Ok(prepared
        .into_iter()
        .map(|(p, r)| (p, r.map(|(m, call)| (m, call.confirm(true)))))
        .collect())
}

fn ask(pbxs: &[&str], args: &CallArgs) -> bool {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return false;
    }
    eprintln!(
        "{} / {} is destructive; it would go to {} PBXs: {}",
        args.resource,
        args.action,
        pbxs.len(),
        pbxs.join(", ")
    );
    dialoguer::Confirm::new()
        .with_prompt("Send it to all of them?")
        .default(false)
        .interact()
        .unwrap_or(false)
}

/// Sends one PBX's call and writes its lines: one per item with `--all`, else one result.
async fn send_one(
    m: &Member,
    call: PreparedCall<'static>,
    args: &CallArgs,
    format: CallFormat,
    out: &Mutex<Sink>,
    profile: &str,
) -> CliResult {
    let client = Client::new(m.conn.config(args.timeout)?)?;
    if args.all {
        if call.response_kind() != Some(ResponseKind::Collection) {
            return Err(CliError::usage(format!(
                "--all pages through a list, but {} does not return one",
                call.meta().label()
            )));
        }
        let mut pages = std::pin::pin!(call.pages::<Value>(&client, args.page_size)?);
        while let Some(item) = pages.next().await {
            emit(out, profile, "item", item?)?;
        }
        return Ok(());
    }
    // A destructive call is counted first (purges) and recorded in the PBX's audit log.
    let audit = if call.is_destructive() {
        super::session::open_audit_log(&m.conn.audit_log)?
    } else {
        None
    };
    let preview = match preview::count_rule(call.op()) {
        Some(_) => preview::preview(m.active.registry, &client, call.op(), call.input())
            .await
            .ok()
            .flatten(),
        None => None,
    };
    if let Some(p) = &preview {
        eprintln!("{profile}: preview: {}", p.message);
    }
    let who = AuditContext {
        front_end: "cli",
        api_key: None,
    };
    let sent = send_audited(
        call,
        &client,
        audit.as_ref(),
        &who,
        preview.map(|p| p.count),
    )
    .await;
    if let Some(e) = &sent.audit_error {
        eprintln!(
            "{profile}: warning: the call was sent, but its audit line could not be written: {e}"
        );
    }
    let answer = sent.result?.into_json();
    match crate::output::items_of(&answer) {
        Some(items) if format == CallFormat::Ndjson => {
            for item in items {
                emit(out, profile, "item", item.clone())?;
            }
            Ok(())
        }
        _ => emit(out, profile, "result", answer),
    }
}

/// Where a fleet's lines go: NDJSON straight to stdout, or rows gathered for one table.
enum Sink {
    Ndjson(std::io::StdoutLock<'static>),
    Table(Vec<Value>),
}

impl Sink {
    fn new(format: CallFormat) -> Sink {
        match format {
            CallFormat::Table => Sink::Table(Vec::new()),
            _ => Sink::Ndjson(std::io::stdout().lock()),
        }
    }

    /// Flushes the lines, or prints the table (a PROFILE column first).
    fn end(self) -> CliResult {
        match self {
            Sink::Ndjson(mut out) => Ok(out.flush()?),
            Sink::Table(rows) => {
                let mut out = std::io::stdout().lock();
                write_items_table(&mut out, &rows)?;
                Ok(out.flush()?)
            }
        }
    }
}

/// One line tagged with its PBX: `{"profile": P, KEY: VALUE}`; a table row is the item's own
/// fields after the profile.
fn emit(out: &Mutex<Sink>, profile: &str, key: &str, value: Value) -> CliResult {
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    match &mut *out {
        Sink::Ndjson(out) => Ok(write_ndjson_line(
            out,
            &json!({"profile": profile, key: value}),
        )?),
        Sink::Table(rows) => {
            let mut row = serde_json::Map::new();
            row.insert("profile".to_owned(), Value::String(profile.to_owned()));
            match value {
                Value::Object(fields) if key == "item" => row.extend(fields),
                other => {
                    row.insert(key.to_owned(), other);
                }
            }
            rows.push(Value::Object(row));
            Ok(())
        }
    }
}

/// Writes the failed PBX's line and passes the error on (for the summary and exit code).
fn emit_error<T>(out: &Mutex<Sink>, profile: &str, e: CliError) -> CliResult<T> {
    emit(out, profile, "error", error_json(&e))?;
    Err(e)
}
