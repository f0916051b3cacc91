//! The codegen rules of `codegen/config.toml`: which actions are destructive, idempotent,
//! retry-safe or downloads, how the 3CX version is found, display-name exceptions.
//!
//! Rules name operations by operationId. Prefixes and suffixes match whole display words
//! (`Stop` matches `StopCheck` but not `Stopwatch`), so a rule reads like the name it targets.

use serde::Deserialize;

use crate::names::split_words;
use crate::{Error, Result};

/// The config compiled into the binary; `--config` replaces it.
pub const DEFAULT_CONFIG: &str = include_str!("../config.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub version: VersionRules,
    #[serde(default)]
    pub display_names: DisplayNameRules,
    pub destructive: DestructiveRules,
    pub idempotent: PostRules,
    pub retry_safe: PostRules,
    pub downloads: DownloadRules,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionRules {
    /// Matched against the spec's file name (or the last URL segment); group 1 is the version.
    pub file_name_regex: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayNameRules {
    /// Words kept whole when names are split for display (`OAuth`).
    #[serde(default)]
    pub keep_words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestructiveRules {
    /// HTTP methods whose every operation is destructive.
    pub methods: Vec<String>,
    /// Methods the name rules apply to.
    pub name_methods: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub suffixes: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Rules for a flag that is true for some methods and for POST only when listed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRules {
    pub methods: Vec<String>,
    #[serde(default)]
    pub post_prefixes: Vec<String>,
    #[serde(default)]
    pub post_include: Vec<String>,
    #[serde(default)]
    pub post_exclude: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadRules {
    /// Component schema names whose appearance as the success response means "a file".
    pub response_schemas: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Rules {
    pub fn parse(text: &str) -> Result<Rules> {
        let rules: Rules =
            toml::from_str(text).map_err(|e| Error::new(format!("codegen config: {e}")))?;
        regex::Regex::new(&rules.version.file_name_regex)
            .map_err(|e| Error::new(format!("codegen config: version.file_name_regex: {e}")))?;
        Ok(rules)
    }

    pub fn default_rules() -> Rules {
        Rules::parse(DEFAULT_CONFIG).expect("the compiled-in codegen/config.toml is valid")
    }

    pub fn is_destructive(&self, method: &str, operation_id: &str) -> bool {
        let d = &self.destructive;
        if d.methods.iter().any(|m| m == method) {
            return true;
        }
        if !d.name_methods.iter().any(|m| m == method)
            || d.exclude.iter().any(|x| x == operation_id)
        {
            return false;
        }
        d.include.iter().any(|x| x == operation_id)
            || self.has_prefix(operation_id, &d.prefixes)
            || self.has_suffix(operation_id, &d.suffixes)
    }

    pub fn is_idempotent(&self, method: &str, operation_id: &str) -> bool {
        self.post_rule(&self.idempotent, method, operation_id)
    }

    pub fn is_retry_safe(&self, method: &str, operation_id: &str) -> bool {
        self.post_rule(&self.retry_safe, method, operation_id)
    }

    fn post_rule(&self, rules: &PostRules, method: &str, operation_id: &str) -> bool {
        if rules.methods.iter().any(|m| m == method) {
            return true;
        }
        method == "POST"
            && !rules.post_exclude.iter().any(|x| x == operation_id)
            && (rules.post_include.iter().any(|x| x == operation_id)
                || self.has_prefix(operation_id, &rules.post_prefixes))
    }

    /// `response_schema`: the component schema name the success response is (after unwrapping a
    /// nullable `allOf`), if any.
    pub fn is_download(&self, operation_id: &str, response_schema: Option<&str>) -> bool {
        let d = &self.downloads;
        if d.exclude.iter().any(|x| x == operation_id) {
            return false;
        }
        d.include.iter().any(|x| x == operation_id)
            || self.has_prefix(operation_id, &d.prefixes)
            || response_schema.is_some_and(|s| d.response_schemas.iter().any(|r| r == s))
    }

    /// The 3CX version from a spec file name such as `swagger-20.0.10.yaml`.
    pub fn version_from_file_name(&self, file_name: &str) -> Option<String> {
        let re = regex::Regex::new(&self.version.file_name_regex).ok()?;
        Some(re.captures(file_name)?.get(1)?.as_str().to_string())
    }

    /// Every operationId the config names explicitly, with the list it is in (to warn about
    /// names the spec does not have).
    pub fn named_operations(&self) -> Vec<(&'static str, &str)> {
        let lists: [(&'static str, &Vec<String>); 8] = [
            ("destructive.include", &self.destructive.include),
            ("destructive.exclude", &self.destructive.exclude),
            ("idempotent.post_include", &self.idempotent.post_include),
            ("idempotent.post_exclude", &self.idempotent.post_exclude),
            ("retry_safe.post_include", &self.retry_safe.post_include),
            ("retry_safe.post_exclude", &self.retry_safe.post_exclude),
            ("downloads.include", &self.downloads.include),
            ("downloads.exclude", &self.downloads.exclude),
        ];
        lists
            .into_iter()
            .flat_map(|(list, names)| names.iter().map(move |n| (list, n.as_str())))
            .collect()
    }

    fn words(&self, name: &str) -> Vec<String> {
        split_words(name, &self.display_names.keep_words)
    }

    fn has_prefix(&self, operation_id: &str, prefixes: &[String]) -> bool {
        let words = self.words(operation_id);
        prefixes.iter().any(|p| words.starts_with(&self.words(p)))
    }

    fn has_suffix(&self, operation_id: &str, suffixes: &[String]) -> bool {
        let words = self.words(operation_id);
        suffixes.iter().any(|s| words.ends_with(&self.words(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destructive_rules_of_the_shipped_config() {
        let r = Rules::default_rules();
        for (method, op) in [
            ("POST", "PurgeChats"),
            ("POST", "PurgeCalls"),
            ("POST", "BatchDelete"),
            ("POST", "Restart"),
            ("POST", "RestartServices"),
            ("POST", "Restore"),
            ("POST", "RestoreBackup"),
            ("POST", "BulkRecordingsDelete"),
            ("POST", "RegeneratePasswords"),
            ("DELETE", "DeleteUser"),
            ("DELETE", "Anything"),
        ] {
            assert!(
                r.is_destructive(method, op),
                "{method} {op} should be destructive"
            );
        }
        for (method, op) in [
            ("GET", "GetCallLogData"),
            ("GET", "ListUser"),
            ("POST", "StopCheck"),
            ("POST", "CreateUser"),
            ("POST", "BulkUpdate"),
            ("POST", "Stopwatch"),
            ("PATCH", "UpdateUser"),
            // Name rules apply to POST and GET only.
            ("PATCH", "PurgeSomething"),
        ] {
            assert!(
                !r.is_destructive(method, op),
                "{method} {op} should not be destructive"
            );
        }
    }

    #[test]
    fn idempotent_and_retry_safe() {
        let r = Rules::default_rules();
        for m in ["GET", "PUT", "PATCH", "DELETE"] {
            assert!(r.is_idempotent(m, "X"));
            assert!(r.is_retry_safe(m, "X"));
        }
        assert!(!r.is_idempotent("POST", "PurgeChats"));
        assert!(!r.is_retry_safe("POST", "PurgeChats"));
        assert!(!r.is_idempotent("POST", "CreateUser"));
        assert!(r.is_idempotent("POST", "SetBackupSettings"));
        assert!(!r.is_retry_safe("POST", "SetBackupSettings"));
    }

    #[test]
    fn every_retry_safe_post_is_idempotent() {
        let r = Rules::default_rules();
        for op in &r.retry_safe.post_include {
            assert!(
                r.is_idempotent("POST", op),
                "{op} is retry-safe but not idempotent"
            );
        }
    }

    #[test]
    fn downloads() {
        let r = Rules::default_rules();
        assert!(r.is_download("DownloadCallLog", None));
        assert!(r.is_download("ExportExtensions", None));
        assert!(r.is_download("GetDialPlanScript", Some("Pbx.IActionResult")));
        assert!(!r.is_download("GetCallLogData", None));
        assert!(!r.is_download("GetUser", Some("Pbx.User")));
    }

    #[test]
    fn version_from_file_name() {
        let r = Rules::default_rules();
        assert_eq!(
            r.version_from_file_name("swagger-20.0.10.yaml").as_deref(),
            Some("20.0.10")
        );
        assert_eq!(r.version_from_file_name("swagger.yaml"), None);
    }

    #[test]
    fn word_prefixes() {
        let r = Rules::default_rules();
        assert!(r.has_prefix("StopCheck", &["Stop".into()]));
        assert!(!r.has_prefix("Stopwatch", &["Stop".into()]));
        assert!(r.has_prefix("BatchDeleteFiles", &["BatchDelete".into()]));
        assert!(r.has_suffix("BulkIpsDelete", &["Delete".into()]));
    }
}
