//! a1: in-process cost of a by-name call before any I/O, the path `threecx call ... --dry-run`
//! takes: `Registry::action` (any spelling) + `ActionRef::prepare` (JSON-Schema validation, then
//! the request build). Parts are measured on their own so a regression can be placed.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::hint::black_box;

fn cases() -> [(&'static str, &'static str, &'static str, Value); 2] {
    [
        (
            "purge_chats",
            "Purge Settings",
            "Purge Chats",
            json!({"period": {"Start": "2024-01-01T00:00:00Z", "Stop": "2024-06-30T23:59:59Z"}}),
        ),
        (
            "get_user",
            "Users",
            "Get User",
            json!({"Id": 42, "$select": ["Id", "Number"], "$expand": "Groups"}),
        ),
    ]
}

fn dispatch(c: &mut Criterion) {
    let registry = threecx_ops::registry();
    let mut group = c.benchmark_group("a1");
    for (name, resource, action, input) in cases() {
        let op = registry.find(resource, action).expect("known action");
        // Compiles and caches the validator, as the first call of a process would.
        let req = registry
            .prepare(op, input.clone())
            .and_then(|call| call.into_request())
            .expect("valid input");
        eprintln!("{name}: {} {}", req.method, req.path_and_query);

        // The input is cloned outside the timed part: a caller hands its input over.
        group.bench_function(format!("{name}/find+prepare"), |b| {
            b.iter_batched(
                || input.clone(),
                |input| {
                    // One lookup: the handle reaches the cached validator directly.
                    let found = registry.action(black_box(resource), black_box(action));
                    found.unwrap().prepare(input).unwrap()
                },
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("{name}/find"), |b| {
            b.iter(|| {
                registry
                    .find(black_box(resource), black_box(action))
                    .unwrap()
            })
        });
        group.bench_function(format!("{name}/validate"), |b| {
            b.iter(|| registry.validate(op, black_box(&input)).unwrap())
        });
        let template = op.template().expect("an HTTP action");
        let object = input.as_object().expect("an object");
        group.bench_function(format!("{name}/build"), |b| {
            b.iter(|| template.build(black_box(object)).unwrap())
        });
    }
    group.finish();
}

/// What the gateway and MCP do per call before any I/O: find the action, resolve relative
/// date-times in the input against its schema, then prepare (validate + build). Update User's
/// input schema carries 43 model definitions.
fn front_end(c: &mut Criterion) {
    let registry = threecx_ops::registry();
    let mut group = c.benchmark_group("a1_front_end");
    let input = json!({"Id": 42, "body": {"FirstName": "Ada", "LastName": "Lovelace"}});
    let op = registry.find("Users", "Update User").expect("known action");
    registry.prepare(op, input.clone()).expect("valid input");
    group.bench_function("update_user/find+resolve_times+prepare", |b| {
        b.iter_batched(
            || input.clone(),
            |mut input| {
                let found = registry.action(black_box("Users"), black_box("Update User"));
                let action = found.unwrap();
                let now = threecx_ops::registry_api::relative_time::now();
                action.resolve_relative_times(&mut input, now);
                action.prepare(input).unwrap()
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, dispatch, front_end);
criterion_main!(benches);
