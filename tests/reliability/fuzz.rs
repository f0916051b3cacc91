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

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use fastrand::Rng;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Number, Value};
use threecx_core::literal::{encode_path_literal, encode_query_value, odata_literal, Literal};
use threecx_core::{Client, Error, Location, PreparedRequest, RequestTemplate};
use threecx_registry::{Operation, Registry};

use crate::support::{ms, report, EXCLUSIVE};
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

// ---------------------------------------------------------------------------------------------
// Generators

const PIECES: &[&str] = &[
    "'",
    "''",
    "')",
    "('",
    "(",
    ")",
    "/",
    "//",
    "\\",
    "?",
    "#",
    "%",
    "%2F",
    "%27",
    "%00",
    "%%",
    "&",
    "=",
    ",",
    ";",
    " ",
    "+",
    "\0",
    "\r\n",
    "\t",
    "..",
    "../",
    "$filter=",
    "?$top=1",
    "#frag",
    "Pbx.BatchDelete",
    "1)/Pbx.BatchDelete",
    "x') or ('1'='1",
    "{Id}",
    "*",
    "null",
    "0",
    "-1",
    "9223372036854775807",
    "2024-01-01T00:00:00Z",
    "<script>alert(1)</script>",
    "\"",
    "`$(id)`",
    "é",
    "日本語",
    "😀",
    "\u{202e}",
    "\u{feff}",
    "\u{7f}",
    "\u{10ffff}",
    ":",
    "@",
    "~",
];

fn hostile_string(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.usize(0..7) {
        if rng.u8(0..4) == 0 {
            // Any char at all, control characters and astral planes included.
            s.push(rng.char(..));
        } else {
            s.push_str(PIECES[rng.usize(..PIECES.len())]);
        }
    }
    if rng.u8(0..20) == 0 {
        s.push_str(&"A/".repeat(rng.usize(500..3000)));
    }
    s
}

fn odd_number(rng: &mut Rng) -> Value {
    match rng.u8(0..14) {
        0 => json!(i64::MAX),
        1 => json!(i64::MIN),
        2 => json!(u64::MAX),
        3 => json!(-1),
        4 => json!(0),
        5 => json!(2_147_483_648_i64),
        6 => json!(-2_147_483_649_i64),
        7 => json!(1e308),
        8 => json!(-1e308),
        9 => json!(1.5),
        10 => json!(9_007_199_254_740_993_u64),
        11 => json!(f64::MIN_POSITIVE),
        12 => json!(rng.i64(..)),
        _ => Value::Number(Number::from_f64(rng.f64() * 1e12 - 5e11).unwrap_or(0.into())),
    }
}

fn garbage(rng: &mut Rng, depth: usize) -> Value {
    match rng.u8(0..9) {
        0 | 1 => Value::String(hostile_string(rng)),
        2 => odd_number(rng),
        3 => Value::Bool(rng.bool()),
        4 => Value::Null,
        5 if depth < 4 => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| garbage(rng, depth + 1))
                .collect(),
        ),
        6 if depth < 4 => Value::Object(
            (0..rng.usize(0..4))
                .map(|_| (hostile_string(rng), garbage(rng, depth + 1)))
                .collect(),
        ),
        7 => deep(rng),
        _ => Value::String(hostile_string(rng)),
    }
}

/// Arrays and objects nested 32 to 160 deep.
fn deep(rng: &mut Rng) -> Value {
    let mut v = Value::String(hostile_string(rng));
    for _ in 0..rng.usize(32..160) {
        v = if rng.bool() {
            Value::Array(vec![v])
        } else {
            json!({ "a": v })
        };
    }
    v
}

/// JSON pointers of every node of `v` (the root included).
fn nodes(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                nodes(child, format!("{here}/{}", escape(k)), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                nodes(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn pick_node(rng: &mut Rng, v: &Value) -> String {
    let mut all = Vec::new();
    nodes(v, String::new(), &mut all);
    all.swap_remove(rng.usize(..all.len()))
}

/// One mutation of `v`, for an action with these path and query parameter names.
fn mutate(rng: &mut Rng, v: &mut Value, path_params: &[&str], query_params: &[&str]) {
    match rng.u8(0..11) {
        // A key removed (required ones included), anywhere.
        0 => {
            let p = pick_node(rng, v);
            if let Some((parent, key)) = p.rsplit_once('/') {
                match v.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) if !a.is_empty() => {
                        a.pop();
                    }
                    _ => {}
                }
            }
        }
        // An extra key, anywhere an object is.
        1 => {
            let p = pick_node(rng, v);
            if let Some(Value::Object(m)) = v.pointer_mut(&p) {
                let key = if rng.bool() {
                    hostile_string(rng)
                } else {
                    "unexpected".to_owned()
                };
                let value = garbage(rng, 0);
                m.insert(key, value);
            }
        }
        // Any node replaced with garbage (wrong types, odd numbers...).
        2 | 3 => {
            let p = pick_node(rng, v);
            let g = garbage(rng, 0);
            if let Some(node) = v.pointer_mut(&p) {
                *node = g;
            }
        }
        // A string leaf made hostile: stays a string, so it often passes validation and reaches
        // the request builder.
        4 => {
            let p = pick_node(rng, v);
            let s = hostile_string(rng);
            if let Some(node @ Value::String(_)) = v.pointer_mut(&p) {
                *node = Value::String(s);
            }
        }
        // Every path key hostile (strings for string keys, odd numbers for others).
        5 | 6 => {
            for name in path_params {
                let value = match v.get(*name) {
                    Some(Value::String(_)) | None if rng.u8(0..4) != 0 => {
                        Value::String(hostile_string(rng))
                    }
                    _ => {
                        if rng.bool() {
                            odd_number(rng)
                        } else {
                            garbage(rng, 0)
                        }
                    }
                };
                if let Value::Object(m) = v {
                    m.insert((*name).to_owned(), value);
                }
            }
        }
        // Query options with hostile values.
        7 if !query_params.is_empty() => {
            let name = query_params[rng.usize(..query_params.len())];
            let value = match name {
                "$top" | "$skip" => odd_number(rng),
                "$count" => {
                    if rng.bool() {
                        Value::Bool(rng.bool())
                    } else {
                        garbage(rng, 0)
                    }
                }
                "$select" | "$expand" | "$orderby" if rng.bool() => Value::Array(
                    (0..rng.usize(0..4))
                        .map(|_| Value::String(hostile_string(rng)))
                        .collect(),
                ),
                _ => Value::String(hostile_string(rng)),
            };
            if let Value::Object(m) = v {
                m.insert(name.to_owned(), value);
            }
        }
        // Not an object at all.
        8 => *v = garbage(rng, 3),
        // Deep nesting somewhere.
        9 => {
            let p = pick_node(rng, v);
            let d = deep(rng);
            if let Some(node) = v.pointer_mut(&p) {
                *node = d;
            }
        }
        _ => {
            let p = pick_node(rng, v);
            if let Some(node) = v.pointer_mut(&p) {
                *node = Value::Null;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// `pointer` is a JSON pointer (RFC 6901) that leads into `input`: to a node, or to a missing
/// key of an object that is there.
fn check_pointer(pointer: &str, input: &Value) -> Result<(), String> {
    if pointer.is_empty() {
        return Ok(());
    }
    if !pointer.starts_with('/') {
        return Err(format!("{pointer:?} is not a JSON pointer"));
    }
    let bad_escape = pointer
        .match_indices('~')
        .any(|(i, _)| !matches!(pointer.as_bytes().get(i + 1), Some(b'0' | b'1')));
    if bad_escape {
        return Err(format!("{pointer:?} has an invalid ~ escape"));
    }
    if input.pointer(pointer).is_some() {
        return Ok(());
    }
    let parent = &pointer[..pointer.rfind('/').unwrap_or(0)];
    match input.pointer(parent) {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(format!("{pointer:?} leads nowhere in the input")),
    }
}

/// Characters a path literal may hold after encoding: unreserved, `'`, `:` and `%XX`.
fn literal_safe(encoded: &str) -> bool {
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() || b"-._~':".contains(&c) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

enum Seg<'t> {
    Lit(&'t str),
    Var(&'t str),
}

fn segments(template: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("balanced template");
        if open > 0 {
            out.push(Seg::Lit(&rest[..open]));
        }
        out.push(Seg::Var(&rest[open + 1..close]));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Seg::Lit(rest));
    }
    out
}

/// Matches `path` against the template's segments, each placeholder taking a run of
/// literal-safe characters; the placeholders' texts on success.
fn match_path<'p>(segs: &[Seg<'_>], path: &'p str, caps: &mut Vec<&'p str>) -> bool {
    match segs.split_first() {
        None => path.is_empty(),
        Some((Seg::Lit(l), rest)) => path
            .strip_prefix(l)
            .is_some_and(|p| match_path(rest, p, caps)),
        Some((Seg::Var(_), rest)) => {
            let run = path
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || b"-._~':%".contains(c))
                .count();
            for end in (0..=run).rev() {
                caps.push(&path[..end]);
                if match_path(rest, &path[end..], caps) {
                    return true;
                }
                caps.pop();
            }
            false
        }
    }
}

fn decode(s: &str) -> Result<String, String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|e| format!("{s:?} does not decode to UTF-8: {e}"))
}

/// The query text `build` gives a value (lists comma-joined).
fn query_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

/// A built request is the template's path with each value confined to its placeholder.
/// `Ok(true)` when some key value held a character that would have been structural unencoded.
fn check_built(
    t: &RequestTemplate,
    input: &Map<String, Value>,
    req: &PreparedRequest,
) -> Result<bool, String> {
    let mut hostile = false;
    let full = &req.path_and_query;
    if full.contains('#') {
        return Err(format!("'#' in {full}"));
    }
    let (path, query) = full.split_once('?').unwrap_or((full, ""));
    let prefix = &t.path[..t.path.find('{').unwrap_or(t.path.len())];
    if !path.starts_with(prefix) {
        return Err(format!("{path} does not start with {prefix}"));
    }
    let segs = segments(t.path);
    let mut caps = Vec::new();
    if !match_path(&segs, path, &mut caps) {
        return Err(format!("{path} does not fit the template {}", t.path));
    }
    let names = segs.iter().filter_map(|s| match s {
        Seg::Var(n) => Some(*n),
        Seg::Lit(_) => None,
    });
    for (name, encoded) in names.zip(caps) {
        if !literal_safe(encoded) {
            return Err(format!("{name}: {encoded:?} holds structural characters"));
        }
        let param = t
            .params
            .iter()
            .find(|p| p.name == name && p.location == Location::Path)
            .ok_or_else(|| format!("no path parameter {name}"))?;
        let value = input
            .get(name)
            .ok_or_else(|| format!("{name} was not given"))?;
        let literal = odata_literal(value, param.literal).map_err(|e| e.expected.to_owned())?;
        if decode(encoded)? != literal {
            return Err(format!(
                "{name}: {encoded:?} does not decode to {literal:?}"
            ));
        }
        let inner = literal.trim_matches('\'');
        hostile |= inner.contains(['/', '?', '#', '(', ')', ',', '=', '\'', '%', '&', ' ']);
    }
    if !query.is_empty() {
        for pair in query.split('&') {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("query pair {pair:?} has no '='"))?;
            if v.contains(['=', '?', ' ']) {
                return Err(format!("query value {v:?} holds a structural character"));
            }
            let name = decode(k)?;
            let known = t
                .params
                .iter()
                .any(|p| p.name == name && p.location == Location::Query);
            if !known {
                return Err(format!("query option {name:?} is not one of the action's"));
            }
            let given = input
                .get(&name)
                .and_then(query_text)
                .ok_or_else(|| format!("query option {name} was not given as text"))?;
            if decode(v)? != given {
                return Err(format!(
                    "query option {name}: {v:?} does not decode to {given:?}"
                ));
            }
        }
    }
    Ok(hostile)
}

#[derive(Default)]
struct Tally {
    inputs: usize,
    valid: usize,
    built: usize,
    /// Built requests whose path keys held `/ ? # ( ) , = ' % &` or a space.
    hostile_keys: usize,
    /// Valid for the schema, refused by the request builder (still `InvalidInput`).
    refused_by_builder: usize,
    /// Valid, for an action composed in Rust (no single request to build).
    composed: usize,
    invalid: usize,
    panics: usize,
    failures: Vec<String>,
    /// Some refused inputs, for the networked part.
    refused: Vec<(&'static dyn Operation, Value)>,
}

fn check_one(
    registry: &Registry,
    op: &'static dyn Operation,
    input: &Value,
    tally: &mut Tally,
    keep_refused: bool,
) {
    tally.inputs += 1;
    let fail = |tally: &mut Tally, what: String| {
        tally
            .failures
            .push(format!("{op:?}: {what}; input {}", excerpt(input)));
    };
    let Ok(validated) = catch_unwind(AssertUnwindSafe(|| registry.validate(op, input))) else {
        tally.panics += 1;
        return fail(tally, "validate panicked".to_owned());
    };
    match validated {
        Err(Error::InvalidInput { pointer, .. }) => {
            tally.invalid += 1;
            if keep_refused {
                tally.refused.push((op, input.clone()));
            }
            if let Err(e) = check_pointer(&pointer, input) {
                fail(tally, e);
            }
            return;
        }
        Err(other) => return fail(tally, format!("validate gave {other:?}")),
        Ok(()) => tally.valid += 1,
    }
    let Some(template) = op.template() else {
        // Composed in Rust: no single request to build.
        tally.composed += 1;
        return;
    };
    let built = || registry.prepare(op, input.clone())?.into_request();
    let Ok(prepared) = catch_unwind(AssertUnwindSafe(built)) else {
        tally.panics += 1;
        return fail(tally, "prepare panicked".to_owned());
    };
    match prepared {
        Ok(req) => {
            tally.built += 1;
            let object = input.as_object().expect("valid, so an object");
            match check_built(template, object, &req) {
                Ok(hostile) => tally.hostile_keys += usize::from(hostile),
                Err(e) => fail(tally, e),
            }
        }
        // Schema-valid, but not encodable faithfully: still refused before any I/O.
        Err(Error::InvalidInput { pointer, .. }) => {
            tally.refused_by_builder += 1;
            if let Err(e) = check_pointer(&pointer, input) {
                fail(tally, e);
            }
        }
        Err(other) => fail(tally, format!("prepare gave {other:?}")),
    }
}

fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s,
    }
}

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
    // Two threads (the machine has two cores), each with room for deeply nested values.
    let halves: Vec<Vec<_>> = ops
        .chunks(ops.len().div_ceil(2))
        .map(<[_]>::to_vec)
        .collect();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
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
    });
    let offline = started.elapsed();
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

    // Refused inputs never reach the PBX: not the API, not even the token endpoint.
    assert!(all.refused.len() >= NETWORK_SAMPLE, "{}", all.refused.len());
    // Evenly spread over every action.
    let step = all.refused.len() as f64 / NETWORK_SAMPLE as f64;
    let sample: Vec<_> = (0..NETWORK_SAMPLE)
        .map(|i| all.refused[(i as f64 * step) as usize].clone())
        .collect();
    let sampled_actions = {
        let mut names: Vec<_> = sample.iter().map(|(op, _)| op.meta().action).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let net_started = Instant::now();
    let received = runtime.block_on(async {
        let pbx = start_sandbox(small_sandbox_config("rel-fuzz")).await;
        let client = Client::new(
            pbx.client_config()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        )
        .unwrap();
        for (op, input) in &sample {
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
    });
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
            path_and_query: forged.to_owned(),
            ..good.clone()
        };
        assert!(check_built(t, input, &bad).is_err(), "{forged}");
    }
    assert!(check_pointer("/a~2", &json!({})).is_err());
    assert!(check_pointer("a", &json!({})).is_err());
    assert!(check_pointer("/a/b", &json!({"a": 1})).is_err());
    assert!(check_pointer("/a/b", &json!({"a": {}})).is_ok());
}

// ---------------------------------------------------------------------------------------------
// The literal encoder on its own

fn random_string(rng: &mut Rng) -> String {
    match rng.u8(0..3) {
        0 => hostile_string(rng),
        1 => (0..rng.usize(0..24)).map(|_| rng.char(..)).collect(),
        _ => (0..rng.usize(0..24))
            .map(|_| char::from(rng.u8(0..128)))
            .collect(),
    }
}

/// `'...'` with inner quotes doubled, back to the text; `None` when not such a literal.
fn unquote(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Inside the literal a quote only ever comes doubled.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

#[test]
fn the_literal_encoder_confines_and_round_trips_every_string() {
    let _alone = EXCLUSIVE.blocking_lock();
    let mut rng = Rng::with_seed(SEED);
    let started = Instant::now();
    let mut checked = 0usize;
    for _ in 0..LITERALS {
        let s = random_string(&mut rng);
        let value = Value::String(s.clone());

        let quoted = encode_path_literal(&value, Literal::Quoted).unwrap();
        assert!(literal_safe(&quoted), "{s:?} → {quoted}");
        assert_eq!(
            unquote(&decode(&quoted).unwrap()).as_deref(),
            Some(s.as_str()),
            "{s:?} → {quoted}"
        );

        let bare = encode_path_literal(&value, Literal::Bare).unwrap();
        assert!(literal_safe(&bare), "{s:?} → {bare}");
        assert_eq!(decode(&bare).unwrap(), s, "{s:?} → {bare}");

        let query = encode_query_value(&s);
        assert!(
            !query.contains(['&', '=', '#', '?', '+', ' ', '\0', '\n']),
            "{s:?} → {query}"
        );
        assert!(
            query.bytes().all(|b| b.is_ascii_graphic()),
            "{s:?} → {query}"
        );
        assert_eq!(decode(&query).unwrap(), s, "{s:?} → {query}");
        checked += 3;
    }
    // Numbers and booleans: bare, and quoted when the key is a string.
    for _ in 0..5_000 {
        let n = odd_number(&mut rng);
        let text = n.to_string();
        let bare = encode_path_literal(&n, Literal::Bare).unwrap();
        assert!(literal_safe(&bare), "{n} → {bare}");
        assert_eq!(decode(&bare).unwrap(), text);
        let quoted = encode_path_literal(&n, Literal::Quoted).unwrap();
        assert_eq!(
            unquote(&decode(&quoted).unwrap()).as_deref(),
            Some(text.as_str())
        );
        checked += 2;
    }
    for container in [json!([1]), json!({"a": 1}), json!([])] {
        assert!(encode_path_literal(&container, Literal::Quoted).is_err());
        assert!(encode_path_literal(&container, Literal::Bare).is_err());
    }
    report(
        "literals",
        &format!(
            "Literal encoder: {checked} encodings of {} random strings and 5000 numbers \
             (path literal quoted and bare, query value) in {}: none holds a structural \
             character, all decode back.\n",
            LITERALS,
            ms(started.elapsed())
        ),
    );
}
