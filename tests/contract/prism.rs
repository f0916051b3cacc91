//! Prism (the mock server serving the official spec): finding it, starting it, the spec.

use super::*;

pub(super) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

pub(super) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The official spec beside the repository. Missing is a failure, never a skip.
pub(super) fn spec_path() -> PathBuf {
    let p = repo_root().join("../shared/xapi/swagger-20.0.10.yaml");
    assert!(
        p.is_file(),
        "the 3CX spec is expected at {} (clone the repository beside shared/){}",
        p.display(),
        if in_ci() {
            "; CI=true: not skipping"
        } else {
            ""
        }
    );
    p
}

/// `PRISM_BIN`, or the binary `scripts/prism-setup.sh` installs (or finds) in `.prism/`.
pub(super) fn prism_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("PRISM_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "PRISM_BIN={} is not a file; unset it to let scripts/prism-setup.sh install Prism",
            bin.display()
        );
        return bin;
    }
    let script = repo_root().join("scripts/prism-setup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed ({}); this test needs Prism: install Node.js 18+ with npm and network access \
         to the npm registry, or set PRISM_BIN to a Prism 5.x binary{}. Its output:\n{stderr}",
        script.display(),
        out.status,
        if in_ci() {
            " (CI=true: a missing Prism is a failure, not a skip)"
        } else {
            ""
        }
    );
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        bin.is_file(),
        "{} printed {:?}, which is not a file; its stderr:\n{stderr}",
        script.display(),
        bin.display()
    );
    bin
}

pub(super) fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The Prism process; killed (and reaped) on drop, so also when the test panics.
pub(super) struct Prism {
    pub(super) child: Child,
    pub(super) addr: SocketAddr,
    pub(super) log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    /// Starts Prism on a free loopback port and waits until it listens. A port taken between
    /// choosing and binding it makes Prism exit; then another port is tried (three in all).
    pub(super) async fn start(bin: &Path, spec: &Path) -> Prism {
        let mut attempt = 1;
        loop {
            match Prism::try_start(bin, spec).await {
                Ok(prism) => return prism,
                Err(e) if attempt < 3 => eprintln!("{e}; trying another port"),
                Err(e) => panic!("{e}"),
            }
            attempt += 1;
        }
    }

    pub(super) async fn try_start(bin: &Path, spec: &Path) -> Result<Prism, String> {
        let port = free_port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prism-{port}.log"));
        let log_file = File::create(&log).expect("create the Prism log");
        let child = Command::new(bin)
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); Prism needs Node.js (`node` on the PATH)",
                    bin.display()
                )
            });
        let mut prism = Prism {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = prism.child.try_wait().expect("poll Prism") {
                return Err(format!(
                    "Prism exited ({status}) before listening on {}; its log ({}):\n{}",
                    prism.addr,
                    prism.log.display(),
                    prism.log_tail()
                ));
            }
            if tokio::net::TcpStream::connect(prism.addr).await.is_ok() {
                eprintln!(
                    "prism listening on {} after {:.1?}",
                    prism.addr,
                    started.elapsed()
                );
                return Ok(prism);
            }
            assert!(
                started.elapsed() < PRISM_START_TIMEOUT,
                "Prism did not listen on {} within {PRISM_START_TIMEOUT:?}; its log:\n{}",
                prism.addr,
                prism.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(super) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}
