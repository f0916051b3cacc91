//! Builds the n8n package once per test run: `npm ci` when its dependencies are missing or older
//! than its lock file, then `npm run build` (type check and bundle into `dist/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `integrations/n8n-nodes-threecx` in this checkout.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../integrations/n8n-nodes-threecx")
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start ({e}); Node.js 20+ and npm are needed"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The package directory, with `dist/` freshly built (once per test process).
pub fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = dir();
        let installed = dir.join("node_modules/.package-lock.json");
        if modified(&installed) < modified(&dir.join("package-lock.json")) {
            // Scripts stay off: no dependency needs one to build (esbuild ships its binary in a
            // package of its own), and n8n-workflow's optional native modules need a compiler.
            run(
                Command::new("npm")
                    .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                    .args(["--loglevel=error"])
                    .current_dir(&dir),
                "npm ci in integrations/n8n-nodes-threecx",
            );
        }
        run(
            Command::new("npm")
                .args(["run", "--silent", "build"])
                .current_dir(&dir),
            "npm run build in integrations/n8n-nodes-threecx",
        );
        dir
    })
}
