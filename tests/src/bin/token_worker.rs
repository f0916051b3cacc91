//! A separate process for the token-expiry test: calls the PBX by name in a loop for a while,
//! with the on-disk token cache shared with other workers, and prints a JSON summary.
//!
//! `token_worker URL CLIENT_ID SECRET CACHE_DIR SECONDS`

use std::time::{Duration, Instant};

use serde_json::json;
use threecx_core::{Client, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, id, secret, cache, secs] = args.as_slice() else {
        eprintln!("usage: token_worker URL CLIENT_ID SECRET CACHE_DIR SECONDS");
        std::process::exit(2);
    };
    let config = Config::builder()
        .base_url(url.as_str())
        .client_id(id.as_str())
        .client_secret(secret.as_str())
        .token_cache_dir(cache.as_str())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let client = Client::new(config).expect("client");
    let registry = threecx_ops::registry();
    let until = Instant::now() + Duration::from_secs(secs.parse().expect("SECONDS"));
    let (mut calls, mut failures, mut errors) = (0u64, 0u64, Vec::new());
    while Instant::now() < until {
        let (resource, action, input) = if calls % 2 == 0 {
            ("System Status", "Get System Status", json!({}))
        } else {
            ("Users", "List User", json!({"$top": 1}))
        };
        calls += 1;
        if let Err(e) = registry.call(&client, resource, action, input).await {
            failures += 1;
            if errors.len() < 5 {
                errors.push(e.to_string());
            }
        }
    }
    println!(
        "{}",
        json!({"calls": calls, "failures": failures, "errors": errors,
               "token_fetches": client.token_fetches()})
    );
}
