//! Snapshot test of the generate stage: a small `schemas/` directory in, the generated Rust out,
//! compared byte for byte with the committed expectation.
//!
//! After an intended change of the generator, refresh the expectation with
//! `UPDATE_SNAPSHOTS=1 cargo test -p threecx-codegen --test generate_snapshot` and review the diff.

use std::path::{Path, PathBuf};

use threecx_codegen::generate::{self, diff_trees, emit, Difference, TempDir};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The import stage's snapshot of `tests/fixtures/mini.yaml`: the generate stage is tested on
/// exactly what import produces.
const SCHEMAS: &str = "tests/snapshots/mini";
const EXPECTED: &str = "tests/snapshots/generate-mini";

/// The first differing line of two texts, as a short excerpt.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let n = e.len().max(a.len());
    for i in 0..n {
        let (el, al) = (e.get(i).copied(), a.get(i).copied());
        if el != al {
            return format!(
                "    line {}:\n    - expected: {}\n    + generated: {}",
                i + 1,
                el.unwrap_or("<end of file>"),
                al.unwrap_or("<end of file>")
            );
        }
    }
    "    (line endings differ)".to_owned()
}

#[test]
fn generated_code_matches_the_snapshot() {
    let schemas = root().join(SCHEMAS);
    let expected = root().join(EXPECTED);
    let (_, files) = generate::generate_files(&schemas).expect("generate the mini fixture");

    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        let summary = emit::write_tree(&expected, &files).expect("write the snapshot");
        eprintln!("updated {EXPECTED}: {summary:?}");
        return;
    }

    let tmp = TempDir::new("threecx-codegen-snapshot").unwrap();
    emit::write_tree(tmp.path(), &files).unwrap();
    let differences = diff_trees(&expected, tmp.path(), EXPECTED).unwrap();
    if differences.is_empty() {
        return;
    }
    let mut message = format!(
        "generated code for {SCHEMAS} differs from {EXPECTED} ({} file(s)):\n",
        differences.len()
    );
    for d in &differences {
        message.push_str(&format!("  {d}\n"));
        if let Difference::Differs(shown) = d {
            let rel = Path::new(shown.strip_prefix(&format!("{EXPECTED}/")).unwrap());
            let old = std::fs::read_to_string(expected.join(rel)).unwrap_or_default();
            let new = std::fs::read_to_string(tmp.path().join(rel)).unwrap_or_default();
            message.push_str(&first_difference(&old, &new));
            message.push('\n');
        }
    }
    message.push_str(
        "if the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test -p threecx-codegen \
         --test generate_snapshot` and review the diff",
    );
    panic!("{message}");
}

#[test]
fn generating_twice_gives_the_same_bytes() {
    let schemas = root().join(SCHEMAS);
    let tmp = TempDir::new("threecx-codegen-twice").unwrap();
    let out = tmp.path().join("generated");
    let first = generate::generate(&schemas, &out).unwrap();
    assert_eq!(first.write.written, first.write.files);
    let stale = out.join("actions").join("stale.rs");
    std::fs::write(&stale, "// left over\n").unwrap();
    let second = generate::generate(&schemas, &out).unwrap();
    assert_eq!(
        second.write.written, 0,
        "nothing changed, nothing rewritten"
    );
    assert_eq!(second.write.removed, ["actions/stale.rs"]);
    assert!(!stale.exists());
}
