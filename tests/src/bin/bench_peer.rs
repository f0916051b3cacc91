//! The threecx side of the comparison with the Python SDK (`scripts/bench-python-peer.sh`,
//! `scripts/bench_python_sdk.py` is the other side): against a running PBX (the sandbox),
//! (i) lists every user in `$top`/`$skip` pages, (ii) gets users by key one after another,
//! through the SDK by name, and prints the counts.
//!
//! `bench_peer URL CLIENT_ID SECRET [PAGE_SIZE] [GETS]`     (defaults 100 and 1000)

use futures_util::TryStreamExt;
use serde_json::{json, Value};
use threecx_core::{Client, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, id, secret, page_size, gets) = match args.as_slice() {
        [url, id, secret, rest @ ..] if rest.len() <= 2 => (
            url,
            id,
            secret,
            rest.first().map_or(100, |s| s.parse().expect("PAGE_SIZE")),
            rest.get(1).map_or(1000, |s| s.parse().expect("GETS")),
        ),
        _ => {
            eprintln!("usage: bench_peer URL CLIENT_ID SECRET [PAGE_SIZE] [GETS]");
            std::process::exit(2);
        }
    };
    let config = Config::builder()
        .base_url(url.as_str())
        .client_id(id.as_str())
        .client_secret(secret.as_str())
        .build()
        .expect("config");
    let client = Client::new(config).expect("client");
    let registry = threecx_ops::registry();

    // (i) Every user, `$top`/`$skip` pages of PAGE_SIZE, one page in memory at a time.
    let list = registry.find("Users", "List User").expect("List User");
    let mut pages = std::pin::pin!(registry
        .prepare(list, json!({}))
        .and_then(|call| call.pages::<serde_json::Value>(&client, page_size))
        .expect("paginate"));
    let mut ids = Vec::new();
    while let Some(user) = pages.try_next().await.expect("list users") {
        ids.push(user["Id"].as_i64().expect("a user's Id"));
    }
    assert!(!ids.is_empty(), "the PBX has no users");

    // (ii) GETS sequential `Users({Id})`, the ids cycling over the listed ones.
    let mut got = 0u64;
    for i in 0..gets {
        let user = registry
            .call(
                &client,
                "Users",
                "Get User",
                json!({"Id": ids[i % ids.len()]}),
            )
            .await
            .expect("get user")
            .to_json();
        assert!(matches!(user, Value::Object(_)), "a user object");
        got += 1;
    }
    println!("listed {} users, got {got} users by id", ids.len());
}
