//! `threecx config`: the resolved connection settings and where each came from.

use std::io::Write;

use crate::cli::{ConfigArgs, Format, GlobalArgs};
use crate::connection::{Connection, ENV_TOKEN_CACHE};
use crate::exit::CliResult;
use crate::output::{write_json, write_table};

pub fn run(global: &GlobalArgs, args: &ConfigArgs) -> CliResult {
    let mut conn = Connection::resolve(global)?;
    // With --sandbox, show what a command would connect to: a sandbox started for it.
    let _sandbox = if global.sandbox {
        let runtime = super::sandbox::command_runtime()?;
        let handle = super::sandbox::start_for_command(&runtime, global, &mut conn)?;
        Some((handle, runtime))
    } else {
        None
    };
    let mut out = std::io::stdout().lock();
    match args.output {
        Format::Json => write_json(&mut out, &conn.to_json())?,
        Format::Table => {
            write_table(&mut out, &["SETTING", "VALUE", "FROM"], &rows(&conn))?;
            if conn.token_cache.value.is_some() {
                writeln!(
                    out,
                    "\nThe access token is kept in the token cache folder, so that threecx runs \
                     with the same API client\nshare one token (3CX keeps only one active token \
                     per client); --no-token-cache turns it off,\n{ENV_TOKEN_CACHE}=DIR moves it."
                )?;
            }
            let missing = conn.missing();
            if missing.is_empty() {
                writeln!(out, "\nready to connect")?;
            } else {
                writeln!(
                    out,
                    "\nmissing before calls can be made: {}",
                    missing.join(", ")
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// One `SETTING, VALUE, FROM` row per setting (the secret never shown).
fn rows(conn: &Connection) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    {
        let mut row = |what: &str, value: String, source: String| {
            rows.push(vec![what.to_owned(), value, source]);
        };
        row(
            "config file",
            format!(
                "{}{}",
                conn.config_file.value.display(),
                if conn.config_file_exists {
                    ""
                } else {
                    " (not found)"
                }
            ),
            conn.config_file.source.to_string(),
        );
        let unset = || ("(not set)".to_owned(), String::new());
        let (v, s) = conn
            .profile
            .as_ref()
            .map_or_else(unset, |p| (p.value.clone(), p.source.to_string()));
        row("profile", v, s);
        let (v, s) = conn
            .url
            .as_ref()
            .map_or_else(unset, |p| (p.value.clone(), p.source.to_string()));
        row("url", v, s);
        if conn.url.is_some() {
            match conn.api_root() {
                Ok(root) => row("api root", root, String::new()),
                Err(e) => row("api root", format!("(invalid URL: {e})"), String::new()),
            }
        }
        let (v, s) = conn
            .client_id
            .as_ref()
            .map_or_else(unset, |p| (p.value.clone(), p.source.to_string()));
        row("client id", v, s);
        let (v, s) = conn.secret.as_ref().map_or_else(unset, |secret| {
            ("[REDACTED] (set)".to_owned(), secret.describe())
        });
        row("client secret", v, s);
        let (v, s) = conn.ca_cert.as_ref().map_or_else(unset, |p| {
            (p.value.display().to_string(), p.source.to_string())
        });
        row("ca cert", v, s);
        row(
            "insecure",
            conn.insecure.value.to_string(),
            conn.insecure.source.to_string(),
        );
        row(
            "token cache",
            match &conn.token_cache.value {
                Some(dir) => dir.display().to_string(),
                None => "(off: in memory, for this run only)".to_owned(),
            },
            conn.token_cache.source.to_string(),
        );
        row(
            "audit log",
            match &conn.audit_log.value {
                Some(file) => file.display().to_string(),
                None => "(off: destructive calls are not recorded)".to_owned(),
            },
            conn.audit_log.source.to_string(),
        );
    }
    rows
}
