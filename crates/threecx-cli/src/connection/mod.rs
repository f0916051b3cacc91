//! Where to connect and with which credentials: flags, then environment, then a profile of the
//! config file; each setting remembers where it came from, so `threecx config` can say.
//!
//! Nothing here touches the network, and the secret is read (from a file) only when a request is
//! really going to be sent.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use threecx_ops::core::config::{
    DEFAULT_CONNECT_TIMEOUT, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_URL,
};
use threecx_ops::core::{ApiRoot, Config, SecretString};

use crate::cli::GlobalArgs;
use crate::exit::{CliError, CliResult};

mod config_file;
mod definition;
mod profile;
mod secret;

use config_file::ConfigFile;
use definition::{nonblank, Definition, Places};
use secret::SecretAt;
pub use secret::SecretSource;

/// Names a profile to use.
pub const ENV_PROFILE: &str = "THREECX_PROFILE";
/// Overrides the config file's path.
pub const ENV_CONFIG: &str = "THREECX_CONFIG";
/// The profile used when none is named and the config file has one of this name.
pub const DEFAULT_PROFILE: &str = "default";
/// Moves the on-disk token cache to another folder.
pub const ENV_TOKEN_CACHE: &str = "THREECX_TOKEN_CACHE";
/// Moves the audit log of destructive calls to another file.
pub const ENV_AUDIT_LOG: &str = "THREECX_AUDIT_LOG";

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    Profile(String),
    /// The built-in default (e.g. the platform's config directory).
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => f.write_str(flag),
            Source::Env(var) => write!(f, "{var}"),
            Source::Profile(name) => write!(f, "profile \"{name}\""),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// The connection settings as resolved from flags, environment and profile.
#[derive(Debug)]
pub struct Connection {
    pub config_file: Setting<PathBuf>,
    pub config_file_exists: bool,
    pub profile: Option<Setting<String>>,
    pub url: Option<Setting<String>>,
    pub client_id: Option<Setting<String>>,
    pub secret: Option<SecretSource>,
    pub ca_cert: Option<Setting<PathBuf>>,
    pub insecure: Setting<bool>,
    /// The folder of the on-disk token cache; `None`: tokens stay in memory (of this one run).
    pub token_cache: Setting<Option<PathBuf>>,
    /// The audit log of destructive calls; `None`: none is kept.
    pub audit_log: Setting<Option<PathBuf>>,
}

impl Connection {
    /// Resolves the settings from the process environment.
    pub fn resolve(args: &GlobalArgs) -> CliResult<Connection> {
        if args.profile.len() > 1 || !args.profiles.is_empty() || args.all_profiles {
            return Err(CliError::usage(
                "several profiles (--profile twice, --profiles, --all-profiles) name a fleet, \
                 which this command does not serve",
            )
            .hint("fleet commands: call, spec pull, spec status, profiles check"));
        }
        Self::resolve_with(args, args.profile.first().cloned(), env_var)
    }

    /// Resolves the settings of one profile of a fleet (flags and environment still apply
    /// over the profile's settings, as for one PBX).
    pub fn resolve_profile(args: &GlobalArgs, profile: &str) -> CliResult<Connection> {
        Self::resolve_with(args, Some(profile.to_owned()), env_var)
    }

    fn resolve_with(
        args: &GlobalArgs,
        profile: Option<String>,
        env: impl Fn(&'static str) -> Option<String>,
    ) -> CliResult<Connection> {
        // The config file and its profile come first: they are a place the others may come from.
        let env: &dyn Fn(&'static str) -> Option<String> = &env;
        let file = ConfigFile::load(
            &Places {
                env,
                profile: None,
                base: Path::new("."),
            },
            profile,
        )?;
        let places = Places {
            env,
            profile: file.profile.as_ref().map(|(n, p)| (n.value.as_str(), p)),
            // Relative paths in the config file are relative to the file.
            base: file.path.value.parent().unwrap_or(Path::new(".")),
        };
        let url = places.find(
            Definition::new()
                .flag("--url", nonblank(&args.url))
                .env(ENV_URL, String::from)
                .profile(|p, _| nonblank(&p.url)),
        );
        if let Some(url) = &url {
            refuse_userinfo(url)?;
        }
        let client_id = places.find(
            Definition::new()
                .flag("--client-id", nonblank(&args.client_id))
                .env(ENV_CLIENT_ID, String::from)
                .profile(|p, _| nonblank(&p.client_id)),
        );
        let secret = places.find(secret_definition(args));
        let ca_cert = places.find(
            Definition::new()
                .flag("--ca-cert", args.ca_cert.clone())
                .profile(|p, base| p.ca_cert.as_ref().map(|f| base.join(f))),
        );
        let insecure = places.find_or(
            Definition::new()
                .flag("--insecure", args.insecure.then_some(true))
                .profile(|p, _| p.insecure),
            || false,
        );
        let token_cache = places.find_or(
            Definition::new()
                // The flag's value is "no folder": tokens stay in memory.
                .flag("--no-token-cache", args.no_token_cache.then_some(None))
                .env(ENV_TOKEN_CACHE, |dir| Some(PathBuf::from(dir))),
            default_token_cache_dir,
        );
        let audit_log = places.find_or(audit_log_definition(args), default_audit_log);

        Ok(Connection {
            config_file: file.path,
            config_file_exists: file.exists,
            profile: file.profile.map(|(name, _)| name),
            url,
            client_id,
            secret: secret.map(SecretSource::from),
            ca_cert,
            insecure,
            token_cache,
            audit_log,
        })
    }

    /// Connects to a sandbox started for this command instead: its URL and credentials replace
    /// whatever flags, environment and profile said, and the token stays in memory (the sandbox
    /// lives only as long as this process).
    pub fn use_sandbox(&mut self, url: String, client_id: String, secret: String) {
        let from = || Source::Flag("--sandbox");
        self.profile = None;
        self.url = Some(Setting {
            value: url,
            source: from(),
        });
        self.client_id = Some(Setting {
            value: client_id,
            source: from(),
        });
        self.secret = Some(SecretSource::Inline(SecretString::from(secret), from()));
        self.ca_cert = None;
        self.insecure = Setting {
            value: false,
            source: from(),
        };
        self.token_cache = Setting {
            value: None,
            source: from(),
        };
        // A simulated PBX's purges are not for the real audit log, unless one was named.
        if self.audit_log.source == Source::Default {
            self.audit_log = Setting {
                value: None,
                source: from(),
            };
        }
    }

    /// The settings missing before a request can be sent, as the names `threecx config` shows.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.url.is_none() {
            missing.push("url");
        }
        if self.client_id.is_none() {
            missing.push("client_id");
        }
        if self.secret.is_none() {
            missing.push("client_secret");
        }
        missing
    }

    /// The API root requests go to: `https://pbx.example.com/xapi/v1`; without a URL, the
    /// placeholder `https://<THREECX_URL>/xapi/v1` (for dry runs).
    pub fn api_root(&self) -> CliResult<String> {
        Ok(match self.root()? {
            Some(root) => root.as_str().to_owned(),
            None => format!("https://<{ENV_URL}>/xapi/v1"),
        })
    }

    /// The PBX's API root, when a URL is set (checked as the client checks it).
    pub fn root(&self) -> CliResult<Option<ApiRoot>> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        ApiRoot::parse(&url.value)
            .map(Some)
            .map_err(|e| CliError::from(e).hint(format!("the URL came from {}", url.source)))
    }

    /// A validated client configuration; reads the secret.
    pub fn config(&self, timeout: Option<Duration>) -> CliResult<Config> {
        let missing = self.missing();
        if !missing.is_empty() {
            let how: Vec<&str> = missing
                .iter()
                .map(|m| match *m {
                    "url" => "the PBX URL (--url or THREECX_URL)",
                    "client_id" => "the API client's ID (--client-id or THREECX_CLIENT_ID)",
                    _ => "the API client's secret (--secret-file or THREECX_CLIENT_SECRET)",
                })
                .collect();
            return Err(CliError::usage(format!(
                "not connected: missing {}",
                missing.join(", ")
            ))
            .hint(format!("give {}", how.join(", ")))
            .hint("or put them in a profile of the config file; `threecx config` shows what is set"));
        }
        let url = self.url.as_ref().expect("checked");
        let client_id = self.client_id.as_ref().expect("checked");
        let secret = self.secret.as_ref().expect("checked").read()?;

        let mut builder = Config::builder()
            .base_url(url.value.clone())
            .client_id(client_id.value.clone())
            .client_secret(secret)
            .insecure(self.insecure.value);
        if let Some(timeout) = timeout {
            builder = builder
                .timeout(timeout)
                .connect_timeout(timeout.min(DEFAULT_CONNECT_TIMEOUT));
        }
        if let Some(ca) = &self.ca_cert {
            builder = builder.ca_bundle(ca.value.clone());
        }
        if let Some(dir) = &self.token_cache.value {
            builder = builder.token_cache_dir(dir.clone());
        }
        builder.build().map_err(CliError::from)
    }

    /// What `threecx config --output json` prints.
    pub fn to_json(&self) -> Value {
        let setting = |s: &Option<Setting<String>>| match s {
            Some(s) => json!({"value": s.value, "source": s.source.to_string()}),
            None => Value::Null,
        };
        let path = |s: &Option<Setting<PathBuf>>| match s {
            Some(s) => {
                json!({"value": s.value.display().to_string(), "source": s.source.to_string()})
            }
            None => Value::Null,
        };
        json!({
            "config_file": {
                "value": self.config_file.value.display().to_string(),
                "source": self.config_file.source.to_string(),
                "exists": self.config_file_exists,
            },
            "profile": setting(&self.profile),
            "url": setting(&self.url),
            "api_root": self.url.as_ref().and_then(|_| self.api_root().ok()),
            "client_id": setting(&self.client_id),
            "client_secret": match &self.secret {
                Some(s) => json!({"set": true, "value": "[REDACTED]", "source": s.describe()}),
                None => json!({"set": false, "value": null, "source": null}),
            },
            "ca_cert": path(&self.ca_cert),
            "insecure": {"value": self.insecure.value, "source": self.insecure.source.to_string()},
            "token_cache": {
                "value": self.token_cache.value.as_ref().map(|p| p.display().to_string()),
                "source": self.token_cache.source.to_string(),
            },
            "audit_log": {
                "value": self.audit_log.value.as_ref().map(|p| p.display().to_string()),
                "source": self.audit_log.source.to_string(),
            },
            "missing": self.missing(),
        })
    }
}

/// A configuration with placeholder credentials: normalises a URL without needing any.
/// A PBX URL with a user name or password (`https://user:pw@pbx`) is refused wherever it comes
/// from, without echoing it: the password would otherwise show up in `threecx config`, logs and
/// errors. The API client's ID and secret go in their own settings.
fn refuse_userinfo(url: &Setting<String>) -> CliResult<()> {
    let after_scheme = url
        .value
        .split_once("://")
        .map_or(url.value.as_str(), |(_, r)| r);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(CliError::usage(format!(
            "the PBX URL (from {}) contains a user name or password, which threecx does not \
             show or use",
            url.source
        ))
        .hint(
            "give the URL without them (https://pbx.example.com) and the API client's ID and \
             secret separately (THREECX_CLIENT_ID, THREECX_CLIENT_SECRET)",
        ));
    }
    Ok(())
}

/// `<platform config dir>/threecx/config.toml` (`~/.config/threecx/config.toml` on Linux).
pub(super) fn default_config_file() -> PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("threecx")
        .join("config.toml")
}

/// `<platform cache dir>/threecx/tokens` (`~/.cache/threecx/tokens` on Linux); `None` when the
/// platform has no cache folder (no home directory).
fn env_var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The config file's path and the names of its profiles, in file order (for `--all-profiles`
/// and `threecx profiles`).
pub fn profile_names() -> CliResult<(PathBuf, Vec<String>)> {
    let env: &dyn Fn(&'static str) -> Option<String> = &env_var;
    let places = Places {
        env,
        profile: None,
        base: Path::new("."),
    };
    let path = places
        .find_or(
            Definition::new().env(ENV_CONFIG, PathBuf::from),
            default_config_file,
        )
        .value;
    let names = if path.is_file() {
        profile::read_profiles(&path)?
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    } else {
        Vec::new()
    };
    Ok((path, names))
}

fn default_token_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("threecx").join("tokens"))
}

/// `<platform data dir>/threecx/audit.jsonl` (`~/.local/share/threecx/audit.jsonl` on Linux);
/// `None` when the platform has no data folder (no home directory).
fn default_audit_log() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("threecx").join("audit.jsonl"))
}

/// The client secret: `--secret-file`, the environment, or the profile's secret or file.
fn secret_definition(args: &GlobalArgs) -> Definition<SecretAt> {
    Definition::new()
        .flag(
            "--secret-file",
            args.secret_file.clone().map(SecretAt::File),
        )
        .env(ENV_CLIENT_SECRET, |s| SecretAt::Inline(s.into()))
        .profile(|p, base| {
            let inline = p.client_secret.as_ref().filter(|s| !s.is_empty());
            match inline {
                Some(s) => Some(SecretAt::Inline(s.clone().into())),
                None => p.secret_file.as_ref().map(|f| SecretAt::File(base.join(f))),
            }
        })
}

/// The audit log file, or none (`--no-audit-log`).
fn audit_log_definition(args: &GlobalArgs) -> Definition<Option<PathBuf>> {
    Definition::new()
        .flag(
            if args.no_audit_log {
                "--no-audit-log"
            } else {
                "--audit-log"
            },
            // --no-audit-log: no file.
            match (&args.audit_log, args.no_audit_log) {
                (_, true) => Some(None),
                (Some(file), false) => Some(Some(file.clone())),
                (None, false) => None,
            },
        )
        .env(ENV_AUDIT_LOG, |file| Some(PathBuf::from(file)))
        .profile(|p, base| p.audit_log.as_ref().map(|f| Some(base.join(f))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use threecx_ops::core::ExposeSecret;

    fn args() -> GlobalArgs {
        GlobalArgs {
            url: None,
            client_id: None,
            secret_file: None,
            profile: Vec::new(),
            profiles: Vec::new(),
            all_profiles: false,
            concurrency: 8,
            spec: None,
            ca_cert: None,
            insecure: false,
            no_token_cache: false,
            audit_log: None,
            no_audit_log: false,
            sandbox: false,
            sandbox_seed: None,
            verbose: 0,
        }
    }

    fn resolve(args: &GlobalArgs, vars: &[(&'static str, String)]) -> CliResult<Connection> {
        let vars: HashMap<&str, String> = vars.iter().cloned().collect();
        Connection::resolve_with(args, args.profile.first().cloned(), |name| {
            vars.get(name).cloned()
        })
    }

    fn write_config(dir: &Path, text: &str) -> String {
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    #[test]
    fn flags_beat_env_beat_profile() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(
            dir.path(),
            "[profiles.prod]\nurl = \"https://prod\"\nclient_id = \"prod-id\"\nsecret_file = \"prod.secret\"\n",
        );
        std::fs::write(dir.path().join("prod.secret"), "from-file\n").unwrap();
        let vars = [
            (ENV_CONFIG, file),
            (ENV_PROFILE, "prod".to_owned()),
            (ENV_CLIENT_ID, "env-id".to_owned()),
        ];
        let mut a = args();
        a.url = Some("https://flag".into());
        let c = resolve(&a, &vars).unwrap();
        assert_eq!(c.url.as_ref().unwrap().value, "https://flag");
        assert_eq!(c.url.as_ref().unwrap().source, Source::Flag("--url"));
        assert_eq!(c.client_id.as_ref().unwrap().value, "env-id");
        assert_eq!(
            c.client_id.as_ref().unwrap().source,
            Source::Env(ENV_CLIENT_ID)
        );
        let secret = c.secret.as_ref().unwrap();
        assert_eq!(secret.read().unwrap().expose_secret(), "from-file");
        assert!(secret.describe().contains("profile \"prod\""), "{secret:?}");
        assert!(c.missing().is_empty());
        let config = c.config(None).unwrap();
        assert_eq!(config.api_root(), "https://flag/xapi/v1");
    }

    #[test]
    fn default_profile_is_used_when_none_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(dir.path(), "[profiles.default]\nurl = \"https://d\"\n");
        let c = resolve(&args(), &[(ENV_CONFIG, file)]).unwrap();
        assert_eq!(c.profile.as_ref().unwrap().value, "default");
        assert_eq!(
            c.url.as_ref().unwrap().source,
            Source::Profile("default".into())
        );
        assert_eq!(c.missing(), ["client_id", "client_secret"]);
        assert!(c.config(None).is_err());
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(dir.path(), "[profiles.a]\n[profiles.b]\n");
        let mut a = args();
        a.profile = vec!["c".into()];
        let e = resolve(&a, &[(ENV_CONFIG, file)]).unwrap_err();
        assert_eq!(e.code(), crate::exit::USAGE);
        assert!(e.to_string().contains("profile \"c\""), "{e}");
    }

    #[test]
    fn config_errors_never_quote_values() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "[profiles.x]\nclient_secret = 12345678\n",
            "[profiles.x]\nclient_secret = \"abc\nd\"\n",
            "[profiles.x]\nclient_secrt = \"12345678\"\n",
        ] {
            let file = write_config(dir.path(), text);
            let e = resolve(&args(), &[(ENV_CONFIG, file)]).unwrap_err();
            let shown = format!("{e:?}");
            assert!(
                !shown.contains("12345678") && !shown.contains("abc"),
                "{shown}"
            );
        }
    }

    #[test]
    fn token_cache_default_env_and_opt_out() {
        let none = [(ENV_CONFIG, "/nonexistent/threecx.toml".to_owned())];
        let c = resolve(&args(), &none).unwrap();
        assert_eq!(c.token_cache.source, Source::Default);
        if let Some(dir) = &c.token_cache.value {
            assert!(dir.ends_with("threecx/tokens"), "{dir:?}");
        }

        let vars = [none[0].clone(), (ENV_TOKEN_CACHE, "/tmp/tok".to_owned())];
        let c = resolve(&args(), &vars).unwrap();
        assert_eq!(c.token_cache.value.as_deref(), Some(Path::new("/tmp/tok")));
        assert_eq!(c.token_cache.source, Source::Env(ENV_TOKEN_CACHE));

        let mut a = args();
        a.no_token_cache = true;
        let c = resolve(&a, &vars).unwrap();
        assert_eq!(c.token_cache.value, None);
        assert_eq!(c.token_cache.source, Source::Flag("--no-token-cache"));
    }

    #[test]
    fn audit_log_default_env_profile_flag_and_opt_out() {
        let none = [(ENV_CONFIG, "/nonexistent/threecx.toml".to_owned())];
        let c = resolve(&args(), &none).unwrap();
        assert_eq!(c.audit_log.source, Source::Default);
        if let Some(file) = &c.audit_log.value {
            assert!(file.ends_with("threecx/audit.jsonl"), "{file:?}");
        }

        let dir = tempfile::tempdir().unwrap();
        let file = write_config(
            dir.path(),
            "[profiles.default]\nurl = \"https://prod\"\naudit_log = \"logs/audit.jsonl\"\n",
        );
        let c = resolve(&args(), &[(ENV_CONFIG, file.clone())]).unwrap();
        assert_eq!(
            c.audit_log.value,
            Some(dir.path().join("logs/audit.jsonl")),
            "relative to the config file"
        );
        assert_eq!(c.audit_log.source, Source::Profile("default".into()));

        let vars = [
            (ENV_CONFIG, file),
            (ENV_AUDIT_LOG, "/tmp/a.jsonl".to_owned()),
        ];
        let c = resolve(&args(), &vars).unwrap();
        assert_eq!(
            c.audit_log.value.as_deref(),
            Some(Path::new("/tmp/a.jsonl"))
        );
        assert_eq!(c.audit_log.source, Source::Env(ENV_AUDIT_LOG));

        let mut a = args();
        a.audit_log = Some(PathBuf::from("/tmp/b.jsonl"));
        let c = resolve(&a, &vars).unwrap();
        assert_eq!(
            c.audit_log.value.as_deref(),
            Some(Path::new("/tmp/b.jsonl"))
        );
        assert_eq!(c.audit_log.source, Source::Flag("--audit-log"));

        let mut a = args();
        a.no_audit_log = true;
        let c = resolve(&a, &vars).unwrap();
        assert_eq!(c.audit_log.value, None);
        assert_eq!(c.audit_log.source, Source::Flag("--no-audit-log"));

        // A sandbox keeps a named log, and writes none by default.
        let mut c = resolve(&args(), &vars).unwrap();
        c.use_sandbox("http://127.0.0.1:9".into(), "s".into(), "x".into());
        assert_eq!(
            c.audit_log.value.as_deref(),
            Some(Path::new("/tmp/a.jsonl"))
        );
        let mut c = resolve(&args(), &none).unwrap();
        c.use_sandbox("http://127.0.0.1:9".into(), "s".into(), "x".into());
        assert_eq!(c.audit_log.value, None);
    }

    #[test]
    fn a_sandbox_replaces_every_connection_setting() {
        let dir = tempfile::tempdir().unwrap();
        let file = write_config(
            dir.path(),
            "[profiles.default]\nurl = \"https://prod\"\nclient_id = \"prod\"\nclient_secret = \"x\"\nca_cert = \"ca.pem\"\n",
        );
        let mut c = resolve(&args(), &[(ENV_CONFIG, file)]).unwrap();
        c.use_sandbox(
            "http://127.0.0.1:9".into(),
            "sandbox".into(),
            "sandbox-secret".into(),
        );
        assert!(c.profile.is_none() && c.ca_cert.is_none());
        assert_eq!(c.token_cache.value, None);
        let config = c.config(None).unwrap();
        assert_eq!(config.api_root(), "http://127.0.0.1:9/xapi/v1");
        assert_eq!(config.client_id(), "sandbox");
        assert!(config.token_cache_dir().is_none());
        assert_eq!(c.url.as_ref().unwrap().source, Source::Flag("--sandbox"));
    }

    #[test]
    fn urls_with_a_password_are_refused_without_echo() {
        for url in [
            "https://u:hunter2@pbx.example.com",
            "u:hunter2@pbx.example.com:5001/xapi/v1",
        ] {
            let Err(e) = resolve(
                &args(),
                &[
                    (ENV_CONFIG, "/nonexistent/threecx.toml".into()),
                    (ENV_URL, url.into()),
                ],
            ) else {
                panic!("{url} is refused");
            };
            let text = format!("{e:?}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("user name or password"), "{text}");
        }
        // An @ later in the URL is no user info.
        resolve(
            &args(),
            &[
                (ENV_CONFIG, "/nonexistent/threecx.toml".into()),
                (ENV_URL, "https://pbx.example.com/a@b".into()),
            ],
        )
        .unwrap();
    }

    #[test]
    fn api_root_placeholder_without_url() {
        let c = resolve(&args(), &[(ENV_CONFIG, "/nonexistent/threecx.toml".into())]).unwrap();
        assert_eq!(c.api_root().unwrap(), "https://<THREECX_URL>/xapi/v1");
        assert!(!c.config_file_exists);
    }
}
