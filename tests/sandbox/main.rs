//! The sandbox (a simulated 3CX PBX) driven by the real SDK and by raw HTTP, on loopback only.
//!
//! Registered by `crates/threecx-sandbox/Cargo.toml` as the test target `sandbox`:
//! `cargo test -p threecx-sandbox --test sandbox`.

mod actions;
mod auth;
mod entities;
mod every_action;
mod faults;
mod history;
mod persistence;
mod rules;
mod support;
