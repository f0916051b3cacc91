//! Diagnostics on stderr with `tracing`: `-v` info, `-vv` debug, `-vvv` trace, else `RUST_LOG`.
//! Without either, no subscriber is installed at all (nothing to pay at start-up).
//!
//! No secret reaches a log: the SDK never logs the secret or tokens, and the CLI logs neither
//! the secret nor input bodies.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8) {
    let filter = match verbose {
        0 => match std::env::var("RUST_LOG") {
            Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
            _ => return,
        },
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
