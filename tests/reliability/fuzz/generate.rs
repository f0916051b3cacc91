//! Generators of hostile input and mutations of example inputs.

use fastrand::Rng;
use serde_json::{json, Number, Value};

// ---------------------------------------------------------------------------------------------
// Generators

pub(super) const PIECES: &[&str] = &[
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

pub(super) fn hostile_string(rng: &mut Rng) -> String {
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

pub(super) fn odd_number(rng: &mut Rng) -> Value {
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

pub(super) fn garbage(rng: &mut Rng, depth: usize) -> Value {
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
pub(super) fn deep(rng: &mut Rng) -> Value {
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
pub(super) fn nodes(v: &Value, here: String, out: &mut Vec<String>) {
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

pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

pub(super) fn pick_node(rng: &mut Rng, v: &Value) -> String {
    let mut all = Vec::new();
    nodes(v, String::new(), &mut all);
    all.swap_remove(rng.usize(..all.len()))
}

/// One mutation of `v`, for an action with these path and query parameter names.
pub(super) fn mutate(rng: &mut Rng, v: &mut Value, path_params: &[&str], query_params: &[&str]) {
    match rng.u8(0..11) {
        // Every path key hostile (strings for string keys, odd numbers for others).
        5 | 6 => hostile_path_keys(rng, v, path_params),
        // Query options with hostile values.
        7 if !query_params.is_empty() => hostile_query_option(rng, v, query_params),
        which => mutate_anywhere(rng, v, which),
    }
}

/// Mutation `which` (not a path-key or query mutation) of any node of `v`.
pub(super) fn mutate_anywhere(rng: &mut Rng, v: &mut Value, which: u8) {
    match which {
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

/// Every path key of `v` hostile (strings for string keys, odd numbers for others).
pub(super) fn hostile_path_keys(rng: &mut Rng, v: &mut Value, path_params: &[&str]) {
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

/// One query option with a hostile value.
pub(super) fn hostile_query_option(rng: &mut Rng, v: &mut Value, query_params: &[&str]) {
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
