//! Figure c: every call-history row through the SDK's typed pagination
//! (`threecx_ops::paginate` with `ListCallHistoryView`, items decoded into
//! `models::CallHistoryView`), counted. Run it under `/usr/bin/time -v` against `perf_server`.
//!
//! `stream_rows --url http://127.0.0.1:PORT [--page-size 1000] [--expect N]`

use std::time::Instant;

use futures_util::StreamExt;
use threecx_ops::call_history_view::ListCallHistoryView;
use threecx_ops::models::CallHistoryView;

fn main() {
    let mut url = None;
    let mut page_size: u32 = 1_000;
    let mut expect: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let bad = || -> ! {
            eprintln!(
                "usage: stream_rows --url http://127.0.0.1:PORT [--page-size P] [--expect N]"
            );
            std::process::exit(2)
        };
        match flag.as_str() {
            "--url" => url = Some(value),
            "--page-size" => page_size = value.parse().unwrap_or_else(|_| bad()),
            "--expect" => expect = Some(value.parse().unwrap_or_else(|_| bad())),
            _ => bad(),
        }
    }
    let url = url.unwrap_or_else(|| {
        eprintln!("--url is required");
        std::process::exit(2)
    });
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("--url http://IP:PORT");
    let client = threecx_benches::sdk_client(addr);

    let rt = threecx_benches::client_runtime();
    let (rows, checksum, elapsed) = rt.block_on(async {
        let start = Instant::now();
        let mut items = std::pin::pin!(threecx_ops::paginate(
            &client,
            &ListCallHistoryView::default(),
            page_size
        )
        .expect("a pageable list"));
        let (mut rows, mut checksum) = (0u64, 0u64);
        while let Some(item) = items.next().await {
            let row: CallHistoryView = item.expect("row");
            rows += 1;
            // Touch a decoded field so the typed decode cannot be skipped.
            checksum = checksum.wrapping_add(row.segment_id.unwrap_or_default() as u64);
        }
        (rows, checksum, start.elapsed())
    });
    if let Some(n) = expect {
        assert_eq!(rows, n, "rows received");
    }
    let secs = elapsed.as_secs_f64();
    println!("rows={rows}");
    println!("page_size={page_size}");
    println!("seconds={secs:.3}");
    println!("rows_per_s={:.0}", rows as f64 / secs);
    println!("checksum={checksum}");
}
