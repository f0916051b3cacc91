//! The config file: where it is, and which of its profiles applies.

use std::path::PathBuf;

use super::definition::{Definition, Places};
use super::profile::{read_profiles, Profile};
use super::{default_config_file, Setting, Source, DEFAULT_PROFILE, ENV_CONFIG, ENV_PROFILE};
use crate::exit::{CliError, CliResult};

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
