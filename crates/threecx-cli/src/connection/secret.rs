//! The API client's secret: where it is, read only when a request is really going to be sent.

use std::fmt;
use std::path::PathBuf;

use threecx_ops::core::SecretString;

use super::{Setting, Source};
use crate::exit::{CliError, CliResult};

/// Where the secret is, without having read it.
#[derive(Clone)]
pub enum SecretSource {
    /// In an environment variable or the config file itself (already in memory).
    Inline(SecretString, Source),
    /// In a file named by `--secret-file` or a profile's `secret_file`.
    File(PathBuf, Source),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl SecretSource {
    /// `THREECX_CLIENT_SECRET`, `file /run/secret (--secret-file)`.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Inline(_, source) => source.to_string(),
            SecretSource::File(path, source) => format!("file {} ({source})", path.display()),
        }
    }

    /// Reads the secret (from its file: the first line, surrounding whitespace removed).
    pub fn read(&self) -> CliResult<SecretString> {
        match self {
            SecretSource::Inline(secret, _) => Ok(secret.clone()),
            SecretSource::File(path, source) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    CliError::usage(format!(
                        "cannot read the secret file {} (from {source}): {e}",
                        path.display()
                    ))
                })?;
                let secret = text.lines().next().unwrap_or("").trim();
                if secret.is_empty() {
                    return Err(CliError::usage(format!(
                        "the secret file {} (from {source}) is empty",
                        path.display()
                    )));
                }
                Ok(SecretString::from(secret.to_owned()))
            }
        }
    }
}

/// Where the secret is, as one place gives it; the resolver adds the source.
#[derive(Clone)]
pub(super) enum SecretAt {
    Inline(SecretString),
    File(PathBuf),
}

impl From<Setting<SecretAt>> for SecretSource {
    fn from(setting: Setting<SecretAt>) -> SecretSource {
        match setting.value {
            SecretAt::Inline(secret) => SecretSource::Inline(secret, setting.source),
            SecretAt::File(path) => SecretSource::File(path, setting.source),
        }
    }
}
