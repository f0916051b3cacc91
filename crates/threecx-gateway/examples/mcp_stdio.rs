//! The MCP server on stdin/stdout, as `threecx mcp` runs it: configure it in an MCP client
//! (Claude Desktop, an IDE, an agent framework) as a command.
//!
//! ```text
//! THREECX_URL=https://pbx.example.com THREECX_CLIENT_ID=agent THREECX_CLIENT_SECRET=... \
//!   cargo run -q -p threecx-gateway --example mcp_stdio -- Users "Purge Settings"
//! ```
//! Arguments name resources whose every action becomes a tool of its own (`users__list_user`);
//! without any, only `list_actions`, `describe_action` and `call_action` are offered. stdout
//! carries the protocol; errors go to stderr.

use std::process::ExitCode;

use threecx_core::{Client, Config};
use threecx_gateway::mcp::{self, McpOptions};

#[tokio::main]
async fn main() -> ExitCode {
    let resources: Vec<String> = std::env::args().skip(1).collect();
    let options = McpOptions {
        resources: (!resources.is_empty()).then_some(resources),
    };
    let client = match Config::from_env().and_then(Client::new) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match mcp::serve_stdio(client, options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
