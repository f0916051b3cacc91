//! Memory of a sandbox with a million call-history rows: start it, read pages from the start,
//! the middle and the end of the call log, purge a period, count what is left.
//!
//! `/usr/bin/time -v cargo run --release -p threecx-sandbox --example million_calls`

use serde_json::json;
use threecx_sandbox::{Sandbox, SandboxConfig, SeedSizes};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let pbx = Sandbox::start(SandboxConfig {
        sizes: SeedSizes {
            call_history: rows,
            chat_messages: rows,
            ..SeedSizes::default()
        },
        ..SandboxConfig::default()
    })
    .await?;
    let client = threecx_ops::core::Client::new(pbx.client_config().build()?)?;
    let registry = threecx_ops::registry();
    let started = std::time::Instant::now();
    let period = json!({
        "periodFrom": "2024-01-01T00:00:00Z", "periodTo": "2024-12-31T23:59:59Z",
        "sourceType": 0, "sourceFilter": "", "destinationType": 0, "destinationFilter": "",
        "callsType": 0, "callTimeFilterType": 0, "callTimeFilterFrom": "", "callTimeFilterTo": "",
        "hidePcalls": false,
    });
    let mut seen = 0;
    for skip in [0, rows / 2, rows.saturating_sub(100)] {
        let mut input = period.clone();
        input["$top"] = json!(100);
        input["$skip"] = json!(skip);
        input["$count"] = json!(true);
        let page = registry
            .call(&client, "Report Call Log Data", "Get Call Log Data", input)
            .await?
            .to_json();
        seen += page["value"].as_array().map_or(0, Vec::len);
        println!(
            "skip {skip}: {} rows of {}",
            page["value"].as_array().map_or(0, Vec::len),
            page["@odata.count"]
        );
    }
    let paged = started.elapsed();
    // A $filter the sandbox cannot answer from the index: every row is computed once, streamed.
    let scan = std::time::Instant::now();
    let mut input = period.clone();
    input["$filter"] = json!("Answered eq false and Direction eq 'Inbound'");
    input["$top"] = json!(10);
    input["$count"] = json!(true);
    let page = registry
        .call(&client, "Report Call Log Data", "Get Call Log Data", input)
        .await?
        .to_json();
    println!(
        "filtered scan of {rows} rows: {} unanswered inbound calls, in {:?}",
        page["@odata.count"],
        scan.elapsed()
    );
    registry
        .call(
            &client,
            "Purge Settings",
            "Purge Calls",
            json!({"period": {"Start": "2024-03-01T00:00:00Z", "Stop": "2024-03-31T23:59:59Z"}}),
        )
        .await?;
    let counts = pbx.counts();
    println!(
        "{rows} call rows: read {seen} rows (3 pages) in {paged:?}; after purging March {} call rows and {} chat messages remain",
        counts.call_history,
        counts.chat_messages
    );
    pbx.shutdown().await?;
    Ok(())
}
