//! The literal encoder on its own.

use std::time::Instant;

use fastrand::Rng;
use serde_json::{json, Value};
use threecx_core::literal::{encode_path_literal, encode_query_value, Literal};

use super::check::{decode, literal_safe};
use super::generate::{hostile_string, odd_number};
use super::{LITERALS, SEED};
use crate::support::{ms, report, EXCLUSIVE};

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
