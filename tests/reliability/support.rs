//! The `threecx` binary and reports (sandboxes: `threecx_test_support::sandbox`).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Held by the tests that measure time or load the CPU (the fault matrix, the load test, the
/// fuzzers, the build of the binary), so that none of them skews another's timings on a
/// two-core machine; the others run alongside.
pub static EXCLUSIVE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Prints a report to stderr (shown with or without `--nocapture` when the test fails, and by
/// `cargo test -- --nocapture` always) and writes it to `$CARGO_TARGET_TMPDIR/reliability/NAME.md`.
pub fn report(name: &str, text: &str) {
    eprintln!("\n{text}");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reliability");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("{name}.md")), text);
    }
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// The `threecx` binary, built once per test process with escargot (`cargo build -p
/// threecx-cli` in this workspace's target directory and profile).
pub fn threecx_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let _alone = EXCLUSIVE.blocking_lock();
        let built = threecx_test_support::build::cargo_build("threecx-cli")
            .bin("threecx")
            .run()
            .unwrap_or_else(|e| panic!("cargo build -p threecx-cli: {e}"));
        built.path().to_owned()
    })
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `threecx ARGS` with only `envs` in its environment (no config file, no RUST_LOG unless
/// given), at most `limit` long.
pub fn run_threecx(args: &[&str], envs: &[(&str, &str)], limit: Duration) -> Run {
    let home = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(threecx_bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("THREECX_CONFIG", home.path().join("none.toml"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("threecx starts");
    // Read both pipes while the child runs: a trace log easily fills a pipe's buffer.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "threecx {args:?} ran longer than {limit:?}; stderr: {}",
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}
