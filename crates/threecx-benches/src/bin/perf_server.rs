//! The loopback stand-in as its own process, so a client's peak RSS (measured with
//! `/usr/bin/time -v`) holds only the client.
//!
//! `perf_server [--rows N] [--page-size P] [--port PORT]`: prints `listening http://ADDR` once it
//! accepts connections, then serves until killed.

use std::io::Write;

use threecx_benches::server::{serve, Fixture};

fn main() {
    let mut rows: u64 = 1_000_000;
    let mut page_size: u64 = 1_000;
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let bad = || -> ! {
            eprintln!("usage: perf_server [--rows N] [--page-size P] [--port PORT]");
            std::process::exit(2)
        };
        match flag.as_str() {
            "--rows" => rows = value.parse().unwrap_or_else(|_| bad()),
            "--page-size" => page_size = value.parse().unwrap_or_else(|_| bad()),
            "--port" => port = value.parse().unwrap_or_else(|_| bad()),
            _ => bad(),
        }
    }

    let fixture = Fixture::new(rows);
    // Full pages and the last, shorter one: every answer is ready before the first request.
    fixture.precompute_page(page_size.min(rows));
    fixture.precompute_page(rows % page_size);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let mut out = std::io::stdout();
        writeln!(out, "listening http://{addr}")
            .and_then(|()| out.flush())
            .expect("stdout");
        serve(listener, fixture).await;
    });
}
