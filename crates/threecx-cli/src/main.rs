//! `threecx`: list, describe and call any action of the 3CX Configuration API (XAPI).
//!
//! `list`, `describe`, `config`, `completions` and `call --dry-run` do no I/O beyond reading the
//! config file: no async runtime and no HTTP client are built for them, so they start fast.

mod cli;
mod commands;
mod confirm;
mod connection;
mod csv_output;
mod exit;
mod logging;
mod output;
mod snapshot;
mod spec_choice;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // inventory registrations survive linking only if the crate is referenced.
    #[cfg(feature = "user-offboarding")]
    threecx_example_user_offboarding::ensure_linked();
    // Usage errors exit with 2 (clap's own code), --help and --version with 0.
    let cli = cli::Cli::parse();
    logging::init(cli.global.verbose);
    match commands::run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => e.report(),
    }
}
