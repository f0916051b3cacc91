//! The official 3CX spec beside the repository.

use std::path::PathBuf;

use serde_json::Value;

/// The official spec (`../shared/xapi/swagger-20.0.10.yaml` from the workspace root). A missing
/// spec is a failure, never a skip.
pub fn spec_path() -> PathBuf {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/xapi/swagger-20.0.10.yaml");
    assert!(
        p.exists(),
        "the 3CX spec is expected at {} (clone the repository beside shared/)",
        p.display()
    );
    p
}

/// The official spec, parsed.
pub fn load_spec() -> Value {
    let text = std::fs::read_to_string(spec_path()).expect("read spec");
    serde_yaml_ng::from_str(&text).expect("parse spec")
}
