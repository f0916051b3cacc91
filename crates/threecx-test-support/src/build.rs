//! Builds of workspace binaries and examples for tests that run them as a user would.

use std::path::PathBuf;

/// The workspace's `Cargo.toml`.
pub fn workspace_manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml")
}

/// `cargo build -p PACKAGE` in this workspace, with the profile of the running tests; add
/// `.bin(..)`, `.example(..)`, `.features(..)` or `.target_dir(..)` and `.run()`.
pub fn cargo_build(package: &str) -> escargot::CargoBuild {
    escargot::CargoBuild::new()
        .manifest_path(workspace_manifest())
        .package(package)
        .current_release()
}
