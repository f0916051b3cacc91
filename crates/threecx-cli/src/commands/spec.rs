//! `threecx spec pull` and `threecx spec status`: the PBX's own OpenAPI document
//! (`/xapi/v1/swagger.yaml`) imported and cached, so by-name calls speak the PBX's version.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use threecx_ops::core::{Client, Method, PreparedRequest, RequestTemplate, Response, ResponseKind};
use threecx_ops::registry_api::Registry;
use threecx_spec::{sha256_hex, FromSpec, PulledSpec, SpecCache, SpecDiff, SpecSet};

use super::fleet;
use super::session::Session;
use crate::cli::{Format, GlobalArgs, SpecArgs, SpecCommand};
use crate::connection::Connection;
use crate::exit::CliResult;
use crate::output::{write_json, write_ndjson_line};
use crate::spec_choice::{self, spec_cache, spec_error, Active, Origin};

/// GET `/xapi/v1/swagger.yaml`: every 3CX PBX serves its own document there.
static SWAGGER: RequestTemplate = RequestTemplate {
    method: Method::Get,
    path: "/swagger.yaml",
    params: &[],
    response: ResponseKind::Download,
    retry_safe: true,
};

/// The request for the PBX's document.
pub fn swagger_request() -> CliResult<PreparedRequest> {
    Ok(SWAGGER.build(&Map::new())?)
}

pub fn run(global: &GlobalArgs, command: &SpecCommand) -> CliResult {
    match command {
        SpecCommand::Pull(args) => pull(global, args),
        SpecCommand::Status(args) => status(global, args),
    }
}

fn pull(global: &GlobalArgs, args: &SpecArgs) -> CliResult {
    if let Some(profiles) = fleet::selected(global)? {
        let members = fleet::members(global, &profiles);
        let results = fleet::run_all(global.concurrency, members, |profile, m| async move {
            let report = match Client::new(m.conn.config(args.timeout)?) {
                Ok(client) => pull_one(&client).await,
                Err(e) => Err(e.into()),
            };
            print_tagged(&profile, report)
        })?;
        return fleet::finish("spec pull", &results);
    }
    let conn = Connection::resolve(global)?;
    let runtime = super::sandbox::command_runtime()?;
    // A --sandbox PBX is started here, as for a call.
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let report = runtime.block_on(pull_one(&session.client));
    session.close(&runtime);
    print_report(&report?, args.output)
}

/// Fetches, imports (unless a PBX of the same spec was imported before), caches, and reports
/// how the PBX's actions differ from the built-in set.
async fn pull_one(client: &Client) -> CliResult<Value> {
    // Recorded under the API root, as `spec_choice` looks it up.
    let url = client.config().root().as_str().to_owned();
    let bytes = match client.execute(&swagger_request()?).await? {
        Response::Download(d) => d.bytes,
        other => other.into_json().to_string().into_bytes(),
    };
    let cache = spec_cache();
    let sha256 = sha256_hex(&bytes);
    let set = set_of(&cache, &sha256, bytes, &url)?;
    let registry = Registry::from_spec(&set).map_err(spec_error)?;
    let record = PulledSpec {
        url,
        pbx_version: super::snapshot::pbx_version(registry, client).await,
        pulled_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        sha256,
    };
    cache.store_record(&record).map_err(spec_error)?;
    let diff = diff_from_builtin(&set)?;
    Ok(json!({
        "url": record.url,
        "version": record.pbx_version.clone().unwrap_or_else(|| set.version.clone()),
        "actions": set.actions.len(),
        "sha256": record.sha256,
        "cached_at": cache.record_path(&record.url).display().to_string(),
        "builtin": {"version": threecx_ops::THREECX_VERSION, "actions": threecx_ops::ALL_ACTIONS.len()},
        "diff": diff,
    }))
}

/// The set of a document: from this process's memory, else the cache, else imported (and
/// cached), so that a fleet of PBXs at one version holds and imports it once.
fn set_of(cache: &SpecCache, sha256: &str, bytes: Vec<u8>, url: &str) -> CliResult<Arc<SpecSet>> {
    static SETS: Mutex<BTreeMap<String, Arc<SpecSet>>> = Mutex::new(BTreeMap::new());
    let mut sets = SETS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(set) = sets.get(sha256) {
        return Ok(Arc::clone(set));
    }
    let set = cache
        .set_or_import(bytes, &format!("{url}/swagger.yaml"))
        .map_err(spec_error)?;
    let set = Arc::new(set);
    sets.insert(sha256.to_owned(), Arc::clone(&set));
    Ok(set)
}

/// How a set differs from the built-in one, computed once per spec in this process: a fleet
/// at one version pays for it (and the memory of two model maps) once.
fn diff_from_builtin(set: &SpecSet) -> CliResult<SpecDiff> {
    static BUILTIN: OnceLock<SpecSet> = OnceLock::new();
    static DIFFS: Mutex<BTreeMap<String, SpecDiff>> = Mutex::new(BTreeMap::new());
    if let Some(diff) = DIFFS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&set.sha256)
    {
        return Ok(diff.clone());
    }
    let builtin = BUILTIN.get_or_init(SpecSet::builtin);
    let diff = SpecDiff::between(builtin, set).map_err(spec_error)?;
    DIFFS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(set.sha256.clone(), diff.clone());
    Ok(diff)
}

fn status(global: &GlobalArgs, args: &SpecArgs) -> CliResult {
    if let Some(profiles) = fleet::selected(global)? {
        let members = fleet::members(global, &profiles);
        let results = fleet::run_all(global.concurrency, members, |profile, m| async move {
            print_tagged(&profile, Ok(status_of(&m.conn, &m.active)))
        })?;
        return fleet::finish("spec status", &results);
    }
    let conn = Connection::resolve(global)?;
    let active = spec_choice::active(global, Some(&conn))?;
    print_report(&status_of(&conn, &active), args.output)
}

/// What the connection uses: which set, where from, its version and size.
fn status_of(conn: &Connection, active: &Active) -> Value {
    let (origin, pulled) = match &active.origin {
        Origin::Builtin => ("builtin", Value::Null),
        Origin::File(path) => ("file", json!({"file": path.display().to_string()})),
        Origin::Pulled(record) => (
            "pulled",
            json!({"sha256": record.sha256, "pulled_at": record.pulled_at,
                   "cached_at": spec_cache().record_path(&record.url).display().to_string()}),
        ),
    };
    json!({
        "url": conn.url.as_ref().map(|u| u.value.clone()),
        "spec": origin,
        "version": active.version,
        "actions": active.registry.len(),
        "pulled": pulled,
        "builtin": {"version": threecx_ops::THREECX_VERSION, "actions": threecx_ops::ALL_ACTIONS.len()},
    })
}

fn print_tagged(profile: &str, report: CliResult<Value>) -> CliResult {
    let mut out = std::io::stdout().lock();
    let line = match &report {
        Ok(report) => json!({"profile": profile, "spec": report}),
        Err(e) => json!({"profile": profile, "error": fleet::error_json(e)}),
    };
    write_ndjson_line(&mut out, &line)?;
    out.flush()?;
    report.map(|_| ())
}

fn print_report(report: &Value, format: Format) -> CliResult {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        write_json(&mut out, report)?;
        return Ok(out.flush()?);
    }
    let text = |key: &str| report[key].as_str().unwrap_or("-").to_owned();
    writeln!(
        out,
        "{}: 3CX {}, {} actions ({})",
        text("url"),
        text("version"),
        report["actions"],
        report
            .get("spec")
            .and_then(Value::as_str)
            .unwrap_or("pulled")
    )?;
    if let Some(diff) = report.get("diff") {
        let names = |key: &str| -> Vec<String> {
            diff[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (added, removed, changed) = (names("added"), names("removed"), names("changed"));
        writeln!(
            out,
            "compared with the built-in 3CX {} ({} actions): {} added, {} removed, {} changed",
            threecx_ops::THREECX_VERSION,
            threecx_ops::ALL_ACTIONS.len(),
            added.len(),
            removed.len(),
            changed.len()
        )?;
        for (label, list) in [("added", added), ("removed", removed), ("changed", changed)] {
            if !list.is_empty() {
                writeln!(out, "  {label}: {}", list.join(", "))?;
            }
        }
    }
    Ok(out.flush()?)
}
