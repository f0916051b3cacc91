//! Hostile input, generated deterministically (seeded): each action's example input mutated
//! (wrong types, missing required keys, extra keys, huge and negative numbers, strings full of
//! quotes, parentheses, slashes, percent signs, unicode and NUL, nested garbage, deep nesting),
//! more than 100,000 inputs across every action. Each input is validated and, when valid, built
//! without I/O (`Registry::prepare`):
//!
//! - valid: the request path is the template's, every key's literal is confined to its
//!   placeholder (no `/ ? # ( ) , =` of its own) and decodes back to the value, and every query
//!   option is one of the action's, its value decoding back to what was given;
//! - invalid: an `Error::InvalidInput` whose pointer is a JSON pointer into the input;
//! - never a panic.
//!
//! Then a sample of the refused inputs goes through `Registry::call` to a sandbox, which must
//! receive nothing at all (not even a token request). The literal encoder is fuzzed on its own.

use std::time::{Duration, Instant};

use fastrand::Rng;
use serde_json::{json, Value};
use threecx_core::{Client, Error, Location, PreparedRequest};
use threecx_registry::{Operation, Registry};

mod check;
mod generate;
mod literals;

use crate::support::{ms, report, EXCLUSIVE};
use check::*;
use generate::*;
use threecx_test_support::sandbox::{small_sandbox_config, start_sandbox};

/// Inputs per action: 601 × 170 = 102,170.
const PER_ACTION: usize = 170;
/// At least this many inputs in all.
const AT_LEAST: usize = 100_000;
/// Refused inputs sent through `Registry::call` to a sandbox.
const NETWORK_SAMPLE: usize = 2_000;
/// Random strings through the literal encoder.
const LITERALS: usize = 50_000;
const SEED: u64 = 0x3C8_F022;

/// Fuzzes the actions `ops` (a share of all of them), `PER_ACTION` inputs each.
fn fuzz_actions(registry: &'static Registry, ops: &[(usize, &'static dyn Operation)]) -> Tally {
    let mut tally = Tally::default();
    for &(index, op) in ops {
        let mut rng = Rng::with_seed(SEED ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let example = registry.example_input(op);
        let (path_params, query_params): (Vec<&str>, Vec<&str>) = match op.template() {
            Some(t) => (
                t.params
                    .iter()
                    .filter(|p| p.location == Location::Path)
                    .map(|p| p.name)
                    .collect(),
                t.params
                    .iter()
                    .filter(|p| p.location == Location::Query)
                    .map(|p| p.name)
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        for case in 0..PER_ACTION {
            let mut input = example.clone();
            if case > 0 {
                // Mostly one mutation, sometimes several on top of each other.
                let times = if rng.u8(0..4) == 0 {
                    rng.usize(2..5)
                } else {
                    1
                };
                for _ in 0..times {
                    mutate(&mut rng, &mut input, &path_params, &query_params);
                }
            }
            // Every 10th input of each action is kept, if refused, for the networked part.
            let keep = case % 10 == 1;
            check_one(registry, op, &input, &mut tally, keep);
        }
    }
    tally
}

#[test]
fn hostile_inputs_across_every_action() {
    let _alone = EXCLUSIVE.blocking_lock();
    let registry = threecx_ops::registry();
    let ops: Vec<(usize, &'static dyn Operation)> =
        registry.actions().iter().copied().enumerate().collect();
    assert!(ops.len() >= 601, "{} actions", ops.len());
    let started = Instant::now();
    let all = merged(fuzz_on_two_threads(registry, &ops));
    let offline = started.elapsed();
    assert_the_offline_tally(&all);

    // Refused inputs never reach the PBX: not the API, not even the token endpoint.
    assert!(all.refused.len() >= NETWORK_SAMPLE, "{}", all.refused.len());
    let (sample, sampled_actions) = evenly_spread_sample(&all.refused);
    let net_started = Instant::now();
    let received = send_to_a_sandbox(registry, &sample);
    let network = net_started.elapsed();
    assert!(received.is_empty(), "the sandbox received {received:#?}");

    report(
        "fuzz",
        &format!(
            "Fuzz (seed {SEED:#x}): {} generated inputs across {} actions ({PER_ACTION} each) in {}:\n\n\
             | inputs | valid → built and checked (with hostile path keys) | valid, refused by the builder | valid, composed action | \
             refused (`InvalidInput` + pointer) | panics | refused inputs sent to a sandbox | requests it received |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- |\n\
             | {} | {} ({}) | {} | {} | {} | {} | {NETWORK_SAMPLE} from {sampled_actions} actions (in {}) | 0 |\n",
            all.inputs,
            ops.len(),
            ms(offline),
            all.inputs,
            all.built,
            all.hostile_keys,
            all.refused_by_builder,
            all.composed,
            all.invalid,
            all.panics,
            ms(network),
        ),
    );
}

/// Fuzzes `ops` on two threads (the machine has two cores), each with room for deeply nested
/// values: one tally per thread.
fn fuzz_on_two_threads(
    registry: &'static Registry,
    ops: &[(usize, &'static dyn Operation)],
) -> Vec<Tally> {
    let halves: Vec<Vec<_>> = ops
        .chunks(ops.len().div_ceil(2))
        .map(<[_]>::to_vec)
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                std::thread::Builder::new()
                    .stack_size(64 << 20)
                    .spawn_scoped(s, move || fuzz_actions(registry, half))
                    .expect("thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("fuzz thread"))
            .collect()
    })
}

/// The tallies of the threads added up.
fn merged(tallies: Vec<Tally>) -> Tally {
    let mut all = Tally::default();
    for t in tallies {
        all.inputs += t.inputs;
        all.valid += t.valid;
        all.built += t.built;
        all.hostile_keys += t.hostile_keys;
        all.refused_by_builder += t.refused_by_builder;
        all.composed += t.composed;
        all.invalid += t.invalid;
        all.panics += t.panics;
        all.failures.extend(t.failures);
        all.refused.extend(t.refused);
    }
    all
}

/// No failure or panic, at least `AT_LEAST` inputs, and enough of each kind.
fn assert_the_offline_tally(all: &Tally) {
    assert!(
        all.failures.is_empty(),
        "{} failures, the first ones:\n{}",
        all.failures.len(),
        all.failures[..all.failures.len().min(20)].join("\n")
    );
    assert_eq!(all.panics, 0);
    assert!(all.inputs >= AT_LEAST, "{} inputs", all.inputs);
    assert_eq!(all.inputs, all.valid + all.invalid);
    assert!(
        all.built > 10_000,
        "enough valid inputs reach the builder: {}",
        all.built
    );
    assert!(
        all.hostile_keys > 1_000,
        "enough hostile keys reach the builder: {}",
        all.hostile_keys
    );
    assert!(
        all.invalid > 10_000,
        "enough inputs are refused: {}",
        all.invalid
    );
}

/// `NETWORK_SAMPLE` refused inputs evenly spread over every action, and how many actions they
/// come from.
#[allow(clippy::type_complexity)]
fn evenly_spread_sample(
    refused: &[(&'static dyn Operation, Value)],
) -> (Vec<(&'static dyn Operation, Value)>, usize) {
    let step = refused.len() as f64 / NETWORK_SAMPLE as f64;
    let sample: Vec<_> = (0..NETWORK_SAMPLE)
        .map(|i| refused[(i as f64 * step) as usize].clone())
        .collect();
    let sampled_actions = {
        let mut names: Vec<_> = sample.iter().map(|(op, _)| op.meta().action).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    (sample, sampled_actions)
}

/// Sends each refused input through `Registry::call` to a fresh sandbox (each must be refused
/// with a pointer into it): the requests the sandbox received.
fn send_to_a_sandbox(
    registry: &'static Registry,
    sample: &[(&'static dyn Operation, Value)],
) -> Vec<threecx_sandbox::RequestRecord> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pbx = start_sandbox(small_sandbox_config("rel-fuzz")).await;
        let client = Client::new(
            pbx.client_config()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        )
        .unwrap();
        for (op, input) in sample {
            let meta = op.meta();
            let result = registry
                .call(&client, meta.resource, meta.action, input.clone())
                .await;
            match result {
                Err(Error::InvalidInput { pointer, .. }) => {
                    check_pointer(&pointer, input).unwrap();
                }
                other => panic!(
                    "{op:?} {}: expected InvalidInput, got {other:?}",
                    excerpt(input)
                ),
            }
        }
        pbx.requests()
    })
}

/// The checker itself catches a value that escapes its placeholder.
#[test]
fn the_path_checker_catches_escaping_values() {
    let registry = threecx_ops::registry();
    let op = registry.find("Users", "Get User By Number").unwrap();
    let t = op.template().unwrap();
    let input = json!({"Number": "1)/Pbx.BatchDelete"});
    let input = input.as_object().unwrap();
    let good = registry
        .prepare(op, Value::Object(input.clone()))
        .and_then(|call| call.into_request())
        .unwrap();
    assert_eq!(
        good.path_and_query,
        "/Users(Number='1%29%2FPbx.BatchDelete')"
    );
    assert_eq!(check_built(t, input, &good), Ok(true));
    for forged in [
        "/Users(Number='1')/Pbx.BatchDelete')",
        "/Users(Number='1%29/Pbx.BatchDelete')",
        "/Users(Number='1%29%2FPbx.BatchDelete')?x=1",
        "/Users(Number='1%29%2FPbx.BatchDelete')#x",
        "/Users(Number='2')",
        "/Users(1)",
    ] {
        let bad = PreparedRequest {
            path_and_query: forged.into(),
            ..good.clone()
        };
        assert!(check_built(t, input, &bad).is_err(), "{forged}");
    }
    assert!(check_pointer("/a~2", &json!({})).is_err());
    assert!(check_pointer("a", &json!({})).is_err());
    assert!(check_pointer("/a/b", &json!({"a": 1})).is_err());
    assert!(check_pointer("/a/b", &json!({"a": {}})).is_ok());
}
