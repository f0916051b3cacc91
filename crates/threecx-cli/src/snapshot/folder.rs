//! The snapshot folder: `<Resource>.json` per resource (pretty JSON, two-space indent, keys
//! sorted, one trailing newline) and `snapshot.json`, the manifest: the PBX URL (never any
//! credential), its version, the threecx version, and each resource with its file, action and
//! key. Nothing in it depends on the time, so the same configuration gives the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{self, Read};
use super::{Resource, Snapshot};
use crate::exit::{CliError, CliResult};

/// The manifest's file name.
pub const MANIFEST: &str = "snapshot.json";
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    generator: String,
    /// The PBX's base URL (`https://pbx.example.com:5001`).
    pbx: String,
    /// The PBX's version, from System Status (null when it could not be read).
    pbx_version: Option<String>,
    resources: Vec<Entry>,
    /// Resources the PBX refused, with the reason.
    #[serde(default)]
    skipped: BTreeMap<String, String>,
    /// Resources the rule table leaves out, with why (for the reader's information).
    #[serde(default)]
    excluded_resources: BTreeMap<String, String>,
    /// The properties left out of every file (the rule table), for the reader's information.
    #[serde(default)]
    dropped_fields: Vec<DroppedFields>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    resource: String,
    file: String,
    action: String,
    read: String,
    key: Option<String>,
    /// Number of entities (lists only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entities: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DroppedFields {
    resource: String,
    reason: String,
    fields: Vec<String>,
}

/// Where the snapshot came from, for the manifest.
pub struct Origin {
    pub pbx: String,
    pub pbx_version: Option<String>,
}

/// Writes `snapshot` into `dir` (created if needed). Files of resources that an earlier
/// snapshot in `dir` had and this one has not are removed; no other file is touched, and a
/// file whose bytes would not change is not rewritten.
pub fn write(dir: &Path, snapshot: &Snapshot, origin: Origin) -> CliResult {
    std::fs::create_dir_all(dir).map_err(|e| local("create", dir, e))?;
    let previous = read_manifest(dir).ok();
    let mut entries = Vec::new();
    for (name, resource) in &snapshot.resources {
        let file = format!("{}.json", file_stem(name));
        write_if_changed(&dir.join(&file), &pretty(&resource.data)?)?;
        entries.push(Entry {
            resource: name.clone(),
            file,
            action: resource.action.clone(),
            read: resource.read.as_str().to_owned(),
            key: resource.key.clone(),
            entities: resource.data.as_array().map(Vec::len),
        });
    }
    if let Some(previous) = previous {
        for old in previous.resources {
            if !entries.iter().any(|e| e.file == old.file) && is_plain_file_name(&old.file) {
                let _ = std::fs::remove_file(dir.join(&old.file));
            }
        }
    }
    let manifest = Manifest {
        format: FORMAT,
        generator: format!("threecx {}", env!("CARGO_PKG_VERSION")),
        pbx: origin.pbx,
        pbx_version: origin.pbx_version,
        resources: entries,
        skipped: snapshot.skipped.clone(),
        excluded_resources: rules::excluded(threecx_ops::registry())
            .into_iter()
            .map(|(name, why)| (name.to_owned(), why.to_owned()))
            .collect(),
        dropped_fields: rules::FIELD_RULES
            .iter()
            .map(|r| DroppedFields {
                resource: r.resource.to_owned(),
                reason: r.reason.as_str().to_owned(),
                fields: r.fields.iter().map(|f| (*f).to_owned()).collect(),
            })
            .collect(),
    };
    let bytes = pretty(&manifest)?;
    write_if_changed(&dir.join(MANIFEST), &bytes)
}

/// Reads the snapshot in `dir`.
pub fn load(dir: &Path) -> CliResult<Snapshot> {
    let manifest = read_manifest(dir)?;
    let mut snapshot = Snapshot {
        skipped: manifest.skipped,
        ..Snapshot::default()
    };
    for entry in manifest.resources {
        if !is_plain_file_name(&entry.file) {
            return Err(bad_folder(dir, &format!("a file name {:?}", entry.file)));
        }
        let path = dir.join(&entry.file);
        let text = std::fs::read_to_string(&path).map_err(|e| unreadable(&path, &e))?;
        let data: Value = serde_json::from_str(&text).map_err(|e| unreadable(&path, &e))?;
        let read = match entry.read.as_str() {
            "list" => Read::List,
            "get" => Read::Get,
            other => return Err(bad_folder(dir, &format!("the read kind {other:?}"))),
        };
        snapshot.resources.insert(
            entry.resource,
            Resource {
                action: entry.action,
                read,
                key: entry.key,
                data,
            },
        );
    }
    Ok(snapshot)
}

fn read_manifest(dir: &Path) -> CliResult<Manifest> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::usage(format!(
            "{} is not a snapshot folder: cannot read {}: {e}",
            dir.display(),
            path.display()
        ))
        .hint(format!(
            "make one with `threecx snapshot {}`",
            dir.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| unreadable(&path, &e))?;
    if manifest.format != FORMAT {
        return Err(bad_folder(dir, &format!("format {}", manifest.format)));
    }
    Ok(manifest)
}

/// Pretty JSON with a trailing newline.
fn pretty(value: &impl Serialize) -> CliResult<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| CliError::local(format!("cannot encode a snapshot file: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> CliResult {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|e| local("write", path, e))
}

/// A resource name as a file name: letters, digits, `_` and `-` kept, anything else `_`.
fn file_stem(resource: &str) -> String {
    resource
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A manifest may only name files inside its folder.
fn is_plain_file_name(name: &str) -> bool {
    let path = PathBuf::from(name);
    path.components().count() == 1
        && matches!(
            path.components().next(),
            Some(std::path::Component::Normal(_))
        )
}

fn local(what: &str, path: &Path, e: std::io::Error) -> CliError {
    CliError::local(format!("cannot {what} {}: {e}", path.display()))
}

fn unreadable(path: &Path, e: &dyn std::fmt::Display) -> CliError {
    CliError::usage(format!(
        "cannot read the snapshot file {}: {e}",
        path.display()
    ))
}

fn bad_folder(dir: &Path, what: &str) -> CliError {
    CliError::usage(format!(
        "{} is not a snapshot folder this threecx can read: unknown {what}",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.resources.insert(
            "Users".into(),
            Resource {
                action: "ListUser".into(),
                read: Read::List,
                key: Some("Id".into()),
                data: json!([{"Id": 1, "Number": "100"}]),
            },
        );
        snapshot
    }

    fn origin() -> Origin {
        Origin {
            pbx: "https://pbx.example.com".into(),
            pbx_version: Some("20.0.10".into()),
        }
    }

    #[test]
    fn written_then_loaded_and_stale_files_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut snapshot = sample();
        snapshot.resources.insert(
            "AISettings".into(),
            Resource {
                action: "GetAISettings".into(),
                read: Read::Get,
                key: None,
                data: json!({"Enabled": false}),
            },
        );
        write(dir.path(), &snapshot, origin()).unwrap();
        let users = std::fs::read_to_string(dir.path().join("Users.json")).unwrap();
        assert_eq!(
            users,
            "[\n  {\n    \"Id\": 1,\n    \"Number\": \"100\"\n  }\n]\n"
        );
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.resources, snapshot.resources);

        write(dir.path(), &sample(), origin()).unwrap();
        assert!(!dir.path().join("AISettings.json").exists());
        assert!(load(dir.path()).unwrap().resources.len() == 1);
    }

    #[test]
    fn a_folder_without_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(dir.path()).unwrap_err();
        assert_eq!(e.code(), crate::exit::USAGE);
        assert!(!is_plain_file_name("../x.json") && !is_plain_file_name("/etc/passwd"));
        assert!(is_plain_file_name("Users.json"));
    }
}
