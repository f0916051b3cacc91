//! The cache of pulled specs: imported sets by spec hash (`sets/<sha256>.json`, shared by every
//! PBX at that version) and, per PBX URL, which set it serves (`pbx/<url key>.json`). A spec
//! already imported is reused without parsing YAML again.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::set::CACHE_FORMAT;
use crate::{SpecError, SpecSet};

/// What was pulled from one PBX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledSpec {
    /// The PBX URL, as the connection gives it.
    pub url: String,
    /// The version the PBX reported when the spec was pulled (`GetSystemStatus`), if it did.
    pub pbx_version: Option<String>,
    /// Unix time of the pull, in seconds.
    pub pulled_at: u64,
    /// SHA-256 of the document: which set under `sets/` it is.
    pub sha256: String,
}

/// A cache folder (`<cache dir>/threecx/specs` by default; see the CLI).
#[derive(Debug, Clone)]
pub struct SpecCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CachedSet {
    format: u32,
    set: SpecSet,
}

impl SpecCache {
    pub fn new(dir: impl Into<PathBuf>) -> SpecCache {
        SpecCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the record of `url`'s pull is kept.
    pub fn record_path(&self, url: &str) -> PathBuf {
        self.dir.join("pbx").join(format!("{}.json", url_key(url)))
    }

    /// Where the set of a spec hash is kept.
    pub fn set_path(&self, sha256: &str) -> PathBuf {
        self.dir.join("sets").join(format!("{sha256}.json"))
    }

    /// The last pull recorded for `url`, if any.
    pub fn record(&self, url: &str) -> Result<Option<PulledSpec>, SpecError> {
        let path = self.record_path(url);
        let Some(bytes) = read_if_exists(&path)? else {
            return Ok(None);
        };
        let record: PulledSpec = serde_json::from_slice(&bytes).map_err(|e| {
            SpecError::new(format!(
                "{} is not a pulled-spec record ({e}); pull again",
                path.display()
            ))
        })?;
        Ok((record.url == url).then_some(record))
    }

    /// The imported set of a spec hash, if cached in the current format.
    pub fn set(&self, sha256: &str) -> Result<Option<SpecSet>, SpecError> {
        let path = self.set_path(sha256);
        let Some(bytes) = read_if_exists(&path)? else {
            return Ok(None);
        };
        match serde_json::from_slice::<CachedSet>(&bytes) {
            Ok(cached) if cached.format == CACHE_FORMAT && cached.set.sha256 == sha256 => {
                Ok(Some(cached.set))
            }
            // Another threecx version's format, or a damaged file: import again.
            _ => Ok(None),
        }
    }

    /// The record and set last pulled for `url`.
    pub fn load(&self, url: &str) -> Result<Option<(PulledSpec, SpecSet)>, SpecError> {
        let Some(record) = self.record(url)? else {
            return Ok(None);
        };
        Ok(self.set(&record.sha256)?.map(|set| (record, set)))
    }

    /// The set of a document: cached under its hash, else imported now (and cached). `source`
    /// names it for version detection and messages.
    pub fn set_or_import(&self, bytes: Vec<u8>, source: &str) -> Result<SpecSet, SpecError> {
        if let Some(set) = self.set(&sha256_hex(&bytes))? {
            return Ok(set);
        }
        let set = SpecSet::import(bytes, source, None)?;
        // A cache that cannot be written costs the next run an import, nothing more.
        if let Err(e) = self.store_set(&set) {
            tracing::warn!("cannot cache the imported spec: {e}");
        }
        Ok(set)
    }

    /// Saves a set under its hash (unless already there).
    pub fn store_set(&self, set: &SpecSet) -> Result<(), SpecError> {
        let path = self.set_path(&set.sha256);
        if path.exists() {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&CachedSet {
            format: CACHE_FORMAT,
            set: set.clone(),
        })
        .map_err(|e| SpecError::new(format!("cannot encode the spec set: {e}")))?;
        write_atomic(&path, &bytes)
    }

    /// Saves what `url` serves.
    pub fn store_record(&self, record: &PulledSpec) -> Result<(), SpecError> {
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| SpecError::new(format!("cannot encode the pull record: {e}")))?;
        write_atomic(&self.record_path(&record.url), &bytes)
    }
}

/// A short, file-name-safe key of a URL (a trailing `/` does not make another PBX).
pub fn url_key(url: &str) -> String {
    let digest = Sha256::digest(url.trim_end_matches('/').as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a document, hex (the key of its set).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, SpecError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SpecError::new(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// A unique temporary file in the same folder, synced, then renamed over `path`: readers see the
/// old file or the new one, never a part.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SpecError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |what: &str, e: std::io::Error| {
        SpecError::new(format!("cannot {what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("create the folder of", e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io("write", e))?;
    tmp.write_all(bytes).map_err(|e| io("write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("write", e))?;
    tmp.persist(path).map_err(|e| io("write", e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keys_ignore_a_trailing_slash_and_tell_pbxs_apart() {
        assert_eq!(url_key("https://a.example"), url_key("https://a.example/"));
        assert_ne!(url_key("https://a.example"), url_key("https://b.example"));
        assert_eq!(url_key("https://a.example").len(), 24);
    }

    #[test]
    fn a_record_for_another_url_or_a_damaged_set_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SpecCache::new(dir.path());
        let record = PulledSpec {
            url: "https://a.example".into(),
            pbx_version: Some("20.0.9".into()),
            pulled_at: 1,
            sha256: "ab".into(),
        };
        cache.store_record(&record).unwrap();
        assert_eq!(cache.record("https://a.example").unwrap(), Some(record));
        assert_eq!(cache.record("https://b.example").unwrap(), None);
        std::fs::create_dir_all(dir.path().join("sets")).unwrap();
        std::fs::write(cache.set_path("ab"), b"{not json").unwrap();
        assert_eq!(cache.set("ab").unwrap(), None);
        assert_eq!(cache.load("https://a.example").unwrap(), None);
    }
}
