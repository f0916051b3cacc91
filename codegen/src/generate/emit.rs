//! Files on disk: rustfmt through a hermetic temporary tree, writing a generated directory
//! (changed files only, stale files removed), and comparing two directory trees.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Error, HEADER};

/// Generated files by path relative to the output directory (`/`-separated).
pub type Files = BTreeMap<String, String>;

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> Result<TempDir, Error> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", path.display())))?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn io(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::new(format!("cannot {what} {}: {e}", path.display()))
}

/// Formats `files` (a crate module tree whose root is `mod.rs`) with `rustfmt --edition 2021`.
/// Runs in a temporary directory with an explicit empty configuration, so the result does not
/// depend on any `rustfmt.toml` around the output directory or in the user's home.
pub fn rustfmt(files: &Files) -> Result<Files, Error> {
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let tmp = TempDir::new("threecx-codegen-fmt")?;
    let config = tmp.path().join("rustfmt.toml");
    std::fs::write(&config, "").map_err(|e| io(&config, "write", e))?;
    let root = tmp.path().join("src");
    write_all(&root, files)?;
    let output = Command::new(&rustfmt)
        .arg("--edition")
        .arg("2021")
        .arg("--config-path")
        .arg(&config)
        .args(files.keys().map(|k| root.join(k)))
        .output()
        .map_err(|e| {
            Error::new(format!(
                "cannot run `{}` ({e}): the generated code must be rustfmt-formatted; install \
                 rustfmt with `rustup component add rustfmt`, or point RUSTFMT to it",
                rustfmt.to_string_lossy()
            ))
        })?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "rustfmt failed on the generated code ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let mut formatted = Files::new();
    for rel in files.keys() {
        let path = root.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, "read", e))?;
        formatted.insert(rel.clone(), text);
    }
    Ok(formatted)
}

fn write_all(root: &Path, files: &Files) -> Result<(), Error> {
    for (rel, text) in files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, "create", e))?;
        }
        std::fs::write(&path, text).map_err(|e| io(&path, "write", e))?;
    }
    Ok(())
}

/// Every file under `dir`, relative and `/`-separated, sorted. A missing `dir` has none.
pub fn list_files(dir: &Path) -> Result<BTreeSet<String>, Error> {
    let mut out = BTreeSet::new();
    if dir.exists() {
        walk(dir, "", &mut out)?;
    }
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, "list", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, "list", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let ty = entry
            .file_type()
            .map_err(|e| io(&entry.path(), "stat", e))?;
        if ty.is_dir() {
            walk(&entry.path(), &format!("{rel}/"), out)?;
        } else {
            out.insert(rel);
        }
    }
    Ok(())
}

/// What [`write_tree`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub files: usize,
    pub written: usize,
    pub removed: Vec<String>,
    pub bytes: usize,
    pub lines: usize,
}

/// Makes `out` hold exactly `files`: writes new and changed files (unchanged ones keep their
/// modification time), deletes every other file and empty directory below `out`.
///
/// Refuses to clear a non-empty directory that does not look generated (no `mod.rs` starting with
/// the generated header), so a wrong `--out` cannot delete hand-written code.
pub fn write_tree(out: &Path, files: &Files) -> Result<WriteSummary, Error> {
    let existing = list_files(out)?;
    if !existing.is_empty() {
        let mod_rs = out.join("mod.rs");
        let looks_generated = std::fs::read_to_string(&mod_rs)
            .map(|t| t.starts_with(HEADER.lines().next().unwrap_or_default()))
            .unwrap_or(false);
        if !looks_generated {
            return Err(Error::new(format!(
                "{} is not empty and has no generated mod.rs: refusing to overwrite it \
                 (pass the generated directory, e.g. crates/threecx-ops/src/generated)",
                out.display()
            )));
        }
    }
    let mut summary = WriteSummary::default();
    for (rel, text) in files {
        let path = out.join(rel);
        summary.files += 1;
        summary.bytes += text.len();
        summary.lines += text.lines().count();
        let same = std::fs::read(&path).is_ok_and(|old| old == text.as_bytes());
        if !same {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, "create", e))?;
            }
            std::fs::write(&path, text).map_err(|e| io(&path, "write", e))?;
            summary.written += 1;
        }
    }
    for rel in existing {
        if !files.contains_key(&rel) {
            let path = out.join(&rel);
            std::fs::remove_file(&path).map_err(|e| io(&path, "remove", e))?;
            summary.removed.push(rel);
        }
    }
    remove_empty_dirs(out)?;
    Ok(summary)
}

fn remove_empty_dirs(dir: &Path) -> Result<bool, Error> {
    let mut empty = true;
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, "list", e))? {
        let entry = entry.map_err(|e| io(dir, "list", e))?;
        let path = entry.path();
        if entry
            .file_type()
            .map_err(|e| io(&path, "stat", e))?
            .is_dir()
        {
            if remove_empty_dirs(&path)? {
                std::fs::remove_dir(&path).map_err(|e| io(&path, "remove", e))?;
            } else {
                empty = false;
            }
        } else {
            empty = false;
        }
    }
    Ok(empty)
}

/// One file that differs between the committed tree and a fresh regeneration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// Regeneration produces it, but it is not committed.
    Missing(String),
    /// Committed, but regeneration no longer produces it.
    Extra(String),
    /// Both exist with different contents.
    Differs(String),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing(p) => write!(f, "missing: {p} (regeneration creates it)"),
            Difference::Extra(p) => write!(f, "extra:   {p} (regeneration no longer creates it)"),
            Difference::Differs(p) => write!(f, "differs: {p}"),
        }
    }
}

/// Compares `committed` with `fresh`; paths in the result are `label/relative`.
pub fn diff_trees(committed: &Path, fresh: &Path, label: &str) -> Result<Vec<Difference>, Error> {
    let old = list_files(committed)?;
    let new = list_files(fresh)?;
    let mut out = Vec::new();
    for rel in old.union(&new) {
        let shown = format!("{}/{rel}", label.trim_end_matches('/'));
        match (old.contains(rel), new.contains(rel)) {
            (false, true) => out.push(Difference::Missing(shown)),
            (true, false) => out.push(Difference::Extra(shown)),
            _ => {
                let a = committed.join(rel);
                let b = fresh.join(rel);
                let ta = std::fs::read(&a).map_err(|e| io(&a, "read", e))?;
                let tb = std::fs::read(&b).map_err(|e| io(&b, "read", e))?;
                if ta != tb {
                    out.push(Difference::Differs(shown));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_tree_replaces_and_removes_stale_files() {
        let tmp = TempDir::new("threecx-codegen-test").unwrap();
        let out = tmp.path().join("generated");
        let mut files = Files::new();
        files.insert("mod.rs".into(), format!("{HEADER}pub mod a;\n"));
        files.insert("a/x.rs".into(), "x\n".into());
        files.insert("a/y.rs".into(), "y\n".into());
        let s = write_tree(&out, &files).unwrap();
        assert_eq!((s.files, s.written), (3, 3));

        files.remove("a/y.rs");
        files.remove("a/x.rs");
        files.insert("b.rs".into(), "b\n".into());
        let s = write_tree(&out, &files).unwrap();
        assert_eq!(s.written, 1);
        assert_eq!(s.removed, ["a/x.rs", "a/y.rs"]);
        assert!(!out.join("a").exists(), "empty directories are removed");
        let listed: Vec<String> = list_files(&out).unwrap().into_iter().collect();
        assert_eq!(listed, ["b.rs", "mod.rs"]);
    }

    #[test]
    fn write_tree_refuses_a_hand_written_directory() {
        let tmp = TempDir::new("threecx-codegen-test").unwrap();
        std::fs::write(tmp.path().join("lib.rs"), "fn main() {}").unwrap();
        let e = write_tree(tmp.path(), &Files::new()).unwrap_err();
        assert!(e.to_string().contains("refusing"), "{e}");
        assert!(tmp.path().join("lib.rs").exists());
    }

    #[test]
    fn diff_names_every_difference() {
        let tmp = TempDir::new("threecx-codegen-test").unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for (dir, files) in [
            (&a, ["same", "changed", "old"]),
            (&b, ["same", "changed", "new"]),
        ] {
            std::fs::create_dir_all(dir).unwrap();
            for f in files {
                let body = if f == "changed" {
                    dir.to_string_lossy().into_owned()
                } else {
                    f.to_owned()
                };
                std::fs::write(dir.join(f), body).unwrap();
            }
        }
        let d = diff_trees(&a, &b, "gen").unwrap();
        assert_eq!(
            d,
            [
                Difference::Differs("gen/changed".into()),
                Difference::Missing("gen/new".into()),
                Difference::Extra("gen/old".into()),
            ]
        );
    }
}
