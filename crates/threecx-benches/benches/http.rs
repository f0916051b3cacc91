//! a2 and b against the in-process loopback stand-in (its own thread and runtime; the client
//! runs on a one-thread runtime, like the CLI's).
//!
//! a2: per-call time of sequential Get User calls, SDK by name
//! (`registry.call(&client, "Users", "Get User", {"Id": 1})`: lookup, validation, build, send,
//! JSON decode) vs one bare reqwest client with the same URL and headers and `.json::<Value>()`.
//! b: calls/s with 64 in flight through one client, same two variants; one iteration is a batch
//! of `BATCH` calls, so criterion's throughput line is calls/s.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use threecx_benches::server::{spawn_thread, Fixture};
use threecx_benches::{client_runtime, concurrent, sdk_client, sdk_get_user, sequential, Bare};

const BATCH: u64 = 4_096;

fn http(c: &mut Criterion) {
    let addr = spawn_thread(Fixture::new(0));
    let registry = threecx_ops::registry();
    let client = sdk_client(addr);
    let bare = Bare::new(addr);
    let rt = client_runtime();
    // The token is fetched once, here, and never during a measurement.
    rt.block_on(sdk_get_user(registry, &client));

    let mut group = c.benchmark_group("a2_sequential");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sdk_by_name", |b| {
        b.iter_custom(|iters| rt.block_on(sequential(iters, || sdk_get_user(registry, &client))))
    });
    group.bench_function("bare_reqwest", |b| {
        b.iter_custom(|iters| rt.block_on(sequential(iters, || bare.get_user())))
    });
    group.finish();

    let mut group = c.benchmark_group("b_concurrency64");
    group.throughput(Throughput::Elements(BATCH));
    // Batches take tens of ms: flat sampling keeps 10 samples within a short measurement time.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.bench_function("sdk_by_name", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += concurrent(BATCH, || sdk_get_user(registry, &client)).await;
                }
                total
            })
        })
    });
    group.bench_function("bare_reqwest", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += concurrent(BATCH, || bare.get_user()).await;
                }
                total
            })
        })
    });
    group.finish();
    assert_eq!(client.token_fetches(), 1, "one token for the whole run");
}

criterion_group!(benches, http);
criterion_main!(benches);
