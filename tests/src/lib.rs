//! Workspace-level tests live in `tests/tests/` and the suites beside it; this library holds what
//! several of them share.

pub mod inputs;
