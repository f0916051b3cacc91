//! One module per subcommand.

mod call;
mod completions;
mod config;
mod describe;
mod diff;
mod export;
mod fleet;
mod list;
mod mcp;
mod profiles;
mod sandbox;
mod serve;
mod session;
mod snapshot;
mod spec;

use threecx_ops::registry_api::Operation;

use crate::cli::{Cli, Command};
use crate::exit::CliResult;

pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::List(args) => list::run(&cli.global, &args),
        Command::Describe(args) => describe::run(&cli.global, &args),
        // One PBX, or each of a fleet's.
        Command::Call(args) => match fleet::selected(&cli.global)? {
            Some(profiles) => fleet::call(&cli.global, &args, &profiles),
            None => call::run(&cli.global, &args),
        },
        Command::Config(args) => config::run(&cli.global, &args),
        Command::Completions(args) => completions::run(&args),
        Command::Sandbox(args) => sandbox::run(&cli.global, &args),
        Command::Serve(args) => serve::run(&cli.global, &args),
        Command::Mcp(args) => mcp::run(&cli.global, &args),
        Command::Export(command) => export::run(&command),
        Command::Spec(command) => spec::run(&cli.global, &command),
        Command::Profiles(args) => profiles::run(&cli.global, &args),
        Command::Snapshot(args) => snapshot::run(&cli.global, &args),
        Command::Diff(args) => diff::run(&cli.global, &args),
    }
}

/// `POST`, `/xapi/v1/PurgeChats` of an operation; `-`, `(composed)` for one that is not a single
/// HTTP request.
pub(crate) fn method_and_path(op: &dyn Operation) -> (&'static str, String) {
    match op.template() {
        Some(t) => (t.method.as_str(), format!("/xapi/v1{}", t.path)),
        None => ("-", "(composed of other calls)".to_owned()),
    }
}
