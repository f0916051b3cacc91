//! End-to-end tests of the `threecx` binary: the real executable, run as a child process, against
//! a wiremock PBX on 127.0.0.1. Every run checks that neither the client secret nor a token
//! appears in its stdout or stderr.

mod support;

mod calls;
mod config;
mod csv_output;
mod embedding;
mod errors;
mod fleet;
mod list_describe;
mod n8n;
mod paging_and_downloads;
mod readme;
mod retention;
mod sandbox;
mod signals;
mod snapshot;
mod spec;
mod terminal;
