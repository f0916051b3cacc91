//! The config file's profiles, as read from the file; which one applies is `config_file`'s.

use std::path::{Path, PathBuf};

use crate::exit::{CliError, CliResult};

/// One `[profiles.NAME]` table.
#[derive(Debug, Default)]
pub(super) struct Profile {
    pub url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    pub insecure: Option<bool>,
    /// The audit log of destructive calls.
    pub audit_log: Option<PathBuf>,
}

/// The profiles of a config file, in file order.
///
/// Checked by hand rather than with serde so that no error message can quote a value (a
/// misplaced secret would otherwise be echoed): messages name keys and line numbers only.
pub(super) fn read_profiles(path: &Path) -> CliResult<Vec<(String, Profile)>> {
    let bad =
        |message: String| CliError::usage(format!("config file {}: {message}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                format!(
                    "line {}: ",
                    text[..s.start.min(text.len())].lines().count().max(1)
                )
            })
            .unwrap_or_default();
        bad(format!("{line}{}", e.message().trim()))
    })?;

    let mut out = Vec::new();
    for (key, value) in &table {
        if key != "profiles" {
            return Err(bad(format!(
                "unknown top-level key \"{key}\"; profiles go in tables [profiles.NAME]"
            )));
        }
        let Some(profiles) = value.as_table() else {
            return Err(bad("\"profiles\" must be tables [profiles.NAME]".to_owned()));
        };
        for (name, value) in profiles {
            let Some(fields) = value.as_table() else {
                return Err(bad(format!(
                    "profiles.{name} must be a table [profiles.{name}]"
                )));
            };
            let mut profile = Profile::default();
            for (field, value) in fields {
                let text = || {
                    value
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("profiles.{name}.{field} must be a string")))
                };
                match field.as_str() {
                    "url" => profile.url = Some(text()?),
                    "client_id" => profile.client_id = Some(text()?),
                    "client_secret" => profile.client_secret = Some(text()?),
                    "secret_file" => profile.secret_file = Some(PathBuf::from(text()?)),
                    "ca_cert" => profile.ca_cert = Some(PathBuf::from(text()?)),
                    "audit_log" => profile.audit_log = Some(PathBuf::from(text()?)),
                    "insecure" => {
                        profile.insecure = Some(value.as_bool().ok_or_else(|| {
                            bad(format!("profiles.{name}.insecure must be true or false"))
                        })?)
                    }
                    other => {
                        return Err(bad(format!(
                            "profiles.{name}: unknown key \"{other}\"; known keys: url, \
                             client_id, client_secret, secret_file, ca_cert, insecure, audit_log"
                        )))
                    }
                }
            }
            if profile.client_secret.is_some() && profile.secret_file.is_some() {
                return Err(bad(format!(
                    "profiles.{name} has both client_secret and secret_file; keep one"
                )));
            }
            out.push((name.clone(), profile));
        }
    }
    Ok(out)
}
