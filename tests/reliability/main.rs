//! Reliability and security under faults, load and hostile input, against the sandbox (a
//! simulated 3CX PBX) on loopback only. Every loop is bounded and every server stops with its test.
//!
//! - `matrix`: each transport fault once × GET, PATCH and a POST action that is not safe to
//!   repeat: the outcome, attempts and time of each cell, and proof that the POST was delivered
//!   once;
//! - `load`: 1,000 concurrent by-name calls through one client with 1% injected 503s;
//! - `fuzz`: over 100,000 generated hostile inputs across every action, and the literal encoder;
//! - `tls`: the HTTPS sandbox with a private CA, for the SDK and the `threecx` binary;
//! - `secrets`: every CLI command at `RUST_LOG=trace` prints neither the secret nor a token.
//!
//! The figures are printed (stderr) and written to `$CARGO_TARGET_TMPDIR/reliability/*.md`;
//! `RELIABILITY.md` quotes them. Run: `cargo test -p threecx-tests --test reliability`.

mod downloads;
mod fuzz;
mod load;
mod matrix;
mod outcome;
mod secrets;
mod support;
mod tls;
