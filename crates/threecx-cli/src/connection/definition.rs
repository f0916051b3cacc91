//! One resolver for every connection setting, in cargo's style: a [`Definition`] says where a
//! setting may be given (flag, environment variable, profile key) and [`Places::find`] walks
//! them in that order, recording where the value came from. A new setting is one definition.

use std::path::Path;

use super::profile::Profile;
use super::{Setting, Source};

/// Turns an environment variable's value into the setting's.
type Parse<T> = fn(String) -> T;
/// Reads the setting from a profile; the path is the config file's folder.
type FromProfile<T> = fn(&Profile, &Path) -> Option<T>;

/// Where one setting may be given; any place may be absent.
pub(super) struct Definition<T> {
    /// The flag's name and its value (`None`: not given).
    flag: Option<(&'static str, Option<T>)>,
    /// The environment variable and how its value becomes a `T`.
    env: Option<(&'static str, Parse<T>)>,
    /// How the chosen profile gives the value; relative paths join the config file's folder.
    profile: Option<FromProfile<T>>,
}

impl<T> Definition<T> {
    pub fn new() -> Self {
        Definition {
            flag: None,
            env: None,
            profile: None,
        }
    }

    pub fn flag(mut self, name: &'static str, value: Option<T>) -> Self {
        self.flag = Some((name, value));
        self
    }

    pub fn env(mut self, var: &'static str, parse: Parse<T>) -> Self {
        self.env = Some((var, parse));
        self
    }

    pub fn profile(mut self, get: FromProfile<T>) -> Self {
        self.profile = Some(get);
        self
    }
}

/// What the places hold for this run: the environment and the chosen profile.
pub(super) struct Places<'a> {
    /// Reads a variable; blank values count as unset.
    pub env: &'a dyn Fn(&'static str) -> Option<String>,
    /// The chosen profile and its name.
    pub profile: Option<(&'a str, &'a Profile)>,
    /// The config file's folder.
    pub base: &'a Path,
}

impl Places<'_> {
    /// The first value of flag > environment > profile, and where it came from.
    pub fn find<T>(&self, def: Definition<T>) -> Option<Setting<T>> {
        if let Some((flag, Some(value))) = def.flag {
            return Some(Setting {
                value,
                source: Source::Flag(flag),
            });
        }
        if let Some((var, parse)) = def.env {
            if let Some(text) = (self.env)(var) {
                return Some(Setting {
                    value: parse(text),
                    source: Source::Env(var),
                });
            }
        }
        let (name, profile) = self.profile?;
        let value = def.profile?(profile, self.base)?;
        Some(Setting {
            value,
            source: Source::Profile(name.to_owned()),
        })
    }

    /// [`find`](Self::find), else the built-in default.
    pub fn find_or<T>(&self, def: Definition<T>, default: impl FnOnce() -> T) -> Setting<T> {
        self.find(def).unwrap_or_else(|| Setting {
            value: default(),
            source: Source::Default,
        })
    }
}

/// A text value, unless blank (a blank flag or profile value counts as not given).
pub(super) fn nonblank(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(flag: Option<&str>) -> Definition<String> {
        Definition::new()
            .flag("--url", flag.map(str::to_owned))
            .env("URL", String::from)
            .profile(|p, _| nonblank(&p.url))
    }

    fn places<'a>(
        env: &'a dyn Fn(&'static str) -> Option<String>,
        profile: Option<&'a Profile>,
    ) -> Places<'a> {
        Places {
            env,
            profile: profile.map(|p| ("p", p)),
            base: Path::new("."),
        }
    }

    #[test]
    fn flag_then_env_then_profile_then_default() {
        let profile = Profile {
            url: Some("https://profile".into()),
            ..Profile::default()
        };
        let set = |_: &'static str| Some("https://env".to_owned());
        let unset = |_: &'static str| None;

        let found = places(&set, Some(&profile)).find(url(Some("https://flag")));
        let found = found.unwrap();
        assert_eq!(found.value, "https://flag");
        assert_eq!(found.source, Source::Flag("--url"));
        let found = places(&set, Some(&profile)).find(url(None)).unwrap();
        assert_eq!(found.source, Source::Env("URL"));
        let found = places(&unset, Some(&profile)).find(url(None)).unwrap();
        assert_eq!(found.value, "https://profile");
        assert_eq!(found.source, Source::Profile("p".into()));
        let found = places(&unset, None).find_or(url(None), || "https://default".into());
        assert_eq!(found.value, "https://default");
        assert_eq!(found.source, Source::Default);
    }
}
