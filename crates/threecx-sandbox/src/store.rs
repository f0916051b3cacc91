//! The sandbox's state: entity tables, singletons and the two history timelines, and how it is
//! saved to and loaded from a JSON file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SeedSizes;
use crate::history::{IntervalSet, Timeline};
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
}

const FORMAT: u32 = 1;

impl Data {
    /// Writes the state to `path` (through a temporary file, so a crash never leaves half a file).
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
        };
        let text = serde_json::to_vec(&saved).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
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
        let mut calls = Timeline::new(saved.sizes.call_history, saved.calls_seed);
        calls.removed = saved.calls_removed;
        let mut chats = Timeline::new(saved.sizes.chat_messages, saved.chats_seed);
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
