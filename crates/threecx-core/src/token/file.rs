//! The optional on-disk token cache ([`crate::ConfigBuilder::token_cache_dir`]).
//!
//! 3CX keeps one active token per API client, so two processes that each fetch their own knock
//! each other out. With the cache on, a process that needs a token takes an advisory lock on the
//! client's file, reads it, uses the token there if it is still good, and otherwise fetches one
//! and writes it before letting go of the lock: the others then find it instead of fetching.
//! The file also carries the token backoff (failed token requests), so a script that runs the
//! CLI in a loop with a wrong secret is paced like one long-running process.
//!
//! One file per (API root, client ID, secret), named after a SHA-256 of them: neither the name
//! nor the content holds the secret. Mode 0600 in a folder created 0700, opened without
//! following a symlink. An existing folder that other users can write to (they could replace
//! the file, plant a record or hold its lock) loses their write permission if it is ours and not
//! a shared sticky folder like `/tmp`; otherwise it is not used (the token stays in memory). A
//! lock another process holds longer than [`crate::config::TOKEN_CACHE_LOCK_WAIT`] (5 s) is
//! given up on, with a warning: the call goes on with a token in memory. Anything unreadable is
//! ignored and replaced, and nothing read is trusted further than a token can live or a backoff can last: expiries are capped at
//! `MAX_TOKEN_LIFETIME` (a day), failure times in the future count as now (and are written back
//! so), so a planted or stale record delays token requests by at most the configured
//! `token_backoff_max` (or the minute of `token_requests_per_minute`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Config, Redacted};
use crate::error::Error;
use crate::token::backoff::Backoff;
use crate::wire::Phase;

/// Format of the file; another number is treated like a corrupt file (replaced).
const VERSION: u32 = 1;
/// A larger file is not a token cache file.
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// Longest pause between two tries to take the lock.
const MAX_LOCK_PAUSE: Duration = Duration::from_millis(50);
/// First pause between two tries to take the lock.
const FIRST_LOCK_PAUSE: Duration = Duration::from_millis(2);

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) token: Option<StoredToken>,
    #[serde(default)]
    pub(crate) failures: Option<StoredFailures>,
}

/// An access token and its expiry, in wall-clock time (shared between processes).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredToken {
    pub(crate) access_token: String,
    /// Unix time in milliseconds at which the token expires.
    pub(crate) expires_at_ms: u64,
    /// Its whole lifetime, for the refresh margin.
    pub(crate) lifetime_ms: u64,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("access_token", &Redacted)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// The token backoff and the error that started it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredFailures {
    pub(crate) backoff: Backoff,
    pub(crate) error: StoredError,
}

/// A token endpoint error, secret already scrubbed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredError {
    kind: StoredKind,
    status: Option<u16>,
    message: String,
}

/// Which error it was; in the file as `auth`, `api`, `decode` or `network`. Any other text (a
/// newer or a planted file) reads as `network`, the kind that claims least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredKind {
    Auth,
    Api,
    Decode,
    #[serde(other)]
    Network,
}

impl StoredError {
    /// `error` as kept in the token file.
    pub(crate) fn from_error(error: &Error) -> StoredError {
        let (kind, status, message) = match error {
            Error::Auth { status, message } => (StoredKind::Auth, *status, message.clone()),
            Error::Api {
                status, message, ..
            } => (StoredKind::Api, Some(*status), message.clone()),
            Error::Decode { message, .. } => (StoredKind::Decode, None, message.clone()),
            Error::Transport { message, .. } => (StoredKind::Network, None, message.clone()),
            Error::Timeout { after, .. } => (
                StoredKind::Network,
                None,
                format!("timed out after {after:?}"),
            ),
            other => (StoredKind::Network, None, other.to_string()),
        };
        StoredError {
            kind,
            status,
            message,
        }
    }

    /// The error another process recorded.
    pub(crate) fn to_error(&self) -> Error {
        let message = self.message.clone();
        match (self.kind, self.status) {
            (StoredKind::Auth, status) => Error::Auth { status, message },
            (StoredKind::Api, Some(status)) => Error::Api {
                status,
                method: "POST",
                path: "/connect/token".to_owned(),
                code: String::new(),
                message,
                details: vec![],
            },
            (StoredKind::Decode, _) => Error::Decode {
                what: "the token answer of /connect/token".to_owned(),
                message,
            },
            (StoredKind::Api | StoredKind::Network, _) => Error::Transport {
                during: Phase::Token.text(),
                message,
                maybe_sent: true,
            },
        }
    }
}

/// The cache file name for `config`: `token-<sha256 hex>.json`.
pub(crate) fn file_name(config: &Config) -> String {
    let secret_hash = Sha256::digest(config.client_secret().expose_secret().as_bytes());
    let mut h = Sha256::new();
    h.update(b"threecx token cache v1\0");
    h.update(config.api_root().as_bytes());
    h.update(b"\0");
    h.update(config.client_id().as_bytes());
    h.update(b"\0");
    h.update(secret_hash);
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("token-{hex}.json")
}

/// The cache file of one API client, locked for as long as this value lives.
pub(crate) struct LockedFile {
    file: File,
    path: PathBuf,
}

impl LockedFile {
    /// Creates `dir` (0700) and the file (0600) as needed, and takes the exclusive lock, waiting
    /// at most `wait` for another process to let go of it.
    pub(crate) async fn open(dir: &Path, name: &str, wait: Duration) -> io::Result<LockedFile> {
        create_dir(dir)?;
        let path = dir.join(name);
        let file = open_private(&path)?;
        let started = Instant::now();
        let mut pause = FIRST_LOCK_PAUSE;
        loop {
            // Fully qualified: newer std has inherent `File::try_lock` with another error type.
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(LockedFile { file, path }),
                Err(fs4::TryLockError::WouldBlock) => {
                    if started.elapsed() >= wait {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "the file is locked by another process, still after {:.1} s \
                                 (a stuck threecx process?)",
                                wait.as_secs_f64()
                            ),
                        ));
                    }
                    if pause == FIRST_LOCK_PAUSE {
                        tracing::debug!(
                            file = %path.display(),
                            "the token cache file is locked by another process; waiting"
                        );
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_LOCK_PAUSE);
                }
                Err(fs4::TryLockError::Error(e)) => return Err(e),
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The record in the file; `None` when it is empty, unreadable or of another format (it is
    /// then replaced by the next write).
    pub(crate) fn read(&mut self) -> Option<Record> {
        let len = self.file.metadata().ok()?.len();
        if len == 0 {
            return None;
        }
        let parsed = if len > MAX_FILE_BYTES {
            Err("too large".to_owned())
        } else {
            let mut text = String::new();
            self.file
                .seek(SeekFrom::Start(0))
                .and_then(|_| self.file.read_to_string(&mut text))
                .map_err(|e| e.to_string())
                .and_then(|_| serde_json::from_str::<Record>(&text).map_err(|e| e.to_string()))
                .and_then(|r| {
                    if r.version == VERSION {
                        Ok(r)
                    } else {
                        Err(format!("format version {} is not {VERSION}", r.version))
                    }
                })
        };
        match parsed {
            Ok(record) => Some(record),
            Err(problem) => {
                // The problem text quotes no content (serde_json names positions only).
                tracing::warn!(
                    file = %self.path.display(),
                    problem = %problem,
                    "ignoring an unreadable token cache file; it will be replaced"
                );
                None
            }
        }
    }

    /// Replaces the file's content with `record`.
    pub(crate) fn write(&mut self, record: &Record) -> io::Result<()> {
        let text = serde_json::to_vec(record).map_err(io::Error::other)?;
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&text)?;
        self.file.flush()?;
        self.file.sync_data()
    }
}

impl Drop for LockedFile {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first is only explicit.
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    private_dir(dir)
}

/// Makes sure no other user can write to `dir` (it may have existed before, with any mode):
/// they could swap the token file, plant a record in it or hold its lock. Their write
/// permission is removed when the folder is ours; a folder that is not ours, or a shared sticky
/// one like `/tmp`, is refused (its mode is not ours to change).
#[cfg(unix)]
fn private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(dir)?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 == 0 {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let ours = meta.uid() == unsafe { libc::geteuid() };
    let sticky = mode & 0o1000 != 0;
    if ours && !sticky {
        let tightened = mode & !0o022;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(tightened))?;
        tracing::warn!(
            dir = %dir.display(),
            "the token cache folder was writable by other users (mode {mode:o}); removed their \
             write permission (mode {tightened:o}). Keep it private, e.g. ~/.cache/threecx"
        );
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "the folder is writable by other users (mode {mode:o}) and {}, so it cannot be made \
             private; use a folder of your own, e.g. ~/.cache/threecx",
            if ours {
                "shared (sticky, like /tmp)"
            } else {
                "belongs to another user"
            }
        ),
    ))
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Opens or creates `path` for reading and writing, mode 0600, refusing a symlink or anything
/// but a regular file, and tightening the mode of an existing file.
#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secret: &str) -> Config {
        Config::builder()
            .base_url("https://pbx.example.com")
            .client_id("id")
            .client_secret(secret)
            .build()
            .unwrap()
    }

    #[test]
    fn the_name_depends_on_the_secret_but_does_not_show_it() {
        let a = file_name(&config("s3cr3t-XYZ"));
        assert!(a.starts_with("token-") && a.ends_with(".json"), "{a}");
        assert_eq!(a.len(), "token-.json".len() + 64);
        assert!(!a.contains("s3cr3t"), "{a}");
        assert_eq!(a, file_name(&config("s3cr3t-XYZ")));
        assert_ne!(a, file_name(&config("other")));
    }

    #[test]
    fn stored_errors_keep_their_kind_and_unknown_kinds_read_as_network() {
        let auth = Error::Auth {
            status: Some(401),
            message: "no".into(),
        };
        let stored = StoredError::from_error(&auth);
        let text = serde_json::to_string(&stored).unwrap();
        assert_eq!(text, r#"{"kind":"auth","status":401,"message":"no"}"#);
        assert!(matches!(
            stored.to_error(),
            Error::Auth {
                status: Some(401),
                ..
            }
        ));
        let planted: StoredError =
            serde_json::from_str(r#"{"kind":"martian","status":null,"message":"m"}"#).unwrap();
        assert!(matches!(
            planted.to_error(),
            Error::Transport {
                maybe_sent: true,
                ..
            }
        ));
        let api_without_status: StoredError =
            serde_json::from_str(r#"{"kind":"api","status":null,"message":"m"}"#).unwrap();
        assert!(matches!(
            api_without_status.to_error(),
            Error::Transport { .. }
        ));
    }

    #[tokio::test]
    async fn records_round_trip_and_garbage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        let mut f = LockedFile::open(&sub, "t.json", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(f.read(), None);
        let record = Record {
            version: VERSION,
            token: Some(StoredToken {
                access_token: "tok".into(),
                expires_at_ms: 5,
                lifetime_ms: 6,
            }),
            failures: None,
        };
        f.write(&record).unwrap();
        assert_eq!(f.read(), Some(record.clone()));
        // A shorter record leaves no tail of the longer one behind.
        let empty = Record {
            version: VERSION,
            ..Record::default()
        };
        f.write(&empty).unwrap();
        assert_eq!(f.read(), Some(empty));
        drop(f);

        std::fs::write(sub.join("t.json"), b"{\"version\": 1, \"tok").unwrap();
        let mut f = LockedFile::open(&sub, "t.json", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(f.read(), None);
        std::fs::write(sub.join("t.json"), b"{\"version\": 99}").unwrap();
        assert_eq!(f.read(), None);
    }

    #[tokio::test]
    async fn the_lock_excludes_a_second_opener_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let held = LockedFile::open(dir.path(), "t.json", Duration::from_secs(1))
            .await
            .unwrap();
        let e = LockedFile::open(dir.path(), "t.json", Duration::from_millis(30))
            .await
            .err()
            .expect("the lock is held");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        drop(held);
        LockedFile::open(dir.path(), "t.json", Duration::from_millis(30))
            .await
            .unwrap();
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn modes_are_private_and_symlinks_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("cache");
        let f = LockedFile::open(&sub, "t.json", Duration::from_secs(1))
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(f.path()), 0o600);
        assert_eq!(mode(&sub), 0o700);
        drop(f);

        // An existing file with a loose mode is tightened.
        let loose = sub.join("loose.json");
        std::fs::write(&loose, b"").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        LockedFile::open(&sub, "loose.json", Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(mode(&loose), 0o600);

        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"keep").unwrap();
        std::os::unix::fs::symlink(&target, sub.join("link.json")).unwrap();
        assert!(LockedFile::open(&sub, "link.json", Duration::from_secs(1))
            .await
            .is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
