//! Snapshot test of `codegen import` on the invented fixture `tests/fixtures/mini.yaml`: the
//! files written to a temp dir must equal `tests/snapshots/mini/`. After an intended change,
//! `UPDATE_SNAPSHOTS=1 cargo test -p threecx-codegen --test import_snapshot` rewrites them;
//! review the diff before committing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use threecx_codegen::import::{self, ImportOptions};
use threecx_codegen::rules::Rules;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fresh_temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn options(out: &Path) -> ImportOptions {
    ImportOptions {
        spec: manifest_dir()
            .join("tests/fixtures/mini.yaml")
            .to_string_lossy()
            .into_owned(),
        out: out.to_path_buf(),
        threecx_version: None,
        insecure: false,
        rules: Rules::default_rules(),
    }
}

/// Relative path → content of every file under `dir`.
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(key, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A readable account of how two texts differ: the first differing lines with context.
fn line_diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(0);
    let from = first.saturating_sub(3);
    let mut out = format!(
        "first difference at line {} (- snapshot, + import):\n",
        first + 1
    );
    for i in from..(first + 8).min(e.len().max(a.len())) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("   {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!(" - {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!(" + {y}\n"));
                }
            }
        }
    }
    out
}

#[test]
fn mini_spec_matches_snapshot() {
    let out = fresh_temp_dir("import-mini");
    // A leftover resource file must be removed by the import.
    std::fs::create_dir_all(out.join("resources")).unwrap();
    std::fs::write(out.join("resources/Gone.json"), "{}\n").unwrap();

    let (rendered, report) = import::run(&options(&out)).unwrap();
    assert_eq!(report.removed, vec!["resources/Gone.json".to_string()]);
    assert_eq!(
        rendered.collisions,
        vec!["MoveToGroup: body parameter Id renamed Id_body (the name is taken)".to_string()]
    );
    let actual = read_tree(&out);

    let snapshot_dir = manifest_dir().join("tests/snapshots/mini");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        let _ = std::fs::remove_dir_all(&snapshot_dir);
        for (relative, content) in &actual {
            let path = snapshot_dir.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        return;
    }
    let expected = read_tree(&snapshot_dir);
    let mut problems = Vec::new();
    for (relative, content) in &expected {
        match actual.get(relative) {
            None => problems.push(format!("{relative}: expected but not written")),
            Some(a) if a != content => {
                problems.push(format!("{relative}: {}", line_diff(content, a)))
            }
            Some(_) => {}
        }
    }
    for relative in actual.keys().filter(|k| !expected.contains_key(*k)) {
        problems.push(format!("{relative}: written but not in the snapshot"));
    }
    assert!(
        problems.is_empty(),
        "import output differs from tests/snapshots/mini/ (if intended, rerun with \
         UPDATE_SNAPSHOTS=1 and review the diff):\n{}",
        problems.join("\n")
    );
}

#[test]
fn second_import_changes_nothing() {
    let out = fresh_temp_dir("import-twice");
    import::run(&options(&out)).unwrap();
    let before = read_tree(&out);
    let (rendered, report) = import::run(&options(&out)).unwrap();
    assert!(report.written.is_empty(), "rewrote {:?}", report.written);
    assert!(report.removed.is_empty());
    assert_eq!(read_tree(&out), before);
    assert!(import::compare_dir(&out, &rendered).unwrap().is_empty());

    // compare_dir reports edits and strays.
    std::fs::write(out.join("models.json"), "{}\n").unwrap();
    std::fs::write(out.join("resources/Stray.json"), "{}\n").unwrap();
    std::fs::remove_file(out.join("resources/Backups.json")).unwrap();
    assert_eq!(
        import::compare_dir(&out, &rendered).unwrap(),
        vec![
            "differs models.json".to_string(),
            "missing resources/Backups.json".to_string(),
            "stale resources/Stray.json".to_string(),
        ]
    );
}

#[test]
fn manifest_records_file_name_and_counts() {
    let out = fresh_temp_dir("import-manifest");
    let (rendered, _) = import::run(&options(&out)).unwrap();
    let m = &rendered.manifest;
    assert_eq!(m.spec.source, "mini.yaml");
    assert_eq!(m.threecx_version, "unknown");
    assert_eq!(m.counts.actions, 18);
    assert_eq!(m.counts.resources, 5);
    assert_eq!(m.counts.resources, m.resources.len());
}

/// The real 3CX spec, when the shared folder is beside the checkout (as in CI).
#[test]
fn real_spec_counts() {
    let spec = manifest_dir().join("../../shared/xapi/swagger-20.0.10.yaml");
    if !spec.exists() {
        eprintln!("skipped: {} not found", spec.display());
        return;
    }
    let raw = threecx_codegen::openapi::load(&spec.to_string_lossy(), false).unwrap();
    let rendered = import::render(&raw, None, &Rules::default_rules()).unwrap();
    let m = &rendered.manifest;
    assert_eq!(m.threecx_version, "20.0.10");
    assert_eq!(m.spec.source, "swagger-20.0.10.yaml");
    assert_eq!(
        (m.counts.resources, m.counts.actions, m.counts.models),
        (132, 601, 597)
    );
    let methods: Vec<(&str, usize)> = m
        .counts
        .methods
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        methods,
        vec![("DELETE", 34), ("GET", 322), ("PATCH", 65), ("POST", 180)]
    );
    assert!(rendered.collisions.is_empty());
    assert!(rendered.warnings.is_empty(), "{:#?}", rendered.warnings);
}
