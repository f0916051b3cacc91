//! The HTTP action gateway, as `threecx serve` runs it, embedded in a program of your own.
//!
//! ```text
//! export THREECX_URL=https://pbx.example.com THREECX_CLIENT_ID=gateway THREECX_CLIENT_SECRET=...
//! export THREECX_GATEWAY_KEY=$(openssl rand -hex 32)
//! cargo run -p threecx-gateway --example serve -- 127.0.0.1:8080
//!
//! curl -s -H "X-Api-Key: $THREECX_GATEWAY_KEY" 'http://127.0.0.1:8080/v1/actions?q=purge'
//! curl -s -H "X-Api-Key: $THREECX_GATEWAY_KEY" -d '{"input":{"Number":"100"}}' \
//!   http://127.0.0.1:8080/v1/actions/Users/GetUserByNumber
//! ```
//! Runs until Ctrl-C. The routes are described at `GET /openapi.json`.

use std::net::SocketAddr;
use std::process::ExitCode;

use threecx_core::{Client, Config};
use threecx_gateway::gateway::{self, GatewayState};

#[tokio::main]
async fn main() -> ExitCode {
    let addr: SocketAddr = match std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()
    {
        Ok(a) => a,
        Err(e) => {
            eprintln!("usage: serve [ADDR:PORT] ({e})");
            return ExitCode::from(2);
        }
    };
    let Ok(key) = std::env::var("THREECX_GATEWAY_KEY") else {
        eprintln!("error: set THREECX_GATEWAY_KEY to the API key clients must send");
        return ExitCode::from(2);
    };
    let state = match Config::from_env()
        .and_then(Client::new)
        .and_then(|client| GatewayState::new(client, key))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!("threecx gateway on http://{addr} (Ctrl-C stops it)");
    match gateway::serve(addr, state).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
