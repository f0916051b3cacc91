//! The config file: its profiles, and which one applies.

use std::path::{Path, PathBuf};

use super::definition::{Definition, Places};
use super::{default_config_file, Setting, Source, DEFAULT_PROFILE, ENV_CONFIG, ENV_PROFILE};
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
}

/// The profiles of a config file, in file order.
///
/// Checked by hand rather than with serde so that no error message can quote a value (a
/// misplaced secret would otherwise be echoed): messages name keys and line numbers only.
fn read_profiles(path: &Path) -> CliResult<Vec<(String, Profile)>> {
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
                    "insecure" => {
                        profile.insecure = Some(value.as_bool().ok_or_else(|| {
                            bad(format!("profiles.{name}.insecure must be true or false"))
                        })?)
                    }
                    other => {
                        return Err(bad(format!(
                            "profiles.{name}: unknown key \"{other}\"; known keys: url, \
                             client_id, client_secret, secret_file, ca_cert, insecure"
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

/// The config file and the profile of it that applies.
pub(super) struct ConfigFile {
    pub path: Setting<PathBuf>,
    pub exists: bool,
    pub profile: Option<(Setting<String>, Profile)>,
}

impl ConfigFile {
    /// Finds the file (`THREECX_CONFIG`, else the default), reads its profiles and picks one.
    /// `places` has no profile yet: the file and the profile's name come from flag or
    /// environment only.
    pub(super) fn load(places: &Places<'_>, profile_flag: Option<String>) -> CliResult<ConfigFile> {
        let path = places.find_or(
            Definition::new().env(ENV_CONFIG, PathBuf::from),
            default_config_file,
        );
        let exists = path.value.is_file();
        let profiles = if exists {
            read_profiles(&path.value)?
        } else {
            Vec::new()
        };
        let named = places.find(
            Definition::new()
                .flag("--profile", profile_flag)
                .env(ENV_PROFILE, String::from),
        );
        let profile = choose(profiles, named, &path, exists)?;
        Ok(ConfigFile {
            path,
            exists,
            profile,
        })
    }
}

/// The profile that applies: the one named (by flag or environment), else the file's `default`
/// profile if it has one, else none. A named profile the file lacks is an error.
fn choose(
    mut profiles: Vec<(String, Profile)>,
    named: Option<Setting<String>>,
    config_file: &Setting<PathBuf>,
    config_file_exists: bool,
) -> CliResult<Option<(Setting<String>, Profile)>> {
    let Some(name) = named else {
        return Ok(profiles
            .into_iter()
            .find(|(n, _)| n == DEFAULT_PROFILE)
            .map(|(_, profile)| {
                let name = Setting {
                    value: DEFAULT_PROFILE.to_owned(),
                    source: Source::Default,
                };
                (name, profile)
            }));
    };
    if let Some(i) = profiles.iter().position(|(n, _)| *n == name.value) {
        let (_, profile) = profiles.swap_remove(i);
        return Ok(Some((name, profile)));
    }
    let err = CliError::usage(format!(
        "profile \"{}\" (from {}) is not in {}",
        name.value,
        name.source,
        config_file.value.display()
    ));
    Err(if profiles.is_empty() {
        err.hint(format!(
            "add a table [profiles.{}] with url, client_id and client_secret or secret_file{}",
            name.value,
            if config_file_exists {
                ""
            } else {
                " (the file does not exist)"
            }
        ))
    } else {
        let names: Vec<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
        err.hint(format!("profiles in the file: {}", names.join(", ")))
    })
}
