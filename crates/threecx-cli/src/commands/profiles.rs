//! `threecx profiles` (the PBXs of the config file) and `threecx profiles check` (per PBX:
//! reachable, authenticated, its version, whether its pulled spec is current).

use std::io::Write;

use serde_json::{json, Value};
use threecx_ops::core::{Client, Error, Response};
use threecx_spec::sha256_hex;

use super::fleet::{self, Member};
use crate::cli::{Format, GlobalArgs, ProfilesArgs, ProfilesCommand};
use crate::connection::profile_names;
use crate::exit::{CliError, CliResult};
use crate::output::{write_items_table, write_json};
use crate::spec_choice::Origin;

pub fn run(global: &GlobalArgs, args: &ProfilesArgs) -> CliResult {
    let profiles = match fleet::selected(global)? {
        Some(profiles) => profiles,
        None => {
            let (path, names) = profile_names()?;
            if names.is_empty() {
                return Err(CliError::usage(format!("{} has no profiles", path.display()))
                    .hint("add tables [profiles.NAME] with url, client_id and client_secret or secret_file"));
            }
            names
        }
    };
    match args.command {
        None => list(global, &profiles, args.output),
        Some(ProfilesCommand::Check) => check(global, &profiles, args),
    }
}

fn list(global: &GlobalArgs, profiles: &[String], format: Format) -> CliResult {
    let rows: Vec<Value> = fleet::members(global, profiles)
        .into_iter()
        .map(|(profile, m)| match m {
            Ok(m) => json!({
                "profile": profile,
                "url": m.conn.url.as_ref().map(|u| u.value.clone()),
                "client_id": m.conn.client_id.as_ref().map(|c| c.value.clone()),
                "spec": m.active.describe(),
            }),
            Err(e) => json!({"profile": profile, "error": e.message()}),
        })
        .collect();
    print_rows(&rows, format)
}

fn check(global: &GlobalArgs, profiles: &[String], args: &ProfilesArgs) -> CliResult {
    let members = fleet::members(global, profiles);
    let results = fleet::run_all(global.concurrency, members, |profile, m| async move {
        check_one(&profile, &m, args).await
    })?;
    let rows: Vec<Value> = results
        .iter()
        .map(|(profile, r)| match r {
            Ok(row) => row.clone(),
            Err(e) => json!({"profile": profile, "error": e.message()}),
        })
        .collect();
    print_rows(&rows, args.output)?;
    fleet::finish("profiles check", &results)
}

/// One PBX's row; an error when it cannot be reached or refuses the credentials.
async fn check_one(profile: &str, m: &Member, args: &ProfilesArgs) -> CliResult<Value> {
    let client = Client::new(m.conn.config(args.timeout)?)?;
    let url = client.config().base_url().to_owned();
    let status = m
        .active
        .registry
        .prepare_named("SystemStatus", "GetSystemStatus", json!({}))?
        .send(&client)
        .await;
    let (reachable, authenticated, version) = match &status {
        Ok(answer) => (true, true, answer.to_json().get("Version").cloned()),
        Err(Error::Auth { .. }) => (true, false, None),
        Err(Error::Api { .. }) => (true, true, None),
        Err(_) => (false, false, None),
    };
    let spec = match &m.active.origin {
        Origin::Builtin => "built in (none pulled)".to_owned(),
        Origin::File(path) => format!("file {}", path.display()),
        Origin::Pulled(record) if reachable && authenticated => {
            match client.execute(&super::spec::swagger_request()?).await {
                Ok(Response::Download(d)) if sha256_hex(&d.bytes) == record.sha256 => {
                    "pulled, current".to_owned()
                }
                Ok(_) => "pulled, outdated: run `threecx spec pull`".to_owned(),
                Err(e) => format!("pulled, cannot compare ({e})"),
            }
        }
        Origin::Pulled(_) => "pulled (not compared)".to_owned(),
    };
    let row = json!({
        "profile": profile,
        "url": url,
        "reachable": reachable,
        "authenticated": authenticated,
        "version": version,
        "spec": spec,
    });
    match status {
        Err(e) if !(reachable && authenticated) => Err(CliError::from(e)),
        _ => Ok(row),
    }
}

fn print_rows(rows: &[Value], format: Format) -> CliResult {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &Value::Array(rows.to_vec()))?,
        // Columns are the union of the rows' keys, failed rows included.
        Format::Table => write_items_table(&mut out, rows)?,
    }
    Ok(out.flush()?)
}
