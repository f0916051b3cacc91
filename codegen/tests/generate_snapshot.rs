//! Snapshot test of the generate stage: a small `schemas/` directory in, the generated Rust and
//! n8n data out, compared byte for byte with the committed expectations.
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
const EXPECTED_N8N: &str = "tests/snapshots/generate-mini-n8n";

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
    let (_, files) = generate::generate_files(&schemas).expect("generate the mini fixture");
    compare(files, EXPECTED, emit::Marker::RUST);
}

#[test]
fn generated_n8n_data_matches_the_snapshot() {
    let schemas = generate::Schemas::load(&root().join(SCHEMAS)).unwrap();
    let files = generate::n8n::render(&schemas).expect("render the n8n data of the mini fixture");
    compare(files, EXPECTED_N8N, emit::Marker::N8N);
}

fn compare(files: emit::Files, expected_dir: &str, marker: emit::Marker) {
    let expected = root().join(expected_dir);

    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        let summary = emit::write_tree(&expected, &files, marker).expect("write the snapshot");
        eprintln!("updated {expected_dir}: {summary:?}");
        return;
    }

    let tmp = TempDir::new("threecx-codegen-snapshot").unwrap();
    emit::write_tree(tmp.path(), &files, marker).unwrap();
    let differences = diff_trees(&expected, tmp.path(), expected_dir).unwrap();
    if differences.is_empty() {
        return;
    }
    let mut message = format!(
        "generated files for {SCHEMAS} differ from {expected_dir} ({} file(s)):\n",
        differences.len()
    );
    for d in &differences {
        message.push_str(&format!("  {d}\n"));
        if let Difference::Differs(shown) = d {
            let rel = Path::new(shown.strip_prefix(&format!("{expected_dir}/")).unwrap());
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
    let n8n = tmp.path().join("n8n");
    let dirs = generate::OutDirs {
        rust: &out,
        n8n: &n8n,
    };
    let first = generate::generate(&schemas, dirs).unwrap();
    assert_eq!(first.write.written, first.write.files);
    let stale = out.join("actions").join("stale.rs");
    std::fs::write(&stale, "// left over\n").unwrap();
    let second = generate::generate(&schemas, dirs).unwrap();
    assert_eq!(
        second.write.written, 0,
        "nothing changed, nothing rewritten"
    );
    assert_eq!(second.write.removed, ["actions/stale.rs"]);
    assert!(!stale.exists());
}
