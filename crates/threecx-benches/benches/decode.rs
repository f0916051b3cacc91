//! c, decode only: one 1,000-row call-history page (the bytes the stand-in serves) into typed
//! rows, the way the SDK's typed pagination does it today (bytes → `Value` page → each item
//! `serde_json::from_value` into `models::CallHistoryView`) vs straight from the bytes
//! (`serde_json::from_slice::<Collection<CallHistoryView>>`), and straight from the bytes after a
//! syntax-only pass (`IgnoredAny`, what telling garbled JSON from a model mismatch would cost).
//! Explains figure c's rows/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::hint::black_box;
use threecx_ops::core::Collection;
use threecx_ops::models::CallHistoryView;

const ROWS: u64 = 1_000;

fn via_value(bytes: &[u8]) -> usize {
    let Value::Object(mut page) = serde_json::from_slice::<Value>(bytes).unwrap() else {
        panic!("not an object")
    };
    let Some(Value::Array(items)) = page.remove("value") else {
        panic!("no value array")
    };
    let mut n = 0;
    for item in items {
        let row: CallHistoryView = serde_json::from_value(item).unwrap();
        black_box(&row);
        n += 1;
    }
    n
}

fn direct(bytes: &[u8]) -> usize {
    let page: Collection<CallHistoryView> = serde_json::from_slice(bytes).unwrap();
    let mut n = 0;
    for row in page.value {
        black_box(&row);
        n += 1;
    }
    n
}

fn checked_direct(bytes: &[u8]) -> usize {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).unwrap();
    direct(bytes)
}

fn decode(c: &mut Criterion) {
    let bytes = threecx_benches::fixture::history_page(ROWS);
    assert_eq!(via_value(&bytes), ROWS as usize);
    assert_eq!(direct(&bytes), ROWS as usize);
    let mut group = c.benchmark_group("c_decode_page");
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("value_then_from_value", |b| {
        b.iter(|| via_value(black_box(&bytes)))
    });
    group.bench_function("from_slice_typed", |b| b.iter(|| direct(black_box(&bytes))));
    group.bench_function("syntax_check_then_from_slice_typed", |b| {
        b.iter(|| checked_direct(black_box(&bytes)))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
