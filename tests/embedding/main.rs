//! Embedding threecx: the HTTP action gateway (real HTTP through reqwest to the gateway on
//! 127.0.0.1, the gateway calling the sandbox PBX on 127.0.0.1), the MCP server (a real rmcp
//! client session), and the User Offboarding extension crate. (The n8n node has its own tests in
//! tests/cli/n8n.)

mod audit;
mod extension;
mod gateway;
mod library;
mod mcp;
mod slow_clients;
mod support;
