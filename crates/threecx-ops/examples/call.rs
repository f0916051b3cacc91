//! Calls any 3CX action by resource and action name.
//!
//! ```text
//! cargo run --example call -- "Purge Settings" "Purge Chats" '{"period":{"Start":"2024-01-01T00:00:00Z","Stop":"2024-06-30T23:59:59Z"}}'
//! cargo run --example call -- --dry-run "Users" "Get User By Number" '{"Number":"100"}'
//! ```
//! Credentials come from THREECX_URL, THREECX_CLIENT_ID and THREECX_CLIENT_SECRET; `--dry-run`
//! needs none and sends nothing.

use std::process::ExitCode;

use serde_json::Value;
use threecx_ops::core::{Client, Config, Error};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let dry_run = args.first().is_some_and(|a| a == "--dry-run");
    if dry_run {
        args.remove(0);
    }
    let [resource, action, rest @ ..] = args.as_slice() else {
        eprintln!("usage: call [--dry-run] RESOURCE ACTION [INPUT_JSON]");
        return ExitCode::from(2);
    };
    let input: Value = match rest.first() {
        Some(text) => match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("INPUT_JSON is not JSON: {e}");
                return ExitCode::from(2);
            }
        },
        None => Value::Object(Default::default()),
    };
    match run(resource, action, input, dry_run).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                Error::InvalidInput { .. } | Error::UnknownName { .. } | Error::Config { .. } => 2,
                Error::Auth { .. } => 3,
                Error::Api { .. } => 4,
                _ => 5,
            })
        }
    }
}

async fn run(resource: &str, action: &str, input: Value, dry_run: bool) -> Result<(), Error> {
    let registry = threecx_ops::registry();
    let call = registry.prepare_named(resource, action, input)?;
    if dry_run {
        let request = call.into_request()?;
        println!("{} /xapi/v1{}", request.method, request.path_and_query);
        for (name, value) in request.headers.iter() {
            println!("{name}: {value}");
        }
        if let Some(body) = &request.body {
            println!("\n{}", String::from_utf8_lossy(body));
        }
        return Ok(());
    }
    let client = Client::new(Config::from_env()?)?;
    // Whoever runs this example with an action's name has chosen to send it.
    let output = call.confirm(true).send(&client).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&output.to_json()).expect("JSON values serialise")
    );
    Ok(())
}
