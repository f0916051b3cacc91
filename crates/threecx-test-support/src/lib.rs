//! What the workspace's test suites share, so that each helper exists once:
//!
//! - [`sandbox`]: a small simulated PBX for a test, a client ID no other test uses, and an SDK
//!   client for a sandbox;
//! - [`fake_pbx`]: wiremock servers on 127.0.0.1 whose token endpoint hands out a fixed token;
//! - [`spec`]: the official 3CX spec beside the repository;
//! - [`build`]: builds of workspace binaries and examples (escargot) for tests that run them.
//!
//! All test traffic stays on 127.0.0.1.

pub mod build;
pub mod fake_pbx;
pub mod sandbox;
pub mod spec;
