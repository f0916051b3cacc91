//! The sandbox's state: entity tables, singletons and the two history timelines, and how it is
//! saved to and loaded from a JSON file.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SeedSizes;
use crate::history::{IntervalSet, Timeline, HISTORY_SPAN, HISTORY_START};
use crate::odata::filter::equal as filter_equal;

/// The rows of one entity set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The next integer key to assign.
    pub next_id: i64,
    pub rows: Vec<Value>,
}

impl Table {
    /// The position of the row whose `prop` equals `key`.
    pub fn position(&self, prop: &str, key: &Value) -> Option<usize> {
        self.rows
            .iter()
            .position(|r| r.get(prop).is_some_and(|v| filter_equal(v, key)))
    }
}

/// Everything that changes while the sandbox runs.
#[derive(Debug, Clone)]
pub struct Data {
    pub seed: u64,
    pub sizes: SeedSizes,
    pub tables: BTreeMap<String, Table>,
    pub singletons: BTreeMap<String, Value>,
    pub calls: Timeline,
    pub chats: Timeline,
}

/// The saved form of [`Data`] (version 1).
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    format: u32,
    seed: u64,
    sizes: SeedSizes,
    tables: BTreeMap<String, Table>,
    singletons: BTreeMap<String, Value>,
    calls_removed: IntervalSet,
    chats_removed: IntervalSet,
    calls_seed: u64,
    chats_seed: u64,
    /// `[start, span]` in Unix seconds of both timelines, when not the default year 2024
    /// (`recent_history_days`); absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history_window: Option<(i64, i64)>,
}

const FORMAT: u32 = 1;

impl Data {
    /// Writes the state to `path` (through a temporary file, so a crash never leaves half a file;
    /// see [`write_atomically`]).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let saved = Saved {
            format: FORMAT,
            seed: self.seed,
            sizes: self.sizes,
            tables: self.tables.clone(),
            singletons: self.singletons.clone(),
            calls_removed: self.calls.removed.clone(),
            chats_removed: self.chats.removed.clone(),
            calls_seed: self.calls.seed,
            chats_seed: self.chats.seed,
            history_window: (self.calls.start != HISTORY_START || self.calls.span != HISTORY_SPAN)
                .then_some((self.calls.start, self.calls.span)),
        };
        let text = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
        write_atomically(path, &text)
    }

    /// Reads a state saved by [`Data::save`].
    pub fn load(path: &Path) -> std::io::Result<Data> {
        let text = std::fs::read(path)?;
        let saved: Saved = serde_json::from_slice(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a sandbox data file: {e}", path.display()),
            )
        })?;
        if saved.format != FORMAT {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} has format {}, this sandbox reads format {FORMAT}",
                    path.display(),
                    saved.format
                ),
            ));
        }
        let (start, span) = saved
            .history_window
            .unwrap_or((HISTORY_START, HISTORY_SPAN));
        let mut calls =
            Timeline::new(saved.sizes.call_history, saved.calls_seed).spread_over(start, span);
        calls.removed = saved.calls_removed;
        let mut chats =
            Timeline::new(saved.sizes.chat_messages, saved.chats_seed).spread_over(start, span);
        chats.removed = saved.chats_removed;
        Ok(Data {
            seed: saved.seed,
            sizes: saved.sizes,
            tables: saved.tables,
            singletons: saved.singletons,
            calls,
            chats,
        })
    }

    /// Rows of a table (0 for unknown tables).
    pub fn rows(&self, set: &str) -> usize {
        self.tables.get(set).map_or(0, |t| t.rows.len())
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old file or the new one, whole:
/// the bytes go to a temporary file of an unpredictable name in the same folder, created
/// exclusively (`O_CREAT|O_EXCL`: never opening a file or symlink planted there, readable by the
/// owner only), synced to disk, renamed over `path`, and the folder is synced so the rename
/// itself survives a power cut. The temporary file is removed if any step fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (mut file, tmp) = create_temp_beside(dir, path)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// A new, empty file `.<name>.<random>.tmp` in `dir`, created exclusively; retried under
/// another name should that one exist.
fn create_temp_beside(dir: &Path, path: &Path) -> std::io::Result<(File, PathBuf)> {
    use std::hash::{BuildHasher, Hasher};
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    // RandomState is keyed from the OS's random source: names another user cannot predict.
    let random = std::collections::hash_map::RandomState::new();
    let mut last = None;
    for attempt in 0u32..16 {
        let mut h = random.build_hasher();
        h.write_u32(std::process::id());
        h.write_u32(attempt);
        if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(now.as_nanos());
        }
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", h.finish()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(file) => return Ok((file, tmp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

/// Makes a rename in `dir` durable (a no-op where folders cannot be opened, as on Windows).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
