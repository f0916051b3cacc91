//! `threecx mcp`: the Model Context Protocol server of `threecx-gateway` on stdin/stdout.

use threecx_gateway::mcp::{self, McpOptions};

use super::serve::from_serve;
use super::session::Session;
use crate::cli::{GlobalArgs, McpArgs};
use crate::connection::Connection;
use crate::exit::CliResult;

pub fn run(global: &GlobalArgs, args: &McpArgs) -> CliResult {
    let conn = Connection::resolve(global)?;
    let runtime = super::sandbox::command_runtime()?;
    let session = Session::open(&runtime, global, conn, args.timeout)?;
    let options = McpOptions {
        resources: (!args.resources.is_empty()).then(|| args.resources.clone()),
    };
    // Runs until the client closes stdin.
    let result = runtime
        .block_on(mcp::serve_stdio(session.client.clone(), options))
        .map_err(from_serve);
    session.close(&runtime);
    result
}
